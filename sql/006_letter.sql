-- 006: the validity of a letter, in one place.
--
-- A provisional password is valid three months from the date of the last
-- document that carried it (accounts.letter_at); a notified account past
-- that is shown "Notifié (expiré)" and gets a new password when notified
-- again (DESIGN §4). Every query of ecadmd asks these functions rather than
-- adding the interval itself, so the rule cannot drift between the sheet,
-- the card, the list, the search and the notification.
--
-- They are plain SQL without strict, so the planner inlines them into the
-- queries (the search filters thousands of rows with letter_expired()).

-- How long a letter's provisional password is valid.
create function letter_validity() returns interval
language sql immutable parallel safe as $$
	select interval '3 months'
$$;

-- When a letter dated letter_at expires. Stable, not immutable: adding
-- months to a timestamptz depends on the session's TimeZone.
create function letter_expires_at(letter_at timestamptz)
returns timestamptz
language sql stable parallel safe as $$
	select letter_at + letter_validity()
$$;

-- The same for a local date and time, as printed on the sheet.
create function letter_expires_at(letter_at timestamp) returns timestamp
language sql immutable parallel safe as $$
	select letter_at + letter_validity()
$$;

-- Whether an account in state with a letter dated letter_at is shown
-- expired: only a notified account expires (a guardian who activated has
-- chosen a password). Null when a notified account has no letter date.
create function letter_expired(state text, letter_at timestamptz)
returns boolean
language sql stable parallel safe as $$
	select state = 'notifie' and letter_expires_at(letter_at) < now()
$$;
