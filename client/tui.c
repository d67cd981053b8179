/* The event loop of ecadm, colours, the status line. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "log.h"
#include "tui.h"
#include "utf8.h"
#include "xmalloc.h"

struct pending {
	json_int_t	 id;
	tui_callback	 cb;
	void		*arg;
	struct pending	*next;
};

static void
tui_fatal_hook(void)
{
	if (!isendwin())
		endwin();
}

void
tui_init(struct tui *t, struct settings *s, struct rpc *rpc)
{
	memset(t, 0, sizeof *t);
	t->settings = s;
	t->rpc = rpc;
	t->running = 1;
	t->dirty = 1;

	log_set_fatal_hook(tui_fatal_hook);
	initscr();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (has_colors() && getenv("NO_COLOR") == NULL) {
		start_color();
		use_default_colors();
		t->colors = 1;
		init_pair(TC_HEADER, COLOR_WHITE, COLOR_BLUE);
		init_pair(TC_SELECTED, COLOR_BLACK, COLOR_CYAN);
		init_pair(TC_STATUS, COLOR_BLACK, COLOR_WHITE);
		init_pair(TC_ERROR, COLOR_WHITE, COLOR_RED);
		init_pair(TC_PRECREE, COLOR_RED, -1);
		/* Orange where the terminal has 256 colours. */
		init_pair(TC_NOTIFIE, COLORS >= 256 ? 208 : COLOR_MAGENTA, -1);
		init_pair(TC_ATTENTE, COLOR_YELLOW, -1);
		init_pair(TC_ACTIVE, COLOR_GREEN, -1);
		init_pair(TC_DESACTIVE, COLORS >= 16 ? 8 : COLOR_WHITE, -1);
		init_pair(TC_INELIGIBLE, COLORS >= 16 ? 8 : COLOR_WHITE, -1);
		init_pair(TC_TAB, COLOR_BLUE, COLOR_WHITE);
	}
}

void
tui_end(struct tui *t)
{
	struct pending	*p;

	if (t->screen != NULL && t->screen->free != NULL)
		t->screen->free(t->screen);
	free(t->screen);
	t->screen = NULL;
	while ((p = t->pending) != NULL) {
		t->pending = p->next;
		free(p);
	}
	json_decref(t->session);
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
		case TC_DESACTIVE:
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
		return A_REVERSE;
	case TC_ERROR:
	case TC_TAB:
		return A_REVERSE | A_BOLD;
	case TC_PRECREE:
		return A_BOLD;
	case TC_INELIGIBLE:
	case TC_DESACTIVE:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

enum tui_color
tui_state_color(const char *state)
{
	if (state == NULL)
		return TC_NORMAL;
	if (strcmp(state, "precree") == 0)
		return TC_PRECREE;
	if (strcmp(state, "notifie") == 0)
		return TC_NOTIFIE;
	if (strcmp(state, "attente") == 0)
		return TC_ATTENTE;
	if (strcmp(state, "active") == 0)
		return TC_ACTIVE;
	if (strcmp(state, "desactive") == 0)
		return TC_DESACTIVE;
	return TC_NORMAL;
}

void
tui_print(int y, int x, const char *s, int width, int attr)
{
	char	*cell;

	if (width <= 0)
		return;
	cell = utf8_fit(s != NULL ? s : "", width, 0);
	attron(attr);
	mvaddstr(y, x, cell);
	attroff(attr);
	free(cell);
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
tui_set_screen(struct tui *t, struct screen *s)
{
	if (t->screen != NULL) {
		if (t->screen->free != NULL)
			t->screen->free(t->screen);
		free(t->screen);
	}
	t->screen = s;
	t->dirty = 1;
}

void
tui_request(struct tui *t, const char *op, json_t *args, tui_callback cb,
    void *arg)
{
	struct pending	*p = xcalloc(1, sizeof *p);

	if (args == NULL)
		args = json_object();
	if (t->settings->school != NULL &&
	    json_object_get(args, "school") == NULL)
		json_object_set_new(args, "school",
		    json_string(t->settings->school));
	p->id = rpc_send(t->rpc, op, args, NULL, 0);
	p->cb = cb;
	p->arg = arg;
	p->next = t->pending;
	t->pending = p;
	rpc_io(t->rpc);
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
			p->cb(t, r, p->arg);
			free(p);
		}
		rpc_reply_free(r);
		t->dirty = 1;
	}
}

/* The connection is gone: every waiting request learns it. */
static void
tui_broken(struct tui *t)
{
	struct pending	*p;

	while ((p = t->pending) != NULL) {
		t->pending = p->next;
		p->cb(t, NULL, p->arg);
		free(p);
	}
	tui_status(t, 1, "Connexion au serveur perdue (%s). Quittez avec q "
	    "et relancez ecadm.", rpc_error(t->rpc));
}

static void
tui_draw(struct tui *t)
{
	erase();
	if (t->screen != NULL && t->screen->draw != NULL)
		t->screen->draw(t->screen, t);
	if (t->status[0] != '\0')
		tui_print(LINES - 1, 0, t->status, COLS, tui_attr(t,
		    t->status_error ? TC_ERROR : TC_STATUS));
	refresh();
	t->dirty = 0;
}

int
tui_run(struct tui *t)
{
	struct pollfd	pfd[2];
	wint_t		ch;
	int		r, broken = 0;

	while (t->running) {
		if (t->dirty)
			tui_draw(t);
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = broken ? -1 : rpc_fd(t->rpc);
		pfd[1].events = POLLIN | (rpc_want_write(t->rpc) ? POLLOUT : 0);
		if (poll(pfd, 2, 1000) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents != 0 && !broken) {
			if (rpc_io(t->rpc) == -1) {
				tui_replies(t);
				tui_broken(t);
				broken = 1;
			} else
				tui_replies(t);
		}
		if (pfd[0].revents & (POLLHUP | POLLERR))
			break;
		while ((r = get_wch(&ch)) != ERR) {
			if (r == KEY_CODE_YES && ch == KEY_RESIZE) {
				t->dirty = 1;
				continue;
			}
			if (t->screen != NULL && t->screen->key != NULL &&
			    t->screen->key(t->screen, t, ch, r == KEY_CODE_YES))
				t->dirty = 1;
			if (!t->running)
				break;
		}
	}
	return 0;
}
