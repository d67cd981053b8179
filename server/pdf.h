/*
 * Documents rendered with libharu: A4, DejaVu fonts embedded so every name
 * prints (Œ, ß, ễ), text extractable, compressed. One struct pdf is one
 * document; a batch of letters is one document of many pages.
 */
#ifndef PDF_H
#define PDF_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct pdf;

/* A child named on a letter. */
struct letter_child {
	const char	*name;		/* "DUPONT Léa" */
	const char	*class_name;	/* NULL: not in a class */
};

/* One page: a notification sheet (with its password) or a reminder. */
struct letter {
	const char		*school_name;
	const char		*school_uai;
	const char		*town;
	const char		*civility;	/* "M.", "Mme" or NULL */
	const char		*guardian;	/* "ŒUVRARD Hélène" */
	const char		*login;
	const char		*password;	/* NULL: a reminder letter */
	const char		*expires;	/* "28/02/2027" */
	const struct letter_child *children;
	size_t			 nchildren;
	const char		*guichet_url;
	int			 activation_days;
	const char		*date;		/* "28 novembre 2026" */
};

/* One row of the list of guardians. */
struct list_row {
	const char	*pupil;
	const char	*class_name;
	const char	*guardian;
	const char	*login;
	const char	*password;	/* provisional, "******" or NULL */
	const char	*state;		/* the label */
};

struct list_doc {
	const char		*school_name;
	const char		*school_uai;
	const char		*selection;	/* "Classes CP, CE1" or NULL */
	const char		*date;		/* "28 novembre 2026" */
	const struct list_row	*rows;
	size_t			 nrows;
};

/* A new document; NULL and *cause if the fonts cannot be loaded. */
struct pdf	*pdf_new(const char *title, char **cause);
void		 pdf_free(struct pdf *);
/* Append one letter page. */
void		 pdf_letter(struct pdf *, const struct letter *);
/* Append the pages of a list of guardians. */
void		 pdf_list(struct pdf *, const struct list_doc *);
/* Pages so far. */
int		 pdf_pages(const struct pdf *);
/* Write the document into out; -1 and *cause if libharu failed. */
int		 pdf_finish(struct pdf *, struct buf *out, char **cause);

/* A date as a French letter writes it: "1er décembre 2026". */
void		 pdf_french_date(int year, int month, int day, char *, size_t);

#endif
