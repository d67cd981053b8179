/* Unit tests of what every screen shows the same way: the account states
 * table (common/states.def) and names fitted to a column (common/utf8.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "state.h"
#include "utf8.h"

/* Every state has a code, a label and a short label that fits the
 * narrow state column; codes are unique and found again by lookup. */
static void
test_states_complete(void **unused)
{
	const struct state_info	*s;
	int			 i, j;

	(void)unused;
	for (i = 0; i < STATE__COUNT; i++) {
		s = state_info(i);
		assert_non_null(s->code);
		assert_true(s->label[0] != '\0');
		assert_true(s->short_label[0] != '\0');
		assert_in_range(utf8_width(s->short_label), 1, STATE_SHORT_MAX);
		assert_true(utf8_width(s->short_label) <=
		    utf8_width(s->label));
		assert_int_equal(state_lookup(s->code), i);
		for (j = 0; j < i; j++)
			assert_string_not_equal(state_info(j)->code, s->code);
	}
	assert_int_equal(state_lookup("inconnu"), -1);
	assert_int_equal(state_lookup(NULL), -1);
}

/* The ministry's labels, as DESIGN.md and the directors' guide write
 * them; the database's account_states table is checked against the
 * same table when ecadmd starts. */
static void
test_states_labels(void **unused)
{
	(void)unused;
	assert_string_equal(state_info(STATE_PRECREE)->label, "Non notifié");
	assert_string_equal(state_info(STATE_NOTIFIE)->label,
	    "Notifié et non activé");
	assert_string_equal(state_info(STATE_ATTENTE)->label,
	    "En cours d'activation");
	assert_string_equal(state_info(STATE_ACTIVE)->label, "Activé");
	assert_string_equal(state_info(STATE_DESACTIVE)->label, "Désactivé");
	assert_string_equal(state_info(STATE_EXPIRE)->label,
	    "Notifié (expiré)");
	assert_int_equal(STATE__STORED, 5);
}

/* Only a notified account's letter expires. */
static void
test_state_shown(void **unused)
{
	json_t	*row;

	(void)unused;
	assert_ptr_equal(state_shown("notifie", 1), state_info(STATE_EXPIRE));
	assert_ptr_equal(state_shown("notifie", 0),
	    state_info(STATE_NOTIFIE));
	assert_ptr_equal(state_shown("active", 1), state_info(STATE_ACTIVE));
	assert_null(state_shown(NULL, 0));
	assert_null(state_shown("expire?", 0));
	row = json_pack("{s:s, s:b}", "state", "notifie", "expired", 1);
	assert_string_equal(state_of_row(row)->label, "Notifié (expiré)");
	json_decref(row);
	row = json_pack("{s:n, s:s}", "state", "reason", "sans INE");
	assert_null(state_of_row(row));
	json_decref(row);
}

static void
check_name(const char *name, int width, const char *want)
{
	char	*got = utf8_fit_name(name, width);

	assert_string_equal(got, want);
	assert_int_equal(utf8_width(got), width);
	free(got);
}

/* The surname is cut before the first names; other text at its end. */
static void
test_fit_name(void **unused)
{
	(void)unused;
	check_name("LEFÈVRE-ŒUVRARD Éloïse", 30, "LEFÈVRE-ŒUVRARD Éloïse        ");
	check_name("LEFÈVRE-ŒUVRARD Éloïse", 22, "LEFÈVRE-ŒUVRARD Éloïse");
	check_name("LEFÈVRE-ŒUVRARD Éloïse", 14, "LEFÈVR… Éloïse");
	check_name("DE LA FONTAINE Marie-Hélène", 21, "DE LA F… Marie-Hélène");
	check_name("HAßLER Adam", 8, "HA… Adam");
	check_name("NGUYỄN Thị Lan", 10, "N… Thị Lan");
	/* Too narrow for the first names: cut at the end. */
	check_name("BARTHÉLEMY Anne-Charlotte", 10, "BARTHÉLEM…");
	/* No surname to tell apart. */
	check_name("Direction de l'école", 10, "Direction…");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states_complete),
		cmocka_unit_test(test_states_labels),
		cmocka_unit_test(test_state_shown),
		cmocka_unit_test(test_fit_name),
	};

	utf8_locale_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
