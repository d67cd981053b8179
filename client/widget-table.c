/* The table widget: layout by display width, cursor and scrolling. */
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "tui.h"
#include "utf8.h"
#include "widget-table.h"
#include "xmalloc.h"

void
widget_table_init(struct widget_table *w, const struct table_column *columns,
    int ncolumns)
{
	memset(w, 0, sizeof *w);
	w->columns = columns;
	w->ncolumns = ncolumns;
	w->content = xcalloc((size_t)ncolumns, sizeof *w->content);
	w->rows = json_array();
}

void
widget_table_free(struct widget_table *w)
{
	json_decref(w->rows);
	free(w->content);
}

void
widget_table_set_rows(struct widget_table *w, json_t *rows)
{
	char	 tmp[256];
	size_t	 i, n;
	json_t	*row;
	int	 c, cw;

	json_incref(rows);
	json_decref(w->rows);
	w->rows = rows;
	for (c = 0; c < w->ncolumns; c++)
		w->content[c] = utf8_width(w->columns[c].title);
	json_array_foreach(rows, i, row) {
		for (c = 0; c < w->ncolumns; c++) {
			cw = utf8_width(w->columns[c].text(row, tmp,
			    sizeof tmp));
			if (cw > w->content[c])
				w->content[c] = cw;
		}
	}
	n = json_array_size(rows);
	if (w->cursor >= n)
		w->cursor = n > 0 ? n - 1 : 0;
	if (w->top > w->cursor)
		w->top = w->cursor;
}

json_t *
widget_table_current(struct widget_table *w)
{
	return json_array_get(w->rows, w->cursor);
}

/* Column widths for the space: content-sized within bounds, the widest
 * shrunk first when the screen is too narrow. */
static void
widget_table_layout(struct widget_table *w, int width, int *out)
{
	int	c, total, widest;

	for (c = 0; c < w->ncolumns; c++) {
		out[c] = w->content[c];
		if (out[c] < w->columns[c].min)
			out[c] = w->columns[c].min;
		if (out[c] > w->columns[c].max)
			out[c] = w->columns[c].max;
	}
	for (;;) {
		total = 0;
		widest = 0;
		for (c = 0; c < w->ncolumns; c++) {
			total += out[c] + (c > 0 ? 1 : 0);
			if (out[c] - w->columns[c].min >
			    out[widest] - w->columns[widest].min)
				widest = c;
		}
		if (total <= width || out[widest] <= w->columns[widest].min)
			break;
		out[widest]--;
	}
}

void
widget_table_draw(struct widget_table *w, struct tui *t, int y, int x,
    int height, int width)
{
	int	*cw = xcalloc((size_t)w->ncolumns, sizeof *cw);
	char	 tmp[256];
	size_t	 n = json_array_size(w->rows), i;
	json_t	*row;
	int	 c, cx, attr, line;

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

	/* Header. */
	attr = tui_attr(t, TC_HEADER);
	tui_print(y, x, "", width, attr);
	for (c = 0, cx = x; c < w->ncolumns && cx < x + width; c++) {
		tui_print(y, cx, w->columns[c].title, cw[c] < x + width - cx ?
		    cw[c] : x + width - cx, attr);
		cx += cw[c] + 1;
	}
	for (line = 0, i = w->top; line < w->page && i < n; line++, i++) {
		row = json_array_get(w->rows, i);
		if (i == w->cursor)
			tui_print(y + 1 + line, x, "", width,
			    tui_attr(t, TC_SELECTED));
		for (c = 0, cx = x; c < w->ncolumns && cx < x + width; c++) {
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
	size_t	n = json_array_size(w->rows);
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
