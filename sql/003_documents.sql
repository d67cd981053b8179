-- 003: documents with credentials. A document is handed to the client and
-- never kept here; what is kept is the fact of its issue: who, when, for
-- which accounts, and its digest. Never the passwords.
create table documents (
	id		bigserial primary key,
	kind		text not null check (kind in ('notification', 'reset',
			    'list')),
	format		text not null check (format in ('pdf', 'csv')),
	school_id	integer,
	staff_id	integer,
	created_at	timestamptz not null default now(),
	pages		integer,
	accounts	bigint[] not null,
	sha256		text not null
);
create index documents_school on documents (school_id, created_at);

-- Accounts a letter is due to expire for, and state counts, are read per
-- school: the state is part of the index the stats and search use.
create index accounts_state on accounts (state);
