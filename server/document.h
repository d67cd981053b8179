/*
 * What the handlers that hand out documents share: the date and time as
 * France reads them, the letters of a set of accounts, and the record of a
 * document's issue (never its content).
 */
#ifndef DOCUMENT_H
#define DOCUMENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"

struct db;
struct request;

/* Now in Europe/Paris, from the database clock. */
struct doc_stamp {
	char	date[48];	/* "28 novembre 2026" */
	char	expires[16];	/* three months on: "28/02/2027" */
	char	compact[16];	/* "20261128154501", for file names */
};

/* A guardian's letter, as the handlers gather it. */
struct doc_letter {
	int64_t		 account_id;
	char		*login;
	char		*civility;
	char		*guardian;
	char		*password;	/* NULL: a reminder */
	json_t		*children;	/* [{name, class}] */
	char		*school_name;	/* the letter's school */
	char		*school_uai;
	char		*town;
};

int	 doc_stamp(struct db *, struct doc_stamp *);
/* Render letters (in the order given) into one PDF. -1 and *cause. */
int	 doc_letters_pdf(const struct doc_letter *, size_t,
	    const struct doc_stamp *, struct buf *out, char **cause);
void	 doc_letter_clear(struct doc_letter *);
/* Record the issue of a document: the documents row, and an event for
 * the school's journal. */
int	 doc_record(struct db *, struct request *, const char *kind,
	    const char *format, int pages, const int64_t *ids, size_t n,
	    const struct buf *content);

#endif
