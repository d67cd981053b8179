-- 002: the domain core. Why a guardian may not hold an account, the one
-- path every change of account state takes, and the set-based merge of an
-- ONDE extraction.

-- References checked per statement, not per row. The import writes
-- hundreds of thousands of pupils, links, accounts and events in a few
-- statements; row-level foreign keys made that ten times slower (520,000
-- links: 0.44 s without, 5.0 s with, most of it locking each parent row).
-- The same guarantees are kept by statement triggers that check a whole
-- statement's rows with one join. Events are an append-only log: they
-- name accounts, schools and staff that are never deleted.
alter table links drop constraint links_pupil_id_fkey,
    drop constraint links_guardian_id_fkey;
alter table pupils drop constraint pupils_school_id_fkey,
    drop constraint pupils_class_id_fkey;
alter table accounts drop constraint accounts_guardian_id_fkey,
    drop constraint accounts_state_fkey;
alter table events drop constraint events_school_id_fkey,
    drop constraint events_account_id_fkey,
    drop constraint events_staff_id_fkey;

create function references_refused(what text) returns void
language plpgsql as $$
begin
	raise exception 'référence invalide : %', what using errcode = '23503';
end $$;

create function links_check() returns trigger
language plpgsql as $$
begin
	if exists (select 1 from new_rows n
	    where not exists (select 1 from pupils p where p.id = n.pupil_id))
	then
		perform references_refused('lien vers un élève inconnu');
	end if;
	if exists (select 1 from new_rows n
	    where not exists (select 1 from guardians g
		where g.id = n.guardian_id)) then
		perform references_refused('lien vers un responsable inconnu');
	end if;
	return null;
end $$;
create trigger links_insert_check after insert on links
    referencing new table as new_rows
    for each statement execute function links_check();
create trigger links_update_check after update on links
    referencing new table as new_rows
    for each statement execute function links_check();

create function pupils_check() returns trigger
language plpgsql as $$
begin
	if exists (select 1 from new_rows n
	    where not exists (select 1 from schools s where s.id = n.school_id)
	    or (n.class_id is not null and not exists (select 1 from classes c
		where c.id = n.class_id and c.school_id = n.school_id))) then
		perform references_refused('élève sans école ou classe connue');
	end if;
	return null;
end $$;
create trigger pupils_insert_check after insert on pupils
    referencing new table as new_rows
    for each statement execute function pupils_check();
create trigger pupils_update_check after update on pupils
    referencing new table as new_rows
    for each statement execute function pupils_check();

-- A pupil who leaves takes their links along.
create function pupils_after_delete() returns trigger
language plpgsql as $$
begin
	delete from links l using old_rows o where l.pupil_id = o.id;
	return null;
end $$;
create trigger pupils_delete after delete on pupils
    referencing old table as old_rows
    for each statement execute function pupils_after_delete();

create function guardians_after_delete() returns trigger
language plpgsql as $$
begin
	if exists (select 1 from old_rows o join accounts a
	    on a.guardian_id = o.id) then
		perform references_refused('un responsable qui a un compte '
		    'ne se supprime pas');
	end if;
	delete from links l using old_rows o where l.guardian_id = o.id;
	return null;
end $$;
create trigger guardians_delete after delete on guardians
    referencing old table as old_rows
    for each statement execute function guardians_after_delete();

create function schools_classes_after_delete() returns trigger
language plpgsql as $$
begin
	if exists (select 1 from old_rows o join pupils p
	    on (tg_table_name = 'schools' and p.school_id = o.id)
	    or (tg_table_name = 'classes' and p.class_id = o.id)) then
		perform references_refused(tg_table_name || ' : encore des élèves');
	end if;
	return null;
end $$;
create trigger schools_delete after delete on schools
    referencing old table as old_rows
    for each statement execute function schools_classes_after_delete();
create trigger classes_delete after delete on classes
    referencing old table as old_rows
    for each statement execute function schools_classes_after_delete();

-- Classes sort by level (PS before CP before CM2), then by name: a class
-- takes the lowest level of its pupils, kept by the import.
create function level_rank(level text) returns integer
language sql immutable parallel safe as $$
	select array_position(array['PS', 'MS', 'GS', 'CP', 'CE1', 'CE2',
	    'CM1', 'CM2'], level)
$$;

alter table classes add column rank integer;

-- Why a pupil cannot give an account, whoever the guardian.
create function pupil_reason(status text, ine text, class_id integer)
returns text
language sql immutable parallel safe as $$
	select eligibility_reason(status, ine, class_id, true)
$$;

-- A guardian may hold an account while one of their links is eligible;
-- otherwise the reasons of their links say why.
create view guardian_eligibility as
select g.id as guardian_id,
    coalesce(bool_or(le.eligible), false) as eligible,
    case
	when bool_or(le.eligible) then null
	when count(le.pupil_id) = 0 then 'aucun enfant dans l''académie'
	else 'aucun enfant éligible (' ||
	    string_agg(distinct le.reason, ' ; ') || ')'
    end as reason
from guardians g
left join link_eligibility le on le.guardian_id = g.id
group by g.id;

-- The date of the last letter without credentials (a reminder for an
-- account already in use); letter_at stays the provisional password's.
alter table accounts add column reminder_at timestamptz;

-- The one path of every change of account state, for the server and the
-- import alike. It names the action for the event triggers, moves the
-- accounts to p_to (null: they keep their state, for a reminder), and
-- sets what goes with the move:
--   notifie with provisional passwords: the new ones (chosen passwords
--     are discarded), letter dated today;
--   notifie without: the same provisional passwords, letter dated today
--     (the three months restart);
--   precree: back to no credentials at all;
--   desactive: the provisional password is wiped;
--   no state (reminder): the reminder is dated today.
-- Transitions the table does not allow are refused by the trigger.
create function account_transition(p_ids bigint[], p_to text,
    p_action text, p_provisional bytea[] default null,
    p_detail text default null)
returns table (id bigint, from_state text, to_state text)
language plpgsql as $$
begin
	perform set_config('ecadm.action', p_action, true);
	perform set_config('ecadm.detail', coalesce(p_detail, ''), true);
	-- Lock first: the next statement's snapshot then sees the states it
	-- replaces (a row locked inside the updating statement itself would
	-- be skipped).
	perform 1 from accounts a where a.id = any (p_ids) order by a.id
	    for update;
	return query
	with target as (
		select u.id, u.provisional
		from unnest(p_ids, p_provisional) as u(id, provisional)
	), old as (
		select a.id, a.state from accounts a
		where a.id in (select t.id from target t)
	), moved as (
		update accounts a set
		    state = coalesce(p_to, a.state),
		    provisional = case
			when p_to = 'notifie' and p_provisional is not null
			    then t.provisional
			when p_to in ('precree', 'desactive') then null
			else a.provisional end,
		    password_hash = case
			when p_to = 'notifie' and p_provisional is not null
			    then null
			when p_to = 'precree' then null
			else a.password_hash end,
		    letter_at = case
			when p_to = 'notifie' then now()
			when p_to = 'precree' then null
			else a.letter_at end,
		    reminder_at = case
			when p_to is null then now()
			else a.reminder_at end
		from target t
		where a.id = t.id
		returning a.id, a.state
	)
	select m.id, o.state, m.state from moved m join old o on o.id = m.id;
	perform set_config('ecadm.action', '', true);
	perform set_config('ecadm.detail', '', true);
end $$;

-- Events name their school: the acting school when the server sets one,
-- else the school of the account's first child, else (the children are
-- gone) the school of its last event. Set-based: an import creates
-- hundreds of thousands of accounts in one statement.
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
	if exists (select 1 from new_rows n where not exists (
	    select 1 from guardians g where g.id = n.guardian_id)) then
		perform references_refused('compte sans responsable');
	end if;
	insert into events (school_id, account_id, action, from_state,
	    to_state, actor, channel, detail)
	select coalesce(v_school, s.school_id), n.id, v_action, null, n.state,
	    v_actor, v_channel, v_detail
	from new_rows n
	left join (
		select l.guardian_id, min(p.school_id) as school_id
		from links l join pupils p on p.id = l.pupil_id
		where l.guardian_id in (select guardian_id from new_rows)
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
	insert into events (school_id, account_id, action, from_state,
	    to_state, actor, channel, detail)
	select coalesce(v_school, s.school_id,
		(select e.school_id from events e
		where e.account_id = n.id and e.school_id is not null
		order by e.id desc limit 1)),
	    n.id, coalesce(act, 'sql'), o.state, n.state, v_actor, v_channel,
	    v_detail
	from new_rows n
	join old_rows o on o.id = n.id
	left join (
		select l.guardian_id, min(p.school_id) as school_id
		from links l join pupils p on p.id = l.pupil_id
		where l.guardian_id in (select guardian_id from new_rows)
		group by l.guardian_id) s on s.guardian_id = n.guardian_id
	where act is not null or o.state is distinct from n.state;
	return null;
end $$;

-- The extraction being imported, loaded by COPY into a temporary table of
-- this shape, then merged. The server has checked every field, and that
-- no line contradicts another.
create function onde_stage_create() returns void
language sql as $$
	create temporary table onde_stage (
		line		integer not null,
		pupil_first	boolean not null,	-- first line of its pupil
		guardian_first	boolean not null,	-- ... of its guardian
		uai		text not null,
		ecole		text,
		commune		text,
		eleve_id	text not null,
		nom_eleve	text not null,
		prenom_eleve	text not null,
		date_naissance	date not null,
		ine		text,
		statut		text not null,
		classe		text,
		niveau		text,
		resp_id		text,
		resp_civilite	text,
		resp_nom	text,
		resp_prenom	text,
		resp_lien	text,
		resp_legal	boolean,
		resp_courriel	text,
		resp_telephone	text
	) on commit drop;
$$;

-- Merge the staged extraction: it is the whole truth for every school it
-- names. Pupils of those schools absent from it have left (their links go
-- with them); accounts follow their guardians' eligibility. Returns the
-- counts of what changed. Re-importing the same file writes nothing.
create function onde_merge() returns jsonb
language plpgsql as $$
declare
	sc_created integer; sc_updated integer;
	p_created integer; p_updated integer; p_total integer; p_left integer;
	g_created integer; g_updated integer; g_total integer;
	l_created integer; l_updated integer; l_total integer;
	l_removed integer;
	a_created integer; a_deactivated integer; a_reactivated integer;
begin
	analyze onde_stage;

	with up as (
		insert into schools as s (uai, name, town)
		select distinct on (st.uai) st.uai, st.ecole, st.commune
		from onde_stage st where st.pupil_first
		order by st.uai, st.line
		on conflict (uai) do update
		    set name = coalesce(excluded.name, s.name),
			town = coalesce(excluded.town, s.town)
		    where (s.name, s.town) is distinct from
			(coalesce(excluded.name, s.name),
			 coalesce(excluded.town, s.town))
		returning (xmax = 0) as inserted
	)
	select count(*) filter (where inserted),
	    count(*) filter (where not inserted)
	into sc_created, sc_updated from up;

	create temporary table import_schools on commit drop as
	select s.id, s.uai from schools s
	where s.uai in (select distinct st.uai from onde_stage st);

	insert into classes (school_id, name)
	select distinct sc.id, st.classe
	from onde_stage st join import_schools sc on sc.uai = st.uai
	where st.classe is not null
	on conflict do nothing;

	-- New rows by a plain insert, changed ones by an update: a third
	-- cheaper than insert ... on conflict at this size.
	with src as (
		select st.eleve_id, sc.id as school_id,
		    c.id as class_id, st.niveau, st.nom_eleve, st.prenom_eleve,
		    st.date_naissance, st.ine, st.statut
		from onde_stage st
		join import_schools sc on sc.uai = st.uai
		left join classes c on c.school_id = sc.id and c.name = st.classe
		where st.pupil_first
	), ins as (
		insert into pupils (onde_id, school_id, class_id, level,
		    last_name, first_name, birth_date, ine, status)
		select * from src
		where not exists (select 1 from pupils p
		    where p.onde_id = src.eleve_id)
		returning 1
	), upd as (
		update pupils p set
		    school_id = src.school_id, class_id = src.class_id,
		    level = src.niveau, last_name = src.nom_eleve,
		    first_name = src.prenom_eleve,
		    birth_date = src.date_naissance, ine = src.ine,
		    status = src.statut
		from src
		where p.onde_id = src.eleve_id
		and (p.school_id, p.class_id, p.level, p.last_name,
		    p.first_name, p.birth_date, p.ine, p.status)
		    is distinct from (src.school_id, src.class_id, src.niveau,
		    src.nom_eleve, src.prenom_eleve, src.date_naissance,
		    src.ine, src.statut)
		returning 1
	)
	select (select count(*) from ins), (select count(*) from upd)
	into p_created, p_updated;
	select count(*) into p_total from onde_stage st where st.pupil_first;

	-- Pupils who left: no longer in their school's file.
	with gone as (
		delete from pupils p using import_schools sc
		where p.school_id = sc.id and not exists (
		    select 1 from onde_stage st where st.eleve_id = p.onde_id)
		returning p.id
	)
	select count(*) into p_left from gone;

	with src as (
		select st.resp_id, st.resp_civilite, st.resp_nom,
		    st.resp_prenom, st.resp_courriel, st.resp_telephone
		from onde_stage st where st.guardian_first
	), ins as (
		insert into guardians (onde_id, civility, last_name,
		    first_name, email, phone)
		select * from src
		where not exists (select 1 from guardians g
		    where g.onde_id = src.resp_id)
		returning 1
	), upd as (
		update guardians g set
		    civility = src.resp_civilite, last_name = src.resp_nom,
		    first_name = src.resp_prenom, email = src.resp_courriel,
		    phone = src.resp_telephone
		from src
		where g.onde_id = src.resp_id
		and (g.civility, g.last_name, g.first_name, g.email, g.phone)
		    is distinct from (src.resp_civilite, src.resp_nom,
		    src.resp_prenom, src.resp_courriel, src.resp_telephone)
		returning 1
	)
	select (select count(*) from ins), (select count(*) from upd)
	into g_created, g_updated;
	select count(*) into g_total from onde_stage st
	where st.guardian_first;

	-- The links of the pupils in the file are exactly the file's.
	-- (The reader refused a link given twice.)
	create temporary table import_links on commit drop as
	select p.id as pupil_id, g.id as guardian_id,
	    st.resp_lien as relation, st.resp_legal as legal
	from onde_stage st
	join pupils p on p.onde_id = st.eleve_id
	join guardians g on g.onde_id = st.resp_id;
	analyze import_links;
	select count(*) into l_total from import_links;

	with gone as (
		delete from links l
		using pupils p
		where l.pupil_id = p.id
		and p.onde_id in (select st.eleve_id from onde_stage st)
		and not exists (select 1 from import_links il
		    where il.pupil_id = l.pupil_id
		    and il.guardian_id = l.guardian_id)
		returning 1
	)
	select count(*) into l_removed from gone;

	with ins as (
		insert into links (pupil_id, guardian_id, relation, legal)
		select * from import_links il
		where not exists (select 1 from links l
		    where l.pupil_id = il.pupil_id
		    and l.guardian_id = il.guardian_id)
		returning 1
	), upd as (
		update links l set relation = il.relation, legal = il.legal
		from import_links il
		where l.pupil_id = il.pupil_id and l.guardian_id = il.guardian_id
		and (l.relation, l.legal) is distinct from
		    (il.relation, il.legal)
		returning 1
	)
	select (select count(*) from ins), (select count(*) from upd)
	into l_created, l_updated;

	-- After a large load the planner must see the new sizes, or the
	-- eligibility joins below run as nested loops over "tiny" tables.
	if p_created + g_created + l_created > 10000 then
		analyze pupils;
		analyze guardians;
		analyze links;
	end if;

	update classes c set rank = r.rank
	from (select p.class_id, min(level_rank(p.level)) as rank
	    from pupils p join import_schools sc on sc.id = p.school_id
	    where p.class_id is not null group by p.class_id) r
	where c.id = r.class_id and c.rank is distinct from r.rank;

	-- Classes left without pupils in these schools.
	delete from classes c using import_schools sc
	where c.school_id = sc.id
	and not exists (select 1 from pupils p where p.class_id = c.id);

	-- Accounts follow their guardians' eligibility.
	select count(*) into a_deactivated from account_transition(array(
		select a.id from accounts a
		where a.state <> 'desactive' and not exists (
		    select 1 from link_eligibility le
		    where le.guardian_id = a.guardian_id and le.eligible)
		order by a.id),
	    'desactive', 'deactivate', null, 'plus aucun enfant éligible');
	select count(*) into a_reactivated from account_transition(array(
		select a.id from accounts a
		where a.state = 'desactive' and exists (
		    select 1 from link_eligibility le
		    where le.guardian_id = a.guardian_id and le.eligible)
		order by a.id),
	    'precree', 'reactivate', null, 'de nouveau éligible');
	select accounts_create_missing() into a_created;
	if a_created > 10000 then
		analyze accounts;
	end if;

	return jsonb_build_object(
	    'lines', (select count(*) from onde_stage),
	    'schools', jsonb_build_object('total',
		(select count(*) from import_schools),
		'created', sc_created, 'updated', sc_updated),
	    'pupils', jsonb_build_object('total', p_total,
		'created', p_created, 'updated', p_updated,
		'unchanged', p_total - p_created - p_updated, 'left', p_left),
	    'guardians', jsonb_build_object('total', g_total,
		'created', g_created, 'updated', g_updated,
		'unchanged', g_total - g_created - g_updated),
	    'links', jsonb_build_object('total', l_total,
		'created', l_created, 'updated', l_updated,
		'unchanged', l_total - l_created - l_updated,
		'removed', l_removed),
	    'accounts', jsonb_build_object('created', a_created,
		'deactivated', a_deactivated, 'reactivated', a_reactivated));
end $$;
