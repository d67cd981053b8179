/* The table widget: view (filter, sort), ticks, layout, drawing. */
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "utf8.h"
#include "widget-table.h"
#include "xmalloc.h"

#define CHECK_W		3	/* "[x]" */
#define GROUP_INDENT	2	/* rows under their group's heading, when
				   no checkbox sets them apart already */
#define OPTIONAL_MIN	6	/* narrower, a column that may go does */

void
widget_table_init(struct widget_table *w, const struct table_column *columns,
    int ncolumns, int checkboxes)
{
	memset(w, 0, sizeof *w);
	w->columns = columns;
	w->ncolumns = ncolumns;
	w->checkboxes = checkboxes;
	w->content = xcalloc((size_t)ncolumns, sizeof *w->content);
	while (w->ngroup < ncolumns &&
	    (columns[w->ngroup].flags & TABLE_GROUP))
		w->ngroup++;
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
	free(w->lines);
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
		w->content[c] = 0;
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

/* Cells of the columns from first on, with the spaces between them. */
static int
widget_table_total(struct widget_table *w, int first, const int *out)
{
	int	c, total = 0;

	for (c = first; c < w->ncolumns; c++)
		total += out[c] + (c > first && out[c] > 0 ? 1 : 0);
	return total;
}

/* The widest text of a column within its bounds. */
static int
widget_table_need(struct widget_table *w, int c)
{
	int	need = w->content[c];

	if (need < w->columns[c].min)
		need = w->columns[c].min;
	if (need > w->columns[c].max)
		need = w->columns[c].max;
	return need;
}

/*
 * Widths of the columns from first on, for the space: text-sized within
 * bounds, and room for the title. When the screen is too narrow, titles
 * wider than their texts give way first (the header joins such a title to
 * the one before), then a cell at a time is taken from the column that
 * matters least. The columns before first get 0.
 */
static void
widget_table_layout(struct widget_table *w, int first, int width, int *out)
{
	int	c, widest;

	for (c = 0; c < w->ncolumns; c++) {
		out[c] = c < first ? 0 : widget_table_need(w, c);
		if (c >= first && out[c] < utf8_width(w->columns[c].title))
			out[c] = utf8_width(w->columns[c].title);
	}
	for (c = w->ncolumns - 1; c > first; c--) {
		while (out[c] > widget_table_need(w, c) &&
		    widget_table_total(w, first, out) > width)
			out[c]--;
	}
	/* Take a cell at a time from the column that matters least and can
	 * still give (the widest among equals). */
	for (;;) {
		widest = -1;
		for (c = first; c < w->ncolumns; c++) {
			if (out[c] <= w->columns[c].min)
				continue;
			if (widest < 0 || w->columns[c].keep <
			    w->columns[widest].keep ||
			    (w->columns[c].keep == w->columns[widest].keep &&
			    out[c] > out[widest]))
				widest = c;
		}
		if (widget_table_total(w, first, out) <= width || widest < 0)
			break;
		out[widest]--;
	}
	/* A column that may vanish reads as noise in a few cells. */
	for (c = first; c < w->ncolumns; c++) {
		if (w->columns[c].min == 0 && out[c] < OPTIONAL_MIN)
			out[c] = 0;
	}
}

/* Whether those widths cut a name, or what a group's heading would show
 * (the class), that the column could show whole: then groups read better. */
static int
widget_table_cuts_names(struct widget_table *w, const int *cw)
{
	int	c;

	for (c = 0; c < w->ncolumns; c++) {
		if ((w->columns[c].flags & (TABLE_NAME | TABLE_GROUP)) &&
		    cw[c] < widget_table_need(w, c))
			return 1;
	}
	return 0;
}

/* One cell: the brief text when the full one does not fit, names cut at
 * their surname. */
static void
widget_table_cell(struct widget_table *w, json_t *row, int c, int y, int x,
    int width, int attr)
{
	const struct table_column	*col = &w->columns[c];
	char				 tmp[256];
	const char			*text;

	text = col->text(row, tmp, sizeof tmp);
	if (col->brief != NULL && utf8_width(text) > width)
		text = col->brief(row, tmp, sizeof tmp);
	if (col->flags & TABLE_NAME)
		tui_print_name(y, x, text, width, attr);
	else
		tui_print(y, x, text, width, attr);
}

/*
 * The row at view index i on line y of the table drawn at x, width cells
 * wide: the cursor's highlight, its checkbox, then its columns from first
 * on, at left (cw: their widths).
 */
static void
widget_table_row(struct widget_table *w, struct tui *t, size_t i, int first,
    int y, int x, int width, int left, const int *cw)
{
	json_t	*row = json_array_get(w->rows, w->view[i]);
	int	 c, cx, attr, selected = i == w->cursor;
	int	 right = x + width;

	if (selected)
		tui_print(y, x, "", width, tui_attr(t, TC_SELECTED));
	if (w->checkboxes)
		tui_print(y, x, w->checked[w->view[i]] ? "[x]" : "[ ]",
		    CHECK_W, selected ? tui_attr(t, TC_SELECTED) :
		    (int)A_NORMAL);
	for (c = first, cx = left; c < w->ncolumns && cx < right; c++) {
		if (cw[c] == 0)
			continue;	/* a column the screen had no room for */
		attr = selected ? tui_attr(t, TC_SELECTED) :
		    w->attr != NULL ? w->attr(t, row, c) : (int)A_NORMAL;
		widget_table_cell(w, row, c, y, cx, cw[c] < right - cx ?
		    cw[c] : right - cx, attr);
		cx += cw[c] + 1;
	}
}

/* The title of column c, with its sort mark; in groups, the first
 * one is preceded by the titles of the names on the headings and of the
 * group column rows are sorted by: "Élève / Responsable". */
static void
widget_table_title(struct widget_table *w, int c, int first, char *title,
    size_t size)
{
	size_t	n = 0;
	int	i;

	title[0] = '\0';
	for (i = 0; c == first && i < first; i++) {
		if (!(w->columns[i].flags & TABLE_NAME) && w->sort != i)
			continue;
		n += (size_t)snprintf(title + n, size - n, "%s%s%s",
		    n > 0 ? " · " : "", w->columns[i].title, w->sort == i ?
		    (w->desc ? " ▼" : " ▲") : "");
	}
	if (n > 0)
		n += (size_t)snprintf(title + n, size - n, " / ");
	snprintf(title + n, size - n, "%s%s", w->columns[c].title,
	    w->sort == c ? (w->desc ? " ▼" : " ▲") : "");
}

/*
 * The header line: the tick-all box and the titles. A title wider than
 * its column joins the one before, over both: "Identifiant / Mot de
 * passe" above a login and a password of ten cells.
 */
static void
widget_table_header(struct widget_table *w, struct tui *t, int y, int x,
    int width, int left, int first, int indent, const int *cw)
{
	char	 title[256], held[512] = "";
	size_t	 i, nchecked = 0;
	int	 c, cx, attr = tui_attr(t, TC_HEADER), hx = 0, hw = 0;

	tui_print(y, x, "", width, attr);
	if (w->checkboxes) {
		for (i = 0; i < w->nview; i++)
			nchecked += w->checked[w->view[i]];
		tui_print(y, x, nchecked == 0 || w->nview == 0 ? "[ ]" :
		    nchecked == w->nview ? "[x]" : "[-]", CHECK_W, attr);
	}
	for (c = first, cx = left; c < w->ncolumns && cx < x + width; c++) {
		if (cw[c] == 0)
			continue;
		widget_table_title(w, c, first, title, sizeof title);
		if (held[0] != '\0' && utf8_width(title) > cw[c]) {
			/* Joined to the title held, over both columns. */
			snprintf(held + strlen(held), sizeof held -
			    strlen(held), " / %s", title);
			hw = cx + cw[c] - hx;
		} else {
			if (held[0] != '\0')
				tui_print(y, hx, held, hw, attr);
			snprintf(held, sizeof held, "%s", title);
			hx = cx - (c == first ? indent : 0);
			hw = cw[c] + (c == first ? indent : 0);
		}
		cx += cw[c] + 1;
	}
	if (held[0] != '\0')
		tui_print(y, hx, held, hw < x + width - hx ? hw : x + width - hx,
		    attr);
}

/* Whether the row at view index i starts a group. */
static int
widget_table_starts_group(struct widget_table *w, size_t i)
{
	const char	*a, *b;

	if (i == 0)
		return 1;
	a = w->group(json_array_get(w->rows, w->view[i - 1]));
	b = w->group(json_array_get(w->rows, w->view[i]));
	return a == NULL || b == NULL || strcmp(a, b) != 0;
}

/* Screen lines from the row at top to the one at last, headings
 * included (the top row always has one). */
static int
widget_table_span(struct widget_table *w, size_t top, size_t last)
{
	size_t	i;
	int	n = 0;

	for (i = top; i <= last; i++)
		n += 1 + (i == top || widget_table_starts_group(w, i));
	return n;
}

/* A group's heading: its columns at their widest (names whole up to
 * their maximum, the others whole), greyed only when every row of the
 * group is. */
static void
widget_table_heading(struct widget_table *w, struct tui *t, size_t i,
    int y, int left, int right)
{
	json_t	*row = json_array_get(w->rows, w->view[i]);
	size_t	 k;
	int	 c, cx, cw, attr = A_BOLD, grey = w->attr != NULL;

	for (k = i; grey && k < w->nview && (k == i ||
	    !widget_table_starts_group(w, k)); k++) {
		if (w->attr(t, json_array_get(w->rows, w->view[k]),
		    w->ngroup) != tui_attr(t, TC_INELIGIBLE))
			grey = 0;
	}
	if (grey)
		attr = tui_attr(t, TC_INELIGIBLE);
	for (c = 0, cx = left; c < w->ngroup && cx < right; c++) {
		cw = (w->columns[c].flags & TABLE_NAME) ?
		    widget_table_need(w, c) : w->content[c];
		widget_table_cell(w, row, c, y, cx, cw < right - cx ? cw :
		    right - cx, attr);
		cx += cw + 2;
	}
}

/* Rows under the headings of their groups. */
static void
widget_table_draw_groups(struct widget_table *w, struct tui *t, int y,
    int x, int height, int width, const int *cw)
{
	size_t	i;
	int	line, left = x + (w->checkboxes ? CHECK_W + 1 : 0), rows = 0;
	int	indent = w->checkboxes ? 0 : GROUP_INDENT;

	height--;			/* the header */
	if (w->cursor < w->top)
		w->top = w->cursor;
	if (w->cursor - w->top >= (size_t)height)
		w->top = w->cursor - (size_t)height + 1;
	while (w->top < w->cursor &&
	    widget_table_span(w, w->top, w->cursor) > height)
		w->top++;
	widget_table_header(w, t, y, x, width, left + indent, w->ngroup,
	    indent, cw);
	for (line = 0, i = w->top; line < height && i < w->nview; i++) {
		if (i == w->top || widget_table_starts_group(w, i)) {
			if (line + 1 >= height)
				break;
			w->lines[line] = -(long)i - 1;
			widget_table_heading(w, t, i, y + 1 + line++, x,
			    x + width);
		}
		w->lines[line] = (long)i;
		widget_table_row(w, t, i, w->ngroup, y + 1 + line++, x, width,
		    left + indent, cw);
		rows++;
	}
	w->nlines = line;
	w->page = rows > 0 ? rows : 1;
}

/* One line a row, every column on it. */
static void
widget_table_draw_flat(struct widget_table *w, struct tui *t, int y, int x,
    int height, int width, const int *cw)
{
	size_t	i;
	int	line, left = x + (w->checkboxes ? CHECK_W + 1 : 0);

	w->page = height - 1;
	if (w->cursor < w->top)
		w->top = w->cursor;
	if (w->cursor >= w->top + (size_t)w->page)
		w->top = w->cursor - (size_t)w->page + 1;
	widget_table_header(w, t, y, x, width, left, 0, 0, cw);
	for (line = 0, i = w->top; line < w->page && i < w->nview;
	    line++, i++) {
		w->lines[line] = (long)i;
		widget_table_row(w, t, i, 0, y + 1 + line, x, width, left, cw);
	}
	w->nlines = line;
}

void
widget_table_draw(struct widget_table *w, struct tui *t, int y, int x,
    int height, int width)
{
	int	*cw = xcalloc((size_t)w->ncolumns, sizeof *cw);
	int	 room = width - (w->checkboxes ? CHECK_W + 1 : 0);

	w->y = y;
	if (height < 2) {
		free(cw);
		return;
	}
	free(w->lines);
	w->lines = xcalloc((size_t)height, sizeof *w->lines);
	w->nlines = 0;
	widget_table_layout(w, 0, room, cw);
	w->grouped = w->group != NULL && w->ngroup > 0 &&
	    widget_table_cuts_names(w, cw);
	if (w->grouped) {
		widget_table_layout(w, w->ngroup, room - (w->checkboxes ? 0 :
		    GROUP_INDENT), cw);
		widget_table_draw_groups(w, t, y, x, height, width, cw);
	} else
		widget_table_draw_flat(w, t, y, x, height, width, cw);
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
	long	i;

	if (ev->y == w->y) {
		if (w->checkboxes && ev->x < CHECK_W)
			widget_table_toggle_all(w);
		return 1;
	}
	if (ev->y <= w->y || ev->y > w->y + (w->grouped ? w->nlines :
	    w->page))
		return 0;
	if (ev->y - w->y - 1 >= w->nlines)
		return 1;
	/* A heading selects the first row of its group. */
	if ((i = w->lines[ev->y - w->y - 1]) < 0) {
		w->cursor = (size_t)(-i - 1);
		return 1;
	}
	w->cursor = (size_t)i;
	if (w->checkboxes && ev->x < CHECK_W)
		widget_table_toggle(w);
	return 1;
}