-- 007: the outbox. A message is written in the same transaction as the
-- change that causes it (a notification, an activation, a new address), so
-- a rolled-back change sends nothing and a committed one is never lost;
-- ecadmd delivers it afterwards (server/mailer.c), several instances
-- taking rows with FOR UPDATE SKIP LOCKED so none is sent twice.
--
-- A row holds what its message needs (vars), not the message: the text is
-- made at delivery, in French, from the kind (server/mail-text.c). Vars may
-- hold a secret (an activation token in clear, which exists nowhere else);
-- they are wiped once the message is delivered or given up.

create table outbox (
	id		bigserial primary key,
	kind		text not null check (kind in ('notification',
			    'activation', 'forgot_login', 'forgot_password',
			    'email_change')),
	account_id	bigint references accounts on delete set null,
	recipient	text not null,
	vars		jsonb not null default '{}',
	created_at	timestamptz not null default now(),
	attempts	integer not null default 0,
	next_attempt_at	timestamptz not null default now(),
	sent_at		timestamptz,
	failed_at	timestamptz,	-- given up: permanent failure
	last_error	text
);

-- What the mailer looks for: messages still to send, by due time.
create index outbox_due on outbox (next_attempt_at)
    where sent_at is null and failed_at is null;
create index outbox_account on outbox (account_id);

-- Wake the mailers when a message is queued. The notification is sent at
-- commit (a rolled-back change wakes nobody) and once per transaction
-- whatever the number of rows: a batch of 500 notifications is one wake-up.
create function outbox_notify() returns trigger
language plpgsql as $$
begin
	perform pg_notify('outbox', '');
	return null;
end $$;

create trigger outbox_queued after insert on outbox
    for each statement execute function outbox_notify();

-- When a message to the account was last given up (a 5xx, or too many
-- attempts), so the director sees it in the search and on the card;
-- cleared when a later message to the account is delivered.
alter table accounts add column mail_failed_at timestamptz;
