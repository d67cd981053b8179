/* Text tables: each column as wide as its widest cell, shrunk to fit the
 * terminal by taking from the widest columns first. */
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "utf8.h"
#include "xmalloc.h"

struct table {
	int	  ncolumns;
	char	**headers;
	int	 *right;
	char	***rows;
	size_t	  nrows;
	size_t	  size;
};

struct table *
table_new(int ncolumns, const char *const *headers)
{
	struct table	*t = xcalloc(1, sizeof *t);
	int		 i;

	t->ncolumns = ncolumns;
	t->headers = xcalloc((size_t)ncolumns, sizeof *t->headers);
	t->right = xcalloc((size_t)ncolumns, sizeof *t->right);
	for (i = 0; i < ncolumns; i++)
		t->headers[i] = xstrdup(headers[i]);
	return t;
}

void
table_align_right(struct table *t, int column)
{
	t->right[column] = 1;
}

void
table_add(struct table *t, const char *const *cells)
{
	char	**row;
	int	  i;

	if (t->nrows == t->size) {
		t->size = t->size == 0 ? 64 : t->size * 2;
		t->rows = xreallocarray(t->rows, t->size, sizeof *t->rows);
	}
	row = xcalloc((size_t)t->ncolumns, sizeof *row);
	for (i = 0; i < t->ncolumns; i++)
		row[i] = xstrdup(cells[i] != NULL ? cells[i] : "");
	t->rows[t->nrows++] = row;
}

void
table_print(struct table *t, FILE *f, int max_width)
{
	int	*w = xcalloc((size_t)t->ncolumns, sizeof *w);
	int	 i, total, widest;
	size_t	 r;
	char	*cell;

	for (i = 0; i < t->ncolumns; i++)
		w[i] = utf8_width(t->headers[i]);
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncolumns; i++) {
			int cw = utf8_width(t->rows[r][i]);
			if (cw > w[i])
				w[i] = cw;
		}
	}
	for (;;) {
		total = 0;
		widest = 0;
		for (i = 0; i < t->ncolumns; i++) {
			total += w[i] + (i > 0 ? 2 : 0);
			if (w[i] > w[widest])
				widest = i;
		}
		if (max_width <= 0 || total <= max_width || w[widest] <= 6)
			break;
		w[widest]--;
	}
	for (i = 0; i < t->ncolumns; i++) {
		cell = utf8_fit(t->headers[i], w[i], t->right[i]);
		fprintf(f, "%s%s", i > 0 ? "  " : "", cell);
		free(cell);
	}
	fputc('\n', f);
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncolumns; i++) {
			/* No padding after the last column. */
			if (i == t->ncolumns - 1 && !t->right[i] &&
			    utf8_width(t->rows[r][i]) <= w[i])
				cell = utf8_fit(t->rows[r][i],
				    utf8_width(t->rows[r][i]), 0);
			else
				cell = utf8_fit(t->rows[r][i], w[i],
				    t->right[i]);
			fprintf(f, "%s%s", i > 0 ? "  " : "", cell);
			free(cell);
		}
		fputc('\n', f);
	}
	free(w);
}

void
table_free(struct table *t)
{
	size_t	r;
	int	i;

	if (t == NULL)
		return;
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncolumns; i++)
			free(t->rows[r][i]);
		free(t->rows[r]);
	}
	for (i = 0; i < t->ncolumns; i++)
		free(t->headers[i]);
	free(t->headers);
	free(t->right);
	free(t->rows);
	free(t);
}
