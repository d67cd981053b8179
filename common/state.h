/*
 * Account states: the table of states.def, and the one rule clients need
 * to show a row's state (a notified account whose letter expired is shown
 * as EXPIRE).
 */
#ifndef STATE_H
#define STATE_H

#include <jansson.h>

/* Widest short label, in terminal cells: at 80 columns the state gets
 * what is left beside a name of 30 cells, a login of 23 and a password. */
#define STATE_SHORT_MAX	10

enum state_colour {
	STATE_RED,
	STATE_ORANGE,
	STATE_YELLOW,
	STATE_GREEN,
	STATE_GREY,
};

enum account_state {
#define STATE(sym, code, label, short_label, colour) STATE_##sym,
#include "states.def"
#undef STATE
	STATE__COUNT
};
/* States stored in the database: all but the display-only EXPIRE. */
#define STATE__STORED	STATE_EXPIRE

struct state_info {
	const char		*code;
	const char		*label;
	const char		*short_label;
	enum state_colour	 colour;
};

const struct state_info *state_info(enum account_state);
/* The state with that code, or -1 (NULL code included). */
int	 state_lookup(const char *code);
/*
 * The state to show for a stored code and the server's "expired" flag;
 * NULL when the code is unknown or NULL (a row without an account).
 */
const struct state_info *state_shown(const char *code, int expired);
/* The same from a row or card of the server: its "state" and "expired". */
const struct state_info *state_of_row(const json_t *);

#endif
