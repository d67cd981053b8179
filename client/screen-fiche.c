/*
 * The account card ("Fiche du compte"), over the current tab: the
 * guardian, the state, the password as the director may see it, the
 * e-mail, the children, the letters issued with their dates, the key dates
 * and the whole history, as client/card.c lays them out for both clients.
 * From it the password can be reset: the new sheet is saved at once and
 * the card reloads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "card.h"
#include "tui.h"
#include "widget-dialog.h"
#include "xmalloc.h"

struct fiche {
	char	*login;
	json_t	*card;		/* the "show" result */
	char	**lines;	/* the card as lines, built once loaded */
	size_t	 nlines;
	size_t	 state;		/* the line of the state, in its colour */
	size_t	 top;
	int	 loading;
};

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
fiche_clear(struct fiche *f)
{
	card_text_free(f->lines, f->nlines);
	f->lines = NULL;
	f->nlines = 0;
}

/* Lay the card out as lines of text (card.c, as ecadmctl show prints
 * it). */
static void
fiche_build(struct fiche *f)
{
	struct card	card;

	fiche_clear(f);
	card_build(&card, f->card);
	f->lines = card_text(&card, &f->nlines, &f->state);
	card_free(&card);
}

static void
fiche_loaded(struct tui *t, struct rpc_reply *r, void *arg)
{
	struct fiche	*f = arg;

	f->loading = 0;
	if (r == NULL)
		return;
	if (!r->ok) {
		tui_status(t, 1, "%s", r->message);
		return;
	}
	json_decref(f->card);
	f->card = json_incref(r->result);
	fiche_build(f);
}

static void
fiche_load(struct tui *t, struct fiche *f)
{
	f->loading = 1;
	tui_request(t, OP_SHOW, json_pack("{s:s}", "login", f->login),
	    fiche_loaded, f);
}

static void
fiche_draw(struct screen *sc, struct tui *t, int top, int height)
{
	struct fiche	*f = sc->data;
	char		 title[256];
	int		 w = COLS - 4 < 96 ? COLS - 4 : 96, x = (COLS - w) / 2;
	int		 i, attr = tui_attr(t, TC_DIALOG);
	size_t		 k;

	for (i = 0; i < height; i++)
		tui_print(top + i, x, "", w, attr);
	snprintf(title, sizeof title, " Fiche du compte %s ", f->login);
	tui_print(top, x, title, w, attr | A_BOLD | A_UNDERLINE);
	if (f->loading && f->nlines == 0) {
		tui_print(top + 2, x + 2, "Chargement…", w - 4, attr);
		return;
	}
	if (f->top + (size_t)(height - 3) > f->nlines)
		f->top = f->nlines > (size_t)(height - 3) ? f->nlines -
		    (size_t)(height - 3) : 0;
	for (i = 0, k = f->top; i < height - 3 && k < f->nlines; i++, k++)
		tui_print(top + 2 + i, x + 2, f->lines[k], w - 4, k == f->state &&
		    f->card != NULL ? tui_attr(t, tui_state_color(state_of_row(
		    f->card))) | (t->colors ? 0 : attr) : attr);
	tui_print(top + height - 1, x, " i réinitialiser le mot de passe   "
	    "↑↓ défiler   Échap fermer", w, attr | A_BOLD);
}

static void
fiche_reset_done(struct tui *t, struct rpc_reply *r, void *arg)
{
	struct fiche	*f = arg;

	dialog_progress_done(t, t->progress);
	if (r == NULL)
		return;
	if (!r->ok) {
		dialog_message(t, "Réinitialisation refusée", r->message);
		return;
	}
	fiche_load(t, f);
	tui_document_saved(t, r, "Nouveau mot de passe provisoire : la "
	    "nouvelle feuille est à remettre à la famille.");
	/* The list shows the new password too. */
	if (t->tabs[TAB_RESPONSABLES] != NULL)
		t->tabs[TAB_RESPONSABLES]->show(t->tabs[TAB_RESPONSABLES], t);
}

static void
fiche_reset_confirmed(struct tui *t, int yes, void *arg)
{
	struct fiche	*f = arg;

	if (!yes)
		return;
	dialog_progress(t, "Réinitialisation");
	tui_request(t, OP_RESET, json_pack("{s:s}", "login", f->login),
	    fiche_reset_done, f);
}

static int
fiche_key(struct screen *sc, struct tui *t, wint_t ch, int keycode)
{
	struct fiche	*f = sc->data;
	char		 text[512];

	if (keycode) {
		switch (ch) {
		case KEY_UP:
			if (f->top > 0)
				f->top--;
			return 1;
		case KEY_DOWN:
			f->top++;
			return 1;
		case KEY_PPAGE:
			f->top = f->top > 10 ? f->top - 10 : 0;
			return 1;
		case KEY_NPAGE:
			f->top += 10;
			return 1;
		}
		return 1;
	}
	switch (ch) {
	case 27:
	case 'q':
	case '\r':
	case '\n':
		tui_pop(t);
		return 1;
	case 'i':
		if (f->card == NULL || !tui_may(t, OP_RESET,
		    "La réinitialisation des mots de passe"))
			return 1;
		snprintf(text, sizeof text, "Réinitialiser le mot de passe de %s "
		    "(%s) ?\n\nUn nouveau mot de passe provisoire remplace "
		    "l'ancien, et celui que la famille avait choisi. La "
		    "nouvelle feuille est enregistrée aussitôt.",
		    jstr(f->card, "guardian"), f->login);
		dialog_confirm(t, "Réinitialiser le mot de passe", text,
		    "réinitialiser", fiche_reset_confirmed, f);
		return 1;
	}
	return 1;
}

static void
fiche_free(struct screen *sc)
{
	struct fiche	*f = sc->data;

	fiche_clear(f);
	json_decref(f->card);
	free(f->login);
	free(f);
}

struct screen *
screen_fiche_new(struct tui *t, const char *login)
{
	struct screen	*sc = xcalloc(1, sizeof *sc);
	struct fiche	*f = xcalloc(1, sizeof *f);

	f->login = xstrdup(login);
	sc->name = "fiche";
	sc->draw = fiche_draw;
	sc->key = fiche_key;
	sc->free = fiche_free;
	sc->data = f;
	fiche_load(t, f);
	return sc;
}
