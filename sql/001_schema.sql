-- 001: the first schema. Schools, classes, pupils, guardians and the links
-- between them come from the ONDE extraction; accounts, their states and
-- their events are ours; staff and their sessions are the people who use
-- the administration tool.

-- Names are compared and logins built on a folded form: lowercase, without
-- accents or ligatures (é -> e, œ -> oe, ß -> ss, ễ -> e).
create extension if not exists unaccent with schema public;

create function ecadm_fold(t text) returns text
language sql immutable strict parallel safe as $$
	select lower(public.unaccent('public.unaccent'::regdictionary, t))
$$;

-- Identifiers (UAI, ONDE ids, INE, logins) compare byte by byte
-- (collate "C"): cheaper in the indexes the import fills, and the same
-- whatever the locale the database was created with.
create table schools (
	id		serial primary key,
	uai		text collate "C" not null unique
			    check (uai ~ '^[0-9]{7}[A-Z]$'),
	name		text,
	town		text
);

create table classes (
	id		serial primary key,
	school_id	integer not null references schools on delete cascade,
	name		text not null check (name <> ''),
	unique (school_id, name)
);

create table pupils (
	id		bigserial primary key,
	onde_id		text collate "C" not null unique,
	school_id	integer not null references schools,
	class_id	integer references classes,
	level		text check (level in ('PS', 'MS', 'GS', 'CP', 'CE1',
			    'CE2', 'CM1', 'CM2')),
	last_name	text not null,
	first_name	text not null,
	birth_date	date not null,
	ine		text collate "C"
			    check (ine ~ '^([0-9]{10}[A-Z]|[0-9]{9}[A-Z]{2})$'),
	status		text not null check (status in ('admis_definitif',
			    'admis_provisoire', 'inscrit'))
);
create index pupils_school on pupils (school_id);
create index pupils_class on pupils (class_id);

create table guardians (
	id		bigserial primary key,
	onde_id		text collate "C" not null unique,
	civility	text check (civility in ('M.', 'Mme')),
	last_name	text not null,
	first_name	text not null,
	email		text,
	phone		text
);

create table links (
	pupil_id	bigint not null references pupils on delete cascade,
	guardian_id	bigint not null references guardians on delete cascade,
	relation	text,
	legal		boolean not null,
	primary key (pupil_id, guardian_id)
);
create index links_guardian on links (guardian_id);

-- Eligibility (DESIGN §3), in one place. A pupil-guardian link can carry
-- an account when link_eligible() holds; eligibility_reason() says why not,
-- in French words for the director, and is null exactly then. legal is
-- null for a pupil without any guardian on file. link_eligible() is plain
-- SQL so the planner inlines it and estimates it from column statistics.
create function link_eligible(status text, ine text, class_id integer,
    legal boolean) returns boolean
language sql immutable parallel safe as $$
	select status = 'admis_definitif' and ine is not null
	    and class_id is not null and coalesce(legal, false)
$$;

create function eligibility_reason(status text, ine text, class_id integer,
    legal boolean) returns text
language sql immutable parallel safe as $$
	select nullif(concat_ws(', ',
	    case status
		when 'admis_provisoire' then 'admission provisoire'
		when 'inscrit' then 'inscrit, non admis'
	    end,
	    case when ine is null then 'INE manquant' end,
	    case when class_id is null then 'non réparti dans une classe' end,
	    case when legal is null then 'aucun responsable connu'
		 when not legal then 'pas responsable légal' end), '')
$$;

create view link_eligibility as
select l.pupil_id, l.guardian_id, l.legal,
    link_eligible(p.status, p.ine, p.class_id, l.legal) as eligible,
    eligibility_reason(p.status, p.ine, p.class_id, l.legal) as reason
from links l
join pupils p on p.id = l.pupil_id;

-- The account state machine (DESIGN §4). The transition table lists every
-- allowed change; a trigger refuses any other, whoever runs the update.
create table account_states (
	code		text primary key,
	label		text not null,
	rank		integer not null unique
);
insert into account_states values
	('precree', 'Non notifié', 1),
	('notifie', 'Notifié et non activé', 2),
	('attente', 'En cours d''activation', 3),
	('active', 'Activé', 4),
	('desactive', 'Désactivé', 5);

create table account_transitions (
	from_state	text not null references account_states,
	to_state	text not null references account_states,
	primary key (from_state, to_state)
);
insert into account_transitions values
	('precree', 'notifie'),
	('notifie', 'notifie'),
	('notifie', 'attente'),
	('attente', 'notifie'),
	('active', 'notifie'),
	('attente', 'attente'),
	('attente', 'active'),
	('precree', 'desactive'),
	('notifie', 'desactive'),
	('attente', 'desactive'),
	('active', 'desactive'),
	('desactive', 'precree');

create table accounts (
	id		bigserial primary key,
	guardian_id	bigint not null unique references guardians,
	login		text collate "C" not null unique,
	state		text not null default 'precree'
			    references account_states,
	-- Address the guardian gave at the guichet (ONDE's is in guardians).
	email		text,
	-- Provisional password, AES-256-GCM under the server key with the
	-- account id as associated data; null once the guardian chose one.
	provisional	bytea,
	-- Date of the last document that carried the provisional password:
	-- it is valid three months from then.
	letter_at	timestamptz,
	password_hash	text,
	first_login_at	timestamptz,
	activated_at	timestamptz,
	last_access_at	timestamptz,
	created_at	timestamptz not null default now(),
	state_changed_at timestamptz not null default now()
);

-- Logins (DESIGN §4): the first letter of the first name, a dot, the last
-- name folded to lowercase ASCII (hyphens kept, spaces and apostrophes
-- dropped, at most 20 letters), then a number: h.lefevre-oeuvrard1.
create function login_base(first_name text, last_name text) returns text
language sql immutable parallel safe as $$
	select coalesce(nullif(left(regexp_replace(ecadm_fold(first_name),
	    '[^a-z]', '', 'g'), 1), ''), 'x') || '.' ||
	    coalesce(nullif(trim(both '-' from left(regexp_replace(
	    regexp_replace(ecadm_fold(last_name), '[^a-z-]', '', 'g'),
	    '-+', '-', 'g'), 20)), ''), 'responsable')
$$;

-- The last number given to each login base. Logins are never deleted, so
-- the numbers of a base run 1, 2, 3... and the next one is the smallest
-- that keeps the login unique.
create table login_counters (
	base		text collate "C" primary key,
	last		integer not null
);

-- Give a pre-created account, with its login, to every eligible guardian
-- who has none. Set-based: one statement for a whole academy.
create function accounts_create_missing() returns integer
language plpgsql as $$
declare
	created integer;
begin
	with todo as (
		select g.id, login_base(g.first_name, g.last_name) as base
		from guardians g
		where not exists (select 1 from accounts a
		    where a.guardian_id = g.id)
		and exists (select 1 from link_eligibility le
		    where le.guardian_id = g.id and le.eligible)
	), counts as (
		select base, count(*)::integer as n from todo group by base
	), bumped as (
		insert into login_counters as c (base, last)
		select counts.base, counts.n from counts
		on conflict (base) do update set last = c.last + excluded.last
		returning base, last
	)
	insert into accounts (guardian_id, login)
	select t.id, t.base || (b.last - cn.n + row_number() over (
	    partition by t.base order by t.id))
	from todo t join counts cn using (base) join bumped b using (base);
	get diagnostics created = row_count;
	return created;
end $$;

create table staff (
	id		serial primary key,
	login		text not null unique
			    check (login ~ '^[a-z0-9][a-z0-9._-]{1,39}$'),
	name		text not null,
	role		text not null check (role in ('directeur', 'assistance',
			    'admin')),
	password_hash	text not null,
	totp_secret	text,
	ssh_key		text,
	disabled	boolean not null default false,
	failed_logins	integer not null default 0,
	locked_until	timestamptz,
	created_at	timestamptz not null default now()
);

create table staff_schools (
	staff_id	integer not null references staff on delete cascade,
	school_id	integer not null references schools,
	primary key (staff_id, school_id)
);

create table staff_sessions (
	id		bigserial primary key,
	staff_id	integer not null references staff,
	token_hash	bytea not null unique,
	channel		text not null,
	created_at	timestamptz not null default now(),
	last_seen	timestamptz not null default now(),
	ended_at	timestamptz
);
create index staff_sessions_staff on staff_sessions (staff_id)
    where ended_at is null;

-- The audit trail: every write is an event, written in the same
-- transaction as the change. Account events are written by the triggers
-- below, from the context the server sets with set_config() (ecadm.actor,
-- ecadm.channel, ecadm.action, ecadm.school_id, ecadm.detail) so that no
-- code path, psql included, changes an account without leaving a trace.
create table events (
	id		bigserial primary key,
	at		timestamptz not null default now(),
	school_id	integer references schools on delete set null,
	account_id	bigint references accounts on delete set null,
	staff_id	integer references staff on delete set null,
	action		text not null,
	from_state	text,
	to_state	text,
	actor		text not null,
	channel		text not null,
	detail		text
);
create index events_account on events (account_id, at);
create index events_school on events (school_id, at);

create function ecadm_setting(name text) returns text
language sql stable as $$
	select nullif(current_setting('ecadm.' || name, true), '')
$$;

-- New accounts start pre-created, and get their creation event.
create function accounts_after_insert() returns trigger
language plpgsql as $$
begin
	if exists (select 1 from new_rows where state <> 'precree') then
		raise exception 'un compte est créé à l''état precree'
		    using errcode = 'EC001';
	end if;
	insert into events (school_id, account_id, action, from_state,
	    to_state, actor, channel, detail)
	select coalesce(ecadm_setting('school_id')::integer, s.school_id),
	    n.id, coalesce(ecadm_setting('action'), 'create'), null, n.state,
	    coalesce(ecadm_setting('actor'), 'sql:' || session_user),
	    coalesce(ecadm_setting('channel'), 'sql'), ecadm_setting('detail')
	from new_rows n
	left join lateral (
		select min(p.school_id) as school_id
		from links l join pupils p on p.id = l.pupil_id
		where l.guardian_id = n.guardian_id) s on true;
	return null;
end $$;

create trigger accounts_insert after insert on accounts
    referencing new table as new_rows
    for each statement execute function accounts_after_insert();

-- Refuse a change of state that the transition table does not list.
create function accounts_before_update() returns trigger
language plpgsql as $$
begin
	if not exists (select 1 from account_transitions
	    where from_state = old.state and to_state = new.state) then
		raise exception 'changement d''état % -> % refusé',
		    old.state, new.state using errcode = 'EC001';
	end if;
	new.state_changed_at := now();
	return new;
end $$;

create trigger accounts_state before update of state on accounts
    for each row when (old.state is distinct from new.state)
    execute function accounts_before_update();

-- One event per updated account: every change of state, and every update
-- made under an action the server named (a letter reprinted, a password
-- reset) even when the state stays.
create function accounts_after_update() returns trigger
language plpgsql as $$
declare
	act text := ecadm_setting('action');
begin
	insert into events (school_id, account_id, action, from_state,
	    to_state, actor, channel, detail)
	select coalesce(ecadm_setting('school_id')::integer, s.school_id),
	    n.id, coalesce(act, 'sql'), o.state, n.state,
	    coalesce(ecadm_setting('actor'), 'sql:' || session_user),
	    coalesce(ecadm_setting('channel'), 'sql'), ecadm_setting('detail')
	from new_rows n
	join old_rows o on o.id = n.id
	left join lateral (
		select min(p.school_id) as school_id
		from links l join pupils p on p.id = l.pupil_id
		where l.guardian_id = n.guardian_id) s on true
	where act is not null or o.state is distinct from n.state;
	return null;
end $$;

create trigger accounts_update after update on accounts
    referencing old table as old_rows new table as new_rows
    for each statement execute function accounts_after_update();

-- Accounts are never deleted: their history must stay readable.
create function accounts_no_delete() returns trigger
language plpgsql as $$
begin
	raise exception 'un compte ne se supprime pas, il se désactive'
	    using errcode = 'EC001';
end $$;

create trigger accounts_delete before delete on accounts
    for each statement execute function accounts_no_delete();
