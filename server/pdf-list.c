/*
 * The list of guardians: a table of pupil, class, guardian, login,
 * password (provisional in clear, or ******) and state, in landscape, with
 * the school, the date and page numbers on every page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdf-internal.h"

#define MARGIN		36.0f
#define ROW_H		15.0f

static const struct {
	const char	*title;
	float		 width;
} list_columns[] = {
	{ "Élève", 170 }, { "Classe", 60 }, { "Responsable", 170 },
	{ "Identifiant", 130 }, { "Mot de passe", 90 }, { "État", 150 },
};
#define NCOLUMNS	(sizeof list_columns / sizeof list_columns[0])

static const char *
list_cell(const struct list_row *r, size_t c)
{
	const char	*v = NULL;

	switch (c) {
	case 0: v = r->pupil; break;
	case 1: v = r->class_name; break;
	case 2: v = r->guardian; break;
	case 3: v = r->login; break;
	case 4: v = r->password; break;
	case 5: v = r->state; break;
	}
	return v != NULL ? v : "";
}

/* Title, columns' header; returns the y of the first row. */
static float
list_head(struct pdf *p, HPDF_Page page, const struct list_doc *d, int n,
    int total)
{
	char	line[512];
	float	y = PDF_A4_W - MARGIN, x;
	size_t	c;

	snprintf(line, sizeof line, "Liste des responsables — %s (%s)",
	    d->school_name != NULL ? d->school_name : d->school_uai,
	    d->school_uai);
	pdf_text(page, p->bold, 12, MARGIN, y, line);
	snprintf(line, sizeof line, "Le %s · page %d/%d", d->date, n, total);
	pdf_text_right(page, p->regular, 9, PDF_A4_H - MARGIN, y, line);
	if (d->selection != NULL)
		pdf_text(page, p->regular, 9, MARGIN, y - 14, d->selection);
	y -= 36;
	HPDF_Page_SetGrayFill(page, 0.88f);
	HPDF_Page_Rectangle(page, MARGIN, y - 4, PDF_A4_H - 2 * MARGIN,
	    ROW_H);
	HPDF_Page_Fill(page);
	HPDF_Page_SetGrayFill(page, 0);
	for (c = 0, x = MARGIN + 3; c < NCOLUMNS; c++) {
		pdf_text(page, p->bold, 9, x, y, list_columns[c].title);
		x += list_columns[c].width;
	}
	return y - ROW_H;
}

void
pdf_list(struct pdf *p, const struct list_doc *d)
{
	HPDF_Page	 page = NULL;
	float		 y = 0, x, bottom = MARGIN + 20;
	int		 per_page, pages, n = 0;
	size_t		 i, c;
	char		*cell;

	per_page = (int)((PDF_A4_W - 2 * MARGIN - 36 - ROW_H - 20) / ROW_H);
	pages = d->nrows == 0 ? 1 : (int)((d->nrows + (size_t)per_page - 1) /
	    (size_t)per_page);
	if (d->nrows == 0) {
		page = pdf_page(p, 1);
		y = list_head(p, page, d, 1, 1);
		pdf_text(page, p->regular, 10, MARGIN + 3, y,
		    "Aucun responsable dans cette sélection.");
		return;
	}
	for (i = 0; i < d->nrows; i++) {
		if (page == NULL || y < bottom) {
			page = pdf_page(p, 1);
			y = list_head(p, page, d, ++n, pages);
		}
		for (c = 0, x = MARGIN + 3; c < NCOLUMNS; c++) {
			cell = pdf_fit(page, c == 3 || c == 4 ? p->mono :
			    p->regular, 9, list_cell(&d->rows[i], c),
			    list_columns[c].width - 6);
			pdf_text(page, c == 3 || c == 4 ? p->mono : p->regular,
			    9, x, y, cell);
			free(cell);
			x += list_columns[c].width;
		}
		HPDF_Page_SetGrayStroke(page, 0.8f);
		HPDF_Page_SetLineWidth(page, 0.3f);
		HPDF_Page_MoveTo(page, MARGIN, y - 4);
		HPDF_Page_LineTo(page, PDF_A4_H - MARGIN, y - 4);
		HPDF_Page_Stroke(page);
		y -= ROW_H;
	}
}
