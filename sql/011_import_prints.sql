-- 011: an unchanged school costs the nightly import almost nothing.
--
-- Every night the whole academy's extraction comes back, almost all of it
-- as it was. The merge compared all of it with the database all the same:
-- on the academy (520,000 lines) an unchanged file took as long as the
-- first load. Now the server sends, beside the staged lines, a
-- fingerprint of each school's lines (op-import.c); a school whose
-- fingerprint is the one its last import left is taken out of the stage
-- before the merge, and a file where every school is unchanged merges
-- nothing. Fingerprints are stored only when the import commits.
--
-- A migration that changes what the merge writes from the same lines
-- must clear schools.import_print, so that the next import compares
-- every school again.

alter table schools add column import_print bytea;

-- The fingerprints of the staged schools, beside onde_stage (002).
create function onde_prints_create() returns void
language sql as $$
	create temporary table onde_prints (
		uai		text primary key,
		print		bytea not null
	) on commit drop;
$$;

-- The summary of a merge, as ecadmctl and ecadm show it.
create function onde_merge_result(n_lines integer, sc_total integer,
    sc_created integer, sc_updated integer, p_total integer,
    p_created integer, p_updated integer, p_left integer, g_total integer,
    g_created integer, g_updated integer, l_total integer,
    l_created integer, l_updated integer, l_removed integer,
    a_created integer, a_deactivated integer, a_reactivated integer)
returns jsonb
language sql immutable as $$
	select jsonb_build_object(
	    'lines', n_lines,
	    'schools', jsonb_build_object('total', sc_total,
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
		'deactivated', a_deactivated, 'reactivated', a_reactivated))
$$;

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
	-- compares the others. (The reader refused any line that
	-- contradicts another, so a guardian or a pupil whose data changed
	-- changed the lines of every school that names them.)
	delete from onde_stage st using onde_prints pr, schools s
	where st.uai = pr.uai and s.uai = pr.uai and s.import_print = pr.print;
	if not exists (select 1 from onde_stage) then
		return onde_merge_result(n_lines, sc_total, 0, 0, p_total, 0, 0,
		    0, g_total, 0, 0, l_total, 0, 0, 0, 0, 0, 0);
	end if;

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

	-- The links of the pupils in the file are exactly the file's.
	-- (The reader refused a link given twice.)
	create temporary table import_links on commit drop as
	select p.id as pupil_id, g.id as guardian_id,
	    st.resp_lien as relation, st.resp_legal as legal
	from onde_stage st
	join pupils p on p.onde_id = st.eleve_id
	join guardians g on g.onde_id = st.resp_id;
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

	-- The schools of the file remember what they were given.
	update schools s set import_print = pr.print
	from onde_prints pr
	where s.uai = pr.uai and s.import_print is distinct from pr.print;

	return onde_merge_result(n_lines, sc_total, sc_created, sc_updated,
	    p_total, p_created, p_updated, p_left, g_total, g_created,
	    g_updated, l_total, l_created, l_updated, l_removed, a_created,
	    a_deactivated, a_reactivated);
end $$;
