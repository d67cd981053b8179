/*
 * The Journal tab: what was done in the school, newest first (the last
 * JOURNAL_LIMIT events). The screen owns a table of the events, the text
 * filter being typed or kept, the request in flight and the last error.
 *
 * '/' starts typing the filter; each key narrows the table at once. While
 * typing, every printable key belongs to the filter (a digit or 'q' must
 * not change tab or quit); Enter keeps the filter, Escape clears it. The
 * filter survives a reload and a change of tab.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "state.h"
#include "tui.h"
#include "utf8.h"
#include "widget-table.h"
#include "xmalloc.h"

#define JOURNAL_LIMIT	500
#define FILTER_MAX	128

struct journal {
	struct widget_table	 table;
	unsigned long		 waiting;	/* serial of the request */
	int			 loaded;	/* a reply came once */
	char			*error;		/* last refusal */
	char			 filter[FILTER_MAX];
	int			 typing;
	struct journal		*next;		/* in journal_live */
};

/*
 * A reply may come after its screen was freed (new session, quit), and
 * the frame drops the arguments of requests left at exit. So a request
 * carries no pointer: its argument is a serial number, and the reply
 * looks for the live screen waiting for that number.
 */
static struct journal	*journal_live;
static unsigned long	 journal_serial;

/* A string member of a row, "" when absent or null. */
static const char *
journal_str(json_t *row, const char *key)
{
	const char	*s = json_string_value(json_object_get(row, key));

	return s != NULL ? s : "";
}

/* The short label of a state code (the code itself if unknown): the
 * headings of the per-class table of the État tab. */
static const char *
journal_state_label(const char *code)
{
	const struct state_info	*s = state_shown(code, 0);

	return s != NULL ? s->short_label : code;
}

/* Whether the event moved the account to another state. */
static int
journal_state_changed(json_t *row)
{
	const char	*from = journal_str(row, "from");
	const char	*to = journal_str(row, "to");

	return *from != '\0' && *to != '\0' && strcmp(from, to) != 0;
}

/* The date to the minute: seconds matter little to a director and the
 * column is then narrower. */
static const char *
col_at(json_t *row, char *tmp, size_t size)
{
	const char	*at = journal_str(row, "at");

	/* "DD/MM/YYYY HH:MM:SS" */
	if (strlen(at) == 19 && at[16] == ':') {
		snprintf(tmp, size, "%.16s", at);
		return tmp;
	}
	return at;
}

static const char *
col_action(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return journal_str(row, "label");
}

static const char *
col_login(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return journal_str(row, "login");
}

static const char *
col_guardian(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return journal_str(row, "guardian");
}

static const char *
col_actor(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return journal_str(row, "actor");
}

/* The detail, or the change of state when there is none. */
static const char *
col_detail(json_t *row, char *tmp, size_t size)
{
	const char	*detail = json_string_value(json_object_get(row,
			    "detail"));

	if (detail != NULL)
		return detail;
	if (!journal_state_changed(row))
		return "";
	snprintf(tmp, size, "%s → %s", journal_state_label(journal_str(row,
	    "from")), journal_state_label(journal_str(row, "to")));
	return tmp;
}

#define COL_DETAIL	5

/* On a narrow screen the guardian gives way first (the login names the
 * account too), the date last. */
static const struct table_column columns[] = {
	{ .title = "Date", .min = 16, .max = 19, .keep = 9, .text = col_at },
	{ .title = "Action", .min = 16, .max = 36, .keep = 3,
	    .text = col_action },
	{ .title = "Compte", .min = 10, .max = 22, .keep = 6,
	    .text = col_login },
	{ .title = "Responsable", .min = 10, .max = 30, .keep = 1,
	    .text = col_guardian },
	{ .title = "Par", .min = 8, .max = 20, .keep = 2, .text = col_actor },
	{ .title = "Détail", .min = 12, .max = 80, .keep = 4,
	    .text = col_detail },
};

/* A change of state is shown in the colour of the new state. */
static int
journal_row_attr(struct tui *t, json_t *row, int column)
{
	if (column == COL_DETAIL && json_string_value(json_object_get(row,
	    "detail")) == NULL && journal_state_changed(row))
		return tui_attr(t, tui_state_color(
		    state_shown(journal_str(row, "to"), 0)));
	return A_NORMAL;
}

static void
journal_draw(struct screen *sc, struct tui *t, int top, int height)
{
	struct journal	*j = sc->data;
	char		 count[128], *shown;
	int		 x = 1, w, cw;

	if (height < 1)
		return;
	/* The filter line: "Filtre : texte_   (n / N événements)". */
	if (j->table.query != NULL)
		snprintf(count, sizeof count, "(%zu / %zu événement%s)",
		    j->table.nview, j->table.nrows, j->table.nrows > 1 ? "s" :
		    "");
	else
		snprintf(count, sizeof count, "(%zu événement%s)",
		    j->table.nrows, j->table.nrows > 1 ? "s" : "");
	tui_print(top, x, "Filtre : ", 9, A_NORMAL);
	x += 9;
	if (j->typing || j->filter[0] != '\0') {
		/* While typing, "_" stands for the cursor. */
		xasprintf(&shown, "%s%s", j->filter, j->typing ? "_" : "");
		w = utf8_width(shown);
		if (w > COLS - x - 1)
			w = COLS - x - 1;
		tui_print(top, x, shown, w, A_BOLD);
		free(shown);
	} else {
		w = utf8_width("aucun (/ pour filtrer)");
		tui_print(top, x, "aucun (/ pour filtrer)", w, A_DIM);
	}
	x += w + 3;
	if (j->loaded && x < COLS) {
		cw = utf8_width(count);
		tui_print(top, x, count, cw, A_NORMAL);
		x += cw + 3;
	}
	if (j->waiting != 0 && x < COLS)
		tui_print(top, x, "Chargement…", COLS - x, A_DIM);

	if (height < 3)
		return;
	if (!j->loaded) {
		if (j->waiting != 0)
			tui_print(top + 2, 3, "Chargement…", COLS - 3, A_DIM);
		else if (j->error != NULL)
			tui_print(top + 2, 3, j->error, COLS - 3,
			    tui_attr(t, TC_ERROR));
		return;
	}
	widget_table_draw(&j->table, t, top + 1, 0, height - 1, COLS);
	if (j->table.nview == 0)
		tui_print(top + 3, 3, j->table.nrows == 0 ? "Aucun événement "
		    "dans le journal de l'école." : "Aucun événement ne "
		    "correspond au filtre.", COLS - 3, A_DIM);
}

/* The reply to "journal": show the events under the current filter. */
static void
journal_loaded(struct tui *t, struct rpc_reply *r, void *arg)
{
	unsigned long	 serial = (unsigned long)(uintptr_t)arg;
	struct journal	*j;

	for (j = journal_live; j != NULL && j->waiting != serial;
	    j = j->next)
		;
	if (j == NULL)
		return;		/* a screen gone, or a request replaced */
	j->waiting = 0;
	if (r == NULL)
		return;		/* the frame reports the lost connection */
	if (!r->ok) {
		free(j->error);
		j->error = xstrdup(r->message != NULL ? r->message :
		    "Le serveur a refusé la demande.");
		tui_status(t, 1, "%s", j->error);
		return;
	}
	/* An error of ours still on the status line is now stale. */
	if (j->error != NULL && t->status_error &&
	    strcmp(t->status, j->error) == 0)
		tui_status(t, 0, "Journal actualisé.");
	free(j->error);
	j->error = NULL;
	widget_table_set_rows(&j->table, json_object_get(r->result,
	    "events"));
	widget_table_filter(&j->table, j->filter);
	j->loaded = 1;
	tui_redraw(t);
}

/* Ask for the events, unless a request is already on its way. */
static void
journal_load(struct journal *j, struct tui *t)
{
	if (j->waiting != 0)
		return;
	if (++journal_serial == 0)
		journal_serial = 1;
	j->waiting = journal_serial;
	/* The reply may come at once (no connection): waiting is set. */
	tui_request(t, OP_JOURNAL, json_pack("{s:i}", "limit", JOURNAL_LIMIT),
	    journal_loaded, (void *)(uintptr_t)j->waiting);
	tui_redraw(t);
}

static void
journal_show(struct screen *sc, struct tui *t)
{
	struct journal	*j = sc->data;

	/* Back on the tab, keys move the table again. */
	j->typing = 0;
	journal_load(j, t);
}

/* A key while the filter is being typed. */
static int
journal_key_typing(struct journal *j, wint_t ch, int keycode)
{
	if (keycode) {
		switch (ch) {
		case KEY_BACKSPACE:
			utf8_pop(j->filter);
			break;
		case KEY_ENTER:
			j->typing = 0;
			return 1;
		default:
			/* Arrows and pages still move in the table. */
			return widget_table_key(&j->table, ch, keycode);
		}
		widget_table_filter(&j->table, j->filter);
		return 1;
	}
	switch (ch) {
	case '\r':
	case '\n':
		j->typing = 0;
		return 1;
	case 27:	/* Escape */
		j->typing = 0;
		j->filter[0] = '\0';
		break;
	case 127:
	case 8:
		utf8_pop(j->filter);
		break;
	case 21:	/* ^U: the whole line */
		j->filter[0] = '\0';
		break;
	default:
		/* Tab and other controls go to the frame. */
		if (!utf8_push(j->filter, FILTER_MAX, ch))
			return 0;
		break;
	}
	widget_table_filter(&j->table, j->filter);
	return 1;
}

static int
journal_key(struct screen *sc, struct tui *t, wint_t ch, int keycode)
{
	struct journal	*j = sc->data;

	if (j->typing)
		return journal_key_typing(j, ch, keycode);
	if (keycode) {
		if (ch == KEY_F(5)) {
			journal_load(j, t);
			return 1;
		}
		return widget_table_key(&j->table, ch, keycode);
	}
	switch (ch) {
	case '/':
		j->typing = 1;
		return 1;
	case 'r':
	case 'R':
		journal_load(j, t);
		return 1;
	case 27:	/* Escape: drop a kept filter */
		if (j->filter[0] == '\0')
			return 0;
		j->filter[0] = '\0';
		widget_table_filter(&j->table, NULL);
		return 1;
	}
	return 0;
}

static const char *
journal_hint(struct screen *sc, struct tui *t)
{
	struct journal	*j = sc->data;

	(void)t;
	if (j->typing)
		return "Saisissez le filtre  Entrée garder  Échap effacer  "
		    "↑↓ défiler";
	return "↑↓ défiler  / filtrer  r actualiser  Tab onglet suivant  "
	    "q quitter";
}

static void
journal_free(struct screen *sc)
{
	struct journal	*j = sc->data, **pp;

	/* A reply still on its way will find no screen. */
	for (pp = &journal_live; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	widget_table_free(&j->table);
	free(j->error);
	free(j);
}

struct screen *
screen_journal_new(struct tui *t)
{
	struct screen	*sc = xcalloc(1, sizeof *sc);
	struct journal	*j = xcalloc(1, sizeof *j);

	(void)t;
	j->next = journal_live;
	journal_live = j;
	widget_table_init(&j->table, columns,
	    (int)(sizeof columns / sizeof columns[0]), 0);
	j->table.attr = journal_row_attr;
	sc->name = "journal";
	sc->draw = journal_draw;
	sc->key = journal_key;
	sc->hint = journal_hint;
	sc->show = journal_show;
	sc->free = journal_free;
	sc->data = j;
	return sc;
}
