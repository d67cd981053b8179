/* Dialogs drawn as framed boxes over the body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "buf.h"
#include "tui.h"
#include "utf8.h"
#include "widget-dialog.h"
#include "xmalloc.h"

enum dialog_kind {
	DIALOG_CONFIRM,
	DIALOG_MESSAGE,
	DIALOG_CHOICE,
	DIALOG_PROGRESS,
	DIALOG_INPUT,
};

struct progress {
	double		 fraction;
	char		 text[256];
	int		 spin;
};

struct dialog {
	enum dialog_kind	 kind;
	char			*title;
	char			*text;
	char			*yes;
	char			**items;
	size_t			 nitems;
	int			 multi;
	unsigned char		*ticked;
	size_t			 cursor;
	size_t			 top;
	dialog_confirm_fn	 confirm_fn;
	dialog_choice_fn	 choice_fn;
	dialog_input_fn		 input_fn;
	char			 line[256];	/* typed text */
	void			*arg;
	struct progress		 progress;
};

/* A framed box of w x h centred in the body; returns its top-left. */
static void
dialog_box(struct tui *t, int w, int h, const char *title, int *y, int *x)
{
	int	attr = tui_attr(t, TC_DIALOG), i;
	char	head[256];

	if (w > COLS - 2)
		w = COLS - 2;
	if (h > LINES - 4)
		h = LINES - 4;
	*y = (LINES - h) / 2;
	*x = (COLS - w) / 2;
	for (i = 0; i < h; i++)
		tui_print(*y + i, *x, "", w, attr);
	attron(attr);
	mvaddstr(*y, *x, "┌");
	mvaddstr(*y, *x + w - 1, "┐");
	mvaddstr(*y + h - 1, *x, "└");
	mvaddstr(*y + h - 1, *x + w - 1, "┘");
	for (i = 1; i < w - 1; i++) {
		mvaddstr(*y, *x + i, "─");
		mvaddstr(*y + h - 1, *x + i, "─");
	}
	for (i = 1; i < h - 1; i++) {
		mvaddstr(*y + i, *x, "│");
		mvaddstr(*y + i, *x + w - 1, "│");
	}
	attroff(attr);
	snprintf(head, sizeof head, " %s ", title);
	tui_print(*y, *x + 2, head, utf8_width(head) < w - 4 ?
	    utf8_width(head) : w - 4, attr | A_BOLD);
}

/* Add the line being built to lines and start a new one. */
static void
dialog_wrap_flush(char ***lines, int *n, struct buf *line)
{
	*lines = xreallocarray(*lines, (size_t)*n + 2, sizeof **lines);
	(*lines)[(*n)++] = xstrdup(buf_cstr(line));
	buf_reset(line);
}

/* Add a word: whole if it fits in width cells, else cut into lines of
 * width cells. Returns the cells of the part left in line. */
static int
dialog_wrap_word(char ***lines, int *n, struct buf *line, const char *s,
    size_t len, int width)
{
	size_t	cut;

	while (utf8_width_len(s, len) > width) {
		cut = utf8_prefix(s, len, width);
		buf_add(line, s, cut);
		dialog_wrap_flush(lines, n, line);
		s += cut;
		len -= cut;
	}
	buf_add(line, s, len);
	return utf8_width_len(s, len);
}

/*
 * Lines of text wrapped at width cells (a new NULL-terminated array). Each
 * line of the text is a paragraph, an empty one too; words go to the next
 * line when they do not fit, and a word wider than the box is cut, never
 * lost. A DIALOG_VERBATIM paragraph is not broken at its spaces when it
 * fits.
 */
static char **
dialog_wrap(const char *text, int width, int *count)
{
	char		**lines = NULL;
	const char	 *p = text, *end;
	struct buf	  line;
	size_t		  len;
	int		  n = 0, lw, ww;

	if (width < 1)
		width = 1;
	buf_init(&line);
	/* No text, no line: a progress bar alone. */
	while (*text != '\0') {
		end = p + strcspn(p, "\n");
		lw = 0;
		/* Whole if it fits, else broken at its spaces like the rest:
		 * a file name cut in two reads worse. */
		if (*p == DIALOG_VERBATIM[0]) {
			p++;
			if (utf8_width_len(p, (size_t)(end - p)) <= width) {
				buf_add(&line, p, (size_t)(end - p));
				p = end;
			}
		}
		while (p < end) {
			p += strspn(p, " ");
			if ((len = strcspn(p, " \n")) == 0)
				break;
			ww = utf8_width_len(p, len);
			if (lw > 0 && lw + 1 + ww > width) {
				dialog_wrap_flush(&lines, &n, &line);
				lw = 0;
			}
			if (lw > 0) {
				buf_add(&line, " ", 1);
				lw++;
			}
			lw += dialog_wrap_word(&lines, &n, &line, p, len, width);
			p += len;
		}
		dialog_wrap_flush(&lines, &n, &line);
		/* A last newline ends the last paragraph. */
		if (*end == '\0' || end[1] == '\0')
			break;
		p = end + 1;
	}
	buf_free(&line);
	if (lines == NULL)
		lines = xcalloc(1, sizeof *lines);
	lines[n] = NULL;
	*count = n;
	return lines;
}

/* The box's width: 72 cells at most, or wider, up to the screen's, for a
 * DIALOG_VERBATIM paragraph (a command to copy) that fits then. */
static int
dialog_width(const char *text)
{
	const char	*p, *end;
	int		 w = COLS - 8 < 72 ? COLS - 8 : 72, need;

	for (p = text; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, "\n");
		if (*p != DIALOG_VERBATIM[0])
			continue;
		need = utf8_width_len(p + 1, (size_t)(end - p - 1)) + 4;
		if (need > w)
			w = need < COLS - 2 ? need : COLS - 2;
	}
	return w;
}

static void
dialog_draw(struct screen *s, struct tui *t, int top, int height)
{
	struct dialog	*d = s->data;
	const char	*text = d->text != NULL ? d->text : "";
	char		**lines, item[512], bar[256];
	int		 w = dialog_width(text), n, h, y, x, i, filled;
	size_t		 k, shown;

	(void)top;
	(void)height;
	lines = dialog_wrap(text, w - 4, &n);
	switch (d->kind) {
	case DIALOG_CHOICE:
		shown = d->nitems < (size_t)(LINES - 10) ? d->nitems :
		    (size_t)(LINES - 10);
		h = n + (int)shown + 5;
		break;
	case DIALOG_PROGRESS:
	case DIALOG_INPUT:
		h = n + 6;
		shown = 0;
		break;
	default:
		h = n + 4;
		shown = 0;
		break;
	}
	dialog_box(t, w, h, d->title, &y, &x);
	for (i = 0; i < n; i++)
		tui_print(y + 1 + i, x + 2, lines[i], w - 4,
		    tui_attr(t, TC_DIALOG));
	switch (d->kind) {
	case DIALOG_CONFIRM:
		snprintf(item, sizeof item, "Entrée : %s   Échap : annuler",
		    d->yes);
		tui_print(y + h - 2, x + 2, item, w - 4, tui_attr(t,
		    TC_DIALOG) | A_BOLD);
		break;
	case DIALOG_MESSAGE:
		tui_print(y + h - 2, x + 2, "Entrée : fermer", w - 4,
		    tui_attr(t, TC_DIALOG) | A_BOLD);
		break;
	case DIALOG_INPUT:
		snprintf(item, sizeof item, "%s_", d->line);
		tui_print(y + 2 + n, x + 3, item, w - 6, A_REVERSE);
		tui_print(y + h - 2, x + 2, "Entrée : valider   Échap : "
		    "annuler", w - 4, tui_attr(t, TC_DIALOG) | A_BOLD);
		break;
	case DIALOG_CHOICE:
		if (d->cursor < d->top)
			d->top = d->cursor;
		if (d->cursor >= d->top + shown)
			d->top = d->cursor - shown + 1;
		for (k = 0; k < shown && d->top + k < d->nitems; k++) {
			size_t j = d->top + k;

			snprintf(item, sizeof item, "%s%s", d->multi ?
			    (d->ticked[j] ? "[x] " : "[ ] ") : "",
			    d->items[j]);
			tui_print(y + 2 + n + (int)k, x + 3, item, w - 6,
			    j == d->cursor ? tui_attr(t, TC_SELECTED) :
			    tui_attr(t, TC_DIALOG));
		}
		tui_print(y + h - 2, x + 2, d->multi ? "Espace : cocher   a : "
		    "tout   Entrée : valider   Échap : annuler" : "Entrée : "
		    "choisir   Échap : annuler", w - 4, tui_attr(t,
		    TC_DIALOG) | A_BOLD);
		break;
	case DIALOG_PROGRESS:
		filled = d->progress.fraction < 0 ? -1 :
		    (int)(d->progress.fraction * (w - 6));
		for (i = 0; i < w - 6 && i < (int)sizeof bar / 3 - 1; i++)
			bar[i] = ' ';
		bar[w - 6 < (int)sizeof bar / 3 - 1 ? w - 6 :
		    (int)sizeof bar / 3 - 1] = '\0';
		tui_print(y + 2 + n, x + 3, bar, w - 6, A_REVERSE);
		if (filled < 0) {
			/* Waiting for the server: a moving block. */
			i = d->progress.spin++ % (w - 10 > 1 ? w - 10 : 1);
			tui_print(y + 2 + n, x + 3 + i, "    ", 4,
			    tui_attr(t, TC_SELECTED));
		} else if (filled > 0)
			tui_print(y + 2 + n, x + 3, "", filled,
			    tui_attr(t, TC_SELECTED));
		tui_print(y + h - 2, x + 2, d->progress.text, w - 4,
		    tui_attr(t, TC_DIALOG));
		break;
	}
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* Close the dialog (it is the top overlay) after its callback ran. */
static void
dialog_close(struct tui *t)
{
	tui_pop(t);
}

/* Typing into an input dialog; Enter gives the text. */
static int
dialog_input_key(struct tui *t, struct dialog *d, wint_t ch, int keycode)
{
	dialog_input_fn	 fn = d->input_fn;
	void		*arg = d->arg;
	char		*text;

	if ((!keycode && (ch == '\r' || ch == '\n')) ||
	    (keycode && ch == KEY_ENTER)) {
		/* The dialog goes before the callback, which may open
		 * another; the text outlives it. */
		text = xstrdup(d->line);
		dialog_close(t);
		fn(t, text, arg);
		free(text);
	} else if ((keycode && ch == KEY_BACKSPACE) ||
	    (!keycode && (ch == 127 || ch == 8)))
		utf8_pop(d->line);
	else if (!keycode)
		utf8_push(d->line, sizeof d->line, ch);
	return 1;
}

static int
dialog_key(struct screen *s, struct tui *t, wint_t ch, int keycode)
{
	struct dialog	*d = s->data;

	if (keycode && ch == KEY_RESIZE)
		return 1;
	if (d->kind == DIALOG_PROGRESS)
		return 1;	/* it closes when the work ends */
	if (!keycode && ch == 27) {
		/* Escape: the callbacks learn the answer was no. */
		if (d->kind == DIALOG_CONFIRM && d->confirm_fn != NULL) {
			dialog_confirm_fn fn = d->confirm_fn;
			void *arg = d->arg;

			dialog_close(t);
			fn(t, 0, arg);
		} else if (d->kind == DIALOG_INPUT) {
			dialog_input_fn fn = d->input_fn;
			void *arg = d->arg;

			dialog_close(t);
			fn(t, NULL, arg);
		} else if (d->kind == DIALOG_CHOICE) {
			dialog_choice_fn fn = d->choice_fn;
			void *arg = d->arg;

			dialog_close(t);
			fn(t, -1, NULL, arg);
		} else
			dialog_close(t);
		return 1;
	}
	switch (d->kind) {
	case DIALOG_MESSAGE:
		if (!keycode && (ch == '\r' || ch == '\n' || ch == ' '))
			dialog_close(t);
		else if (keycode && ch == KEY_ENTER)
			dialog_close(t);
		return 1;
	case DIALOG_CONFIRM:
		if ((!keycode && (ch == '\r' || ch == '\n' || ch == 'o' ||
		    ch == 'O')) || (keycode && ch == KEY_ENTER)) {
			dialog_confirm_fn fn = d->confirm_fn;
			void *arg = d->arg;

			dialog_close(t);
			fn(t, 1, arg);
		} else if (!keycode && (ch == 'n' || ch == 'N')) {
			dialog_confirm_fn fn = d->confirm_fn;
			void *arg = d->arg;

			dialog_close(t);
			fn(t, 0, arg);
		}
		return 1;
	case DIALOG_CHOICE:
		if (keycode && ch == KEY_UP && d->cursor > 0)
			d->cursor--;
		else if (keycode && ch == KEY_DOWN && d->cursor + 1 <
		    d->nitems)
			d->cursor++;
		else if (keycode && ch == KEY_HOME)
			d->cursor = 0;
		else if (keycode && ch == KEY_END && d->nitems > 0)
			d->cursor = d->nitems - 1;
		else if (!keycode && ch == ' ' && d->multi)
			d->ticked[d->cursor] ^= 1;
		else if (!keycode && (ch == 'a' || ch == 'A') && d->multi) {
			size_t	i;
			int	all = 1;

			for (i = 0; i < d->nitems; i++)
				all &= d->ticked[i];
			for (i = 0; i < d->nitems; i++)
				d->ticked[i] = !all;
		} else if ((!keycode && (ch == '\r' || ch == '\n')) ||
		    (keycode && ch == KEY_ENTER)) {
			dialog_choice_fn fn = d->choice_fn;
			void *arg = d->arg;
			unsigned char *ticked = d->ticked;
			int index = (int)d->cursor;

			/* The ticks outlive the dialog for the callback. */
			d->ticked = NULL;
			dialog_close(t);
			fn(t, index, ticked, arg);
			free(ticked);
		}
		return 1;
	case DIALOG_INPUT:
		return dialog_input_key(t, d, ch, keycode);
	default:
		return 1;
	}
}

static void
dialog_free(struct screen *s)
{
	struct dialog	*d = s->data;
	size_t		 i;

	for (i = 0; i < d->nitems; i++)
		free(d->items[i]);
	free(d->items);
	free(d->ticked);
	free(d->title);
	free(d->text);
	free(d->yes);
	free(d);
}

static struct dialog *
dialog_open(struct tui *t, enum dialog_kind kind, const char *title,
    const char *text)
{
	struct screen	*s = xcalloc(1, sizeof *s);
	struct dialog	*d = xcalloc(1, sizeof *d);

	d->kind = kind;
	d->title = xstrdup(title);
	d->text = text != NULL ? xstrdup(text) : NULL;
	s->name = "dialog";
	s->draw = dialog_draw;
	s->key = dialog_key;
	s->free = dialog_free;
	s->data = d;
	tui_push(t, s);
	return d;
}

void
dialog_confirm(struct tui *t, const char *title, const char *text,
    const char *yes, dialog_confirm_fn fn, void *arg)
{
	struct dialog	*d = dialog_open(t, DIALOG_CONFIRM, title, text);

	d->yes = xstrdup(yes);
	d->confirm_fn = fn;
	d->arg = arg;
}

void
dialog_input(struct tui *t, const char *title, const char *text,
    const char *initial, dialog_input_fn fn, void *arg)
{
	struct dialog	*d = dialog_open(t, DIALOG_INPUT, title, text);

	snprintf(d->line, sizeof d->line, "%s", initial != NULL ? initial :
	    "");
	d->input_fn = fn;
	d->arg = arg;
}

void
dialog_message(struct tui *t, const char *title, const char *text)
{
	dialog_open(t, DIALOG_MESSAGE, title, text);
}

void
dialog_choice(struct tui *t, const char *title, const char *const *items,
    size_t n, int multi, const unsigned char *ticked, int current,
    dialog_choice_fn fn, void *arg)
{
	struct dialog	*d = dialog_open(t, DIALOG_CHOICE, title, NULL);
	size_t		 i;

	d->items = xcalloc(n > 0 ? n : 1, sizeof *d->items);
	for (i = 0; i < n; i++)
		d->items[i] = xstrdup(items[i]);
	d->nitems = n;
	d->multi = multi;
	d->ticked = xcalloc(n > 0 ? n : 1, 1);
	if (ticked != NULL)
		memcpy(d->ticked, ticked, n);
	d->cursor = current >= 0 && (size_t)current < n ? (size_t)current : 0;
	d->choice_fn = fn;
	d->arg = arg;
}

struct progress *
dialog_progress(struct tui *t, const char *title)
{
	struct dialog	*d = dialog_open(t, DIALOG_PROGRESS, title, NULL);

	d->progress.fraction = -1;
	snprintf(d->progress.text, sizeof d->progress.text,
	    "Le serveur prépare le document…");
	t->progress = &d->progress;
	return &d->progress;
}

void
dialog_progress_set(struct progress *p, double fraction, const char *text)
{
	p->fraction = fraction;
	if (text != NULL)
		snprintf(p->text, sizeof p->text, "%s", text);
}

void
dialog_progress_done(struct tui *t, struct progress *p)
{
	struct dialog	*d;
	int		 i;

	if (t->progress == p)
		t->progress = NULL;
	/* Close that overlay wherever it is in the stack. */
	for (i = t->noverlays - 1; i >= 0; i--) {
		d = t->overlays[i]->data;
		if (t->overlays[i]->draw == dialog_draw &&
		    &d->progress == p) {
			while (t->noverlays > i + 1)
				tui_pop(t);
			tui_pop(t);
			return;
		}
	}
}
