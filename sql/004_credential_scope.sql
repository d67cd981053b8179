-- 004: credentials only through a link that carries an account in the
-- school. A guardian is one account for the whole academy (DESIGN §3), so
-- eligibility alone would let the director of any school where they have
-- a child see and hand out their credentials, even through a pupil only
-- "inscrit" or as a guardian without parental authority there. A director
-- may hand out a guardian's credentials (notify, reset, list, the password
-- of search and of show) only through a link that can carry an account in
-- their own school; the helpdesk, academy-wide, through one anywhere.

-- The links that can carry an account, with the school of their pupil:
-- a guardian's credentials may be handed out in exactly the schools of
-- these rows. Every credential query asks this view, so the rule lives
-- here alone. A plain view rather than a function of (guardian, school):
-- the planner inlines a view into each query, where an SQL function with
-- a subquery stays a call of its own, about 0.1 ms each, more than the
-- search of a whole class.
create view credential_links as
select l.guardian_id, l.pupil_id, p.school_id
from links l
join pupils p on p.id = l.pupil_id
where link_eligible(p.status, p.ine, p.class_id, l.legal);

-- Why a guardian's credentials stay out of a school where they have
-- children, from the reasons of their links there (eligibility_reason(),
-- distinct, joined): only that school's links, so a refusal says nothing
-- of the guardian's children elsewhere. The queries aggregate the reasons
-- in the pass over the guardian's links they already make; a view of
-- refusals grouped by guardian and school, read once per guardian, made
-- a notification of a whole school quadratic when statistics were stale.
create function credential_refusal(reasons text) returns text
language sql immutable parallel safe as $$
	select 'aucun lien éligible dans cette école' ||
	    coalesce(' (' || reasons || ')', '')
$$;
