/* What the pdf-*.c files share: the document and its drawing helpers. */
#ifndef PDF_INTERNAL_H
#define PDF_INTERNAL_H

#include <hpdf.h>

#include "pdf.h"

/* A paragraph already broken into lines: the letters of a batch repeat
 * the same paragraphs, and measuring text is most of libharu's work. */
struct pdf_wrapped {
	char			*text;
	HPDF_Font		 font;
	float			 size;
	float			 width;
	char			**lines;
	size_t			 nlines;
	struct pdf_wrapped	*next;
};

struct pdf {
	HPDF_Doc	 doc;
	struct pdf_wrapped *wrapped;
	HPDF_Font	 regular;
	HPDF_Font	 bold;
	HPDF_Font	 mono;		/* passwords and logins */
	HPDF_Image	 qr;		/* the guichet's QR code, made once */
	char		*qr_url;
	int		 pages;
	unsigned long	 error;		/* first libharu error */
	unsigned long	 detail;
};

/* A4 in points. */
#define PDF_A4_W	595.276f
#define PDF_A4_H	841.89f

HPDF_Page pdf_page(struct pdf *, int landscape);
void	 pdf_text(HPDF_Page, HPDF_Font, float size, float x, float y,
	    const char *);
void	 pdf_text_right(HPDF_Page, HPDF_Font, float size, float right,
	    float y, const char *);
float	 pdf_width(HPDF_Page, HPDF_Font, float size, const char *);
/* The text cut with "…" to fit width (a new string). */
char	*pdf_fit(HPDF_Page, HPDF_Font, float size, const char *, float width);
/* Print text wrapped at width from (x, y) down; returns the next y. */
float	 pdf_wrap(struct pdf *, HPDF_Page, HPDF_Font, float size, float x,
	    float y, float width, float leading, const char *);
HPDF_Image pdf_qr(struct pdf *, const char *url);

#endif
