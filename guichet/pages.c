/*
 * The French HTML of the guichet: small phones first, no JavaScript, one
 * <h1> per page, every input with its <label for>, and a field's error
 * written next to it and tied to it by aria-describedby so a screen reader
 * reads it with the field. Everything that comes from outside goes through
 * html_escape(). The style sheet is a route of its own (/style.css): the
 * Content-Security-Policy then needs no nonce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guichet.h"
#include "xmalloc.h"

static const char page_css[] =
    "*{box-sizing:border-box}"
    "body{font:1.05rem/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;"
    "background:#f6f6f6}"
    "header{background:#000091;color:#fff;padding:.75rem 1rem}"
    "header p{margin:0;font-weight:bold}"
    "main{max-width:34rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.4rem;margin:.5rem 0 1rem}"
    "h2{font-size:1.15rem;margin:1.5rem 0 .5rem}"
    "form{background:#fff;padding:1rem;border:1px solid #ddd;"
    "margin:0 0 1rem}"
    "label{display:block;font-weight:bold;margin:.75rem 0 .25rem}"
    /* No blank band above a form's first field or its error. */
    "form label:first-of-type,form .error{margin-top:0}"
    /* 1rem of text in fields: a phone zooms into anything smaller. */
    "input[type=text],input[type=password],input[type=email]{width:100%;"
    "min-height:2.75rem;padding:.6rem;font-size:1rem;"
    "border:1px solid #666;border-radius:0}"
    "input:focus,button:focus,a:focus{outline:3px solid #0a76f6;"
    "outline-offset:2px}"
    ".hint{color:#555;font-size:.9rem;margin:.1rem 0}"
    ".field-error{color:#ce0500;font-weight:bold;margin:.25rem 0}"
    "input[aria-invalid=true]{border:2px solid #ce0500}"
    ".error{border-left:4px solid #ce0500;background:#fee;padding:.5rem 1rem}"
    ".notice{border-left:4px solid #18753c;background:#efe;padding:.5rem 1rem}"
    /* Fields and buttons at least 44 px high, a finger's size; on a
     * phone the button is as wide as the fields above it. */
    "button{margin-top:1rem;min-height:2.75rem;padding:.7rem 1.2rem;"
    "font-size:1rem;background:#000091;color:#fff;border:0;"
    "cursor:pointer}"
    /* A form of a button alone (Se déconnecter): no band above it. */
    "form>input[type=hidden]+button{margin-top:0}"
    "@media (max-width:40rem){button{width:100%}}"
    "a{color:#000091}"
    "ul.links{padding-left:1.2rem}"
    "dl dt{font-weight:bold}dl dd{margin:0 0 .5rem}";

/* Append text with the HTML special characters escaped. */
void
html_escape(struct buf *b, const char *s)
{
	const char	*start = s;

	for (; *s != '\0'; s++) {
		const char	*rep;

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		buf_add(b, start, s - start);
		buf_add_str(b, rep);
		start = s + 1;
	}
	buf_add(b, start, s - start);
}

/*
 * Text for people, escaped, with the space before : ; ! ? made
 * non-breaking (U+00A0) as French sets it: on a phone's narrow lines, no
 * line starts with the colon of "erreurs : corrigez". Not for attribute
 * values, whose spaces must come back as they were.
 */
static void
html_text(struct buf *b, const char *s)
{
	char	*copy, *q;

	q = copy = xmalloc(2 * strlen(s) + 1);
	for (; *s != '\0'; s++) {
		if (*s == ' ' && s[1] != '\0' && strchr(":;!?", s[1]) != NULL) {
			*q++ = '\xc2';
			*q++ = '\xa0';
		} else
			*q++ = *s;
	}
	*q = '\0';
	html_escape(b, copy);
	free(copy);
}

void
page_style(struct gx *gx)
{
	gx->status = 200;
	gx->content_type = "text/css; charset=utf-8";
	gx->cacheable = 1;
	buf_add_str(&gx->body, page_css);
}

/* The head and the banner; the page's title is its <h1> too. */
void
page_begin(struct gx *gx, const char *title)
{
	if (gx->status == 0)
		gx->status = 200;
	gx->content_type = "text/html; charset=utf-8";
	buf_add_str(&gx->body, "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>");
	html_escape(&gx->body, title);
	buf_add_str(&gx->body, " – Responsables</title>\n"
	    "<link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n<body>\n"
	    "<header><p>Responsables – compte des parents</p></header>\n"
	    "<main>\n<h1>");
	html_escape(&gx->body, title);
	buf_add_str(&gx->body, "</h1>\n");
}

void
page_end(struct gx *gx)
{
	buf_add_str(&gx->body, "</main>\n</body>\n</html>\n");
}

void
page_heading(struct gx *gx, const char *text)
{
	buf_add_str(&gx->body, "<h2>");
	html_escape(&gx->body, text);
	buf_add_str(&gx->body, "</h2>\n");
}

void
page_paragraph(struct gx *gx, const char *text)
{
	buf_add_str(&gx->body, "<p>");
	html_text(&gx->body, text);
	buf_add_str(&gx->body, "</p>\n");
}

void
page_link(struct gx *gx, const char *href, const char *text)
{
	buf_add_str(&gx->body, "<p><a href=\"");
	html_escape(&gx->body, href);
	buf_add_str(&gx->body, "\">");
	html_escape(&gx->body, text);
	buf_add_str(&gx->body, "</a></p>\n");
}

/* A message for the whole form, announced as an alert. */
void
page_error_box(struct gx *gx, const char *text)
{
	buf_add_str(&gx->body, "<p class=\"error\" role=\"alert\">");
	html_text(&gx->body, text);
	buf_add_str(&gx->body, "</p>\n");
}

void
page_notice(struct gx *gx, const char *text)
{
	buf_add_str(&gx->body, "<p class=\"notice\" role=\"status\">");
	html_text(&gx->body, text);
	buf_add_str(&gx->body, "</p>\n");
}

/* One labelled input, its hint and its error, in reading order. */
static void
page_input(struct gx *gx, const char *action, const struct page_field *f,
    const char *value, const char *error)
{
	struct buf	*b = &gx->body;
	char		 id[128];

	/* Ids made unique per form: a page may hold two forms. */
	snprintf(id, sizeof id, "%s-%s", action[0] == '/' ? action + 1 :
	    action, f->name);
	for (char *p = id; *p != '\0'; p++)
		if (*p == '/')
			*p = '-';
	buf_printf(b, "<label for=\"%s\">", id);
	html_escape(b, f->label);
	buf_add_str(b, "</label>\n");
	if (f->hint != NULL) {
		buf_printf(b, "<p class=\"hint\" id=\"%s-aide\">", id);
		html_text(b, f->hint);
		buf_add_str(b, "</p>\n");
	}
	if (error != NULL) {
		buf_printf(b, "<p class=\"field-error\" id=\"%s-erreur\">", id);
		html_text(b, error);
		buf_add_str(b, "</p>\n");
	}
	buf_printf(b, "<input type=\"%s\" id=\"%s\" name=\"%s\"", f->type, id,
	    f->name);
	if (f->autocomplete != NULL)
		buf_printf(b, " autocomplete=\"%s\"", f->autocomplete);
	if (error != NULL && f->hint != NULL)
		buf_printf(b, " aria-describedby=\"%s-erreur %s-aide\"", id, id);
	else if (error != NULL)
		buf_printf(b, " aria-describedby=\"%s-erreur\"", id);
	else if (f->hint != NULL)
		buf_printf(b, " aria-describedby=\"%s-aide\"", id);
	if (error != NULL)
		buf_add_str(b, " aria-invalid=\"true\"");
	/* A password is never sent back into a page. */
	if (value != NULL && strcmp(f->type, "password") != 0) {
		buf_add_str(b, " value=\"");
		html_escape(b, value);
		buf_add_str(b, "\"");
	}
	buf_add_str(b, " required>\n");
}

/* A form: general error first (so it is read first), then the fields in
 * the order they are filled, then the button. */
void
page_form(struct gx *gx, const char *action, const struct page_field *fields,
    size_t n, const char *const *values, const struct form_errors *errors,
    const char *submit, const char *const *hidden)
{
	struct buf	*b = &gx->body;
	char		*token;
	size_t		 i;

	token = csrf_token(gx_binding(gx));
	buf_add_str(b, "<form method=\"post\" action=\"");
	html_escape(b, action);
	buf_add_str(b, "\">\n");
	if (errors != NULL && errors->general != NULL)
		page_error_box(gx, errors->general);
	buf_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n",
	    token);
	free(token);
	for (i = 0; hidden != NULL && hidden[i] != NULL; i += 2) {
		buf_add_str(b, "<input type=\"hidden\" name=\"");
		html_escape(b, hidden[i]);
		buf_add_str(b, "\" value=\"");
		html_escape(b, hidden[i + 1]);
		buf_add_str(b, "\">\n");
	}
	for (i = 0; i < n; i++)
		page_input(gx, action, &fields[i],
		    values != NULL ? values[i] : NULL,
		    form_errors_get(errors, fields[i].name));
	buf_add_str(b, "<button type=\"submit\">");
	html_escape(b, submit);
	buf_add_str(b, "</button>\n</form>\n");
}

void
page_message(struct gx *gx, unsigned status, const char *title,
    const char *text, const char *href, const char *link)
{
	gx->status = status;
	page_begin(gx, title);
	page_paragraph(gx, text);
	if (href != NULL)
		page_link(gx, href, link);
	page_end(gx);
}
