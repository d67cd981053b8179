-- 012: the first load of an academy writes its rows without looking each
-- one up again.
--
-- On the academy (520,000 lines), the import's triggers and account step
-- cost more than writing the rows themselves (auto_explain, 2 vCPU):
--   - the statement-level reference checks (002) ran as nested loops, one
--     index probe per new row: 1.0 s for 345,000 accounts, 1.1 s for the
--     links. PostgreSQL plans an EXISTS for its first row, which favours
--     the probe; counting the orphans makes it plan the whole anti-join,
--     and a large statement then hashes the parent table once.
--   - the creation events looked up each account's school through
--     "guardian_id in (select ... from new_rows)", which PostgreSQL
--     guesses at 200 guardians: 345,000 index probes, 3.2 s. A join with
--     new_rows, whose size it knows, hashes the links instead.
--   - the login bases folded both names again with unaccent, when the
--     stored sort key (010) already holds them folded, and sorted them in
--     the database's collation.
-- Nothing here changes what is written.

-- The orphans of a statement, counted (see above). Same guarantees as 002.
create or replace function links_check() returns trigger
language plpgsql as $$
begin
	if (select count(*) from new_rows n
	    where not exists (select 1 from pupils p where p.id = n.pupil_id))
	    > 0 then
		perform references_refused('lien vers un élève inconnu');
	end if;
	if (select count(*) from new_rows n
	    where not exists (select 1 from guardians g
		where g.id = n.guardian_id)) > 0 then
		perform references_refused('lien vers un responsable inconnu');
	end if;
	return null;
end $$;

create or replace function pupils_check() returns trigger
language plpgsql as $$
begin
	if (select count(*) from new_rows n
	    where not exists (select 1 from schools s where s.id = n.school_id)
	    or (n.class_id is not null and not exists (select 1 from classes c
		where c.id = n.class_id and c.school_id = n.school_id))) > 0
	then
		perform references_refused('élève sans école ou classe connue');
	end if;
	return null;
end $$;

-- The events' school when the server gave none: that of the account's
-- first child (002), its guardians found by a join with the statement's
-- rows (see above). With a school given, no lookup at all.
create or replace function accounts_after_insert() returns trigger
language plpgsql as $$
declare
	v_school integer := ecadm_setting('school_id')::integer;
	v_action text := coalesce(ecadm_setting('action'), 'create');
	v_actor text := coalesce(ecadm_setting('actor'), 'sql:' || session_user);
	v_channel text := coalesce(ecadm_setting('channel'), 'sql');
	v_detail text := ecadm_setting('detail');
begin
	if exists (select 1 from new_rows where state <> 'precree') then
		raise exception 'un compte est créé à l''état precree'
		    using errcode = 'EC001';
	end if;
	if (select count(*) from new_rows n where not exists (
	    select 1 from guardians g where g.id = n.guardian_id)) > 0 then
		perform references_refused('compte sans responsable');
	end if;
	if v_school is not null then
		insert into events (school_id, account_id, action, from_state,
		    to_state, actor, channel, detail)
		select v_school, n.id, v_action, null, n.state, v_actor,
		    v_channel, v_detail
		from new_rows n;
		return null;
	end if;
	insert into events (school_id, account_id, action, from_state,
	    to_state, actor, channel, detail)
	select s.school_id, n.id, v_action, null, n.state, v_actor, v_channel,
	    v_detail
	from new_rows n
	left join (
		select l.guardian_id, min(p.school_id) as school_id
		from new_rows n2
		join links l on l.guardian_id = n2.guardian_id
		join pupils p on p.id = l.pupil_id
		group by l.guardian_id) s on s.guardian_id = n.guardian_id;
	return null;
end $$;

create or replace function accounts_after_update() returns trigger
language plpgsql as $$
declare
	act text := ecadm_setting('action');
	v_school integer := ecadm_setting('school_id')::integer;
	v_actor text := coalesce(ecadm_setting('actor'), 'sql:' || session_user);
	v_channel text := coalesce(ecadm_setting('channel'), 'sql');
	v_detail text := ecadm_setting('detail');
begin
	if v_school is not null then
		insert into events (school_id, account_id, action, from_state,
		    to_state, actor, channel, detail)
		select v_school, n.id, coalesce(act, 'sql'), o.state, n.state,
		    v_actor, v_channel, v_detail
		from new_rows n
		join old_rows o on o.id = n.id
		where act is not null or o.state is distinct from n.state;
		return null;
	end if;
	insert into events (school_id, account_id, action, from_state,
	    to_state, actor, channel, detail)
	select coalesce(s.school_id,
		(select e.school_id from events e
		where e.account_id = n.id and e.school_id is not null
		order by e.id desc limit 1)),
	    n.id, coalesce(act, 'sql'), o.state, n.state, v_actor, v_channel,
	    v_detail
	from new_rows n
	join old_rows o on o.id = n.id
	left join (
		select l.guardian_id, min(p.school_id) as school_id
		from new_rows n2
		join links l on l.guardian_id = n2.guardian_id
		join pupils p on p.id = l.pupil_id
		group by l.guardian_id) s on s.guardian_id = n.guardian_id
	where act is not null or o.state is distinct from n.state;
	return null;
end $$;

-- login_base() (001) on names already folded. ecadm_fold() maps character
-- by character, so the two parts of name_key are the folded surname and
-- first name.
create function login_base_folded(first_name text, last_name text)
returns text
language sql immutable parallel safe as $$
	select coalesce(nullif(left(regexp_replace(first_name, '[^a-z]', '',
	    'g'), 1), ''), 'x') || '.' ||
	    coalesce(nullif(trim(both '-' from left(regexp_replace(
	    regexp_replace(last_name, '[^a-z-]', '', 'g'),
	    '-+', '-', 'g'), 20)), ''), 'responsable')
$$;

create or replace function login_base(first_name text, last_name text)
returns text
language sql immutable parallel safe as $$
	select login_base_folded(ecadm_fold(first_name), ecadm_fold(last_name))
$$;

create or replace function accounts_create_missing() returns integer
language plpgsql as $$
declare
	created integer;
begin
	with todo as (
		select g.id, login_base_folded(
		    split_part(g.name_key, E'\x01', 2),
		    split_part(g.name_key, E'\x01', 1)) collate "C" as base
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
