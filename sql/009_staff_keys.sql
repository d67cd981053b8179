-- 009: SSH keys of staff members, for the gateway ecadm-sshd.
--
-- A staff member may hold several keys (a laptop, a security key, a spare);
-- the gateway asks ecadmd whether the key it is offered is one of them
-- (server/op-ssh.c), and a session opened with a key remembers which one,
-- so that removing the key ends it. A key is kept as its blob (the SSH wire
-- form the gateway is offered) and its fingerprint, "SHA256:" and the
-- unpadded base64 of the blob's SHA-256, exactly as `ssh-keygen -l` prints
-- it: administrators name a key by what they see on their own screen.

create table staff_keys (
	id		bigserial primary key,
	staff_id	integer not null references staff on delete cascade,
	key_type	text not null check (key_type in ('ssh-ed25519',
			    'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384',
			    'ecdsa-sha2-nistp521', 'ssh-rsa',
			    'sk-ssh-ed25519@openssh.com',
			    'sk-ecdsa-sha2-nistp256@openssh.com')),
	key_blob	bytea not null
			    check (octet_length(key_blob) between 1 and 16384),
	fingerprint	text not null
			    check (fingerprint ~ '^SHA256:[A-Za-z0-9+/]{43}$'),
	comment		text check (octet_length(comment) <= 200
			    and comment !~ '[[:cntrl:]]'),
	created_at	timestamptz not null default now(),
	unique (staff_id, fingerprint)
);
create index staff_keys_fingerprint on staff_keys (fingerprint);

-- The one key staff.ssh_key held ("type base64 [comment]") becomes the
-- member's first key, if it reads: a known type whose blob starts with
-- that type as an SSH string (a 32-bit length, then the name). The CASE
-- keeps decode() away from what is not base64, whatever order the planner
-- evaluates the conditions in.
with old as (
	select id, regexp_match(btrim(ssh_key, E' \t\r\n'),
	    '^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$') as part
	from staff where ssh_key is not null
), decoded as (
	select id, part[1] as key_type,
	    case when octet_length(part[2]) % 4 = 0
		and octet_length(part[2]) <= 21848
		then decode(part[2], 'base64') end as blob,
	    nullif(btrim(part[3]), '') as comment
	from old where part is not null
)
insert into staff_keys (staff_id, key_type, key_blob, fingerprint, comment)
select id, key_type, blob,
    'SHA256:' || rtrim(encode(sha256(blob), 'base64'), '='),
    case when octet_length(comment) <= 200 and comment !~ '[[:cntrl:]]'
	then comment end
from decoded
where blob is not null
    and key_type in ('ssh-ed25519', 'ecdsa-sha2-nistp256',
	'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa',
	'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com')
    and octet_length(blob) between 4 + octet_length(key_type) and 16384
    and substring(blob from 1 for 4) = int4send(octet_length(key_type))
    and substring(blob from 5 for octet_length(key_type)) =
	convert_to(key_type, 'UTF8');

-- A key that does not read opened nothing at the gateway either: it is
-- dropped, and named to whoever runs the migration.
do $$
declare
	r	record;
begin
	for r in select s.login from staff s where s.ssh_key is not null
	    and not exists (select 1 from staff_keys k where k.staff_id = s.id)
	loop
		raise warning 'the SSH key of staff % is unreadable: dropped',
		    r.login;
	end loop;
end $$;

alter table staff drop column ssh_key;

-- Which key opened a session of the gateway (channel 'ssh'); null for a
-- password login, and for a key deleted since.
alter table staff_sessions
	add column ssh_key_id bigint references staff_keys on delete set null,
	add constraint staff_sessions_ssh_key_channel
	    check (ssh_key_id is null or channel = 'ssh');
create index staff_sessions_ssh_key on staff_sessions (ssh_key_id)
    where ssh_key_id is not null;

-- A key removed ends the sessions it opened, in the same transaction,
-- whoever removes it (staff-remove-key, psql, the member's deletion).
-- Before the row goes: its id is still in staff_sessions then. Waiting
-- for the row's lock first, a delete also sees a session that a
-- concurrent login was inserting with that key (the foreign key check
-- holds the row), so no session of a removed key stays open.
create function staff_key_end_sessions() returns trigger
language plpgsql as $$
begin
	update staff_sessions set ended_at = now()
	    where ssh_key_id = old.id and ended_at is null;
	return old;
end $$;
create trigger staff_keys_end_sessions before delete on staff_keys
    for each row execute function staff_key_end_sessions();
