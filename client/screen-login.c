/*
 * The login screen: an identifier, a password (never shown), and the reason
 * of the last refusal on the status line. Enter moves to the password, then
 * logs in; the tabs open once the server accepts.
 */
#include <stdlib.h>
#include <string.h>

#include <curses.h>
#include <openssl/crypto.h>

#include "tui.h"
#include "utf8.h"
#include "xmalloc.h"

#define FIELD_MAX	128

struct login {
	char	user[FIELD_MAX];
	char	password[FIELD_MAX];
	int	field;		/* 0 user, 1 password */
	int	busy;
};

static void
login_draw(struct screen *sc, struct tui *t, int top, int height)
{
	struct login	*l = sc->data;
	char		 stars[FIELD_MAX];
	const char	*hint;
	int		 y = top + height / 2 - 4, x = COLS / 2 - 25, n;

	if (x < 0)
		x = 0;
	tui_print(0, 0, " Administration des comptes — Responsables", COLS,
	    tui_attr(t, TC_HEADER));
	tui_print(y, x, "Connexion", 50, A_BOLD);
	tui_print(y + 2, x, "Identifiant  :", 15, A_NORMAL);
	tui_print(y + 2, x + 15, l->user, 34, l->field == 0 ? A_REVERSE :
	    A_UNDERLINE);
	n = utf8_width(l->password);
	if (n > FIELD_MAX - 1)
		n = FIELD_MAX - 1;
	memset(stars, '*', (size_t)n);
	stars[n] = '\0';
	tui_print(y + 3, x, "Mot de passe :", 15, A_NORMAL);
	tui_print(y + 3, x + 15, stars, 34, l->field == 1 ? A_REVERSE :
	    A_UNDERLINE);
	tui_print(y + 5, x, l->busy ? "Connexion en cours…" :
	    "Entrée : valider · Tab : champ suivant · Échap : quitter", 60,
	    A_DIM);
	/* make demo shows the demo login here. */
	if ((hint = getenv("ECADM_LOGIN_HINT")) != NULL)
		tui_print(y + 7, x > 10 ? x - 10 : 0, hint, COLS - (x > 10 ?
		    x - 10 : 0), A_BOLD);
}

static int
login_key(struct screen *sc, struct tui *t, wint_t ch, int keycode)
{
	struct login	*l = sc->data;
	char		*field = l->field == 0 ? l->user : l->password;

	if (l->busy)
		return 0;
	if (keycode) {
		switch (ch) {
		case KEY_BACKSPACE:
			utf8_pop(field);
			return 1;
		case KEY_UP:
		case KEY_DOWN:
		case KEY_BTAB:
			l->field = !l->field;
			return 1;
		case KEY_ENTER:
			break;
		case KEY_F(10):
			tui_quit(t);
			return 1;
		default:
			return 0;
		}
	}
	switch (ch) {
	case 27:	/* Escape */
		tui_quit(t);
		return 1;
	case '\t':
		l->field = !l->field;
		return 1;
	case 127:
	case 8:
		utf8_pop(field);
		return 1;
	case '\r':
	case '\n':
	case KEY_ENTER:
		if (l->field == 0) {
			l->field = 1;
			return 1;
		}
		if (l->user[0] == '\0' || l->password[0] == '\0') {
			tui_status(t, 1, "Saisissez l'identifiant et le mot "
			    "de passe.");
			return 1;
		}
		l->busy = 1;
		tui_status(t, 0, "Connexion…");
		tui_login(t, l->user, l->password);
		return 1;
	}
	utf8_push(field, FIELD_MAX, ch);
	return 1;
}

static void
login_free(struct screen *sc)
{
	struct login	*l = sc->data;

	OPENSSL_cleanse(l->password, sizeof l->password);
	free(l);
}

struct screen *
screen_login_new(struct tui *t)
{
	struct screen	*sc = xcalloc(1, sizeof *sc);
	struct login	*l = xcalloc(1, sizeof *l);

	if (t->settings->user != NULL) {
		snprintf(l->user, sizeof l->user, "%s", t->settings->user);
		l->field = 1;
	}
	sc->name = "login";
	sc->draw = login_draw;
	sc->key = login_key;
	sc->free = login_free;
	sc->data = l;
	sc->fullscreen = 1;
	return sc;
}

/* After a refused login the screen takes keys again. */
void
screen_login_ready(struct screen *sc)
{
	struct login	*l = sc->data;

	l->busy = 0;
	OPENSSL_cleanse(l->password, sizeof l->password);
}
