/*
 * The letters handed to parents: the notification sheet (login, provisional
 * password, the guichet's address and QR code, the steps of the first
 * connection) and the reminder for an account already in use, which never
 * carries a password. One A4 page each, laid out as a French letter:
 * sender top left, date top right, addressee, subject, body.
 */
#include <stdio.h>
#include <string.h>

#include "pdf-internal.h"
#include "xmalloc.h"

#define MARGIN		56.0f
#define TEXT_W		(PDF_A4_W - 2 * MARGIN)
#define GREY		0.45f

/* "Madame", "Monsieur", or both when the civility is unknown. */
static const char *
letter_salutation(const char *civility)
{
	if (civility != NULL && strcmp(civility, "Mme") == 0)
		return "Madame";
	if (civility != NULL && strcmp(civility, "M.") == 0)
		return "Monsieur";
	return "Madame, Monsieur";
}

/* Sender, date, addressee and subject; returns where the body starts. */
static float
letter_head(struct pdf *p, HPDF_Page page, const struct letter *l,
    const char *subject)
{
	char	 line[512];
	float	 y = PDF_A4_H - MARGIN, x;

	pdf_text(page, p->bold, 12, MARGIN, y, l->school_name != NULL ?
	    l->school_name : l->school_uai);
	y -= 15;
	snprintf(line, sizeof line, "%s%sUAI %s", l->town != NULL ? l->town :
	    "", l->town != NULL ? " · " : "", l->school_uai);
	pdf_text(page, p->regular, 9.5f, MARGIN, y, line);
	y -= 12;
	pdf_text(page, p->regular, 9.5f, MARGIN, y, "Direction de l'école");

	snprintf(line, sizeof line, "%s%sle %s", l->town != NULL ? l->town :
	    "", l->town != NULL ? ", " : "", l->date);
	pdf_text_right(page, p->regular, 10, PDF_A4_W - MARGIN,
	    PDF_A4_H - MARGIN, line);

	/* The addressee, where a window envelope would show it, moved left
	 * as far as a long name needs to stay inside the margin. */
	y = PDF_A4_H - 150;
	snprintf(line, sizeof line, "%s%s%s", l->civility != NULL ?
	    letter_salutation(l->civility) : "", l->civility != NULL ? " " : "",
	    l->guardian);
	x = PDF_A4_W - MARGIN - pdf_width(page, p->bold, 11, line);
	pdf_text(page, p->bold, 11, x < 310 ? x : 310, y, line);

	y = PDF_A4_H - 215;
	snprintf(line, sizeof line, "Objet : %s", subject);
	pdf_text(page, p->bold, 11, MARGIN, y, line);
	y -= 26;
	snprintf(line, sizeof line, "%s,", letter_salutation(l->civility));
	pdf_text(page, p->regular, 10.5f, MARGIN, y, line);
	return y - 20;
}

/* The children concerned, one bullet each. */
static float
letter_children(struct pdf *p, HPDF_Page page, const struct letter *l,
    float y)
{
	char	line[512];
	size_t	i;

	for (i = 0; i < l->nchildren; i++) {
		if (l->children[i].class_name != NULL)
			snprintf(line, sizeof line, "•  %s, classe %s",
			    l->children[i].name, l->children[i].class_name);
		else
			snprintf(line, sizeof line, "•  %s",
			    l->children[i].name);
		pdf_text(page, p->bold, 10.5f, MARGIN + 14, y, line);
		y -= 15;
	}
	return y - 6;
}

/* A framed box with a light background. */
static void
letter_box(HPDF_Page page, float x, float y, float w, float h)
{
	HPDF_Page_SetGrayFill(page, 0.94f);
	HPDF_Page_SetGrayStroke(page, 0.6f);
	HPDF_Page_SetLineWidth(page, 0.8f);
	HPDF_Page_Rectangle(page, x, y, w, h);
	HPDF_Page_FillStroke(page);
	HPDF_Page_SetGrayFill(page, 0);
}

static void
letter_footer(struct pdf *p, HPDF_Page page)
{
	HPDF_Page_SetGrayFill(page, GREY);
	pdf_text(page, p->regular, 8, MARGIN, 40, "Document personnel et "
	    "confidentiel, à conserver. Ne communiquez jamais votre mot de "
	    "passe, même à l'école.");
	HPDF_Page_SetGrayFill(page, 0);
}

/* The notification sheet. */
static void
letter_sheet(struct pdf *p, const struct letter *l)
{
	HPDF_Page	page = pdf_page(p, 0);
	char		line[1024];
	float		y, box_top, box_h = 128, qr = 92;

	y = letter_head(p, page, l, "vos identifiants pour les services en "
	    "ligne de l'école");
	y = pdf_wrap(p, page, p->regular, 10.5f, MARGIN, y, TEXT_W, 14,
	    l->nchildren > 1 ? "L'école met à votre disposition un compte "
	    "pour suivre la scolarité de vos enfants sur les services en "
	    "ligne de l'Éducation nationale :" : "L'école met à votre "
	    "disposition un compte pour suivre la scolarité de votre enfant "
	    "sur les services en ligne de l'Éducation nationale :");
	y = letter_children(p, page, l, y - 4);

	/* The credentials, framed, with the QR code of the guichet. */
	box_top = y;
	letter_box(page, MARGIN, box_top - box_h, TEXT_W, box_h);
	y = box_top - 22;
	pdf_text(page, p->regular, 9.5f, MARGIN + 14, y, "Votre identifiant");
	pdf_text(page, p->mono, 16, MARGIN + 14, y - 20, l->login);
	y -= 50;
	pdf_text(page, p->regular, 9.5f, MARGIN + 14, y,
	    "Votre mot de passe provisoire");
	pdf_text(page, p->mono, 18, MARGIN + 14, y - 22, l->password);
	snprintf(line, sizeof line, "Valable jusqu'au %s. Vous en choisirez "
	    "un nouveau", l->expires);
	pdf_text(page, p->regular, 8.5f, MARGIN + 14, y - 40, line);
	pdf_text(page, p->regular, 8.5f, MARGIN + 14, y - 51,
	    "à votre première connexion.");
	HPDF_Page_DrawImage(page, pdf_qr(p, l->guichet_url),
	    PDF_A4_W - MARGIN - qr - 14, box_top - box_h + 24, qr, qr);
	HPDF_Page_SetGrayFill(page, GREY);
	pdf_text(page, p->regular, 7, PDF_A4_W - MARGIN - qr - 14 + (qr -
	    pdf_width(page, p->regular, 7, "Scannez pour le guichet")) / 2,
	    box_top - box_h + 12, "Scannez pour le guichet");
	HPDF_Page_SetGrayFill(page, 0);

	y = box_top - box_h - 26;
	pdf_text(page, p->bold, 11, MARGIN, y,
	    "Votre première connexion, en quatre étapes");
	y -= 18;
	snprintf(line, sizeof line, "1.  Rendez-vous sur %s (ou scannez le "
	    "code ci-dessus) et saisissez votre identifiant et votre mot de "
	    "passe provisoire.", l->guichet_url);
	y = pdf_wrap(p, page, p->regular, 10, MARGIN + 8, y, TEXT_W - 8, 13,
	    line) - 5;
	y = pdf_wrap(p, page, p->regular, 10, MARGIN + 8, y, TEXT_W - 8, 13,
	    "2.  Choisissez votre mot de passe : de 8 à 14 caractères, avec "
	    "des lettres et des chiffres. Notez-le bien : l'école ne pourra "
	    "plus le voir.") - 5;
	y = pdf_wrap(p, page, p->regular, 10, MARGIN + 8, y, TEXT_W - 8, 13,
	    "3.  Indiquez votre adresse électronique et, pour vérification, "
	    "la date de naissance de l'enfant dont le nom s'affiche.") - 5;
	snprintf(line, sizeof line, "4.  Ouvrez le courriel que vous recevez "
	    "et cliquez sur le lien qu'il contient dans les %d jours : votre "
	    "compte est alors activé.", l->activation_days);
	y = pdf_wrap(p, page, p->regular, 10, MARGIN + 8, y, TEXT_W - 8, 13,
	    line) - 10;
	y = pdf_wrap(p, page, p->regular, 10, MARGIN, y, TEXT_W, 13,
	    "En cas de difficulté, ou si ce mot de passe a expiré, adressez-"
	    "vous à l'école : elle vous remettra une nouvelle feuille.") - 10;
	pdf_text(page, p->regular, 10, MARGIN, y, "La directrice ou le "
	    "directeur de l'école");
	letter_footer(p, page);
}

/* The reminder: the login, and no password (the guardian chose one). */
static void
letter_reminder(struct pdf *p, const struct letter *l)
{
	HPDF_Page	page = pdf_page(p, 0);
	char		line[1024];
	float		y, box_top, box_h = 92, qr = 70;

	y = letter_head(p, page, l, "rappel de votre identifiant pour les "
	    "services en ligne");
	y = pdf_wrap(p, page, p->regular, 10.5f, MARGIN, y, TEXT_W, 14,
	    "Vous avez déjà un compte pour les services en ligne de "
	    "l'Éducation nationale. Il vous permet de suivre la scolarité de :");
	y = letter_children(p, page, l, y - 4);

	box_top = y;
	letter_box(page, MARGIN, box_top - box_h, TEXT_W, box_h);
	y = box_top - 22;
	pdf_text(page, p->regular, 9.5f, MARGIN + 14, y, "Votre identifiant");
	pdf_text(page, p->mono, 16, MARGIN + 14, y - 20, l->login);
	pdf_text(page, p->regular, 9.5f, MARGIN + 14, y - 46,
	    "Mot de passe : inchangé (celui que vous avez choisi)");
	HPDF_Page_DrawImage(page, pdf_qr(p, l->guichet_url),
	    PDF_A4_W - MARGIN - qr - 10, box_top - box_h + 11, qr, qr);

	y = box_top - box_h - 26;
	snprintf(line, sizeof line, "Connectez-vous sur %s avec cet "
	    "identifiant et le mot de passe que vous avez choisi.",
	    l->guichet_url);
	y = pdf_wrap(p, page, p->regular, 10, MARGIN, y, TEXT_W, 13, line) - 6;
	y = pdf_wrap(p, page, p->regular, 10, MARGIN, y, TEXT_W, 13,
	    "Mot de passe oublié ? Adressez-vous à l'école : elle peut le "
	    "réinitialiser et vous remettre une nouvelle feuille.") - 10;
	pdf_text(page, p->regular, 10, MARGIN, y, "La directrice ou le "
	    "directeur de l'école");
	letter_footer(p, page);
}

void
pdf_letter(struct pdf *p, const struct letter *l)
{
	if (l->password != NULL)
		letter_sheet(p, l);
	else
		letter_reminder(p, l);
}
