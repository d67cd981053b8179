-- 008: guardians at the guichet (ecadm-guichet, server/op-guardian*.c).
--
-- Everything here is shared state of every instance of ecadmd and every
-- guichet: a guardian may log in through one guichet and post the next
-- form to another, so sessions, links and failure counters live in the
-- database, never in a process. Only SHA-256 digests of the tokens are
-- stored: a copy of the database opens no session and follows no link.

-- A guardian's session at the guichet. stage says what it may do:
-- 'activation' (a notified account, after its provisional password) or
-- 'account' (an active account, after its chosen password). pupil_id is
-- the child whose birth date activation asks: chosen once, at login, so a
-- guesser cannot try each child's date in turn.
create table guardian_sessions (
	id		bigserial primary key,
	token_hash	bytea not null unique,
	account_id	bigint not null references accounts,
	stage		text not null check (stage in ('activation', 'account')),
	pupil_id	bigint references pupils on delete set null,
	created_at	timestamptz not null default now(),
	last_seen	timestamptz not null default now(),
	ended_at	timestamptz
);
create index guardian_sessions_account on guardian_sessions (account_id)
    where ended_at is null;

-- The links mailed to guardians: activation of the account, confirmation
-- of a new address (new_email), choice of a new password. Single use
-- (used_at); a new link of a kind kills the live one (revoked_at), which
-- the partial unique index enforces whatever the code does.
create table guardian_tokens (
	id		bigserial primary key,
	account_id	bigint not null references accounts,
	kind		text not null check (kind in ('activation',
			    'email_change', 'password')),
	token_hash	bytea not null unique,
	new_email	text check ((kind = 'email_change') =
			    (new_email is not null)),
	created_at	timestamptz not null default now(),
	expires_at	timestamptz not null,
	used_at		timestamptz,
	revoked_at	timestamptz
);
create unique index guardian_tokens_live on guardian_tokens (account_id, kind)
    where used_at is null and revoked_at is null;

-- Failed attempts at the guichet, per key: 'login:LOGIN' (known or not,
-- so that a lock tells nothing of which logins exist), 'addr:ADDRESS' (as
-- the guichet saw the guardian), 'mail:ADDRESS' (mails asked for). A key
-- counts failures in a window; reaching the limit locks it for a while.
create table guardian_throttle (
	key		text primary key,
	failures	integer not null check (failures >= 0),
	window_start	timestamptz not null,
	locked_until	timestamptz
);

-- Record one failure against a key: its count in the current window (a
-- window that ended, or a lock that passed, starts again at 1) and the
-- lock, set when the count reaches p_max. One statement, so that two
-- guichets failing at once lose no count.
create function guardian_failed(p_key text, p_max integer,
    p_window interval, p_lock interval)
returns table (failures integer, locked_until timestamptz)
language sql as $$
	insert into guardian_throttle as t (key, failures, window_start,
	    locked_until)
	values (p_key, 1, now(), case when p_max <= 1 then now() + p_lock end)
	on conflict (key) do update set
	    failures = case when t.window_start < now() - p_window
		or t.locked_until <= now() then 1 else t.failures + 1 end,
	    window_start = case when t.window_start < now() - p_window
		or t.locked_until <= now() then now() else t.window_start end,
	    locked_until = case
		when (case when t.window_start < now() - p_window
		    or t.locked_until <= now() then 1 else t.failures + 1 end)
		    >= p_max then now() + p_lock
		when t.window_start < now() - p_window
		    or t.locked_until <= now() then null
		else t.locked_until end
	returning t.failures, t.locked_until
$$;

-- Until when the first of these keys to be locked stays locked; null when
-- none is.
create function guardian_locked_until(p_keys text[]) returns timestamptz
language sql stable as $$
	select max(locked_until) from guardian_throttle
	where key = any (p_keys) and locked_until > now()
$$;
