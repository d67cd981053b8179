/*
 * The document frame: libharu set up for UTF-8 with the DejaVu fonts
 * embedded, text helpers (wrapping and fitting measured in the font), the
 * QR code of the guichet drawn once as an image every page reuses, and
 * serialization to memory. Errors are collected by libharu's handler and
 * reported once, when the document is finished.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hpdf.h>
#include <qrencode.h>

#include "log.h"
#include "pdf-internal.h"
#include "xmalloc.h"

#define FONT_DIR	"/usr/share/fonts/truetype/dejavu/"

static void
pdf_error_handler(HPDF_STATUS error, HPDF_STATUS detail, void *arg)
{
	struct pdf	*p = arg;

	if (p->error == 0) {
		p->error = (unsigned long)error;
		p->detail = (unsigned long)detail;
	}
}

static HPDF_Font
pdf_load_font(struct pdf *p, const char *file)
{
	const char	*name;

	name = HPDF_LoadTTFontFromFile(p->doc, file, HPDF_TRUE);
	if (name == NULL)
		return NULL;
	return HPDF_GetFont(p->doc, name, "UTF-8");
}

struct pdf *
pdf_new(const char *title, char **cause)
{
	struct pdf	*p = xcalloc(1, sizeof *p);

	if ((p->doc = HPDF_New(pdf_error_handler, p)) == NULL)
		fatalx("HPDF_New failed");
	/* Without UTF encodings GetFont fails on the TTF fonts. */
	HPDF_UseUTFEncodings(p->doc);
	HPDF_SetCompressionMode(p->doc, HPDF_COMP_ALL);
	p->regular = pdf_load_font(p, FONT_DIR "DejaVuSans.ttf");
	p->bold = pdf_load_font(p, FONT_DIR "DejaVuSans-Bold.ttf");
	p->mono = pdf_load_font(p, FONT_DIR "DejaVuSansMono-Bold.ttf");
	if (p->regular == NULL || p->bold == NULL || p->mono == NULL) {
		xasprintf(cause, "cannot load the DejaVu fonts from %s (libharu "
		    "error 0x%04lx)", FONT_DIR, p->error);
		pdf_free(p);
		return NULL;
	}
	HPDF_SetInfoAttr(p->doc, HPDF_INFO_TITLE, title);
	HPDF_SetInfoAttr(p->doc, HPDF_INFO_CREATOR, "Responsables "
	    ECADM_VERSION);
	return p;
}

void
pdf_free(struct pdf *p)
{
	struct pdf_wrapped	*w;
	size_t			 i;

	if (p == NULL)
		return;
	while ((w = p->wrapped) != NULL) {
		p->wrapped = w->next;
		for (i = 0; i < w->nlines; i++)
			free(w->lines[i]);
		free(w->lines);
		free(w->text);
		free(w);
	}
	if (p->doc != NULL)
		HPDF_Free(p->doc);
	free(p->qr_url);
	free(p);
}

int
pdf_pages(const struct pdf *p)
{
	return p->pages;
}

HPDF_Page
pdf_page(struct pdf *p, int landscape)
{
	HPDF_Page	page = HPDF_AddPage(p->doc);

	HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, landscape ?
	    HPDF_PAGE_LANDSCAPE : HPDF_PAGE_PORTRAIT);
	p->pages++;
	return page;
}

void
pdf_text(HPDF_Page page, HPDF_Font font, float size, float x, float y,
    const char *s)
{
	HPDF_Page_SetFontAndSize(page, font, size);
	HPDF_Page_BeginText(page);
	HPDF_Page_TextOut(page, x, y, s);
	HPDF_Page_EndText(page);
}

float
pdf_width(HPDF_Page page, HPDF_Font font, float size, const char *s)
{
	HPDF_Page_SetFontAndSize(page, font, size);
	return HPDF_Page_TextWidth(page, s);
}

void
pdf_text_right(HPDF_Page page, HPDF_Font font, float size, float right,
    float y, const char *s)
{
	pdf_text(page, font, size, right - pdf_width(page, font, size, s), y,
	    s);
}

/* Bytes of the first UTF-8 character of s. */
static size_t
utf8_len(const char *s)
{
	unsigned char	c = (unsigned char)*s;

	if (c < 0x80)
		return 1;
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	return 2;
}

char *
pdf_fit(HPDF_Page page, HPDF_Font font, float size, const char *s,
    float width)
{
	struct buf	 b;
	size_t		 n, len;

	if (pdf_width(page, font, size, s) <= width)
		return xstrdup(s);
	buf_init(&b);
	for (n = 0; s[n] != '\0'; n += len) {
		len = utf8_len(s + n);
		buf_reset(&b);
		buf_add(&b, s, n + len);
		buf_add_str(&b, "…");
		if (pdf_width(page, font, size, buf_cstr(&b)) > width)
			break;
	}
	buf_reset(&b);
	buf_add(&b, s, n);
	buf_add_str(&b, "…");
	return buf_cstr(&b);
}

/* Break text into lines of at most width, a word at a time. */
static struct pdf_wrapped *
pdf_break(HPDF_Page page, HPDF_Font font, float size, float width,
    const char *text)
{
	struct pdf_wrapped	*w = xcalloc(1, sizeof *w);
	struct buf		 line;
	const char		*p = text, *word;
	size_t			 wlen, keep;

	w->text = xstrdup(text);
	w->font = font;
	w->size = size;
	w->width = width;
	buf_init(&line);
	for (;;) {
		while (*p == ' ')
			p++;
		word = p;
		while (*p != '\0' && *p != ' ')
			p++;
		if ((wlen = (size_t)(p - word)) == 0)
			break;
		keep = line.len;
		if (line.len > 0)
			buf_add(&line, " ", 1);
		buf_add(&line, word, wlen);
		if (keep > 0 && pdf_width(page, font, size, buf_cstr(&line)) >
		    width) {
			/* The word goes to the next line. */
			w->lines = xreallocarray(w->lines, w->nlines + 1,
			    sizeof *w->lines);
			w->lines[w->nlines++] = xstrndup((char *)line.data,
			    keep);
			buf_reset(&line);
			buf_add(&line, word, wlen);
		}
	}
	if (line.len > 0) {
		w->lines = xreallocarray(w->lines, w->nlines + 1,
		    sizeof *w->lines);
		w->lines[w->nlines++] = xstrdup(buf_cstr(&line));
	}
	buf_free(&line);
	return w;
}

float
pdf_wrap(struct pdf *p, HPDF_Page page, HPDF_Font font, float size, float x,
    float y, float width, float leading, const char *text)
{
	struct pdf_wrapped	*w;
	size_t			 i;

	for (w = p->wrapped; w != NULL; w = w->next) {
		if (w->font == font && w->size == size && w->width == width &&
		    strcmp(w->text, text) == 0)
			break;
	}
	if (w == NULL) {
		w = pdf_break(page, font, size, width, text);
		w->next = p->wrapped;
		p->wrapped = w;
	}
	for (i = 0; i < w->nlines; i++) {
		pdf_text(page, font, size, x, y, w->lines[i]);
		y -= leading;
	}
	return y;
}

HPDF_Image
pdf_qr(struct pdf *p, const char *url)
{
	QRcode		*qr;
	unsigned char	*pixels;
	int		 quiet = 4, side, x, y;

	if (p->qr != NULL && strcmp(p->qr_url, url) == 0)
		return p->qr;
	/* The address only, never a password: the sheet may be seen. */
	if ((qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1)) == NULL)
		fatal("QRcode_encodeString");
	side = qr->width + 2 * quiet;
	pixels = xmalloc((size_t)side * (size_t)side);
	memset(pixels, 0xff, (size_t)side * (size_t)side);
	for (y = 0; y < qr->width; y++) {
		for (x = 0; x < qr->width; x++) {
			if (qr->data[y * qr->width + x] & 1)
				pixels[(y + quiet) * side + x + quiet] = 0;
		}
	}
	p->qr = HPDF_LoadRawImageFromMem(p->doc, pixels, (HPDF_UINT)side,
	    (HPDF_UINT)side, HPDF_CS_DEVICE_GRAY, 8);
	free(pixels);
	QRcode_free(qr);
	free(p->qr_url);
	p->qr_url = xstrdup(url);
	return p->qr;
}

int
pdf_finish(struct pdf *p, struct buf *out, char **cause)
{
	HPDF_UINT32	size, n;
	HPDF_STATUS	st;

	if (p->error == 0)
		HPDF_SaveToStream(p->doc);
	if (p->error != 0) {
		xasprintf(cause, "libharu error 0x%04lx (detail %lu)",
		    p->error, p->detail);
		return -1;
	}
	size = HPDF_GetStreamSize(p->doc);
	HPDF_ResetStream(p->doc);
	n = size;
	st = HPDF_ReadFromStream(p->doc, buf_reserve(out, size), &n);
	/* Reading to the end answers HPDF_STREAM_EOF. */
	if ((st != HPDF_OK && st != HPDF_STREAM_EOF) || n != size) {
		xasprintf(cause, "libharu: cannot read the document back");
		return -1;
	}
	buf_commit(out, n);
	return 0;
}

void
pdf_french_date(int year, int month, int day, char *out, size_t size)
{
	static const char *const months[] = { "janvier", "février", "mars",
	    "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
	    "novembre", "décembre" };

	if (month < 1 || month > 12)
		month = 1;
	snprintf(out, size, "%d%s %s %d", day, day == 1 ? "er" : "",
	    months[month - 1], year);
}
