/* Plain text tables for ecadmctl: columns sized by display width. */
#ifndef TABLE_H
#define TABLE_H

#include <stdio.h>

struct table;

struct table	*table_new(int ncolumns, const char *const *headers);
/* Mark a column right-aligned (numbers). */
void		 table_align_right(struct table *, int column);
/* Add a row of ncolumns strings (NULL prints as empty). */
void		 table_add(struct table *, const char *const *cells);
/* Print, fitting max_width cells (0: no limit) by narrowing the widest
 * columns first. */
void		 table_print(struct table *, FILE *, int max_width);
void		 table_free(struct table *);

#endif
