/*
 * The frame of ecadm: one event loop for the keyboard and the server
 * socket, a current screen, and requests answered by callbacks, so the
 * screen keeps responding while the server works. Screens only change
 * their own state in key and reply handlers and draw from that state when
 * the loop asks; the loop redraws at most once per pass.
 */
#ifndef TUI_H
#define TUI_H

#include <wchar.h>

#include <jansson.h>

#include "rpc.h"
#include "settings.h"

struct tui;

struct screen {
	const char	*name;
	void		(*draw)(struct screen *, struct tui *);
	/* A key: code is a wide character, or a KEY_* when keycode is set.
	 * Returns 1 if the key was used. */
	int		(*key)(struct screen *, struct tui *, wint_t code,
			    int keycode);
	void		(*free)(struct screen *);
	void		*data;
};

typedef void (*tui_callback)(struct tui *, struct rpc_reply *, void *arg);

/* Colour pairs (with attributes when colours are off). */
enum tui_color {
	TC_NORMAL = 0,
	TC_HEADER,
	TC_SELECTED,
	TC_STATUS,
	TC_ERROR,
	TC_PRECREE,
	TC_NOTIFIE,
	TC_ATTENTE,
	TC_ACTIVE,
	TC_DESACTIVE,
	TC_INELIGIBLE,
	TC_TAB,
	TC__COUNT
};

struct tui {
	struct settings	*settings;
	struct rpc	*rpc;
	json_t		*session;	/* the login's result */
	struct screen	*screen;
	int		 running;
	int		 colors;
	int		 dirty;
	char		 status[512];
	int		 status_error;
	struct pending	*pending;
};

void	 tui_init(struct tui *, struct settings *, struct rpc *);
void	 tui_end(struct tui *);
/* Run until tui_quit(); returns the exit status. */
int	 tui_run(struct tui *);
void	 tui_quit(struct tui *);
/* Replace the current screen (the old one is freed). */
void	 tui_set_screen(struct tui *, struct screen *);
/* Send a request; cb runs with the reply (NULL if the connection broke). */
void	 tui_request(struct tui *, const char *op, json_t *args,
	    tui_callback cb, void *arg);
/* A message on the status line (error in the error colour). */
void	 tui_status(struct tui *, int error, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 tui_redraw(struct tui *);
/* The attribute of a colour pair, or its monochrome stand-in. */
int	 tui_attr(struct tui *, enum tui_color);
/* The colour of an account state code. */
enum tui_color tui_state_color(const char *state);
/* Print text cut or padded to width cells at (y, x). */
void	 tui_print(int y, int x, const char *, int width, int attr);

/* Screens. */
struct screen	*screen_login_new(struct tui *);
struct screen	*screen_responsables_new(struct tui *);
/* Log in with user and password (direct login or the login screen); on
 * success the Responsables screen opens, else the login screen shows. */
void		 tui_login(struct tui *, const char *user, const char *password);

#endif
