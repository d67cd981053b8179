/*
 * The Responsables tab, the director's day: one row per pupil and guardian
 * of the school with the account's login, password (provisional in clear,
 * ****** once chosen), state in its colour and e-mail; ineligible rows
 * greyed with the reason. The filter bar picks classes, a state, with or
 * without e-mail (the server searches) and a text (filtered here, as it is
 * typed). Rows are ticked one by one or all at once, then notified on
 * paper, listed, or opened as an account card.
 *
 * The screen owns the rows of the last search and the filter settings; it
 * keeps them across tabs. Actions go through the server and reload the
 * rows when they changed something. The helpdesk searches the whole
 * academy by text and acts on one account at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "buf.h"
#include "state.h"
#include "tui.h"
#include "utf8.h"
#include "widget-dialog.h"
#include "widget-table.h"
#include "xmalloc.h"

/* The choices of the state filter: all, then each stored state. */
#define STATE_CHOICES	(1 + STATE__STORED)
static const char *state_items[STATE_CHOICES] = { "Tous les états" };
static const char *const email_items[] = { "tous", "avec courriel",
    "sans courriel" };

struct responsables {
	struct widget_table	 table;
	char			**classes;	/* names from the server */
	unsigned char		*ticked;	/* classes chosen */
	size_t			 nclasses;
	int			 state;		/* 0 all, else 1 + state */
	int			 email;		/* index in email_items */
	char			 query[128];
	int			 typing;
	int			 loading;
	int			 academy;	/* helpdesk, whole academy */
	json_t			*pending;	/* notify: logins confirmed */
	int			 by_email;	/* notify: the channel chosen */
	json_t			*without;	/* notify: rows without account */
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
col_school(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	return col_str(row, "school");
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

/* The state, or for a row without any account, why. */
static const char *
col_state(json_t *row, char *tmp, size_t size)
{
	const char	*label = tui_state_label(row);

	(void)tmp, (void)size;
	return label != NULL ? label : col_str(row, "reason");
}

/* The same in fewer cells: the short label (a reason stays whole, to
 * be cut if it must). */
static const char *
col_state_brief(json_t *row, char *tmp, size_t size)
{
	const struct state_info	*s = state_of_row(row);

	(void)tmp, (void)size;
	return s != NULL ? s->short_label : col_str(row, "reason");
}

/* Rows of one pupil share a heading. */
static const char *
row_group(json_t *row)
{
	return json_string_value(json_object_get(row, "pupil_id"));
}

static const char *
col_email(json_t *row, char *tmp, size_t size)
{
	/* A mail that could not be delivered is the director's business:
	 * the address is probably wrong. */
	if (json_is_true(json_object_get(row, "mail_failed"))) {
		snprintf(tmp, size, "en échec : %s",
		    col_str(row, "email"));
		return tmp;
	}
	return col_str(row, "email");
}

/* Why this row's child gives no account, when the guardian has one
 * through another child (without an account, the state column says). */
static const char *
col_reason(json_t *row, char *tmp, size_t size)
{
	(void)tmp, (void)size;
	if (json_string_value(json_object_get(row, "state")) == NULL)
		return "";
	return col_str(row, "reason");
}

/*
 * Narrow screens give up the remark and the e-mail first (down to
 * nothing), then the state's long label for its short one; names and the
 * login come next, a password is never cut. When a name would be cut,
 * the table shows each pupil and class once, on a line above its
 * guardians (widget-table.h). The helpdesk's rows come from every school
 * and show all columns, the UAI first; a school's staff see them from the
 * second on.
 */
static const struct table_column columns[] = {
	{ "École", 8, 8, 9, col_school, NULL, TABLE_GROUP },
	{ "Élève", 10, 30, 6, col_pupil, NULL, TABLE_GROUP | TABLE_NAME },
	{ "Classe", 6, 10, 2, col_class, NULL, TABLE_GROUP },
	{ "Responsable", 10, 30, 6, col_guardian, NULL, TABLE_NAME },
	{ "Identifiant", 9, 25, 8, col_login, NULL, 0 },
	{ "Mot de passe", 10, 14, 9, col_password, NULL, 0 },
	{ "État", STATE_SHORT_MAX, 22, 4, col_state, col_state_brief, 0 },
	{ "Courriel", 0, 32, 1, col_email, NULL, 0 },
	{ "Remarque", 0, 45, 0, col_reason, NULL, 0 },
};
#define NCOLUMNS	((int)(sizeof columns / sizeof columns[0]))
#define STATE_COLUMN	6	/* in columns[] */

/* The state keeps its colour; an ineligible row is greyed. */
static int
row_attr_at(struct tui *t, json_t *row, int column, int state_column)
{
	if (column == state_column)
		return tui_attr(t, tui_state_color(state_of_row(row)));
	/* The e-mail column follows the state's. */
	if (column == state_column + 1 &&
	    json_is_true(json_object_get(row, "mail_failed")))
		return tui_attr(t, TC_RED);
	if (!json_is_true(json_object_get(row, "eligible")))
		return tui_attr(t, TC_INELIGIBLE);
	return A_NORMAL;
}

static int
row_attr(struct tui *t, json_t *row, int column)
{
	return row_attr_at(t, row, column, STATE_COLUMN - 1);
}

static int
academy_row_attr(struct tui *t, json_t *row, int column)
{
	return row_attr_at(t, row, column, STATE_COLUMN);
}

/* -- loading --------------------------------------------------------- */

static void
responsables_loaded(struct tui *t, struct rpc_reply *r, void *arg)
{
	struct responsables	*rs = arg;

	rs->loading = 0;
	if (r == NULL)
		return;
	if (!r->ok) {
		tui_status(t, 1, "%s", r->message);
		return;
	}
	widget_table_set_rows(&rs->table, json_object_get(r->result, "rows"));
	if (!rs->academy)
		widget_table_filter(&rs->table, rs->query);
	if (json_is_true(json_object_get(r->result, "truncated")))
		tui_status(t, 1, "Trop de résultats : seuls les premiers sont "
		    "affichés, précisez la recherche.");
}

/* The classes ticked in the filter, as a JSON array (maybe empty). */
static json_t *
responsables_ticked_classes(struct responsables *rs)
{
	json_t	*classes = json_array();
	size_t	 i;

	for (i = 0; i < rs->nclasses; i++) {
		if (rs->ticked[i])
			json_array_append_new(classes,
			    json_string(rs->classes[i]));
	}
	return classes;
}

/* Search again with the filters of the bar. */
static void
responsables_search(struct tui *t, struct responsables *rs)
{
	json_t	*args = json_object(), *classes;

	if (rs->academy) {
		if (strlen(rs->query) < 3) {
			tui_status(t, 0, "Recherche dans l'académie : tapez / "
			    "puis au moins 3 caractères (nom, identifiant, "
			    "INE) et Entrée.");
			json_decref(args);
			return;
		}
		json_object_set_new(args, "query", json_string(rs->query));
	}
	classes = responsables_ticked_classes(rs);
	if (json_array_size(classes) > 0)
		json_object_set_new(args, "classes", classes);
	else
		json_decref(classes);
	if (rs->state > 0)
		json_object_set_new(args, "state",
		    json_string(state_info(rs->state - 1)->code));
	if (rs->email > 0)
		json_object_set_new(args, "email", json_string(rs->email == 1 ?
		    "avec" : "sans"));
	rs->loading = 1;
	tui_request(t, OP_SEARCH, args, responsables_loaded, rs);
}

static void
responsables_classes_loaded(struct tui *t, struct rpc_reply *r, void *arg)
{
	struct responsables	*rs = arg;
	json_t			*c;
	size_t			 i;

	if (r == NULL || !r->ok)
		return;
	(void)t;
	for (i = 0; i < rs->nclasses; i++)
		free(rs->classes[i]);
	free(rs->classes);
	free(rs->ticked);
	rs->nclasses = json_array_size(json_object_get(r->result, "classes"));
	rs->classes = xcalloc(rs->nclasses + 1, sizeof *rs->classes);
	rs->ticked = xcalloc(rs->nclasses + 1, 1);
	json_array_foreach(json_object_get(r->result, "classes"), i, c)
		rs->classes[i] = xstrdup(json_string_value(json_object_get(c,
		    "name")));
}

static void
responsables_show(struct screen *sc, struct tui *t)
{
	struct responsables	*rs = sc->data;

	if (!rs->academy && rs->nclasses == 0)
		tui_request(t, OP_CLASSES, NULL, responsables_classes_loaded,
		    rs);
	responsables_search(t, rs);
}

/* -- drawing --------------------------------------------------------- */

/* "CP, CE1 A" or "toutes". */
static void
responsables_class_names(struct responsables *rs, char *out, size_t size)
{
	size_t	i, n = 0;

	out[0] = '\0';
	for (i = 0; i < rs->nclasses; i++) {
		if (!rs->ticked[i])
			continue;
		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s",
		    n > 0 ? ", " : "", rs->classes[i]);
	}
	if (n == 0)
		snprintf(out, size, "toutes");
}

static void
responsables_draw(struct screen *sc, struct tui *t, int top, int height)
{
	struct responsables	*rs = sc->data;
	char			 bar[1024], classes[512];

	responsables_class_names(rs, classes, sizeof classes);
	if (rs->academy)
		snprintf(bar, sizeof bar, " Académie · Recherche : %s%s",
		    rs->query, rs->typing ? "_" : "");
	else
		snprintf(bar, sizeof bar, " Classes : %s │ État : %s │ "
		    "Courriel : %s │ Texte : %s%s", classes,
		    rs->state == 0 ? "tous" : state_items[rs->state],
		    email_items[rs->email], rs->query, rs->typing ? "_" : "");
	tui_print(top, 0, bar, COLS, rs->typing ? A_BOLD : A_NORMAL);
	if (rs->loading && rs->table.nrows == 0) {
		tui_print(top + 2, 2, "Recherche en cours…", COLS - 2, A_DIM);
		return;
	}
	widget_table_draw(&rs->table, t, top + 1, 0, height - 1, COLS);
	if (rs->table.nview == 0 && !rs->loading)
		tui_print(top + 3, 2, rs->academy && rs->query[0] == '\0' ?
		    "Tapez / puis le nom d'un responsable, d'un élève, un "
		    "identifiant ou un INE." : "Aucune ligne.", COLS - 2,
		    A_DIM);
}

/* "412 lignes · 3 cochées", for the status line. */
static const char *
responsables_counts(struct screen *sc, struct tui *t)
{
	struct responsables	*rs = sc->data;
	static char		 count[128];
	size_t			 n = widget_table_checked(&rs->table);

	(void)t;
	snprintf(count, sizeof count, "%zu ligne%s · %zu cochée%s",
	    rs->table.nview, rs->table.nview > 1 ? "s" : "", n,
	    n > 1 ? "s" : "");
	return count;
}

static const char *
responsables_hint(struct screen *sc, struct tui *t)
{
	struct responsables	*rs = sc->data;
	static char		 hint[256];

	if (rs->typing)
		return " Tapez le texte · Entrée : garder · Échap : effacer";
	/* Only the keys of the operations this role may call. */
	snprintf(hint, sizeof hint, " %s%s%sEntrée fiche  %s%s%so tri  "
	    "? aide  q quitter",
	    rs->academy ? "/ chercher  " : "Espace cocher  a tout  ",
	    !rs->academy && tui_allowed(t, OP_NOTIFY) ? "n notifier  " : "",
	    !rs->academy && tui_allowed(t, OP_LIST) ? "l liste  " : "",
	    tui_allowed(t, OP_RESET) ? "i réinit.  " : "",
	    tui_allowed(t, OP_SET_EMAIL) ? "M courriel  E renvoyer  " : "",
	    rs->academy ? "" : "/ texte  c classes  e état  m courriel  "
	    "r rech.  ");
	return hint;
}

/* -- actions --------------------------------------------------------- */

/* The rows an action applies to: the ticked ones, else the current. */
static json_t *
responsables_selection(struct responsables *rs)
{
	json_t	*rows = widget_table_checked_rows(&rs->table), *cur;

	if (json_array_size(rows) == 0 &&
	    (cur = widget_table_current(&rs->table)) != NULL)
		json_array_append(rows, cur);
	return rows;
}

/* The distinct logins of some rows. */
static json_t *
responsables_logins(json_t *rows)
{
	json_t		*logins = json_array(), *row, *x;
	const char	*login;
	size_t		 i, j;
	int		 seen;

	json_array_foreach(rows, i, row) {
		if ((login = json_string_value(json_object_get(row,
		    "login"))) == NULL)
			continue;
		seen = 0;
		json_array_foreach(logins, j, x)
			seen |= strcmp(json_string_value(x), login) == 0;
		if (!seen)
			json_array_append_new(logins, json_string(login));
	}
	return logins;
}

static void
notify_done(struct tui *t, struct rpc_reply *r, void *arg)
{
	struct responsables	*rs = arg;
	char			 what[256];

	dialog_progress_done(t, t->progress);
	if (r == NULL)
		return;
	if (!r->ok) {
		dialog_message(t, "Notification refusée", r->message);
		return;
	}
	if (rs->by_email) {
		/* No document: the mailer sends them from the outbox. */
		tui_status(t, 0, "%zu compte%s notifié%s : les courriels "
		    "partent.", json_array_size(json_object_get(r->result,
		    "notified")), json_array_size(json_object_get(r->result,
		    "notified")) > 1 ? "s" : "", json_array_size(
		    json_object_get(r->result, "notified")) > 1 ? "s" : "");
		responsables_search(t, rs);
		return;
	}
	snprintf(what, sizeof what, "%zu compte%s notifié%s : %lld page%s à "
	    "imprimer.", json_array_size(json_object_get(r->result,
	    "notified")), json_array_size(json_object_get(r->result,
	    "notified")) > 1 ? "s" : "", json_array_size(json_object_get(
	    r->result, "notified")) > 1 ? "s" : "",
	    (long long)json_integer_value(json_object_get(r->result, "pages")),
	    json_integer_value(json_object_get(r->result, "pages")) > 1 ?
	    "s" : "");
	tui_document_saved(t, r, what);
	responsables_search(t, rs);
}

static void
notify_confirmed(struct tui *t, int yes, void *arg)
{
	struct responsables	*rs = arg;

	if (!yes) {
		json_decref(rs->pending);
		rs->pending = NULL;
		tui_status(t, 0, "Notification annulée.");
		return;
	}
	dialog_progress(t, "Notification des comptes");
	tui_request(t, OP_NOTIFY, json_pack("{s:o, s:s}", "logins",
	    rs->pending, "channel", rs->by_email ? "email" : "paper"),
	    notify_done, rs);
	rs->pending = NULL;
}

/* The server said what it would do: ask the director. */
static void
notify_planned(struct tui *t, struct rpc_reply *r, void *arg)
{
	struct responsables	*rs = arg;
	struct buf		 text;
	json_t			*x, *skipped;
	size_t			 i, counts[3] = { 0, 0, 0 }, nskip;

	if (r == NULL)
		return;
	if (!r->ok) {
		dialog_message(t, "Notification impossible", r->message);
		return;
	}
	json_array_foreach(json_object_get(r->result, "notified"), i, x) {
		const char *k = json_string_value(json_object_get(x,
		    "letter"));

		counts[strcmp(k, "rappel") == 0 ? 2 :
		    strcmp(k, "réimpression") == 0 ? 1 : 0]++;
	}
	/* The server's skipped accounts, then the ticked rows that have no
	 * account at all. */
	skipped = json_deep_copy(json_object_get(r->result, "skipped"));
	json_array_extend(skipped, rs->without);
	nskip = json_array_size(skipped);
	buf_init(&text);
	buf_printf(&text, "%zu compte%s %s notifié%s %s :\n"
	    "%zu nouveau%s mot%s de passe, %zu réimpression%s, %zu rappel%s"
	    " d'identifiant.\n", counts[0] + counts[1] + counts[2],
	    counts[0] + counts[1] + counts[2] > 1 ? "s" : "",
	    counts[0] + counts[1] + counts[2] > 1 ? "seront" : "sera",
	    counts[0] + counts[1] + counts[2] > 1 ? "s" : "",
	    rs->by_email ? "par courriel" : "sur papier", counts[0],
	    counts[0] > 1 ? "x" : "", counts[0] > 1 ? "s" : "", counts[1],
	    counts[1] > 1 ? "s" : "", counts[2], counts[2] > 1 ? "s" : "");
	if (nskip > 0)
		buf_printf(&text, "%zu ignoré%s :\n", nskip, nskip > 1 ? "s" :
		    "");
	json_array_foreach(skipped, i, x) {
		if (i == 5) {
			buf_printf(&text, "  … et %zu autre%s\n", nskip - 5,
			    nskip - 5 > 1 ? "s" : "");
			break;
		}
		buf_printf(&text, "  %s : %s\n", json_string_value(
		    json_object_get(x, "guardian")) != NULL ?
		    json_string_value(json_object_get(x, "guardian")) : "?",
		    json_string_value(json_object_get(x, "reason")));
	}
	json_decref(skipped);
	if (counts[0] + counts[1] + counts[2] == 0) {
		dialog_message(t, "Rien à notifier", buf_cstr(&text));
		json_decref(rs->pending);
		rs->pending = NULL;
	} else
		dialog_confirm(t, "Notifier les comptes", buf_cstr(&text),
		    rs->by_email ? "notifier et envoyer les courriels" :
		    "notifier et enregistrer le PDF", notify_confirmed, rs);
	buf_free(&text);
}

/* The channel chosen: ask the server what it would do. */
static void
notify_channel_chosen(struct tui *t, int index, const unsigned char *ticked,
    void *arg)
{
	struct responsables	*rs = arg;

	(void)ticked;
	if (index < 0) {
		json_decref(rs->pending);
		rs->pending = NULL;
		return;
	}
	rs->by_email = index == 1;
	tui_request(t, OP_NOTIFY, json_pack("{s:O, s:b, s:s}", "logins",
	    rs->pending, "dry_run", 1, "channel", rs->by_email ? "email" :
	    "paper"), notify_planned, rs);
}

static void
responsables_notify(struct tui *t, struct responsables *rs)
{
	json_t		*rows, *row;
	size_t		 i, without = 0;

	if (!tui_may(t, OP_NOTIFY, "La notification des comptes"))
		return;
	rows = responsables_selection(rs);
	json_decref(rs->pending);
	rs->pending = responsables_logins(rows);
	json_array_clear(rs->without);
	json_array_foreach(rows, i, row) {
		if (json_string_value(json_object_get(row, "login")) != NULL)
			continue;
		without++;
		json_array_append_new(rs->without, json_pack("{s:s, s:s}",
		    "guardian", json_string_value(json_object_get(row,
		    "guardian")) != NULL ? col_str(row, "guardian") :
		    col_str(row, "pupil"), "reason", col_str(row,
		    "reason")[0] != '\0' ? col_str(row, "reason") :
		    "pas de compte"));
	}
	json_decref(rows);
	if (json_array_size(rs->pending) == 0) {
		json_decref(rs->pending);
		rs->pending = NULL;
		dialog_message(t, "Rien à notifier", "Aucun compte dans la "
		    "sélection : les lignes grisées ne peuvent pas avoir de "
		    "compte (voir la colonne Remarque).");
		return;
	}
	(void)without;
	dialog_choice(t, "Notifier par", (const char *const[]){
	    "Papier : feuilles PDF à imprimer et à remettre",
	    "Courriel : à l'adresse de chaque responsable" }, 2, 0, NULL, 0,
	    notify_channel_chosen, rs);
}

static void
list_done(struct tui *t, struct rpc_reply *r, void *arg)
{
	char	what[128];

	(void)arg;
	dialog_progress_done(t, t->progress);
	if (r == NULL)
		return;
	if (!r->ok) {
		dialog_message(t, "Liste refusée", r->message);
		return;
	}
	snprintf(what, sizeof what, "Liste des responsables : %lld ligne%s.",
	    (long long)json_integer_value(json_object_get(r->result, "rows")),
	    json_integer_value(json_object_get(r->result, "rows")) > 1 ? "s" :
	    "");
	tui_document_saved(t, r, what);
}

static void
list_format_chosen(struct tui *t, int index, const unsigned char *ticked,
    void *arg)
{
	struct responsables	*rs = arg;
	json_t			*args, *rows, *classes;

	(void)ticked;
	if (index < 0)
		return;
	args = json_pack("{s:s}", "format", index == 0 ? "pdf" : "csv");
	rows = widget_table_checked_rows(&rs->table);
	classes = responsables_ticked_classes(rs);
	/* The ticked rows, else the classes of the filter, else all. */
	if (json_array_size(rows) > 0)
		json_object_set_new(args, "logins", responsables_logins(rows));
	else if (json_array_size(classes) > 0)
		json_object_set(args, "classes", classes);
	else
		json_object_set_new(args, "all", json_true());
	json_decref(rows);
	json_decref(classes);
	dialog_progress(t, "Édition de la liste");
	tui_request(t, OP_LIST, args, list_done, rs);
}

static void
reset_done(struct tui *t, struct rpc_reply *r, void *arg)
{
	struct responsables	*rs = arg;

	dialog_progress_done(t, t->progress);
	if (r == NULL)
		return;
	if (!r->ok) {
		dialog_message(t, "Réinitialisation refusée", r->message);
		return;
	}
	tui_document_saved(t, r, "Nouveau mot de passe provisoire : la nouvelle "
	    "feuille est à remettre à la famille.");
	if (rs != NULL)
		responsables_search(t, rs);
}

struct reset_ctx {
	struct responsables	*rs;
	char			*login;
};

static void
reset_confirmed(struct tui *t, int yes, void *arg)
{
	struct reset_ctx	*ctx = arg;

	if (yes) {
		dialog_progress(t, "Réinitialisation");
		tui_request(t, OP_RESET, json_pack("{s:s}", "login",
		    ctx->login), reset_done, ctx->rs);
	}
	free(ctx->login);
	free(ctx);
}

/* Ask before resetting an account. */
static void
responsables_reset(struct tui *t, struct responsables *rs, const char *login,
    const char *guardian)
{
	struct reset_ctx	*ctx = xcalloc(1, sizeof *ctx);
	char			 text[512];

	ctx->rs = rs;
	ctx->login = xstrdup(login);
	snprintf(text, sizeof text, "Réinitialiser le mot de passe de %s "
	    "(%s) ?\n\nUn nouveau mot de passe provisoire remplace l'ancien, "
	    "et celui que la famille avait choisi. La nouvelle feuille est "
	    "enregistrée aussitôt, pour être remise à la famille.",
	    guardian != NULL ? guardian : login, login);
	dialog_confirm(t, "Réinitialiser le mot de passe", text,
	    "réinitialiser", reset_confirmed, ctx);
}

/* -- the guardian's address ------------------------------------------ */

static void
mail_action_done(struct tui *t, struct rpc_reply *r, void *arg)
{
	struct responsables	*rs = arg;

	if (r == NULL)
		return;
	if (!r->ok) {
		dialog_message(t, "Action refusée", r->message);
		return;
	}
	if (json_object_get(r->result, "mailed") != NULL)
		tui_status(t, 0, "Adresse de %s enregistrée%s.",
		    json_string_value(json_object_get(r->result, "login")),
		    json_is_true(json_object_get(r->result, "mailed")) ?
		    " : un nouveau lien d'activation part à cette adresse" :
		    "");
	else
		tui_status(t, 0, "Courriel d'activation renvoyé à %s.",
		    json_string_value(json_object_get(r->result, "email")));
	responsables_search(t, rs);
}

static void
email_entered(struct tui *t, const char *email, void *arg)
{
	struct reset_ctx	*ctx = arg;

	if (email != NULL && *email != '\0')
		tui_request(t, OP_SET_EMAIL, json_pack("{s:s, s:s}", "login",
		    ctx->login, "email", email), mail_action_done, ctx->rs);
	free(ctx->login);
	free(ctx);
}

/* M: a new address; for an account waiting for its activation, a new
 * link goes there and the old one dies (the server's rule). */
static void
responsables_set_email(struct tui *t, struct responsables *rs, json_t *row)
{
	struct reset_ctx	*ctx = xcalloc(1, sizeof *ctx);
	char			 text[512];

	ctx->rs = rs;
	ctx->login = xstrdup(col_str(row, "login"));
	snprintf(text, sizeof text, "Adresse électronique de %s (%s).\n"
	    "Si le compte attend son activation, un nouveau lien part à "
	    "cette adresse et l'ancien ne sert plus.", col_str(row,
	    "guardian"), ctx->login);
	dialog_input(t, "Modifier le courriel", text, col_str(row, "email"),
	    email_entered, ctx);
}

static void
resend_confirmed(struct tui *t, int yes, void *arg)
{
	struct reset_ctx	*ctx = arg;

	if (yes)
		tui_request(t, OP_RESEND_ACTIVATION, json_pack("{s:s}",
		    "login", ctx->login), mail_action_done, ctx->rs);
	free(ctx->login);
	free(ctx);
}

/* E: only an account waiting for its activation has a link to resend. */
static void
responsables_resend(struct tui *t, struct responsables *rs, json_t *row)
{
	struct reset_ctx	*ctx;
	char			 text[512];

	if (state_lookup(col_str(row, "state")) != STATE_ATTENTE) {
		tui_status(t, 1, "Seul un compte « En cours d'activation » a un "
		    "lien à renvoyer.");
		return;
	}
	ctx = xcalloc(1, sizeof *ctx);
	ctx->rs = rs;
	ctx->login = xstrdup(col_str(row, "login"));
	snprintf(text, sizeof text, "Renvoyer le courriel d'activation de %s "
	    "(%s) à %s ?\n\nL'ancien lien ne sert plus.", col_str(row,
	    "guardian"), ctx->login, col_str(row, "email"));
	dialog_confirm(t, "Renvoyer le courriel d'activation", text,
	    "renvoyer", resend_confirmed, ctx);
}

/* -- keys ------------------------------------------------------------ */

static void
classes_chosen(struct tui *t, int index, const unsigned char *ticked,
    void *arg)
{
	struct responsables	*rs = arg;

	if (index < 0 || ticked == NULL)
		return;
	memcpy(rs->ticked, ticked, rs->nclasses);
	responsables_search(t, rs);
}

static void
state_chosen(struct tui *t, int index, const unsigned char *ticked,
    void *arg)
{
	struct responsables	*rs = arg;

	(void)ticked;
	if (index < 0)
		return;
	rs->state = index;
	responsables_search(t, rs);
}

/* Typing the text filter: every key goes here until Enter or Escape. */
static int
responsables_type(struct tui *t, struct responsables *rs, wint_t ch,
    int keycode)
{
	if ((!keycode && (ch == '\r' || ch == '\n')) ||
	    (keycode && ch == KEY_ENTER)) {
		rs->typing = 0;
		if (rs->academy)
			responsables_search(t, rs);
		return 1;
	}
	if (!keycode && ch == 27) {
		rs->typing = 0;
		rs->query[0] = '\0';
	} else if ((keycode && ch == KEY_BACKSPACE) ||
	    (!keycode && (ch == 127 || ch == 8)))
		utf8_pop(rs->query);
	else if (!keycode)
		utf8_push(rs->query, sizeof rs->query, ch);
	else
		return widget_table_key(&rs->table, ch, keycode);
	if (!rs->academy)
		widget_table_filter(&rs->table, rs->query);
	return 1;
}

static int
responsables_key(struct screen *sc, struct tui *t, wint_t ch, int keycode)
{
	struct responsables	*rs = sc->data;
	json_t			*row;
	MEVENT			 ev;

	if (rs->typing)
		return responsables_type(t, rs, ch, keycode);
	if (keycode) {
		switch (ch) {
		case KEY_MOUSE:
			ev = t->click;
			if (ev.bstate & BUTTON1_DOUBLE_CLICKED &&
			    widget_table_mouse(&rs->table, &ev) &&
			    (row = widget_table_current(&rs->table)) != NULL &&
			    json_string_value(json_object_get(row, "login")))
				tui_push(t, screen_fiche_new(t,
				    json_string_value(json_object_get(row,
				    "login"))));
			else
				widget_table_mouse(&rs->table, &ev);
			return 1;
		case KEY_F(5):
			responsables_search(t, rs);
			return 1;
		case KEY_ENTER:
			break;
		default:
			return widget_table_key(&rs->table, ch, keycode);
		}
	}
	switch (ch) {
	case ' ':
		if (!rs->academy) {
			widget_table_toggle(&rs->table);
			widget_table_key(&rs->table, KEY_DOWN, 1);
		}
		return 1;
	case 'a':
		if (!rs->academy)
			widget_table_toggle_all(&rs->table);
		return 1;
	case '/':
		rs->typing = 1;
		return 1;
	case 'c':
		if (rs->academy || rs->nclasses == 0) {
			tui_status(t, 0, "Aucune classe à choisir.");
			return 1;
		}
		dialog_choice(t, "Classes (aucune cochée : toute l'école)",
		    (const char *const *)rs->classes, rs->nclasses, 1,
		    rs->ticked, 0, classes_chosen, rs);
		return 1;
	case 'e':
		dialog_choice(t, "État des comptes", state_items, STATE_CHOICES, 0, NULL,
		    rs->state, state_chosen, rs);
		return 1;
	case 'm':
		rs->email = (rs->email + 1) % 3;
		responsables_search(t, rs);
		return 1;
	case 'r':
		responsables_search(t, rs);
		return 1;
	case 'o':
		widget_table_sort(&rs->table, rs->table.sort + 1 >=
		    rs->table.ncolumns ? -1 : rs->table.sort + 1, 0);
		tui_status(t, 0, "Tri : %s", rs->table.sort < 0 ? "par classe "
		    "puis élève" : rs->table.columns[rs->table.sort].title);
		return 1;
	case 'O':
		if (rs->table.sort >= 0)
			widget_table_sort(&rs->table, rs->table.sort,
			    !rs->table.desc);
		return 1;
	case 'n':
		responsables_notify(t, rs);
		return 1;
	case 'l':
		if (!tui_may(t, OP_LIST, "L'édition des listes"))
			return 1;
		dialog_choice(t, "Éditer la liste des responsables",
		    (const char *const[]){ "PDF, à imprimer",
		    "CSV, pour un tableur" }, 2, 0, NULL, 0,
		    list_format_chosen, rs);
		return 1;
	case 'i':
		if (!tui_may(t, OP_RESET, "La réinitialisation des mots de "
		    "passe") || (row = widget_table_current(&rs->table)) == NULL)
			return 1;
		if (json_string_value(json_object_get(row, "login")) == NULL) {
			tui_status(t, 1, "Pas de compte sur cette ligne : %s",
			    col_str(row, "reason"));
			return 1;
		}
		responsables_reset(t, rs, col_str(row, "login"),
		    col_str(row, "guardian"));
		return 1;
	case 'M':
	case 'E':
		if (!tui_may(t, ch == 'M' ? OP_SET_EMAIL : OP_RESEND_ACTIVATION,
		    ch == 'M' ? "La modification du courriel" : "Le renvoi du "
		    "courriel d'activation") ||
		    (row = widget_table_current(&rs->table)) == NULL)
			return 1;
		if (json_string_value(json_object_get(row, "login")) == NULL) {
			tui_status(t, 1, "Pas de compte sur cette ligne : %s",
			    col_str(row, "reason"));
			return 1;
		}
		if (ch == 'M')
			responsables_set_email(t, rs, row);
		else
			responsables_resend(t, rs, row);
		return 1;
	case '\r':
	case '\n':
	case KEY_ENTER:
		if ((row = widget_table_current(&rs->table)) == NULL)
			return 1;
		if (json_string_value(json_object_get(row, "login")) == NULL) {
			tui_status(t, 1, "Pas de compte sur cette ligne : %s",
			    col_str(row, "reason"));
			return 1;
		}
		tui_push(t, screen_fiche_new(t, col_str(row, "login")));
		return 1;
	}
	return 0;
}

static void
responsables_free(struct screen *sc)
{
	struct responsables	*rs = sc->data;
	size_t			 i;

	widget_table_free(&rs->table);
	for (i = 0; i < rs->nclasses; i++)
		free(rs->classes[i]);
	free(rs->classes);
	free(rs->ticked);
	json_decref(rs->pending);
	json_decref(rs->without);
	free(rs);
}

struct screen *
screen_responsables_new(struct tui *t)
{
	struct screen		*sc = xcalloc(1, sizeof *sc);
	struct responsables	*rs = xcalloc(1, sizeof *rs);
	int			 i;

	for (i = 0; i < STATE__STORED; i++)
		state_items[1 + i] = state_info(i)->label;
	rs->academy = tui_school(t) == NULL;
	rs->without = json_array();
	if (rs->academy) {
		widget_table_init(&rs->table, columns, NCOLUMNS, 0);
		rs->table.attr = academy_row_attr;
		rs->table.group = row_group;
	} else {
		widget_table_init(&rs->table, columns + 1, NCOLUMNS - 1, 1);
		rs->table.attr = row_attr;
		rs->table.group = row_group;
	}
	sc->name = "responsables";
	sc->draw = responsables_draw;
	sc->key = responsables_key;
	sc->hint = responsables_hint;
	sc->show = responsables_show;
	sc->counts = responsables_counts;
	sc->free = responsables_free;
	sc->data = rs;
	return sc;
}
