-- demo-load.sql: load an ONDE extraction with psql, for the demo only,
-- into an empty database (psql -v file=PATH -f demo-load.sql). The real
-- import, with its checks and snapshot semantics, is "ecadmctl import".
\set ON_ERROR_STOP 1
begin;
create temp table onde (
	uai text, ecole text, commune text, eleve_id text, nom_eleve text,
	prenom_eleve text, date_naissance text, ine text, statut text,
	classe text, niveau text, resp_id text, resp_civilite text,
	resp_nom text, resp_prenom text, resp_lien text, resp_legal text,
	resp_courriel text, resp_telephone text
) on commit drop;
\set copy '\\copy onde from ' :'file' ' with (format csv, delimiter '';'', header true)'
:copy

\o /dev/null
select set_config('ecadm.actor', 'import', true),
    set_config('ecadm.channel', 'demo', true),
    set_config('ecadm.action', 'create', true);
\o

insert into schools (uai, name, town)
select distinct on (uai) uai, ecole, commune from onde order by uai
on conflict (uai) do update set name = excluded.name, town = excluded.town;

insert into classes (school_id, name)
select distinct s.id, o.classe from onde o join schools s using (uai)
where coalesce(o.classe, '') <> '';

insert into pupils (onde_id, school_id, class_id, level, last_name,
    first_name, birth_date, ine, status)
select distinct on (o.eleve_id) o.eleve_id, s.id, c.id, nullif(o.niveau, ''),
    o.nom_eleve, o.prenom_eleve, to_date(o.date_naissance, 'DD/MM/YYYY'),
    nullif(o.ine, ''), o.statut
from onde o
join schools s using (uai)
left join classes c on c.school_id = s.id and c.name = o.classe
order by o.eleve_id;

insert into guardians (onde_id, civility, last_name, first_name, email, phone)
select distinct on (resp_id) resp_id, nullif(resp_civilite, ''), resp_nom,
    resp_prenom, nullif(resp_courriel, ''), nullif(resp_telephone, '')
from onde where coalesce(resp_id, '') <> '' order by resp_id;

insert into links (pupil_id, guardian_id, relation, legal)
select distinct on (p.id, g.id) p.id, g.id, nullif(o.resp_lien, ''),
    o.resp_legal = 'oui'
from onde o
join pupils p on p.onde_id = o.eleve_id
join guardians g on g.onde_id = o.resp_id;

select accounts_create_missing() as accounts_created;
commit;
