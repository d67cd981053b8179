/*
 * The account card ("Fiche du compte"): a "show" result laid out as
 * French lines, the same in ecadmctl (show) and in ecadm (the card over
 * the Responsables tab), so the two cannot drift apart.
 */
#ifndef CARD_H
#define CARD_H

#include <stddef.h>

#include <jansson.h>

/*
 * One line of the card, in order: a field (label and value), a section
 * title (label, value NULL) or an entry of the section above (label NULL,
 * value).
 */
struct card_line {
	const char	*label;
	char		*value;
};

struct card {
	struct card_line	*lines;
	size_t			 nlines;
	size_t			 state;	/* index of the state's line */
};

/* Lay out a "show" result. */
void	 card_build(struct card *, const json_t *show);
void	 card_free(struct card *);
/*
 * The card as text, one string a line: field values aligned in one
 * column (counted in cells), entries indented, a blank line before each
 * section. *state is set to the index of the state's line. Free with
 * card_text_free().
 */
char	**card_text(const struct card *, size_t *nlines, size_t *state);
void	 card_text_free(char **, size_t);

#endif
