-- 005: staff logins under abuse.
--
-- Failure counters live here, not in a server's memory, so that every
-- instance of ecadmd sees the same ones: per account (staff.failed_logins,
-- now with the time of the last failure so that the count decays) and per
-- source address (login_throttle). A counter loses one failure for every
-- [security] login_failure_decay seconds without a new one: the function
-- below reads it as of now, ecadmd passing the decay (a setting).
--
-- TOTP secrets are sealed with the server key (AES-256-GCM, the staff id
-- and a purpose bound in as associated data), and the last time step
-- accepted is kept so that a code is good for one login only.

alter table staff
	add column last_failed_at timestamptz,
	add column totp_sealed bytea,
	add column totp_last_step bigint;

-- Secrets written in clear before this migration are sealed by ecadmd at
-- its next start (it holds the key, the database does not). NOT VALID:
-- those rows are left for it, and nothing may write a clear one again.
-- The column is renamed: an ecadmd older than this migration still running
-- against the database reads totp_secret at every login, and would find it
-- empty once sealed and let a TOTP user in without a code. Renamed, its
-- login query fails, and it refuses everyone instead.
alter table staff rename column totp_secret to totp_secret_clear;
alter table staff add constraint staff_totp_secret_not_clear
	check (totp_secret_clear is null) not valid;

-- Failures from one source address (an IPv6 client counts by its /64).
-- Rows whose count has decayed to nothing are deleted as failures come.
create table login_throttle (
	addr		text primary key,
	failures	integer not null check (failures > 0),
	last_failure	timestamptz not null
);
create index login_throttle_last_failure on login_throttle (last_failure);

-- A failure count as of now: one forgotten per decay seconds since the
-- last failure (none recorded: nothing to count).
create function login_failures_now(failures integer,
    last_failure timestamptz, decay integer) returns integer
language sql stable as $$
	select case when last_failure is null or failures <= 0 then 0
	    else failures - least(failures, greatest(0, floor(extract(epoch
	    from now() - last_failure) / greatest(decay, 1))))::integer end
$$;
