/*
 * The Aide tab: every key of the application, what each account state
 * means for a family, why a line is greyed, and where documents are saved.
 * The text is a constant list of items; the screen owns only a scroll
 * offset. Items are wrapped to the width of the terminal on each draw
 * (measured in display cells), so the page reflows when the window is
 * resized; the title line stays while the page scrolls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "state.h"
#include "tui.h"
#include "utf8.h"
#include "xmalloc.h"

#define AIDE_MARGIN	1	/* section titles */
#define AIDE_INDENT	3	/* what a section holds */
#define AIDE_LINE_MAX	2048	/* bytes of one wrapped line */
#define AIDE_TEXT_MIN	24	/* narrower: the text goes under its key */

enum aide_kind {
	AIDE_SECTION,		/* text: a title */
	AIDE_GROUP,		/* text: a title within a section */
	AIDE_KEY,		/* key, then what it does */
	AIDE_STATE,		/* a state label in its colour, then text */
	AIDE_REASON,		/* why a line is greyed, then text */
	AIDE_TEXT,		/* a paragraph */
	AIDE_DOWNLOADS,		/* where documents go: here, or ecadm-sshd's */
};

struct aide_item {
	enum aide_kind	 kind;
	const char	*key;	/* the keys, the state's code, the reason */
	const char	*text;
};

/* A state's label (states.def), shown in its colour. */
#define STATE(code, text) { AIDE_STATE, code, text }

static const struct aide_item aide_items[] = {
	{ AIDE_SECTION, NULL, "Touches" },
	{ AIDE_GROUP, NULL, "Partout" },
	{ AIDE_KEY, "Tab / Maj+Tab", "Onglet suivant / précédent." },
	{ AIDE_KEY, "1 2 3 4", "Aller à l'onglet Responsables, État des "
	    "comptes, Journal ou Aide (un clic sur l'onglet aussi)." },
	{ AIDE_KEY, "? ou F1", "Cette aide." },
	{ AIDE_KEY, "q ou F10", "Quitter." },
	{ AIDE_GROUP, NULL, "Onglet Responsables" },
	{ AIDE_KEY, "↑ ↓", "Ligne précédente / suivante." },
	{ AIDE_KEY, "PgPréc PgSuiv", "Page précédente / suivante." },
	{ AIDE_KEY, "Début Fin", "Première / dernière ligne." },
	{ AIDE_KEY, "Espace", "Cocher ou décocher la ligne." },
	{ AIDE_KEY, "a", "Cocher toutes les lignes affichées, ou les "
	    "décocher toutes (aussi un clic sur [ ] dans l'en-tête)." },
	{ AIDE_KEY, "/", "Filtrer par texte : nom de l'élève ou du "
	    "responsable, identifiant, INE." },
	{ AIDE_KEY, "c", "Choisir les classes (une, plusieurs, ou toute "
	    "l'école)." },
	{ AIDE_KEY, "e", "Filtrer par état du compte." },
	{ AIDE_KEY, "m", "Avec ou sans courriel." },
	{ AIDE_KEY, "r ou F5", "Relancer la recherche." },
	{ AIDE_KEY, "o", "Changer la colonne de tri." },
	{ AIDE_KEY, "O", "Inverser le tri." },
	{ AIDE_KEY, "n", "Notifier les comptes, sur papier (les feuilles à "
	    "remettre aux familles, avec identifiant et mot de passe "
	    "provisoire) ou par courriel (à l'adresse de chaque "
	    "responsable ; ceux qui n'en ont pas sont ignorés)." },
	{ AIDE_KEY, "l", "Éditer la liste (PDF ou CSV) des responsables, "
	    "avec identifiants et mots de passe." },
	{ AIDE_KEY, "Entrée", "Fiche du compte : détails et historique." },
	{ AIDE_KEY, "i", "Réinitialiser le mot de passe : un nouveau mot de "
	    "passe provisoire et sa feuille." },
	{ AIDE_KEY, "M", "Modifier le courriel du responsable : si le compte "
	    "attend son activation, un nouveau lien part à la nouvelle "
	    "adresse et l'ancien ne sert plus." },
	{ AIDE_KEY, "E", "Renvoyer le courriel d'activation d'un compte « En "
	    "cours d'activation »." },
	{ AIDE_TEXT, NULL, "Un courriel qui n'a pas pu être remis est signalé "
	    "en rouge dans la colonne Courriel (« en échec ») : l'adresse est "
	    "sans doute fausse." },
	{ AIDE_GROUP, NULL, "Fiche du compte" },
	{ AIDE_KEY, "i", "Réinitialiser le mot de passe." },
	{ AIDE_KEY, "Échap", "Fermer la fiche." },
	{ AIDE_GROUP, NULL, "État des comptes" },
	{ AIDE_KEY, "↑ ↓ PgPréc PgSuiv", "Défiler." },
	{ AIDE_KEY, "r ou F5", "Actualiser." },
	{ AIDE_GROUP, NULL, "Journal" },
	{ AIDE_KEY, "↑ ↓ PgPréc PgSuiv", "Défiler." },
	{ AIDE_KEY, "/", "Filtrer : chaque lettre tapée filtre aussitôt ; "
	    "Entrée garde le filtre, Échap l'efface." },
	{ AIDE_KEY, "r ou F5", "Actualiser." },

	{ AIDE_SECTION, NULL, "États des comptes" },
	STATE("precree", "Le compte existe, mais la famille "
	    "n'a encore reçu ni identifiant ni mot de passe."),
	STATE("notifie", "La feuille ou le "
	    "courriel a été remis : la famille a son identifiant et un mot "
	    "de passe provisoire, valable trois mois."),
	STATE("expire", "Les trois mois sont passés "
	    "sans que le parent se connecte : notifiez de nouveau le compte "
	    "pour imprimer une nouvelle feuille avec un nouveau mot de "
	    "passe."),
	STATE("attente", "Le parent s'est "
	    "connecté, a choisi son mot de passe et donné son adresse "
	    "électronique ; il doit cliquer sur le lien reçu par courriel."),
	STATE("active", "Le compte fonctionne."),
	STATE("desactive", "Plus aucun enfant de la famille ne "
	    "donne droit à un compte."),
	{ AIDE_TEXT, NULL, "Dès que le parent a choisi son mot de passe, la "
	    "colonne Mot de passe affiche ****** : seule une "
	    "réinitialisation en donne un nouveau." },

	{ AIDE_SECTION, NULL, "Pourquoi une ligne est grisée" },
	{ AIDE_TEXT, NULL, "Un élève ou un responsable grisé ne peut pas "
	    "avoir de compte ; la raison est écrite sur la ligne :" },
	{ AIDE_REASON, "inscrit, non admis", "l'élève est inscrit mais pas "
	    "encore admis dans l'école." },
	{ AIDE_REASON, "admission provisoire", "l'élève n'est pas encore admis "
	    "définitivement." },
	{ AIDE_REASON, "INE manquant", "l'élève n'a pas d'identifiant national "
	    "(INE) dans ONDE." },
	{ AIDE_REASON, "non réparti dans une classe", "l'élève n'est dans "
	    "aucune classe." },
	{ AIDE_REASON, "pas responsable légal", "la personne n'est pas "
	    "responsable légal de l'élève." },
	{ AIDE_REASON, "aucun responsable connu", "ONDE ne donne aucun "
	    "responsable pour cet élève." },
	{ AIDE_TEXT, NULL, "Corrigez la fiche de l'élève dans ONDE : la "
	    "prochaine importation met la ligne à jour." },

	{ AIDE_SECTION, NULL, "Où sont enregistrés les documents" },
	{ AIDE_DOWNLOADS, NULL, NULL },
};

/* The documents section on this machine, then under ecadm-sshd (with
 * ECADM_DOWNLOAD_HINT): the same facts, and how to fetch a document. */
static const char aide_downloads_here[] = "Les feuilles de notification et "
    "les listes sont enregistrées dans le dossier ~/ecadm/ de votre compte, "
    "ou dans le dossier donné par la variable ECADM_DOWNLOAD_DIR. Elles "
    "portent des mots de passe : elles sont créées en mode 0600, lisibles "
    "par vous seul. Supprimez-les une fois imprimées.";
static const char aide_downloads_gateway[] = "Les feuilles de notification "
    "et les listes sont enregistrées sur le serveur, dans votre dossier. "
    "Elles portent des mots de passe : elles sont créées en mode 0600, "
    "lisibles par vous seul. Pour récupérer un document sur votre poste :";
static const char aide_downloads_after[] = "Le nom du fichier est donné "
    "quand le document est enregistré. Supprimez vos copies une fois "
    "imprimées.";

struct aide {
	int	scroll;		/* first virtual row shown */
	int	lines;		/* virtual rows, last draw */
	int	page;		/* rows shown, last draw */
};

/* Where the virtual page lands on the screen while drawing. */
struct canvas {
	int	top;
	int	height;
	int	scroll;
};

/* Print on virtual row `row` if it is on the screen. */
static void
canvas_print(struct canvas *c, int row, int x, const char *s, int width,
    int attr)
{
	if (row < c->scroll || row >= c->scroll + c->height)
		return;
	tui_print(c->top + row - c->scroll, x, s, width, attr);
}

/* Whether a word is punctuation that French sets after a space (" :",
 * " ;") and that must not begin a line. */
static int
aide_glued(const char *word, size_t len)
{
	return len == 1 && strchr(":;?!", word[0]) != NULL;
}

/* The next word of *p (its length; 0 at the end), after spaces. */
static size_t
aide_word(const char **p, const char **word)
{
	size_t	len;

	while (**p == ' ')
		(*p)++;
	*word = *p;
	len = strcspn(*p, " ");
	*p += len;
	return len;
}

/* Print text wrapped to width cells from (row, x); returns the rows
 * used (at least one). A word wider than the line is cut by tui_print. */
static int
aide_wrap(struct canvas *c, int row, int x, int width, const char *text,
    int attr)
{
	char		 line[AIDE_LINE_MAX], unit[AIDE_LINE_MAX / 2];
	const char	*p = text, *word, *peek, *save;
	size_t		 len, plen, llen = 0, ulen;
	int		 rows = 0, lw = 0, uw;

	line[0] = '\0';
	while ((len = aide_word(&p, &word)) > 0) {
		/* A word and the punctuation that follows it, as one. */
		ulen = len;
		for (;;) {
			save = p;
			plen = aide_word(&p, &peek);
			if (plen == 0 || !aide_glued(peek, plen)) {
				p = save;
				break;
			}
			ulen = (size_t)(p - word);
		}
		if (ulen >= sizeof unit)
			ulen = sizeof unit - 1;
		/* Measured in cells, on a copy of the unit. */
		memcpy(unit, word, ulen);
		unit[ulen] = '\0';
		uw = utf8_width(unit);
		if (lw > 0 && (lw + 1 + uw > width ||
		    llen + 1 + ulen >= sizeof line)) {
			canvas_print(c, row + rows++, x, line, width, attr);
			llen = 0;
			lw = 0;
		}
		if (lw > 0) {
			line[llen++] = ' ';
			lw++;
		}
		memcpy(line + llen, unit, ulen + 1);
		llen += ulen;
		lw += uw;
	}
	if (lw > 0 || rows == 0)
		canvas_print(c, row + rows++, x, line, width, attr);
	return rows;
}

/* A term (key, state, reason) and its text: side by side in columns
 * when the screen is wide enough, else the text under the term. Returns
 * the rows used. */
static int
aide_term(struct canvas *c, int row, const char *term, int termw,
    const char *text, int attr)
{
	int	x = AIDE_INDENT + termw + 2, w = utf8_width(term), n;

	if (COLS - 1 - x >= AIDE_TEXT_MIN && w <= termw) {
		canvas_print(c, row, AIDE_INDENT, term, termw, attr);
		return aide_wrap(c, row, x, COLS - 1 - x, text, A_NORMAL);
	}
	if (COLS - 1 - x >= AIDE_TEXT_MIN) {
		/* A long term alone, the text aligned under the others. */
		canvas_print(c, row, AIDE_INDENT, term, COLS - 1 - AIDE_INDENT,
		    attr);
		return 1 + aide_wrap(c, row + 1, x, COLS - 1 - x, text,
		    A_NORMAL);
	}
	canvas_print(c, row, AIDE_INDENT, term, COLS - 1 - AIDE_INDENT, attr);
	n = aide_wrap(c, row + 1, AIDE_INDENT + 2, COLS - 3 - AIDE_INDENT,
	    text, A_NORMAL);
	return 1 + n;
}

/* A paragraph of the page. */
static int
aide_paragraph(struct canvas *c, int row, const char *text)
{
	return aide_wrap(c, row, AIDE_INDENT, COLS - 1 - AIDE_INDENT, text,
	    A_NORMAL);
}

/* Where documents are saved: on this machine, or on ecadm-sshd's side with
 * the command that fetches them, as the « Document enregistré » dialog
 * says it. Returns the rows used. */
static int
aide_downloads(struct canvas *c, int row)
{
	const char	*dir = getenv("ECADM_DOWNLOAD_DIR");
	char		*where, *command, *note;
	int		 rows;

	if (tui_download_fetch("FICHIER", &command, &note)) {
		rows = aide_paragraph(c, row, aide_downloads_gateway);
		rows += aide_wrap(c, row + rows, AIDE_INDENT + 2, COLS - 3 -
		    AIDE_INDENT, command, A_BOLD);
		rows += aide_paragraph(c, row + rows, note);
		rows += aide_paragraph(c, row + rows, aide_downloads_after);
		free(command);
		free(note);
		return rows;
	}
	rows = aide_paragraph(c, row, aide_downloads_here);
	if (dir == NULL || *dir == '\0')
		return rows;
	xasprintf(&where, "Sur ce poste, ECADM_DOWNLOAD_DIR vaut %s.", dir);
	rows += aide_paragraph(c, row + rows, where);
	free(where);
	return rows;
}

/* Lay the whole page out; returns its height in rows. */
static int
aide_draw_page(struct canvas *c, struct tui *t)
{
	const struct aide_item	*it;
	const struct state_info	*st;
	size_t			 i;
	int			 row = 0, keyw = 17, statew = 22, reasonw = 27;

	for (i = 0; i < sizeof aide_items / sizeof aide_items[0]; i++) {
		it = &aide_items[i];
		/* A paragraph stands apart from a list of terms. */
		if (i > 0 && (it->kind == AIDE_TEXT) !=
		    (aide_items[i - 1].kind == AIDE_TEXT) &&
		    aide_items[i - 1].kind != AIDE_SECTION &&
		    aide_items[i - 1].kind != AIDE_GROUP &&
		    it->kind != AIDE_SECTION && it->kind != AIDE_GROUP &&
		    it->kind != AIDE_DOWNLOADS)
			row++;
		switch (it->kind) {
		case AIDE_SECTION:
			if (row > 0)
				row++;
			canvas_print(c, row++, AIDE_MARGIN, it->text,
			    COLS - 1 - AIDE_MARGIN, A_BOLD | A_UNDERLINE);
			row++;
			break;
		case AIDE_GROUP:
			if (i > 0 && aide_items[i - 1].kind != AIDE_SECTION)
				row++;
			canvas_print(c, row++, AIDE_INDENT - 1, it->text,
			    COLS - AIDE_INDENT, A_BOLD);
			break;
		case AIDE_KEY:
			row += aide_term(c, row, it->key, keyw, it->text,
			    tui_attr(t, TC_KEYS) | A_BOLD);
			break;
		case AIDE_STATE:
			/* The label in its state's colour. */
			st = state_info(state_lookup(it->key));
			row += aide_term(c, row, st->label, statew, it->text,
			    tui_attr(t, tui_state_color(st)) | A_BOLD);
			break;
		case AIDE_REASON:
			/* Greyed, as the lines it explains. */
			row += aide_term(c, row, it->key, reasonw, it->text,
			    tui_attr(t, TC_INELIGIBLE));
			break;
		case AIDE_TEXT:
			row += aide_paragraph(c, row, it->text);
			break;
		case AIDE_DOWNLOADS:
			row += aide_downloads(c, row);
			break;
		}
	}
	return row;
}

/* Keep the scroll offset within the page. */
static void
aide_draw(struct screen *sc, struct tui *t, int top, int height)
{
	struct aide	*a = sc->data;
	struct canvas	 c;

	if (height < 1)
		return;
	tui_print(top, AIDE_MARGIN, "Aide — Responsables " ECADM_VERSION,
	    COLS - 1 - AIDE_MARGIN, A_BOLD);
	a->page = height - 2;
	if (a->page <= 0)
		return;
	/* Lay out once without printing to learn the height (it depends on
	 * the width), then draw from a scroll offset that fits. */
	memset(&c, 0, sizeof c);
	c.top = top + 2;
	a->lines = aide_draw_page(&c, t);
	tui_scroll_clamp(&a->scroll, a->page, a->lines);
	c.height = a->page;
	c.scroll = a->scroll;
	aide_draw_page(&c, t);
	/* Marks at the right edge: more above, more below. */
	if (a->scroll > 0)
		tui_print(c.top, COLS - 1, "▲", 1, A_BOLD);
	if (a->scroll + a->page < a->lines)
		tui_print(c.top + a->page - 1, COLS - 1, "▼", 1, A_BOLD);
}

static int
aide_key(struct screen *sc, struct tui *t, wint_t ch, int keycode)
{
	struct aide	*a = sc->data;

	(void)t;
	return keycode && tui_scroll_key(&a->scroll, a->page, a->lines, ch);
}

static const char *
aide_hint(struct screen *sc, struct tui *t)
{
	(void)sc;
	(void)t;
	return "↑↓ défiler  Tab onglet suivant  q quitter";
}

static void
aide_show(struct screen *sc, struct tui *t)
{
	(void)sc;
	(void)t;
}

static void
aide_free(struct screen *sc)
{
	free(sc->data);
}

struct screen *
screen_aide_new(struct tui *t)
{
	struct screen	*sc = xcalloc(1, sizeof *sc);

	(void)t;
	sc->name = "aide";
	sc->draw = aide_draw;
	sc->key = aide_key;
	sc->hint = aide_hint;
	sc->show = aide_show;
	sc->free = aide_free;
	sc->data = xcalloc(1, sizeof(struct aide));
	return sc;
}
