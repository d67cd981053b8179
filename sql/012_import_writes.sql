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

-- onde_merge() (011) in steps, each a function of its own: a migration
-- that changes one step restates that step, not the whole merge. Two
-- changes on the way, both for the first load:
--   - a table that was empty before the import (pupils, guardians, links)
--     gets a plain insert: nothing to compare, nothing that left. The
--     comparison was worse than useless there. After a truncate, an
--     academy's first load was stopped after 9 minutes in the links'
--     insert-and-update statement, the backend busy with the visibility
--     of rows met by sequential scans of links (gdb). Planned while
--     links was empty, that statement read links while filling it; the
--     plain insert reads only the stage.
--   - the statistics gathered after a large load are those of the columns
--     the next steps join and filter on (0.36 s less); the names' are
--     autovacuum's to gather, as after any load.

-- The schools of the staged lines, and their classes.
create function onde_merge_schools(out sc_created integer,
    out sc_updated integer)
language plpgsql as $$
begin
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

	-- A pupil's first line says all there is of its school and class:
	-- the reader refused a pupil described two ways.
	create temporary table import_schools on commit drop as
	select s.id, s.uai from schools s
	where s.uai in (select distinct st.uai from onde_stage st
	    where st.pupil_first);

	insert into classes (school_id, name)
	select distinct sc.id, st.classe
	from onde_stage st join import_schools sc on sc.uai = st.uai
	where st.pupil_first and st.classe is not null
	on conflict do nothing;
end $$;

create function onde_merge_pupils(out p_created integer,
    out p_updated integer, out p_left integer)
language plpgsql as $$
declare
	was_empty boolean := not exists (select 1 from pupils);
begin
	if was_empty then
		insert into pupils (onde_id, school_id, class_id, level,
		    last_name, first_name, birth_date, ine, status)
		select st.eleve_id, sc.id, c.id, st.niveau, st.nom_eleve,
		    st.prenom_eleve, st.date_naissance, st.ine, st.statut
		from onde_stage st
		join import_schools sc on sc.uai = st.uai
		left join classes c
		    on c.school_id = sc.id and c.name = st.classe
		where st.pupil_first;
		get diagnostics p_created = row_count;
		p_updated := 0;
		p_left := 0;
		return;
	end if;

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

	-- Pupils who left: no longer in their school's file.
	with gone as (
		delete from pupils p using import_schools sc
		where p.school_id = sc.id and not exists (
		    select 1 from onde_stage st where st.eleve_id = p.onde_id)
		returning p.id
	)
	select count(*) into p_left from gone;
end $$;

create function onde_merge_guardians(out g_created integer,
    out g_updated integer)
language plpgsql as $$
begin
	if not exists (select 1 from guardians) then
		insert into guardians (onde_id, civility, last_name,
		    first_name, email, phone)
		select st.resp_id, st.resp_civilite, st.resp_nom,
		    st.resp_prenom, st.resp_courriel, st.resp_telephone
		from onde_stage st where st.guardian_first;
		get diagnostics g_created = row_count;
		g_updated := 0;
		return;
	end if;

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
end $$;

-- The links of the pupils in the file are exactly the file's. (The reader
-- refused a link given twice.)
create function onde_merge_links(out l_created integer,
    out l_updated integer, out l_removed integer)
language plpgsql as $$
declare
	was_empty boolean := not exists (select 1 from links);
begin
	create temporary table import_links on commit drop as
	select p.id as pupil_id, g.id as guardian_id,
	    st.resp_lien as relation, st.resp_legal as legal
	from onde_stage st
	join pupils p on p.onde_id = st.eleve_id
	join guardians g on g.onde_id = st.resp_id;

	if was_empty then
		insert into links (pupil_id, guardian_id, relation, legal)
		select * from import_links;
		get diagnostics l_created = row_count;
		l_updated := 0;
		l_removed := 0;
		return;
	end if;
	analyze import_links;

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
end $$;

-- The classes' ranks and the classes left empty, in the file's schools.
create function onde_merge_classes()
returns void
language plpgsql as $$
begin
	update classes c set rank = r.rank
	from (select p.class_id, min(level_rank(p.level)) as rank
	    from pupils p join import_schools sc on sc.id = p.school_id
	    where p.class_id is not null group by p.class_id) r
	where c.id = r.class_id and c.rank is distinct from r.rank;

	delete from classes c using import_schools sc
	where c.school_id = sc.id
	and not exists (select 1 from pupils p where p.class_id = c.id);
end $$;

-- Accounts follow their guardians' eligibility.
create function onde_merge_accounts(out a_created integer,
    out a_deactivated integer, out a_reactivated integer)
language plpgsql as $$
begin
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
		analyze accounts (id, guardian_id, state);
	end if;
end $$;

-- Merge the staged extraction (002), leaving unchanged schools out.
create or replace function onde_merge() returns jsonb
language plpgsql as $$
declare
	sc_created integer; sc_updated integer;
	p_created integer; p_updated integer; p_total integer; p_left integer;
	g_created integer; g_updated integer; g_total integer;
	l_created integer; l_updated integer; l_total integer;
	l_removed integer;
	a_created integer; a_deactivated integer; a_reactivated integer;
	sc_total integer; n_lines integer;
begin
	-- What the file holds, before the lines of unchanged schools leave
	-- the stage: the counts report the whole file.
	select count(*), count(*) filter (where st.pupil_first),
	    count(*) filter (where st.guardian_first),
	    count(*) filter (where st.resp_id is not null)
	into n_lines, p_total, g_total, l_total from onde_stage st;
	select count(*) into sc_total from onde_prints;

	-- A school whose lines are exactly those of its last import changes
	-- nothing: its lines leave the stage, and the merge below only
	-- compares the others (011).
	delete from onde_stage st using onde_prints pr, schools s
	where st.uai = pr.uai and s.uai = pr.uai and s.import_print = pr.print;
	if not exists (select 1 from onde_stage) then
		return onde_merge_result(n_lines, sc_total, 0, 0, p_total, 0, 0,
		    0, g_total, 0, 0, l_total, 0, 0, 0, 0, 0, 0);
	end if;
	analyze onde_stage;

	select * into sc_created, sc_updated from onde_merge_schools();
	select * into p_created, p_updated, p_left from onde_merge_pupils();
	select * into g_created, g_updated from onde_merge_guardians();
	select * into l_created, l_updated, l_removed from onde_merge_links();

	-- After a large load the planner must see the new sizes, or the
	-- eligibility joins below run as nested loops over "tiny" tables.
	if p_created + g_created + l_created > 10000 then
		analyze pupils (id, school_id, class_id, level, status, ine);
		analyze guardians (id);
		analyze links (pupil_id, guardian_id, legal);
	end if;

	perform onde_merge_classes();
	select * into a_created, a_deactivated, a_reactivated
	from onde_merge_accounts();

	-- The schools of the file remember what they were given.
	update schools s set import_print = pr.print
	from onde_prints pr
	where s.uai = pr.uai and s.import_print is distinct from pr.print;

	return onde_merge_result(n_lines, sc_total, sc_created, sc_updated,
	    p_total, p_created, p_updated, p_left, g_total, g_created,
	    g_updated, l_total, l_created, l_updated, l_removed, a_created,
	    a_deactivated, a_reactivated);
end $$;
