/* The event loop of ecadm: frame, overlays, requests, reconnection. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "log.h"
#include "tui.h"
#include "utf8.h"
#include "widget-dialog.h"
#include "xmalloc.h"

/* Seconds between two attempts to reach a lost server. */
#define RETRY_MS	3000

struct pending {
	json_int_t	 id;
	tui_callback	 cb;
	void		*arg;
	struct pending	*next;
};

/* The signal that asked ecadm to stop, and the mask the loop waits with
 * (the one it had, with those signals open). */
static volatile sig_atomic_t	 tui_signal;
static sigset_t			 tui_waitmask;

static const char *const tab_names[TAB__COUNT] = {
	"Responsables", "État des comptes", "Journal", "Aide",
};

static long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* fatal() and fatalx(): give the terminal back before the message. */
static void
tui_fatal_hook(void)
{
	if (!isendwin())
		endwin();
}

/* SIGTERM, SIGHUP, SIGINT: only noted; the loop ends and tui_end runs. */
static void
tui_on_signal(int sig)
{
	tui_signal = sig;
}

/*
 * Stop on SIGTERM, SIGHUP and SIGINT the way q does: the loop ends, the
 * terminal is restored (endwin leaves cbreak, noecho and the alternate
 * screen), then the program dies of the signal (main). The signals stay
 * blocked except while the loop waits in ppoll, so none lands in the middle
 * of a redraw, and none is lost between a check and the wait. These
 * handlers replace the ones initscr() installed, which exit from inside the
 * handler.
 */
static void
tui_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &tui_waitmask);
	sigdelset(&tui_waitmask, SIGTERM);
	sigdelset(&tui_waitmask, SIGHUP);
	sigdelset(&tui_waitmask, SIGINT);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tui_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

void
tui_init(struct tui *t, struct settings *s, struct rpc *rpc)
{
	const char	*trace;

	memset(t, 0, sizeof *t);
	t->settings = s;
	t->rpc = rpc;
	t->connected = 1;
	t->running = 1;
	t->dirty = 1;
	if ((trace = getenv("ECADM_TRACE_FILE")) != NULL)
		t->trace = fopen(trace, "a");

	log_set_fatal_hook(tui_fatal_hook);
	initscr();
	tui_signals();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	/* Clicks only: the terminal keeps its own selection otherwise. */
	if (mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED, NULL) != 0)
		t->mouse = 1;
	mouseinterval(200);
	if (has_colors() && getenv("NO_COLOR") == NULL) {
		start_color();
		use_default_colors();
		t->colors = 1;
		init_pair(TC_HEADER, COLOR_WHITE, COLOR_BLUE);
		init_pair(TC_SELECTED, COLOR_BLACK, COLOR_CYAN);
		init_pair(TC_STATUS, COLOR_BLACK, COLOR_WHITE);
		init_pair(TC_ERROR, COLOR_WHITE, COLOR_RED);
		init_pair(TC_RED, COLOR_RED, -1);
		/* Orange where the terminal has 256 colours. */
		init_pair(TC_ORANGE, COLORS >= 256 ? 208 : COLOR_MAGENTA, -1);
		init_pair(TC_YELLOW, COLOR_YELLOW, -1);
		init_pair(TC_GREEN, COLOR_GREEN, -1);
		init_pair(TC_GREY, COLORS >= 16 ? 8 : COLOR_WHITE, -1);
		init_pair(TC_INELIGIBLE, COLORS >= 16 ? 8 : COLOR_WHITE, -1);
		init_pair(TC_TAB, COLOR_BLUE, COLOR_WHITE);
		init_pair(TC_DIALOG, COLOR_BLACK, COLOR_WHITE);
		init_pair(TC_KEYS, COLOR_CYAN, -1);
	}
}

static void
screen_free(struct screen *s)
{
	if (s == NULL)
		return;
	if (s->free != NULL)
		s->free(s);
	free(s);
}

void
tui_end(struct tui *t)
{
	struct pending	*p;
	int		 i;

	/* Requests still waiting learn there will be no answer, while
	 * the screens that sent them are alive. */
	while ((p = t->pending) != NULL) {
		t->pending = p->next;
		if (p->cb != NULL)
			p->cb(t, NULL, p->arg);
		free(p);
	}
	while (t->noverlays > 0)
		tui_pop(t);
	for (i = 0; i < TAB__COUNT; i++)
		screen_free(t->tabs[i]);
	screen_free(t->login);
	json_decref(t->session);
	freestr_secret(t->token);
	if (t->trace != NULL)
		fclose(t->trace);
	endwin();
}

int
tui_attr(struct tui *t, enum tui_color c)
{
	if (t->colors) {
		switch (c) {
		case TC_NORMAL:
			return A_NORMAL;
		case TC_HEADER:
		case TC_TAB:
			return COLOR_PAIR(c) | A_BOLD;
		case TC_INELIGIBLE:
		case TC_GREY:
			return COLOR_PAIR(c) | (COLORS >= 16 ? 0 : A_DIM);
		default:
			return COLOR_PAIR(c);
		}
	}
	/* Monochrome: attributes carry what colours would. */
	switch (c) {
	case TC_HEADER:
	case TC_STATUS:
	case TC_SELECTED:
	case TC_DIALOG:
		return A_REVERSE;
	case TC_ERROR:
	case TC_TAB:
		return A_REVERSE | A_BOLD;
	case TC_RED:
		return A_BOLD;
	case TC_INELIGIBLE:
	case TC_GREY:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

enum tui_color
tui_state_color(const struct state_info *s)
{
	if (s == NULL)
		return TC_NORMAL;
	switch (s->colour) {
	case STATE_RED:
		return TC_RED;
	case STATE_ORANGE:
		return TC_ORANGE;
	case STATE_YELLOW:
		return TC_YELLOW;
	case STATE_GREEN:
		return TC_GREEN;
	case STATE_GREY:
		return TC_GREY;
	}
	return TC_NORMAL;
}

const char *
tui_state_label(json_t *row)
{
	const struct state_info	*s = state_of_row(row);

	return s != NULL ? s->label : NULL;
}

/* tui_print and tui_print_name: the text fitted to width, as a name or
 * not. */
static void
tui_put(int y, int x, const char *s, int width, int attr, int name)
{
	char	*cell;

	if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + width > COLS)
		width = COLS - x;
	if (s == NULL)
		s = "";
	cell = name ? utf8_fit_name(s, width) : utf8_fit(s, width, 0);
	attron(attr);
	mvaddstr(y, x, cell);
	attroff(attr);
	free(cell);
}

void
tui_print(int y, int x, const char *s, int width, int attr)
{
	tui_put(y, x, s, width, attr, 0);
}

void
tui_print_name(int y, int x, const char *s, int width, int attr)
{
	tui_put(y, x, s, width, attr, 1);
}

void
tui_status(struct tui *t, int error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(t->status, sizeof t->status, fmt, ap);
	va_end(ap);
	t->status_error = error;
	t->dirty = 1;
}

void
tui_redraw(struct tui *t)
{
	t->dirty = 1;
}

void
tui_quit(struct tui *t)
{
	t->running = 0;
}

void
tui_push(struct tui *t, struct screen *s)
{
	if (t->noverlays == TUI_OVERLAYS)
		fatalx("too many overlays");
	t->overlays[t->noverlays++] = s;
	t->dirty = 1;
}

void
tui_pop(struct tui *t)
{
	struct screen	*s;

	if (t->noverlays == 0)
		return;
	s = t->overlays[--t->noverlays];
	/* Its requests go with it: a reply that comes later is dropped. */
	if (s->data != NULL)
		tui_forget(t, s->data);
	tui_forget(t, s);
	screen_free(s);
	t->dirty = 1;
}

void
tui_scroll_clamp(int *offset, int page, int total)
{
	if (*offset > total - page)
		*offset = total - page;
	if (*offset < 0)
		*offset = 0;
}

int
tui_scroll_key(int *offset, int page, int total, wint_t ch)
{
	int	step = page > 1 ? page - 1 : 1;

	switch (ch) {
	case KEY_UP:
		(*offset)--;
		break;
	case KEY_DOWN:
		(*offset)++;
		break;
	case KEY_PPAGE:
		*offset -= step;
		break;
	case KEY_NPAGE:
		*offset += step;
		break;
	case KEY_HOME:
		*offset = 0;
		break;
	case KEY_END:
		*offset = total;
		break;
	default:
		return 0;
	}
	tui_scroll_clamp(offset, page, total);
	return 1;
}

void
tui_tab(struct tui *t, enum tui_tab tab)
{
	t->tab = tab;
	if (t->tabs[tab] != NULL && t->tabs[tab]->show != NULL)
		t->tabs[tab]->show(t->tabs[tab], t);
	t->dirty = 1;
}

const char *
tui_role(struct tui *t)
{
	const char	*r = json_string_value(json_object_get(t->session,
			    "role"));

	return r != NULL ? r : "";
}

int
tui_allowed(struct tui *t, enum proto_op op)
{
	return (proto_op(op)->roles & proto_role_lookup(tui_role(t))) != 0;
}

int
tui_may(struct tui *t, enum proto_op op, const char *what)
{
	static const struct {
		enum proto_role	 role;
		const char	*people;
	} roles[] = {
		{ ROLE_DIRECTEUR, "directeurs d'école" },
		{ ROLE_ASSISTANCE, "agents de l'assistance" },
		{ ROLE_ADMIN, "administrateurs" },
	};
	char		who[128];
	size_t		i, n = 0, k = 0, count = 0;

	if (tui_allowed(t, op))
		return 1;
	for (i = 0; i < sizeof roles / sizeof roles[0]; i++)
		count += (proto_op(op)->roles & roles[i].role) != 0;
	who[0] = '\0';
	for (i = 0; i < sizeof roles / sizeof roles[0]; i++) {
		if (!(proto_op(op)->roles & roles[i].role))
			continue;
		n += (size_t)snprintf(who + n, sizeof who - n, "%s%s",
		    k == 0 ? "" : k + 1 == count ? " et aux " : ", aux ",
		    roles[i].people);
		k++;
	}
	tui_status(t, 1, "%s est réservée aux %s.", what, who);
	return 0;
}

const char *
tui_school(struct tui *t)
{
	json_t	*schools = json_object_get(t->session, "schools");

	if (t->settings->school != NULL)
		return t->settings->school;
	if (json_array_size(schools) == 1)
		return json_string_value(json_object_get(json_array_get(
		    schools, 0), "uai"));
	return NULL;
}

void
tui_request(struct tui *t, enum proto_op op, json_t *args, tui_callback cb,
    void *arg)
{
	struct pending	*p;

	if (args == NULL)
		args = json_object();
	if (!t->connected) {
		json_decref(args);
		if (cb != NULL)
			cb(t, NULL, arg);
		tui_status(t, 1, "Pas de connexion au serveur : nouvelle "
		    "tentative en cours…");
		return;
	}
	p = xcalloc(1, sizeof *p);
	p->id = rpc_send(t->rpc, op, args, NULL, 0);
	p->cb = cb;
	p->arg = arg;
	p->next = t->pending;
	t->pending = p;
	rpc_io(t->rpc);
}

void
tui_forget(struct tui *t, void *arg)
{
	struct pending	*p;

	/* Kept in the list, without a callback: the reply still comes, and
	 * tui_busy() is still true while the server works on it. */
	for (p = t->pending; p != NULL; p = p->next) {
		if (p->arg == arg)
			p->cb = NULL;
	}
}

int
tui_busy(struct tui *t)
{
	return t->pending != NULL;
}

/* Hand the replies that arrived to their callbacks. */
static void
tui_replies(struct tui *t)
{
	struct rpc_reply	*r;
	struct pending		**pp, *p;

	while ((r = rpc_next_reply(t->rpc)) != NULL) {
		for (pp = &t->pending; (p = *pp) != NULL; pp = &p->next) {
			if (p->id == r->id)
				break;
		}
		if (p != NULL) {
			*pp = p->next;
			if (p->cb != NULL)
				p->cb(t, r, p->arg);
			free(p);
		}
		/* A session that ended (idle, staff disabled): said on the
		 * status line, or the end of ecadm for a session handed over
		 * by ecadm-sshd. */
		if (!r->ok && r->error == E_AUTH && t->session != NULL &&
		    !tui_session_ended(t, r->message))
			tui_status(t, 1, "%s", r->message);
		rpc_reply_free(r);
		t->dirty = 1;
	}
}

/* The connection is gone: requests learn it, a retry is planned. */
static void
tui_broken(struct tui *t)
{
	struct pending	*p;

	t->connected = 0;
	/*
	 * Nobody logged in and nothing asked: the server closes connections
	 * that do not log in within its login_timeout. Reconnect at once and
	 * say nothing, so a director slow to type is not told of a failure.
	 */
	if (t->session == NULL && t->pending == NULL) {
		t->retry_at = now_ms();
		t->quiet_retry = 1;
		return;
	}
	t->retry_at = now_ms() + RETRY_MS;
	while ((p = t->pending) != NULL) {
		t->pending = p->next;
		if (p->cb != NULL)
			p->cb(t, NULL, p->arg);
		free(p);
	}
	tui_status(t, 1, "Connexion au serveur perdue. Nouvelle tentative "
	    "dans %d s… (q pour quitter)", RETRY_MS / 1000);
}

/* Try to reach the server again, and resume the session. */
static void
tui_reconnect(struct tui *t)
{
	struct rpc_options	 o;
	struct rpc		*rpc;
	char			*cause;

	memset(&o, 0, sizeof o);
	o.server = t->settings->server;
	o.ca = t->settings->ca;
	o.client = "ecadm";
	o.timeout_ms = 2000;
	if ((rpc = rpc_open(&o, &cause)) == NULL) {
		free(cause);
		t->quiet_retry = 0;
		t->retry_at = now_ms() + RETRY_MS;
		tui_status(t, 1, "Serveur injoignable. Nouvelle tentative dans "
		    "%d s… (q pour quitter)", RETRY_MS / 1000);
		return;
	}
	rpc_set_school(rpc, t->settings->school);
	rpc_close(t->rpc);
	t->rpc = rpc;
	t->connected = 1;
	/* A session handed over is resumed even before it first opened:
	 * the connection may have broken before the answer. */
	if (t->token != NULL && (t->session != NULL || t->handed_over))
		tui_resume(t);
	else if (!t->quiet_retry)
		tui_status(t, 0, "Connexion rétablie.");
	t->quiet_retry = 0;
}

/* The header, the tabs, the key bar: what every tab shares. */
static void
tui_frame(struct tui *t)
{
	struct screen	*s = t->tabs[t->tab];
	const char	*uai = tui_school(t), *name = NULL;
	json_t		*school;
	char		 line[512];
	size_t		 i;
	int		 x, w;

	json_array_foreach(json_object_get(t->session, "schools"), i,
	    school) {
		if (uai != NULL && strcmp(json_string_value(json_object_get(
		    school, "uai")), uai) == 0)
			name = json_string_value(json_object_get(school,
			    "name"));
	}
	snprintf(line, sizeof line, " %s%s%s%s — %s (%s)", name != NULL ?
	    name : uai != NULL ? uai : "Académie", name != NULL ? " (" : "",
	    name != NULL ? uai : "", name != NULL ? ")" : "",
	    json_string_value(json_object_get(t->session, "name")),
	    json_string_value(json_object_get(t->session, "role_label")));
	tui_print(0, 0, line, COLS, tui_attr(t, TC_HEADER));

	tui_print(1, 0, "", COLS, A_NORMAL);
	for (i = 0, x = 1; i < TAB__COUNT; i++) {
		snprintf(line, sizeof line, " %zu %s ", i + 1, tab_names[i]);
		w = utf8_width(line);
		tui_print(1, x, line, w, (int)i == t->tab ?
		    tui_attr(t, TC_TAB) : (int)A_NORMAL);
		x += w + 1;
	}
	if (s != NULL && s->hint != NULL)
		tui_print(LINES - 2, 0, s->hint(s, t), COLS,
		    tui_attr(t, TC_KEYS));
}

static void
tui_draw(struct tui *t)
{
	struct screen	*s;
	const char	*counts;
	int		 i, w;

	erase();
	if (t->session == NULL) {
		if (t->login != NULL)
			t->login->draw(t->login, t, 0, LINES);
	} else {
		tui_frame(t);
		s = t->tabs[t->tab];
		if (s != NULL)
			s->draw(s, t, 2, LINES - 4);
		for (i = 0; i < t->noverlays; i++)
			t->overlays[i]->draw(t->overlays[i], t, 2, LINES - 4);
	}
	/* The status line: the last message, and the screen's counts on
	 * the right. */
	s = t->session != NULL && t->noverlays == 0 ? t->tabs[t->tab] : NULL;
	counts = s != NULL && s->counts != NULL ? s->counts(s, t) : NULL;
	w = counts != NULL ? utf8_width(counts) + 2 : 0;
	tui_print(LINES - 1, 0, t->status, COLS - w, tui_attr(t,
	    t->status_error ? TC_ERROR : TC_STATUS));
	if (counts != NULL && COLS - w > 10)
		tui_print(LINES - 1, COLS - w, counts, w, tui_attr(t,
		    TC_STATUS) | A_BOLD);
	refresh();
	t->dirty = 0;
}

/* The global keys, after the screen had its chance. */
static int
tui_global_key(struct tui *t, wint_t ch, int keycode)
{
	MEVENT	ev;
	int	x, i, w;
	char	label[64];

	if (keycode && ch == KEY_MOUSE) {
		ev = t->click;
		if (ev.y != 1)
			return 0;
		for (i = 0, x = 1; i < TAB__COUNT; i++) {
			snprintf(label, sizeof label, " %d %s ", i + 1,
			    tab_names[i]);
			w = utf8_width(label);
			if (ev.x >= x && ev.x < x + w) {
				tui_tab(t, (enum tui_tab)i);
				return 1;
			}
			x += w + 1;
		}
		return 0;
	}
	if (keycode) {
		switch (ch) {
		case KEY_F(1):
			tui_tab(t, TAB_AIDE);
			return 1;
		case KEY_BTAB:
			tui_tab(t, (enum tui_tab)((t->tab + TAB__COUNT - 1) %
			    TAB__COUNT));
			return 1;
		case KEY_F(10):
			tui_quit(t);
			return 1;
		}
		return 0;
	}
	switch (ch) {
	case '\t':
		tui_tab(t, (enum tui_tab)((t->tab + 1) % TAB__COUNT));
		return 1;
	case '1': case '2': case '3': case '4':
		tui_tab(t, (enum tui_tab)(ch - '1'));
		return 1;
	case '?':
		tui_tab(t, TAB_AIDE);
		return 1;
	case 'q':
	case 'Q':
		tui_quit(t);
		return 1;
	}
	return 0;
}

static void
tui_key(struct tui *t, wint_t ch, int keycode)
{
	struct screen	*s;

	if (keycode && ch == KEY_RESIZE) {
		t->dirty = 1;
		return;
	}
	/* The event is read here, once, for whoever handles the click. */
	if (keycode && ch == KEY_MOUSE && getmouse(&t->click) != OK)
		return;
	if (t->session == NULL) {
		if (t->login != NULL && t->login->key(t->login, t, ch, keycode))
			t->dirty = 1;
		/* A session handed over, not open yet: nothing but quit. */
		else if (t->login == NULL && ((!keycode && (ch == 'q' ||
		    ch == 'Q')) || (keycode && ch == KEY_F(10))))
			tui_quit(t);
		return;
	}
	if (t->noverlays > 0) {
		s = t->overlays[t->noverlays - 1];
		if (s->key(s, t, ch, keycode))
			t->dirty = 1;
		else if (!keycode && (ch == 'q' || ch == 'Q') && !t->connected)
			tui_quit(t);
		return;
	}
	s = t->tabs[t->tab];
	if (s != NULL && s->key != NULL && s->key(s, t, ch, keycode)) {
		t->dirty = 1;
		return;
	}
	if (tui_global_key(t, ch, keycode))
		t->dirty = 1;
}

int
tui_run(struct tui *t)
{
	struct pollfd	pfd[2];
	struct timespec	start, end, timeout;
	wint_t		ch;
	long		wait;
	int		r;

	while (t->running) {
		if (tui_signal != 0) {
			t->signal = tui_signal;
			break;
		}
		/* tui_request's own rpc_io may have read a fast reply (a
		 * resume): the socket will not wake ppoll for it. */
		if (t->connected)
			tui_replies(t);
		if (!t->running)
			break;
		if (t->dirty)
			tui_draw(t);
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = t->connected ? rpc_fd(t->rpc) : -1;
		pfd[1].events = POLLIN | (t->connected &&
		    rpc_want_write(t->rpc) ? POLLOUT : 0);
		/* Animate the progress bar while the server works. */
		wait = !t->connected ? t->retry_at - now_ms() :
		    t->progress != NULL ? 150 : 1000;
		if (wait < 0)
			wait = 0;
		timeout.tv_sec = wait / 1000;
		timeout.tv_nsec = (wait % 1000) * 1000000;
		if (ppoll(pfd, 2, &timeout, &tui_waitmask) == -1) {
			if (errno == EINTR)
				continue;
			fatal("ppoll");
		}
		if (t->connected && pfd[1].revents != 0) {
			if (rpc_io(t->rpc) == -1) {
				tui_replies(t);
				tui_broken(t);
			} else
				tui_replies(t);
		}
		if (t->progress != NULL) {
			size_t	got, total;
			char	text[128];

			if (t->connected && rpc_progress(t->rpc, &got, &total)) {
				snprintf(text, sizeof text, "Réception du "
				    "document : %zu Ko sur %zu Ko", got / 1024,
				    total / 1024);
				dialog_progress_set(t->progress, (double)got /
				    (double)total, text);
			}
			t->dirty = 1;
		}
		if (!t->connected && now_ms() >= t->retry_at) {
			tui_reconnect(t);
			t->dirty = 1;
		}
		if (pfd[0].revents & (POLLHUP | POLLERR))
			break;
		while (t->running && (r = get_wch(&ch)) != ERR) {
			clock_gettime(CLOCK_MONOTONIC, &start);
			tui_key(t, ch, r == KEY_CODE_YES);
			if (t->trace != NULL) {
				/* The key's whole cost: handling and redraw. */
				tui_draw(t);
				clock_gettime(CLOCK_MONOTONIC, &end);
				fprintf(t->trace, "key %s %.3f\n",
				    r == KEY_CODE_YES ? keyname((int)ch) :
				    "char", (double)(end.tv_sec -
				    start.tv_sec) * 1e3 + (double)(end.tv_nsec -
				    start.tv_nsec) / 1e6);
				fflush(t->trace);
			}
			if (!t->running)
				break;
		}
	}
	return t->exit_status;
}

int
tui_session_ended(struct tui *t, const char *message)
{
	if (!t->handed_over)
		return 0;
	/* The first reason is the one: later replies only repeat it. */
	if (t->farewell == NULL)
		t->farewell = xstrdup(message);
	t->exit_status = EXIT_REFUSED;
	tui_quit(t);
	return 1;
}
