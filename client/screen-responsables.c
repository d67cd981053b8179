/*
 * The Responsables tab: one row per pupil and guardian of the school, the
 * account's login, password (provisional, or ****** once chosen) and state
 * in its colour, and why a row cannot have an account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "tui.h"
#include "widget-table.h"
#include "xmalloc.h"

struct responsables {
	struct widget_table	 table;
	int			 loading;
	char			 title[256];
};

static const char *
col_str(json_t *row, const char *key)
{
	const char	*s = json_string_value(json_object_get(row, key));

	return s != NULL ? s : "";
}

static const char *
col_pupil(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return col_str(row, "pupil");
}

static const char *
col_class(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return col_str(row, "class");
}

static const char *
col_guardian(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return col_str(row, "guardian");
}

static const char *
col_login(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return col_str(row, "login");
}

static const char *
col_password(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return col_str(row, "password");
}

static const char *
col_state(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	if (json_is_true(json_object_get(row, "expired")))
		return "Notifié (expiré)";
	return col_str(row, "state_label");
}

static const char *
col_reason(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return col_str(row, "reason");
}

static const struct table_column columns[] = {
	{ "Élève", 12, 30, col_pupil },
	{ "Classe", 5, 10, col_class },
	{ "Responsable", 12, 30, col_guardian },
	{ "Identifiant", 10, 22, col_login },
	{ "Mot de passe", 8, 14, col_password },
	{ "État", 11, 22, col_state },
	{ "Remarque", 8, 45, col_reason },
};

static int
row_attr(struct tui *t, json_t *row, int column)
{
	/* The state keeps its colour; an ineligible row is greyed. */
	if (column == 5)
		return tui_attr(t, tui_state_color(col_str(row, "state")));
	if (!json_is_true(json_object_get(row, "eligible")))
		return tui_attr(t, TC_INELIGIBLE);
	return A_NORMAL;
}

static void
responsables_loaded(struct tui *t, struct rpc_reply *r, void *arg)
{
	struct responsables	*rs = arg;
	size_t			 n;

	rs->loading = 0;
	if (r == NULL)
		return;
	if (!r->ok) {
		tui_status(t, 1, "%s", r->message);
		return;
	}
	widget_table_set_rows(&rs->table, json_object_get(r->result, "rows"));
	n = json_array_size(json_object_get(r->result, "rows"));
	tui_status(t, 0, "%zu ligne%s · ↑↓ PgPréc PgSuiv : défiler · "
	    "q : quitter", n, n > 1 ? "s" : "");
}

static void
responsables_draw(struct screen *sc, struct tui *t)
{
	struct responsables	*rs = sc->data;

	tui_print(0, 0, rs->title, COLS, tui_attr(t, TC_HEADER));
	tui_print(1, 0, "", COLS, A_NORMAL);
	tui_print(1, 1, " Responsables ", 14, tui_attr(t, TC_TAB));
	if (rs->loading)
		tui_print(3, 2, "Chargement…", COLS - 2, A_DIM);
	else
		widget_table_draw(&rs->table, t, 2, 0, LINES - 3, COLS);
}

static int
responsables_key(struct screen *sc, struct tui *t, wint_t ch, int keycode)
{
	struct responsables	*rs = sc->data;

	if (!keycode && (ch == 'q' || ch == 'Q')) {
		tui_quit(t);
		return 1;
	}
	return widget_table_key(&rs->table, ch, keycode);
}

static void
responsables_free(struct screen *sc)
{
	struct responsables	*rs = sc->data;

	widget_table_free(&rs->table);
	free(rs);
}

/* "École … (UAI) — Prénom Nom (Directeur)" from the session. */
static void
responsables_title(struct tui *t, struct responsables *rs)
{
	json_t		*school = json_array_get(json_object_get(t->session,
			    "schools"), 0);
	const char	*name = json_string_value(json_object_get(school,
			    "name"));
	const char	*uai = json_string_value(json_object_get(school, "uai"));

	if (t->settings->school != NULL)
		uai = t->settings->school, name = NULL;
	snprintf(rs->title, sizeof rs->title, " %s%s%s%s — %s (%s)",
	    name != NULL ? name : uai != NULL ? uai : "Académie",
	    name != NULL && uai != NULL ? " (" : "", name != NULL &&
	    uai != NULL ? uai : "", name != NULL && uai != NULL ? ")" : "",
	    json_string_value(json_object_get(t->session, "name")),
	    json_string_value(json_object_get(t->session, "role_label")));
}

struct screen *
screen_responsables_new(struct tui *t)
{
	struct screen		*sc = xcalloc(1, sizeof *sc);
	struct responsables	*rs = xcalloc(1, sizeof *rs);

	widget_table_init(&rs->table, columns,
	    (int)(sizeof columns / sizeof columns[0]));
	rs->table.attr = row_attr;
	rs->loading = 1;
	responsables_title(t, rs);
	sc->name = "responsables";
	sc->draw = responsables_draw;
	sc->key = responsables_key;
	sc->free = responsables_free;
	sc->data = rs;
	tui_request(t, "search", NULL, responsables_loaded, rs);
	return sc;
}
