/*
 * The frame of ecadm.
 *
 * One event loop serves the keyboard and the server socket (tui_run), so
 * the screen answers while the server works; requests are answered by
 * callbacks. The frame owns the header (school, user), the tab bar, the
 * key bar and the status line; the screen of the current tab draws the
 * body. Overlays (the account card, dialogs, the progress bar) stack over
 * the body and take the keys while they are open. Screens and overlays
 * only change their state in key and reply handlers and draw from it when
 * the loop asks: at most one redraw per pass.
 *
 * A lost connection is reported on the status line and retried every few
 * seconds; the session resumes with its token, so a restarted server is
 * transparent to the director.
 *
 * Under ecadm-sshd (ECADM_SESSION_FD), the gateway hands over a session
 * token: ecadm resumes it instead of showing its login screen, and a
 * session that cannot be resumed or that ends (staff disabled, expired)
 * ends ecadm, which says why on stderr once the terminal is back: the
 * director logs in again with ssh.
 */
#ifndef TUI_H
#define TUI_H

#include <wchar.h>

#include <curses.h>
#include <jansson.h>

#include "rpc.h"
#include "settings.h"
#include "state.h"

struct tui;

struct screen {
	const char	*name;
	/* Draw in the body: lines top to top + height - 1. */
	void		(*draw)(struct screen *, struct tui *, int top,
			    int height);
	/* A key: a wide character, or a KEY_* when keycode is set. Returns
	 * 1 if it was used. */
	int		(*key)(struct screen *, struct tui *, wint_t, int keycode);
	/* The keys of this screen, for the key bar. */
	const char	*(*hint)(struct screen *, struct tui *);
	/* The tab was chosen, or the connection came back: refresh. */
	void		(*show)(struct screen *, struct tui *);
	/* Counts for the right of the status line ("412 lignes · 3
	 * cochées"), or NULL. */
	const char	*(*counts)(struct screen *, struct tui *);
	void		(*free)(struct screen *);
	void		*data;
	int		 fullscreen;	/* login: no frame */
};

typedef void (*tui_callback)(struct tui *, struct rpc_reply *, void *arg);

enum tui_color {
	TC_NORMAL = 0,
	TC_HEADER,
	TC_SELECTED,
	TC_STATUS,
	TC_ERROR,
	TC_RED,			/* the hues of enum state_colour */
	TC_ORANGE,
	TC_YELLOW,
	TC_GREEN,
	TC_GREY,
	TC_INELIGIBLE,
	TC_TAB,
	TC_DIALOG,
	TC_KEYS,
	TC__COUNT
};

enum tui_tab {
	TAB_RESPONSABLES,
	TAB_ETAT,
	TAB_JOURNAL,
	TAB_AIDE,
	TAB__COUNT
};

#define TUI_OVERLAYS	8

struct tui {
	struct settings	*settings;
	struct rpc	*rpc;
	int		 connected;
	long		 retry_at;	/* ms, monotonic */
	int		 quiet_retry;	/* reconnect without a word */
	char		*token;		/* to resume the session */
	json_t		*session;	/* the login's result */
	struct screen	*login;		/* before the session */
	struct screen	*tabs[TAB__COUNT];
	int		 tab;
	struct screen	*overlays[TUI_OVERLAYS];
	int		 noverlays;
	int		 running;
	int		 colors;
	int		 dirty;
	int		 mouse;		/* clicks are reported */
	MEVENT		 click;		/* the last, read once by the frame */
	char		 status[512];
	int		 status_error;
	struct pending	*pending;
	/* ECADM_TRACE_FILE: time of each key, for the render benchmark. */
	void		*trace;
	/* The progress bar open while a document arrives, if any. */
	struct progress	*progress;
	/* The signal that ended tui_run (SIGTERM, SIGHUP, SIGINT), or 0. */
	int		 signal;
	/* ECADM_SESSION_FD: the session (t->token) came from ecadm-sshd.
	 * No login screen then; when the session ends, so does ecadm, with
	 * exit_status and the server's farewell for stderr. */
	int		 handed_over;
	int		 exit_status;
	char		*farewell;
};

void	 tui_init(struct tui *, struct settings *, struct rpc *);
void	 tui_end(struct tui *);
/* Run until q, or a signal (then t->signal is set), or the end of a
 * session handed over; returns the exit status. */
int	 tui_run(struct tui *);
void	 tui_quit(struct tui *);
/* Send a request; cb runs with the reply, or NULL if the connection
 * broke first. The school setting is added to the arguments. The request
 * belongs to arg: an overlay passes its data (or itself), and when it
 * closes (tui_pop) its requests are forgotten, so a late reply never
 * reaches freed memory. */
void	 tui_request(struct tui *, enum proto_op, json_t *args,
	    tui_callback cb, void *arg);
/* Forget the callbacks of the requests made for arg (not NULL): their
 * replies will be dropped. For whoever frees arg with requests pending. */
void	 tui_forget(struct tui *, void *arg);
/* Whether a reply to some request is still awaited. */
int	 tui_busy(struct tui *);
void	 tui_status(struct tui *, int error, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 tui_redraw(struct tui *);
int	 tui_attr(struct tui *, enum tui_color);
/* The colour of a state (state.h); TC_NORMAL for NULL. */
enum tui_color tui_state_color(const struct state_info *);
/* The label of the state a row or card shows (state_of_row), or NULL. */
const char *tui_state_label(json_t *);
/* Print text cut or padded to width cells at (y, x). */
void	 tui_print(int y, int x, const char *, int width, int attr);
/* The same for a person's name: the surname is cut first. */
void	 tui_print_name(int y, int x, const char *, int width, int attr);
/* The keys that scroll a text of total lines shown page at a time
 * (arrows, pages, home, end); *offset stays in range. 1 if used. */
int	 tui_scroll_key(int *offset, int page, int total, wint_t);
/* Keep an offset in range for that text and page. */
void	 tui_scroll_clamp(int *offset, int page, int total);
/* Choose a tab (after login). */
void	 tui_tab(struct tui *, enum tui_tab);
/* Open an overlay over the body; close the top one (freed). */
void	 tui_push(struct tui *, struct screen *);
void	 tui_pop(struct tui *);
/* The role of the session: "directeur", "assistance", "admin". */
const char *tui_role(struct tui *);
/* Whether the staff member logged in may call the operation: its roles
 * in proto-ops.def. */
int	 tui_allowed(struct tui *, enum proto_op);
/* The same, saying on the status line, when not, that what (an action,
 * "La notification des comptes") is kept for the roles that may. */
int	 tui_may(struct tui *, enum proto_op, const char *what);
/* The UAI the session works in (NULL: academy-wide helpdesk). */
const char *tui_school(struct tui *);
/* Where documents are saved: $ECADM_DOWNLOAD_DIR or ~/ecadm (created). */
char	*tui_download_path(const char *name);
/* Write a received document there, mode 0600; the path, or NULL and a
 * status message. */
char	*tui_save_document(struct tui *, const struct rpc_reply *);
/* Save it and say where in a message (what: one sentence before); under
 * ecadm-sshd, how to fetch it instead. */
void	 tui_document_saved(struct tui *, const struct rpc_reply *,
	    const char *what);
/* With ECADM_DOWNLOAD_HINT (documents saved on ecadm-sshd's side): the
 * command that fetches the file name to the director's computer (hint,
 * name, " .") and the note after it ("(ou sftp ; le fichier est gardé N
 * jours)", N from ECADM_DOWNLOAD_DAYS); 1, or 0 without a hint. */
int	 tui_download_fetch(const char *name, char **command, char **note);

/* Log in (login screen or direct); on success the tabs open. */
void	 tui_login(struct tui *, const char *user, const char *password);
/* Resume the session of t->token: after a reconnection, or at start when
 * ecadm-sshd handed it over (then the tabs open on success). */
void	 tui_resume(struct tui *);
/* A session handed over has ended (message: the server's): ecadm quits
 * with status 1 and main says why. 0, doing nothing, when ecadm has its
 * login screen. */
int	 tui_session_ended(struct tui *, const char *message);

/* Screens. */
struct screen	*screen_login_new(struct tui *);
void		 screen_login_ready(struct screen *);
struct screen	*screen_responsables_new(struct tui *);
struct screen	*screen_etat_new(struct tui *);
struct screen	*screen_journal_new(struct tui *);
struct screen	*screen_aide_new(struct tui *);
/* The account card of a login, as an overlay. */
struct screen	*screen_fiche_new(struct tui *, const char *login);

#endif
