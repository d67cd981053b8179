/*
 * The "État des comptes" tab: how far the accounts of the school have
 * come. The screen owns the last "stats" reply (kept until a newer one
 * arrives, so a reload does not blank the screen), the request in flight,
 * the last error and a scroll offset.
 *
 * The body is laid out on a virtual page taller than the screen: a pinned
 * title line, then one bar per state (its share of all accounts, in the
 * state's colour), the two shares that tell whether families use their
 * accounts, the passwords about to expire, and the per-class and
 * per-level tables (side by side when the terminal is wide enough). Every
 * count is printed as a plain integer next to its label, so what the
 * screen says can be read back and compared with `ecadmctl stats`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curses.h>

#include "state.h"
#include "tui.h"
#include "utf8.h"
#include "xmalloc.h"

#define ETAT_MARGIN	1	/* left edge of the sections */
#define ETAT_INDENT	3	/* left edge of what a section holds */
#define ETAT_BAR_MIN	8	/* narrower: the bar goes under its label */
#define ETAT_BAR_MAX	64	/* wider bars read no better */
#define ETAT_NAME_MAX	24	/* class and level names in the tables */
#define ETAT_GAP	2	/* between table columns */

/* The table columns: the stored states, titled by their short labels. */
#define ETAT_NSTATES	STATE__STORED

struct etat {
	json_t		*stats;		/* last result, or NULL */
	unsigned long	 waiting;	/* serial of the request in flight */
	char		*error;		/* last refusal */
	char		 loaded_at[8];	/* "HH:MM" of stats */
	int		 scroll;	/* first virtual row shown */
	int		 lines;		/* virtual rows, last draw */
	int		 page;		/* rows shown, last draw */
	struct etat	*next;		/* in etat_live */
};

/*
 * A reply may come after its screen was freed (new session, quit), and
 * the frame drops the arguments of requests left at exit. So a request
 * carries no pointer: its argument is a serial number, and the reply
 * looks for the live screen waiting for that number.
 */
static struct etat	*etat_live;
static unsigned long	 etat_serial;

/* Where the virtual page lands on the screen while drawing. */
struct canvas {
	struct tui	*t;
	int		 top;		/* first screen line of the page */
	int		 height;
	int		 scroll;
	int		 right;		/* where the figures of bars end */
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

/* Print right-aligned in width cells on virtual row `row`. */
static void
canvas_print_right(struct canvas *c, int row, int x, const char *s,
    int width, int attr)
{
	char	*cell;

	if (width <= 0)
		return;
	cell = utf8_fit(s, width, 1);
	canvas_print(c, row, x, cell, width, attr);
	free(cell);
}

/* An integer member of o, 0 when absent. */
static json_int_t
etat_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* A string member of o, "" when absent. */
static const char *
etat_str(json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* Cells taken by an integer. */
static int
etat_digits(json_int_t n)
{
	char	buf[32];

	return snprintf(buf, sizeof buf, "%lld", (long long)n);
}

/* A whole percentage, rounded, of n out of total. */
static int
etat_percent(json_int_t n, json_int_t total)
{
	if (total <= 0)
		return 0;
	return (int)((200 * n + total) / (2 * total));
}

/* Append n copies of the UTF-8 character ch to buf (of size bytes). */
static size_t
etat_repeat(char *buf, size_t len, size_t size, const char *ch, int n)
{
	size_t	chlen = strlen(ch);

	while (n-- > 0 && len + chlen < size) {
		memcpy(buf + len, ch, chlen);
		len += chlen;
	}
	buf[len] = '\0';
	return len;
}

/* Draw a bar of width cells filled to fraction, with eighths of a cell at
 * its end; a non-zero count never shows an empty bar. */
static void
etat_bar(struct canvas *c, int row, int x, int width, double fraction,
    int nonzero, int attr)
{
	static const char *const eighths[] = { "", "▏", "▎", "▍", "▌", "▋",
	    "▊", "▉" };
	char	 bar[ETAT_BAR_MAX * 4 + 8], track[ETAT_BAR_MAX * 4 + 8];
	size_t	 len;
	int	 filled, cells;

	if (width <= 0)
		return;
	if (width > ETAT_BAR_MAX)
		width = ETAT_BAR_MAX;
	if (fraction < 0)
		fraction = 0;
	if (fraction > 1)
		fraction = 1;
	filled = (int)(fraction * width * 8 + 0.5);
	if (filled == 0 && nonzero)
		filled = 1;
	len = etat_repeat(bar, 0, sizeof bar, "█", filled / 8);
	etat_repeat(bar, len, sizeof bar, eighths[filled % 8], 1);
	cells = filled / 8 + (filled % 8 > 0);
	/* The track shows how far the bar could go: dim, not coloured, so
	 * the bar reads the same in monochrome. */
	etat_repeat(track, 0, sizeof track, "·", width - cells);
	if (cells > 0)
		canvas_print(c, row, x, bar, cells, attr);
	if (cells < width)
		canvas_print(c, row, x + cells, track, width - cells, A_DIM);
}

/* Where the bar of a labelled line goes: its column and width. Returns 1
 * when the screen is too narrow for label and bar on one line (the bar
 * then goes under its label). */
static int
etat_bar_layout(struct canvas *c, int labelw, int rightw, int *barx,
    int *barw)
{
	int	two = 0;

	*barx = ETAT_INDENT + labelw + 2;
	*barw = c->right - rightw - 2 - *barx;
	if (*barw < ETAT_BAR_MIN) {
		two = 1;
		*barx = ETAT_INDENT + 2;
		*barw = c->right - rightw - 2 - *barx;
	}
	if (*barw > ETAT_BAR_MAX)
		*barw = ETAT_BAR_MAX;
	if (*barw < 0)
		*barw = 0;
	return two;
}

/* A labelled bar with its figures on the right, in rightw cells. Returns
 * the virtual rows used. */
static int
etat_bar_line(struct canvas *c, int row, const char *label, int labelw,
    double fraction, int nonzero, int attr, const char *right, int rightw)
{
	int	barx, barw, two;

	two = etat_bar_layout(c, labelw, rightw, &barx, &barw);
	canvas_print(c, row, ETAT_INDENT, label, labelw, A_NORMAL);
	if (two && ETAT_INDENT + labelw + 2 + rightw <= c->right) {
		/* The figures stay with their label; the bar takes the
		 * whole next line. */
		canvas_print_right(c, row, c->right - rightw, right, rightw,
		    A_NORMAL);
		etat_bar(c, row + 1, barx, c->right - barx, fraction,
		    nonzero, attr);
		return 2;
	}
	etat_bar(c, row + two, barx, barw, fraction, nonzero, attr);
	canvas_print_right(c, row + two, barx + barw + 2, right, rightw,
	    A_NORMAL);
	return 1 + two;
}

/* The widest state label. */
static int
etat_state_labelw(json_t *stats)
{
	json_t	*st;
	size_t	 i;
	int	 labelw = utf8_width("Total"), w;

	json_array_foreach(json_object_get(stats, "states"), i, st) {
		if ((w = utf8_width(etat_str(st, "label"))) > labelw)
			labelw = w;
	}
	return labelw;
}

/* The bars: one per state, then the total. numw is the width of the
 * count field. Returns the next row. */
static int
etat_draw_states(struct canvas *c, json_t *stats, int row, int numw)
{
	json_t		*st;
	json_int_t	 total = etat_int(stats, "total"), n;
	char		 right[128], pct[16];
	size_t		 i;
	int		 labelw = etat_state_labelw(stats), rightw, barx, barw;

	rightw = numw + 2 + 7;		/* "1234  (100 %)" */
	json_array_foreach(json_object_get(stats, "states"), i, st) {
		n = etat_int(st, "count");
		snprintf(pct, sizeof pct, "(%d %%)", etat_percent(n, total));
		snprintf(right, sizeof right, "%*lld  %7s", numw, (long long)n,
		    pct);
		row += etat_bar_line(c, row, etat_str(st, "label"), labelw,
		    total > 0 ? (double)n / (double)total : 0, n > 0,
		    tui_attr(c->t, tui_state_color(
		    state_shown(etat_str(st, "code"), 0))),
		    right, rightw);
	}
	/* The total under the counts, without a bar. */
	if (etat_bar_layout(c, labelw, rightw, &barx, &barw) &&
	    ETAT_INDENT + labelw + 2 + rightw <= c->right)
		barx = c->right - rightw - barw - 2;
	snprintf(right, sizeof right, "%*lld", numw, (long long)total);
	canvas_print(c, row, ETAT_INDENT, "Total", labelw, A_BOLD);
	canvas_print_right(c, row, barx + barw + 2, right, numw, A_BOLD);
	return row + 1;
}

/* The two shares: guardians activated, pupils with one. Returns the next
 * row. */
static int
etat_draw_shares(struct canvas *c, json_t *stats, int row, int numw)
{
	static const char *const labels[] = {
		"Responsables ayant activé leur compte",
		"Élèves avec au moins un responsable activé",
	};
	json_t		*g = json_object_get(stats, "guardians");
	json_t		*p = json_object_get(stats, "pupils");
	json_int_t	 num[2], den[2];
	double		 share[2];
	char		 right[128], ratio[64], pct[16];
	int		 i, labelw = 0, w;

	num[0] = etat_int(g, "activated");
	den[0] = etat_int(g, "accounts");
	share[0] = json_number_value(json_object_get(g, "share"));
	num[1] = etat_int(p, "with_activated");
	den[1] = etat_int(p, "total");
	share[1] = json_number_value(json_object_get(p, "share"));
	for (i = 0; i < 2; i++) {
		if ((w = utf8_width(labels[i])) > labelw)
			labelw = w;
	}
	for (i = 0; i < 2; i++) {
		snprintf(ratio, sizeof ratio, "%lld / %lld",
		    (long long)num[i], (long long)den[i]);
		snprintf(pct, sizeof pct, "(%d %%)", (int)(share[i] * 100 +
		    0.5));
		snprintf(right, sizeof right, "%*s  %7s", numw, ratio, pct);
		row += etat_bar_line(c, row, labels[i], labelw, share[i],
		    num[i] > 0, tui_attr(c->t, TC_GREEN), right,
		    numw + 2 + 7);
	}
	return row;
}

/* Width of the figures field shared by the bars: the widest count or
 * "x / y", so that all bars end in the same column. */
static int
etat_figures_width(json_t *stats)
{
	json_t	*g = json_object_get(stats, "guardians");
	json_t	*p = json_object_get(stats, "pupils");
	int	 w = etat_digits(etat_int(stats, "total")), v;

	if ((v = etat_digits(etat_int(g, "activated")) + 3 +
	    etat_digits(etat_int(g, "accounts"))) > w)
		w = v;
	if ((v = etat_digits(etat_int(p, "with_activated")) + 3 +
	    etat_digits(etat_int(p, "total"))) > w)
		w = v;
	return w;
}

/* Width of one per-group table: the name column and the counts. */
static int
etat_table_widths(json_t *groups, int *namew, int *numw)
{
	json_t	*g;
	size_t	 i;
	int	 c, w, total;

	*namew = utf8_width("Classe");
	json_array_foreach(groups, i, g) {
		if ((w = utf8_width(etat_str(g, "name"))) > *namew)
			*namew = w;
	}
	if (*namew > ETAT_NAME_MAX)
		*namew = ETAT_NAME_MAX;
	total = *namew;
	for (c = 0; c <= (int)ETAT_NSTATES; c++) {
		numw[c] = utf8_width(c < (int)ETAT_NSTATES ? state_info(c)->short_label :
		    "Total");
		json_array_foreach(groups, i, g) {
			json_int_t n = c < (int)ETAT_NSTATES ?
			    etat_int(json_object_get(g, "states"),
			    state_info(c)->code) : etat_int(g, "total");

			if ((w = etat_digits(n)) > numw[c])
				numw[c] = w;
		}
		total += ETAT_GAP + numw[c];
	}
	return total;
}

/* A per-group table at (row, x) under its heading. Returns the next row. */
static int
etat_draw_table(struct canvas *c, json_t *groups, const char *heading,
    const char *first, int row, int x)
{
	int		 numw[ETAT_NSTATES + 1], namew, width, col, cx, attr;
	char		 buf[32];
	const char	*name;
	json_int_t	 n;
	json_t		*g;
	size_t		 i;

	width = etat_table_widths(groups, &namew, numw);
	canvas_print(c, row++, x - (ETAT_INDENT - ETAT_MARGIN), heading,
	    utf8_width(heading), A_BOLD);
	attr = tui_attr(c->t, TC_HEADER);
	canvas_print(c, row, x, first, namew, attr);
	for (col = 0, cx = x + namew; col <= (int)ETAT_NSTATES; col++) {
		canvas_print(c, row, cx, "", ETAT_GAP, attr);
		cx += ETAT_GAP;
		canvas_print_right(c, row, cx, col < (int)ETAT_NSTATES ?
		    state_info(col)->short_label : "Total", numw[col], attr);
		cx += numw[col];
	}
	row++;
	if (json_array_size(groups) == 0) {
		canvas_print(c, row++, x, "Aucun compte.", width, A_DIM);
		return row;
	}
	json_array_foreach(groups, i, g) {
		name = etat_str(g, "name");
		canvas_print(c, row, x, *name != '\0' ? name : "(sans)", namew,
		    A_NORMAL);
		for (col = 0, cx = x + namew + ETAT_GAP;
		    col <= (int)ETAT_NSTATES; col++) {
			if (col < (int)ETAT_NSTATES) {
				n = etat_int(json_object_get(g, "states"),
				    state_info(col)->code);
				/* A count in its state's colour; zeros fade. */
				attr = n > 0 ? tui_attr(c->t, tui_state_color(
				    state_info(col))) : (int)A_DIM;
			} else {
				n = etat_int(g, "total");
				attr = A_BOLD;
			}
			snprintf(buf, sizeof buf, "%lld", (long long)n);
			canvas_print_right(c, row, cx, buf, numw[col], attr);
			cx += numw[col] + ETAT_GAP;
		}
		row++;
	}
	return row;
}

/* The per-class and per-level tables, side by side when both fit. */
static int
etat_draw_groups(struct canvas *c, json_t *stats, int row)
{
	json_t	*classes = json_object_get(stats, "classes");
	json_t	*levels = json_object_get(stats, "levels");
	int	 numw[ETAT_NSTATES + 1], namew, w1, w2, end1, end2;

	w1 = etat_table_widths(classes, &namew, numw);
	w2 = etat_table_widths(levels, &namew, numw);
	if (ETAT_INDENT + w1 + 6 + w2 < COLS) {
		end1 = etat_draw_table(c, classes, "Par classe", "Classe", row,
		    ETAT_INDENT);
		end2 = etat_draw_table(c, levels, "Par niveau", "Niveau", row,
		    ETAT_INDENT + w1 + 6);
		return end1 > end2 ? end1 : end2;
	}
	row = etat_draw_table(c, classes, "Par classe", "Classe", row,
	    ETAT_INDENT);
	return etat_draw_table(c, levels, "Par niveau", "Niveau", row + 1,
	    ETAT_INDENT);
}

/* The letters whose provisional password expires soon. */
static int
etat_draw_expiring(struct canvas *c, json_t *stats, int row)
{
	json_t	*list = json_object_get(stats, "expiring"), *e;
	size_t	 i;
	int	 loginw = utf8_width("Identifiant"), datew = 10, w, x, attr;

	if (json_array_size(list) == 0)
		return row;
	json_array_foreach(list, i, e) {
		if ((w = utf8_width(etat_str(e, "login"))) > loginw)
			loginw = w;
	}
	if (loginw > 24)
		loginw = 24;
	canvas_print(c, row++, ETAT_MARGIN, "Mots de passe provisoires qui "
	    "expirent dans les 15 jours", COLS - 1 - ETAT_MARGIN, A_BOLD);
	attr = tui_attr(c->t, TC_HEADER);
	x = ETAT_INDENT;
	w = COLS - 1 - x;
	canvas_print(c, row, x, "", w, attr);
	canvas_print(c, row, x, "Expire le", datew, attr);
	canvas_print(c, row, x + datew + ETAT_GAP, "Identifiant", loginw,
	    attr);
	canvas_print(c, row, x + datew + loginw + 2 * ETAT_GAP, "Responsable",
	    w - datew - loginw - 2 * ETAT_GAP, attr);
	row++;
	json_array_foreach(list, i, e) {
		canvas_print(c, row, x, etat_str(e, "expires"), datew,
		    tui_attr(c->t, TC_ORANGE));
		canvas_print(c, row, x + datew + ETAT_GAP, etat_str(e,
		    "login"), loginw, A_NORMAL);
		canvas_print(c, row, x + datew + loginw + 2 * ETAT_GAP,
		    etat_str(e, "guardian"), w - datew - loginw - 2 * ETAT_GAP,
		    A_NORMAL);
		row++;
	}
	return row;
}

/* Lay the whole page out; returns its height in rows. */
static int
etat_draw_page(struct canvas *c, json_t *stats)
{
	char		 line[256];
	json_int_t	 total = etat_int(stats, "total"), n;
	int		 row = 0, numw;

	numw = etat_figures_width(stats);
	/* All figures end in one column: the right margin, or nearer when
	 * the state bars reach their widest. */
	c->right = ETAT_INDENT + etat_state_labelw(stats) + 2 + ETAT_BAR_MAX +
	    2 + numw + 2 + 7;
	if (c->right > COLS - 1)
		c->right = COLS - 1;
	snprintf(line, sizeof line, "Comptes des responsables : %lld",
	    (long long)total);
	canvas_print(c, row++, ETAT_MARGIN, line, COLS - 1 - ETAT_MARGIN,
	    A_BOLD);
	row = etat_draw_states(c, stats, row, numw);
	row++;
	canvas_print(c, row++, ETAT_MARGIN, "Utilisation des comptes",
	    COLS - 1 - ETAT_MARGIN, A_BOLD);
	row = etat_draw_shares(c, stats, row, numw);
	row++;
	n = etat_int(stats, "expiring_15_days");
	snprintf(line, sizeof line, "Mots de passe provisoires qui expirent "
	    "dans les 15 jours : %lld", (long long)n);
	canvas_print(c, row++, ETAT_MARGIN, line, COLS - 1 - ETAT_MARGIN,
	    n > 0 ? tui_attr(c->t, TC_ORANGE) | A_BOLD : A_NORMAL);
	row++;
	row = etat_draw_groups(c, stats, row);
	if (json_array_size(json_object_get(stats, "expiring")) > 0) {
		row++;
		row = etat_draw_expiring(c, stats, row);
	}
	return row;
}

static void
etat_draw(struct screen *sc, struct tui *t, int top, int height)
{
	struct etat	*e = sc->data;
	struct canvas	 c;
	char		 title[512], right[64];
	const char	*name;
	int		 w;

	if (height < 1)
		return;
	/* The title line stays while the page scrolls. */
	name = e->stats != NULL ? etat_str(e->stats, "school_name") : "";
	if (*name == '\0' && e->stats != NULL)
		name = etat_str(e->stats, "school");
	snprintf(title, sizeof title, "État des comptes%s%s",
	    *name != '\0' ? " — " : "", name);
	right[0] = '\0';
	if (e->waiting != 0)
		snprintf(right, sizeof right, "Chargement…");
	else if (e->stats != NULL && e->loaded_at[0] != '\0')
		snprintf(right, sizeof right, "à jour à %s", e->loaded_at);
	w = utf8_width(right);
	if (w > 0 && COLS - ETAT_MARGIN - w - 3 < utf8_width(title))
		w = 0;		/* the title first on a narrow screen */
	tui_print(top, ETAT_MARGIN, title, COLS - ETAT_MARGIN - w - 2, A_BOLD);
	if (w > 0)
		tui_print(top, COLS - 1 - w, right, w, A_DIM);

	memset(&c, 0, sizeof c);
	c.t = t;
	c.top = top + 2;
	e->page = height - 2;
	if (e->page <= 0)
		return;
	if (e->stats == NULL) {
		e->lines = 0;
		e->scroll = 0;
		if (e->waiting != 0)
			tui_print(c.top, ETAT_INDENT, "Chargement…",
			    COLS - ETAT_INDENT, A_DIM);
		else if (e->error != NULL)
			tui_print(c.top, ETAT_INDENT, e->error,
			    COLS - ETAT_INDENT, tui_attr(t, TC_ERROR));
		return;
	}
	/* Lay out once without printing to learn the height, then draw
	 * from a scroll offset that fits it (the screen may have grown). */
	e->lines = etat_draw_page(&c, e->stats);
	tui_scroll_clamp(&e->scroll, e->page, e->lines);
	c.height = e->page;
	c.scroll = e->scroll;
	etat_draw_page(&c, e->stats);
	/* Marks at the right edge: more above, more below. */
	if (e->scroll > 0)
		tui_print(c.top, COLS - 1, "▲", 1, A_BOLD);
	if (e->scroll + e->page < e->lines)
		tui_print(c.top + e->page - 1, COLS - 1, "▼", 1, A_BOLD);
}

/* The reply to "stats": keep it, or say why there is none. */
static void
etat_loaded(struct tui *t, struct rpc_reply *r, void *arg)
{
	unsigned long	 serial = (unsigned long)(uintptr_t)arg;
	struct etat	*e;
	struct tm	 tm;
	time_t		 now;

	for (e = etat_live; e != NULL && e->waiting != serial; e = e->next)
		;
	if (e == NULL)
		return;		/* a screen gone, or a request replaced */
	e->waiting = 0;
	if (r == NULL)
		return;		/* the frame reports the lost connection */
	if (!r->ok) {
		free(e->error);
		e->error = xstrdup(r->message != NULL ? r->message :
		    "Le serveur a refusé la demande.");
		tui_status(t, 1, "%s", e->error);
		return;
	}
	/* An error of ours still on the status line is now stale. */
	if (e->error != NULL && t->status_error &&
	    strcmp(t->status, e->error) == 0)
		tui_status(t, 0, "État des comptes actualisé.");
	free(e->error);
	e->error = NULL;
	json_decref(e->stats);
	e->stats = json_incref(r->result);
	now = time(NULL);
	if (localtime_r(&now, &tm) != NULL)
		strftime(e->loaded_at, sizeof e->loaded_at, "%H:%M", &tm);
	tui_redraw(t);
}

/* Ask for the counts, unless a request is already on its way. */
static void
etat_load(struct etat *e, struct tui *t)
{
	if (e->waiting != 0)
		return;
	if (++etat_serial == 0)
		etat_serial = 1;
	e->waiting = etat_serial;
	/* The reply may come at once (no connection): waiting is set. */
	tui_request(t, OP_STATS, NULL, etat_loaded,
	    (void *)(uintptr_t)e->waiting);
	tui_redraw(t);
}

static void
etat_show(struct screen *sc, struct tui *t)
{
	etat_load(sc->data, t);
}

static int
etat_key(struct screen *sc, struct tui *t, wint_t ch, int keycode)
{
	struct etat	*e = sc->data;

	if ((!keycode && (ch == 'r' || ch == 'R')) ||
	    (keycode && ch == KEY_F(5))) {
		etat_load(e, t);
		return 1;
	}
	return keycode && tui_scroll_key(&e->scroll, e->page, e->lines, ch);
}

static const char *
etat_hint(struct screen *sc, struct tui *t)
{
	(void)sc;
	(void)t;
	return "↑↓ défiler  r actualiser  Tab onglet suivant  ? aide  "
	    "q quitter";
}

static void
etat_free(struct screen *sc)
{
	struct etat	*e = sc->data, **pp;

	/* A reply still on its way will find no screen. */
	for (pp = &etat_live; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	json_decref(e->stats);
	free(e->error);
	free(e);
}

struct screen *
screen_etat_new(struct tui *t)
{
	struct screen	*sc = xcalloc(1, sizeof *sc);
	struct etat	*e = xcalloc(1, sizeof *e);

	(void)t;
	e->next = etat_live;
	etat_live = e;
	sc->name = "etat";
	sc->draw = etat_draw;
	sc->key = etat_key;
	sc->hint = etat_hint;
	sc->show = etat_show;
	sc->free = etat_free;
	sc->data = e;
	return sc;
}
