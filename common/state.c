/* The account states table (states.def). */
#include <string.h>

#include "log.h"
#include "state.h"

static const struct state_info states[] = {
#define STATE(sym, code, label, short_label, colour) \
	{ code, label, short_label, colour },
#include "states.def"
#undef STATE
};

const struct state_info *
state_info(enum account_state s)
{
	if ((unsigned)s >= STATE__COUNT)
		fatalx("state_info: %d out of range", (int)s);
	return &states[s];
}

int
state_lookup(const char *code)
{
	int	i;

	if (code == NULL)
		return -1;
	for (i = 0; i < STATE__COUNT; i++) {
		if (strcmp(states[i].code, code) == 0)
			return i;
	}
	return -1;
}

const struct state_info *
state_shown(const char *code, int expired)
{
	int	s = state_lookup(code);

	if (s < 0)
		return NULL;
	if (s == STATE_NOTIFIE && expired)
		s = STATE_EXPIRE;
	return &states[s];
}

const struct state_info *
state_of_row(const json_t *row)
{
	return state_shown(json_string_value(json_object_get(row, "state")),
	    json_is_true(json_object_get(row, "expired")));
}
