/*
 * A table of JSON rows on the screen: columns sized by the display width of
 * their content, a cursor, scrolling. The rows are the caller's array; the
 * widget keeps a reference and its own view state.
 */
#ifndef WIDGET_TABLE_H
#define WIDGET_TABLE_H

#include <stddef.h>
#include <wchar.h>

#include <jansson.h>

struct tui;

struct table_column {
	const char	*title;
	int		 min;		/* narrowest, in cells */
	int		 max;		/* widest, in cells */
	/* The text of the cell (may use tmp for a built string). */
	const char	*(*text)(json_t *row, char *tmp, size_t size);
};

struct widget_table {
	const struct table_column	*columns;
	int				 ncolumns;
	json_t				*rows;
	int				*content;	/* widest cell */
	size_t				 cursor;
	size_t				 top;
	int				 page;		/* rows shown */
	/* The attribute of a row's cell (colours by state...). */
	int				(*attr)(struct tui *, json_t *row,
					    int column);
};

void	widget_table_init(struct widget_table *,
	    const struct table_column *, int ncolumns);
void	widget_table_free(struct widget_table *);
/* Show these rows (a reference is taken); the cursor stays in range. */
void	widget_table_set_rows(struct widget_table *, json_t *rows);
/* The row under the cursor, or NULL. */
json_t	*widget_table_current(struct widget_table *);
void	widget_table_draw(struct widget_table *, struct tui *, int y, int x,
	    int height, int width);
/* Moving keys (arrows, pages, home, end); 1 if used. */
int	widget_table_key(struct widget_table *, wint_t, int keycode);

#endif
