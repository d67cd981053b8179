/* The table widget: view (filter, sort), ticks, layout, drawing. */
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "utf8.h"
#include "widget-table.h"
#include "xmalloc.h"

#define CHECK_W	3	/* "[x]" */

void
widget_table_init(struct widget_table *w, const struct table_column *columns,
    int ncolumns, int checkboxes)
{
	memset(w, 0, sizeof *w);
	w->columns = columns;
	w->ncolumns = ncolumns;
	w->checkboxes = checkboxes;
	w->content = xcalloc((size_t)ncolumns, sizeof *w->content);
	w->rows = json_array();
	w->sort = -1;
}

static void
widget_table_clear(struct widget_table *w)
{
	size_t	i;

	for (i = 0; i < w->nrows; i++)
		free(w->haystack[i]);
	free(w->haystack);
	free(w->checked);
	free(w->view);
	w->haystack = NULL;
	w->checked = NULL;
	w->view = NULL;
	w->nrows = w->nview = 0;
}

void
widget_table_free(struct widget_table *w)
{
	widget_table_clear(w);
	json_decref(w->rows);
	free(w->content);
	free(w->query);
}

void
widget_fold(const char *s, char *out, size_t size)
{
	/* Latin letters with accents, and the ligatures, as ASCII. */
	static const struct {
		const char	*from;
		const char	*to;
	} folds[] = {
		{ "à", "a" }, { "â", "a" }, { "ä", "a" }, { "á", "a" },
		{ "ã", "a" }, { "å", "a" }, { "À", "a" }, { "Â", "a" },
		{ "Ä", "a" }, { "Á", "a" }, { "ç", "c" }, { "Ç", "c" },
		{ "é", "e" }, { "è", "e" }, { "ê", "e" }, { "ë", "e" },
		{ "É", "e" }, { "È", "e" }, { "Ê", "e" }, { "Ë", "e" },
		{ "î", "i" }, { "ï", "i" }, { "í", "i" }, { "Î", "i" },
		{ "Ï", "i" }, { "ô", "o" }, { "ö", "o" }, { "ó", "o" },
		{ "õ", "o" }, { "Ô", "o" }, { "Ö", "o" }, { "ù", "u" },
		{ "û", "u" }, { "ü", "u" }, { "ú", "u" }, { "Ù", "u" },
		{ "Û", "u" }, { "Ü", "u" }, { "ÿ", "y" }, { "ñ", "n" },
		{ "Ñ", "n" }, { "œ", "oe" }, { "Œ", "oe" }, { "æ", "ae" },
		{ "Æ", "ae" }, { "ß", "ss" }, { "ẞ", "ss" }, { "ễ", "e" },
		{ "ả", "a" }, { "ạ", "a" }, { "ă", "a" }, { "đ", "d" },
		{ "Đ", "d" }, { "ư", "u" }, { "ơ", "o" }, { "ầ", "a" },
		{ "ấ", "a" }, { "ồ", "o" }, { "ố", "o" }, { "ế", "e" },
		{ "ề", "e" }, { "ệ", "e" }, { "ộ", "o" }, { "ư", "u" },
	};
	size_t	n = 0, i, len;

	while (*s != '\0' && n + 3 < size) {
		if ((unsigned char)*s < 0x80) {
			out[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
			s++;
			continue;
		}
		for (i = 0; i < sizeof folds / sizeof folds[0]; i++) {
			len = strlen(folds[i].from);
			if (strncmp(s, folds[i].from, len) == 0)
				break;
		}
		if (i < sizeof folds / sizeof folds[0]) {
			for (len = 0; folds[i].to[len] != '\0'; len++)
				out[n++] = folds[i].to[len];
			s += strlen(folds[i].from);
		} else {
			/* Another character: kept as it is. */
			len = 1;
			while ((s[len] & 0xc0) == 0x80)
				len++;
			if (n + len + 1 >= size)
				break;
			memcpy(out + n, s, len);
			n += len;
			s += len;
		}
	}
	out[n] = '\0';
}

/* Rebuild the view: the filtered rows, sorted. */
static void
widget_table_reorder(struct widget_table *w);

void
widget_table_set_rows(struct widget_table *w, json_t *rows)
{
	char	 tmp[256], folded[1024];
	size_t	 i;
	json_t	*row;
	int	 c, cw;
	struct buf_line {
		char	data[4096];
		size_t	len;
	} hay;

	json_incref(rows);
	widget_table_clear(w);
	json_decref(w->rows);
	w->rows = rows;
	w->nrows = json_array_size(rows);
	w->haystack = xcalloc(w->nrows + 1, sizeof *w->haystack);
	w->checked = xcalloc(w->nrows + 1, 1);
	w->view = xcalloc(w->nrows + 1, sizeof *w->view);
	for (c = 0; c < w->ncolumns; c++)
		w->content[c] = utf8_width(w->columns[c].title);
	json_array_foreach(rows, i, row) {
		hay.len = 0;
		for (c = 0; c < w->ncolumns; c++) {
			const char *text = w->columns[c].text(row, tmp,
			    sizeof tmp);

			cw = utf8_width(text);
			if (cw > w->content[c])
				w->content[c] = cw;
			widget_fold(text, folded, sizeof folded);
			if (hay.len + strlen(folded) + 2 < sizeof hay.data) {
				memcpy(hay.data + hay.len, folded,
				    strlen(folded));
				hay.len += strlen(folded);
				hay.data[hay.len++] = '\x1f';
			}
		}
		hay.data[hay.len] = '\0';
		w->haystack[i] = xstrdup(hay.data);
	}
	w->cursor = w->top = 0;
	widget_table_reorder(w);
}

void
widget_table_filter(struct widget_table *w, const char *query)
{
	char	folded[512];

	free(w->query);
	w->query = NULL;
	if (query != NULL && *query != '\0') {
		widget_fold(query, folded, sizeof folded);
		w->query = xstrdup(folded);
	}
	w->cursor = w->top = 0;
	widget_table_reorder(w);
}

/* The sort keys of the current sort, for the comparator. */
static __thread char		**sort_keys;
static __thread int		  sort_desc;

static int
widget_table_cmp(const void *a, const void *b)
{
	size_t	x = *(const size_t *)a, y = *(const size_t *)b;
	int	c = strcmp(sort_keys[x], sort_keys[y]);

	if (c == 0)
		return x < y ? -1 : x > y;	/* stable */
	return sort_desc ? -c : c;
}

static void
widget_table_reorder(struct widget_table *w)
{
	char	 tmp[256], folded[512];
	size_t	 i;

	w->nview = 0;
	for (i = 0; i < w->nrows; i++) {
		if (w->query == NULL || strstr(w->haystack[i], w->query) !=
		    NULL)
			w->view[w->nview++] = i;
	}
	if (w->sort >= 0 && w->nview > 1) {
		sort_keys = xcalloc(w->nrows, sizeof *sort_keys);
		for (i = 0; i < w->nview; i++) {
			widget_fold(w->columns[w->sort].text(json_array_get(
			    w->rows, w->view[i]), tmp, sizeof tmp), folded,
			    sizeof folded);
			sort_keys[w->view[i]] = xstrdup(folded);
		}
		sort_desc = w->desc;
		qsort(w->view, w->nview, sizeof *w->view, widget_table_cmp);
		for (i = 0; i < w->nview; i++)
			free(sort_keys[w->view[i]]);
		free(sort_keys);
		sort_keys = NULL;
	}
	if (w->cursor >= w->nview)
		w->cursor = w->nview > 0 ? w->nview - 1 : 0;
}

void
widget_table_sort(struct widget_table *w, int column, int desc)
{
	w->sort = column;
	w->desc = desc;
	widget_table_reorder(w);
}

json_t *
widget_table_current(struct widget_table *w)
{
	if (w->nview == 0)
		return NULL;
	return json_array_get(w->rows, w->view[w->cursor]);
}

void
widget_table_toggle(struct widget_table *w)
{
	if (w->nview > 0)
		w->checked[w->view[w->cursor]] ^= 1;
}

void
widget_table_toggle_all(struct widget_table *w)
{
	size_t	i;
	int	all = 1;

	for (i = 0; i < w->nview; i++)
		all &= w->checked[w->view[i]];
	for (i = 0; i < w->nview; i++)
		w->checked[w->view[i]] = !all;
}

size_t
widget_table_checked(struct widget_table *w)
{
	size_t	i, n = 0;

	for (i = 0; i < w->nrows; i++)
		n += w->checked[i];
	return n;
}

json_t *
widget_table_checked_rows(struct widget_table *w)
{
	json_t	*list = json_array();
	size_t	 i;

	for (i = 0; i < w->nview; i++) {
		if (w->checked[w->view[i]])
			json_array_append(list, json_array_get(w->rows,
			    w->view[i]));
	}
	return list;
}

/* Column widths for the space: content-sized within bounds, the widest
 * shrunk first when the screen is too narrow. */
static void
widget_table_layout(struct widget_table *w, int width, int *out)
{
	int	c, total, widest;

	if (w->checkboxes)
		width -= CHECK_W + 1;
	for (c = 0; c < w->ncolumns; c++) {
		out[c] = w->content[c];
		if (out[c] < w->columns[c].min)
			out[c] = w->columns[c].min;
		if (out[c] > w->columns[c].max)
			out[c] = w->columns[c].max;
	}
	/* Take a cell at a time from the column that matters least and can
	 * still give (the widest among equals). */
	for (;;) {
		total = 0;
		widest = -1;
		for (c = 0; c < w->ncolumns; c++) {
			total += out[c] + (c > 0 && out[c] > 0 ? 1 : 0);
			if (out[c] <= w->columns[c].min)
				continue;
			if (widest < 0 || w->columns[c].keep <
			    w->columns[widest].keep ||
			    (w->columns[c].keep == w->columns[widest].keep &&
			    out[c] > out[widest]))
				widest = c;
		}
		if (total <= width || widest < 0)
			break;
		out[widest]--;
	}
}

void
widget_table_draw(struct widget_table *w, struct tui *t, int y, int x,
    int height, int width)
{
	int	*cw = xcalloc((size_t)w->ncolumns, sizeof *cw);
	char	 tmp[256], title[128];
	size_t	 i, nchecked = 0;
	json_t	*row;
	int	 c, cx, attr, line, left = x;

	w->y = y;
	if (height < 2) {
		free(cw);
		return;
	}
	widget_table_layout(w, width, cw);
	w->page = height - 1;
	if (w->cursor < w->top)
		w->top = w->cursor;
	if (w->cursor >= w->top + (size_t)w->page)
		w->top = w->cursor - (size_t)w->page + 1;

	/* Header, with the tick-all box and the sort mark. */
	attr = tui_attr(t, TC_HEADER);
	tui_print(y, x, "", width, attr);
	if (w->checkboxes) {
		for (i = 0; i < w->nview; i++)
			nchecked += w->checked[w->view[i]];
		tui_print(y, x, nchecked == 0 || w->nview == 0 ? "[ ]" :
		    nchecked == w->nview ? "[x]" : "[-]", CHECK_W, attr);
		left = x + CHECK_W + 1;
	}
	for (c = 0, cx = left; c < w->ncolumns && cx < x + width; c++) {
		if (cw[c] == 0)
			continue;	/* a column the screen had no room for */
		snprintf(title, sizeof title, "%s%s", w->columns[c].title,
		    w->sort == c ? (w->desc ? " ▼" : " ▲") : "");
		tui_print(y, cx, title, cw[c] < x + width - cx ? cw[c] :
		    x + width - cx, attr);
		cx += cw[c] + 1;
	}
	for (line = 0, i = w->top; line < w->page && i < w->nview;
	    line++, i++) {
		row = json_array_get(w->rows, w->view[i]);
		if (i == w->cursor)
			tui_print(y + 1 + line, x, "", width,
			    tui_attr(t, TC_SELECTED));
		if (w->checkboxes)
			tui_print(y + 1 + line, x, w->checked[w->view[i]] ?
			    "[x]" : "[ ]", CHECK_W, i == w->cursor ?
			    tui_attr(t, TC_SELECTED) : (int)A_NORMAL);
		for (c = 0, cx = left; c < w->ncolumns && cx < x + width; c++) {
			if (cw[c] == 0)
				continue;
			attr = i == w->cursor ? tui_attr(t, TC_SELECTED) :
			    w->attr != NULL ? w->attr(t, row, c) : (int)A_NORMAL;
			tui_print(y + 1 + line, cx, w->columns[c].text(row, tmp,
			    sizeof tmp), cw[c] < x + width - cx ? cw[c] :
			    x + width - cx, attr);
			cx += cw[c] + 1;
		}
	}
	free(cw);
}

int
widget_table_key(struct widget_table *w, wint_t ch, int keycode)
{
	size_t	n = w->nview;
	size_t	page = w->page > 0 ? (size_t)w->page : 1;

	if (n == 0 || !keycode)
		return 0;
	switch (ch) {
	case KEY_UP:
		if (w->cursor > 0)
			w->cursor--;
		return 1;
	case KEY_DOWN:
		if (w->cursor + 1 < n)
			w->cursor++;
		return 1;
	case KEY_PPAGE:
		w->cursor = w->cursor > page ? w->cursor - page : 0;
		return 1;
	case KEY_NPAGE:
		w->cursor = w->cursor + page < n ? w->cursor + page : n - 1;
		return 1;
	case KEY_HOME:
		w->cursor = 0;
		return 1;
	case KEY_END:
		w->cursor = n - 1;
		return 1;
	}
	return 0;
}

int
widget_table_mouse(struct widget_table *w, const MEVENT *ev)
{
	size_t	i;

	if (ev->y == w->y) {
		if (w->checkboxes && ev->x < CHECK_W)
			widget_table_toggle_all(w);
		return 1;
	}
	if (ev->y <= w->y || ev->y > w->y + w->page)
		return 0;
	i = w->top + (size_t)(ev->y - w->y - 1);
	if (i >= w->nview)
		return 1;
	w->cursor = i;
	if (w->checkboxes && ev->x < CHECK_W)
		widget_table_toggle(w);
	return 1;
}
