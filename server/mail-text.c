/*
 * The messages sent to guardians, in French: one function per kind writes
 * its paragraphs once, and each paragraph is rendered twice, as text/plain
 * and as text/html (values escaped), into a multipart/alternative message.
 * Both parts are UTF-8 in base64, so no line is too long and no byte of a
 * name can break the MIME structure; the Subject is an RFC 2047 encoded
 * word. The facts come from the outbox row and the account at delivery
 * (mailer.c): this file only writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "hex.h"
#include "buf.h"
#include "mail.h"
#include "xmalloc.h"

/* The two renderings being written. */
struct mail_body {
	struct buf	text;
	struct buf	html;
};

/* value with &, <, >, " escaped for HTML. */
static void
html_escape(struct buf *b, const char *value)
{
	const char	*p;

	for (p = value; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			buf_add_str(b, "&amp;");
			break;
		case '<':
			buf_add_str(b, "&lt;");
			break;
		case '>':
			buf_add_str(b, "&gt;");
			break;
		case '"':
			buf_add_str(b, "&quot;");
			break;
		default:
			buf_add(b, p, 1);
		}
	}
}

/* A paragraph of text (already formatted, not yet escaped). */
static void
body_para(struct mail_body *m, const char *text)
{
	buf_printf(&m->text, "%s\r\n\r\n", text);
	buf_add_str(&m->html, "<p>");
	html_escape(&m->html, text);
	buf_add_str(&m->html, "</p>\r\n");
}

/* A labelled value the guardian must copy exactly (a login, a password). */
static void
body_field(struct mail_body *m, const char *label, const char *value)
{
	buf_printf(&m->text, "    %s : %s\r\n\r\n", label, value);
	buf_add_str(&m->html, "<p>");
	html_escape(&m->html, label);
	buf_add_str(&m->html, " : <strong style=\"font-family: monospace; "
	    "font-size: 120%\">");
	html_escape(&m->html, value);
	buf_add_str(&m->html, "</strong></p>\r\n");
}

/* A link on a line of its own (mail readers make it clickable). */
static void
body_link(struct mail_body *m, const char *url)
{
	buf_printf(&m->text, "    %s\r\n\r\n", url);
	buf_add_str(&m->html, "<p><a href=\"");
	html_escape(&m->html, url);
	buf_add_str(&m->html, "\">");
	html_escape(&m->html, url);
	buf_add_str(&m->html, "</a></p>\r\n");
}

/* The guichet's address followed by path and the token, percent-encoded
 * (a token is URL-safe today; an encoded one cannot break the link if
 * that changes). */
static char *
guichet_link(const char *base, const char *path, const char *token)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct buf		 b;
	char			*link;
	size_t			 len = strlen(base);
	const unsigned char	*p;

	buf_init(&b);
	while (len > 0 && base[len - 1] == '/')
		len--;
	buf_add(&b, base, len);
	buf_add_str(&b, path);
	for (p = (const unsigned char *)token; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf_add(&b, p, 1);
		else
			buf_printf(&b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	/* The link holds the token: the working copy goes wiped. */
	link = xstrdup(buf_cstr(&b));
	buf_free_secret(&b);
	return link;
}

static const char *
school_or_default(const struct mail_facts *f)
{
	return f->school != NULL && *f->school != '\0' ? f->school :
	    "votre école";
}

/* The notification: the paper sheet's facts (pdf-letter.c). */
static const char *
text_notification(const struct mail_facts *f, struct mail_body *m)
{
	char	*s;

	body_para(m, "Madame, Monsieur,");
	xasprintf(&s, "L'école (%s) met à votre disposition un compte pour "
	    "suivre la scolarité de votre enfant sur les services en ligne "
	    "de l'Éducation nationale.", school_or_default(f));
	body_para(m, s);
	free(s);
	body_field(m, "Votre identifiant", f->login);
	body_field(m, "Votre mot de passe provisoire", f->password);
	xasprintf(&s, "Ce mot de passe est valable jusqu'au %s. Vous en "
	    "choisirez un nouveau à votre première connexion, sur le guichet :",
	    f->expires != NULL ? f->expires : "(date inconnue)");
	body_para(m, s);
	free(s);
	body_link(m, f->guichet_url);
	body_para(m, "À la première connexion, choisissez votre mot de passe "
	    "(de 8 à 14 caractères, avec des lettres et des chiffres), "
	    "indiquez votre adresse électronique et la date de naissance de "
	    "l'enfant dont le nom s'affiche, puis cliquez sur le lien du "
	    "courriel que vous recevrez : votre compte est alors activé.");
	body_para(m, "En cas de difficulté, ou si ce mot de passe a expiré, "
	    "adressez-vous à l'école. Ne communiquez jamais votre mot de "
	    "passe, même à l'école.");
	return "Vos identifiants pour les services en ligne de l'école";
}

/* The reminder, for an account whose guardian chose a password. */
static const char *
text_reminder(const struct mail_facts *f, struct mail_body *m)
{
	body_para(m, "Madame, Monsieur,");
	body_para(m, "Vous avez déjà un compte pour les services en ligne de "
	    "l'Éducation nationale.");
	body_field(m, "Votre identifiant", f->login);
	body_para(m, "Mot de passe : inchangé (celui que vous avez choisi). "
	    "Connectez-vous sur le guichet :");
	body_link(m, f->guichet_url);
	body_para(m, "Mot de passe oublié ? Le guichet vous permet d'en "
	    "choisir un nouveau, ou adressez-vous à l'école.");
	return "Rappel de votre identifiant pour les services en ligne";
}

/* A message made of one link with a token. */
static void
text_token_link(const struct mail_facts *f, struct mail_body *m,
    const char *intro, const char *path)
{
	char	*url, *s;

	body_para(m, "Madame, Monsieur,");
	/* The login too: a parent with two accounts knows which one. */
	if (f->login != NULL)
		body_field(m, "Votre identifiant", f->login);
	body_para(m, intro);
	url = guichet_link(f->guichet_url, path, f->token);
	body_link(m, url);
	freestr_secret(url);
	if (f->days > 0) {
		xasprintf(&s, "Ce lien est valable %d jour%s et ne sert qu'une "
		    "fois.", f->days, f->days > 1 ? "s" : "");
		body_para(m, s);
		free(s);
	}
	body_para(m, "Si vous n'êtes pas à l'origine de cette demande, "
	    "ignorez ce message.");
}

/* The kind's paragraphs into m; its subject, or NULL and *cause. */
static const char *
text_kind(const struct mail_facts *f, struct mail_body *m, char **cause)
{
	const char	*need = NULL;

	switch (f->kind) {
	case MAIL_NOTIFICATION:
		if (f->login == NULL)
			need = "login";
		else if (f->password == NULL)
			return text_reminder(f, m);
		else
			return text_notification(f, m);
		break;
	case MAIL_ACTIVATION:
		if (f->token == NULL)
			need = "token";
		else {
			text_token_link(f, m, "Pour terminer l'activation de "
			    "votre compte des services en ligne, ouvrez ce "
			    "lien :", "/confirmer?jeton=");
			return "Activez votre compte des services en ligne";
		}
		break;
	case MAIL_FORGOT_LOGIN:
		if (f->login == NULL)
			need = "login";
		else {
			body_para(m, "Madame, Monsieur,");
			body_para(m, "Vous avez demandé le rappel de votre "
			    "identifiant pour les services en ligne :");
			body_field(m, "Votre identifiant", f->login);
			body_link(m, f->guichet_url);
			body_para(m, "Si vous n'êtes pas à l'origine de cette "
			    "demande, ignorez ce message.");
			return "Votre identifiant pour les services en ligne";
		}
		break;
	case MAIL_FORGOT_PASSWORD:
		if (f->token == NULL)
			need = "token";
		else {
			text_token_link(f, m, "Pour choisir un nouveau mot de "
			    "passe, ouvrez ce lien :", "/mot-de-passe?jeton=");
			return "Choisissez un nouveau mot de passe";
		}
		break;
	case MAIL_EMAIL_CHANGE:
		if (f->token == NULL)
			need = "token";
		else {
			text_token_link(f, m, "Pour confirmer votre nouvelle "
			    "adresse électronique, ouvrez ce lien :",
			    "/confirmer-courriel?jeton=");
			return "Confirmez votre nouvelle adresse électronique";
		}
		break;
	}
	xasprintf(cause, "%s message without %s", mail_kind_name(f->kind),
	    need != NULL ? need : "a known kind");
	return NULL;
}

/* Bytes in base64, in lines of 76 characters. */
static void
add_base64(struct buf *out, const unsigned char *data, size_t len)
{
	unsigned char	line[80];
	size_t		chunk;
	int		n;

	while (len > 0) {
		chunk = len > 57 ? 57 : len;	/* 57 bytes: 76 characters */
		n = EVP_EncodeBlock(line, data, (int)chunk);
		buf_add(out, line, (size_t)n);
		buf_add_str(out, "\r\n");
		data += chunk;
		len -= chunk;
	}
}

/* The Subject header as encoded words of at most 75 characters, cut
 * between UTF-8 characters, folded on continuation lines. */
static void
add_subject(struct buf *out, const char *subject)
{
	unsigned char	 word[64];
	const char	*p = subject;
	size_t		 left = strlen(subject), chunk;
	int		 n;

	buf_add_str(out, "Subject:");
	while (left > 0) {
		chunk = left > 45 ? 45 : left;	/* 45 bytes: 60 characters */
		while (chunk < left && (p[chunk] & 0xc0) == 0x80)
			chunk--;
		n = EVP_EncodeBlock(word, (const unsigned char *)p,
		    (int)chunk);
		buf_printf(out, "%s =?UTF-8?B?%.*s?=", p == subject ? "" :
		    "\r\n", n, word);
		p += chunk;
		left -= chunk;
	}
	buf_add_str(out, "\r\n");
}

/* The date as RFC 5322 writes it, in the server's time zone. */
static void
add_date(struct buf *out, time_t t)
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm		 tm;
	long			 off;

	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	buf_printf(out, "Date: %s, %02d %s %d %02d:%02d:%02d %c%02ld%02ld\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
	    labs(off) / 60, labs(off) % 60);
}

char *
mail_address(const char *from)
{
	const char	*lt = strrchr(from, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		return xstrndup(lt + 1, (size_t)(gt - lt - 1));
	return xstrdup(from + strspn(from, " \t"));
}

int
mail_text_compose(const struct mail_facts *f, struct buf *out, char **cause)
{
	struct mail_body	 m;
	unsigned char		 rnd[12];
	char			 boundary[40];
	const char		*subject;

	buf_init(&m.text);
	buf_init(&m.html);
	buf_add_str(&m.html, "<!DOCTYPE html>\r\n<html lang=\"fr\"><head>"
	    "<meta charset=\"utf-8\"></head><body>\r\n");
	if ((subject = text_kind(f, &m, cause)) == NULL) {
		buf_free_secret(&m.text);
		buf_free_secret(&m.html);
		return -1;
	}
	body_para(&m, "Ce message est envoyé automatiquement : n'y répondez "
	    "pas.");
	buf_add_str(&m.html, "</body></html>\r\n");

	/* A boundary no base64 line can contain ('=' and '_'). */
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		memset(rnd, 0x5a, sizeof rnd);
	memcpy(boundary, "=_ecadm_", 8);
	hex_encode(rnd, sizeof rnd, boundary + 8);

	buf_printf(out, "From: %s\r\nTo: <%s>\r\n", f->from, f->to);
	add_subject(out, subject);
	add_date(out, f->date);
	buf_printf(out, "Message-ID: <%s>\r\n", f->message_id);
	buf_printf(out, "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/alternative; boundary=\"%s\"\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n"
	    "Message au format MIME.\r\n", boundary);
	buf_printf(out, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", boundary);
	add_base64(out, buf_head(&m.text), buf_left(&m.text));
	buf_printf(out, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", boundary);
	add_base64(out, buf_head(&m.html), buf_left(&m.html));
	buf_printf(out, "--%s--\r\n", boundary);
	/* Both held the password or a token. */
	buf_free_secret(&m.text);
	buf_free_secret(&m.html);
	return 0;
}
