-- 010: what a search sorts by, computed once when a row is written, and
-- why a link carries no account, made cheap enough to compute every time.
--
-- The search of one class (about 34 rows) spent more on ecadm_fold() in
-- its ORDER BY (four calls a row, about 3 us each: unaccent's dictionary)
-- and on eligibility_reason() than on finding its rows. Names change only
-- at the nightly import, so the folded names are stored generated columns:
-- computed on insert and on any update of the names, whoever writes, and
-- never stale. (Redefining ecadm_fold() would need a migration that
-- rewrites them.)

-- The sort key of a name: folded surname, then folded first name. \x01
-- sorts before any character of a name, so comparing the keys byte by byte
-- (collate "C") orders by surname and then first name, as ordering by the
-- two folded parts did in a C.UTF-8 database.
alter table pupils add column name_key text collate "C"
    generated always as (ecadm_fold(last_name || E'\x01' || first_name))
    stored;
alter table guardians add column name_key text collate "C"
    generated always as (ecadm_fold(last_name || E'\x01' || first_name))
    stored;

-- Why a link cannot carry an account, without concat_ws(): concat_ws() is
-- only stable (it calls the output functions of its arguments), so the
-- immutable eligibility_reason() built on it could not be inlined, and
-- every row of a search, a list or an import's eligibility check paid a
-- call of the SQL function executor: about 3 us a row, against 0.3 us for
-- the same words built with || below. Same text for every combination
-- (tests/integration/test_search.py checks all 48).
create or replace function eligibility_reason(status text, ine text,
    class_id integer, legal boolean) returns text
language sql immutable parallel safe as $$
	select nullif(substr(
	    case status
		when 'admis_provisoire' then ', admission provisoire'
		when 'inscrit' then ', inscrit, non admis'
		else '' end ||
	    case when ine is null then ', INE manquant' else '' end ||
	    case when class_id is null then ', non réparti dans une classe'
		else '' end ||
	    case when legal is null then ', aucun responsable connu'
		when not legal then ', pas responsable légal' else '' end,
	    3), '')
$$;
