/*
 * A table of JSON rows: columns sized by the display width of their
 * content, an optional checkbox column whose header ticks every visible
 * row, a text filter (accents and case ignored), sorting by any column,
 * a cursor and scrolling. Only the visible lines are drawn, so a school of
 * 2,000 rows scrolls and filters as fast as a class.
 *
 * Names come first: when the screen is too narrow to show the TABLE_NAME
 * and TABLE_GROUP columns whole on one line, a table with TABLE_GROUP
 * columns (its leading ones, the pupil and the class) shows them once, on
 * a heading line above the rows that share them, and the other columns on
 * the rows beneath: one line per pupil, its guardians under it.
 */
#ifndef WIDGET_TABLE_H
#define WIDGET_TABLE_H

#include <stddef.h>
#include <wchar.h>

#include <curses.h>
#include <jansson.h>

struct tui;

#define TABLE_NAME	0x1	/* a person's name: the surname is cut
				   first, and a cut one calls for groups */
#define TABLE_GROUP	0x2	/* shown on the heading line of groups */

struct table_column {
	const char	*title;
	int		 min;		/* narrowest, in cells */
	int		 max;		/* widest, in cells */
	int		 keep;		/* on a narrow screen, the columns
					   with the lowest keep shrink first */
	/* The text of the cell (tmp may hold a built string). */
	const char	*(*text)(json_t *row, char *tmp, size_t size);
	/* A shorter text, shown when the text does not fit the column;
	 * NULL: the text is cut. */
	const char	*(*brief)(json_t *row, char *tmp, size_t size);
	int		 flags;
};

struct widget_table {
	const struct table_column	*columns;
	int				 ncolumns;
	int				 checkboxes;
	json_t				*rows;
	size_t				 nrows;
	char				**haystack;	/* folded row text */
	unsigned char			*checked;	/* by row */
	size_t				*view;		/* rows shown, in order */
	size_t				 nview;
	int				*content;	/* widest cell */
	int				 ngroup;	/* TABLE_GROUP columns */
	/* The identity of a row's group (for the pupil, its id); rows
	 * next to each other with the same key share a heading. */
	const char			*(*group)(json_t *row);
	int				 grouped;	/* last draw had groups */
	long				*lines;		/* last draw: the view
							   index of each line,
							   -1 for a heading */
	int				 nlines;
	size_t				 cursor;	/* in the view */
	size_t				 top;
	int				 page;
	int				 sort;		/* column, -1: as given */
	int				 desc;
	char				*query;		/* folded filter */
	int				 y;		/* last drawn at */
	int				(*attr)(struct tui *, json_t *row,
					    int column);
};

void	 widget_table_init(struct widget_table *, const struct table_column *,
	    int ncolumns, int checkboxes);
void	 widget_table_free(struct widget_table *);
/* Show these rows (a reference is taken); ticks are cleared. */
void	 widget_table_set_rows(struct widget_table *, json_t *rows);
/* Keep rows whose text holds this (accents and case ignored). */
void	 widget_table_filter(struct widget_table *, const char *);
/* Sort by a column (-1: the order given), descending or not. */
void	 widget_table_sort(struct widget_table *, int column, int desc);
json_t	*widget_table_current(struct widget_table *);
void	 widget_table_toggle(struct widget_table *);
/* Tick every visible row, or untick them all if all were ticked. */
void	 widget_table_toggle_all(struct widget_table *);
size_t	 widget_table_checked(struct widget_table *);
/* The ticked rows, in view order (a new array of references). */
json_t	*widget_table_checked_rows(struct widget_table *);
void	 widget_table_draw(struct widget_table *, struct tui *, int y, int x,
	    int height, int width);
/* Moving keys (arrows, pages, home, end); 1 if used. */
int	 widget_table_key(struct widget_table *, wint_t, int keycode);
/* A click; 1 if it was on the table. */
int	 widget_table_mouse(struct widget_table *, const MEVENT *);
/* Lowercase ASCII without accents, for filtering and sorting. */
void	 widget_fold(const char *, char *out, size_t size);

#endif
