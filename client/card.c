/*
 * The account card, from a "show" result (server/op-show.c): the
 * guardian, the state (as state_of_row() shows it: a notified account
 * whose letter expired is "expiré"), why the account is not eligible here,
 * the password as this school may hand it out, the e-mail and phone, the
 * key dates; then the children, the letters issued and the history. Both
 * clients print these lines; only the way they show them differs (stdout,
 * or an overlay whose state line takes the state's colour).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "card.h"
#include "state.h"
#include "utf8.h"
#include "xmalloc.h"

/* The column of the values: the widest label ("Valable jusqu'au") and a
 * space, whatever fields a card has, so every card lines up the same. */
#define CARD_LABEL_WIDTH	16

static const char *
card_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
card_add(struct card *c, const char *label, char *value)
{
	c->lines = xreallocarray(c->lines, c->nlines + 1, sizeof *c->lines);
	c->lines[c->nlines].label = label;
	c->lines[c->nlines].value = value;
	c->nlines++;
}

/* A field; a NULL value is shown as "(aucun)". */
static void
card_field(struct card *c, const char *label, const char *value)
{
	card_add(c, label, xstrdup(value != NULL ? value : "(aucun)"));
}

/* A field only when the value is there (dates that may not have come). */
static void
card_field_if(struct card *c, const char *label, const char *value)
{
	if (value != NULL)
		card_add(c, label, xstrdup(value));
}

static void
card_entry(struct card *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
card_entry(struct card *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		s = xstrdup("");
	card_add(c, NULL, s);
}

/* What the password line says: the password, or why there is none to
 * hand out (never issued, or the guardian has no eligible link in this
 * school, so none may be given through it). */
static const char *
card_password(const json_t *show)
{
	if (card_str(show, "password") != NULL)
		return card_str(show, "password");
	if (!json_is_true(json_object_get(show, "eligible")))
		return "(non communiqué : aucun lien éligible ici)";
	if (state_lookup(card_str(show, "state")) == STATE_PRECREE)
		return "(aucun : compte jamais notifié)";
	return "(aucun)";
}

/* The head of the card: one field a line. */
static void
card_fields(struct card *c, const json_t *show)
{
	const json_t		*d = json_object_get(show, "dates");
	const struct state_info	*st = state_of_row(show);
	const char		*civility = card_str(show, "civility");
	char			*guardian;

	xasprintf(&guardian, "%s%s%s", civility != NULL ? civility : "",
	    civility != NULL ? " " : "", card_str(show, "guardian") != NULL ?
	    card_str(show, "guardian") : "");
	card_add(c, "Responsable", guardian);
	card_field(c, "Identifiant", card_str(show, "login"));
	c->state = c->nlines;
	card_add(c, "État", xstrdup(st != NULL ? st->label :
	    card_str(show, "state") != NULL ? card_str(show, "state") : ""));
	if (!json_is_true(json_object_get(show, "eligible")))
		card_add(c, "Non éligible", xstrdup(card_str(show,
		    "reason") != NULL ? card_str(show, "reason") :
		    "(raison non précisée)"));
	card_field(c, "Mot de passe", card_password(show));
	card_field_if(c, "Valable jusqu'au", card_str(d, "expires"));
	card_field(c, "Courriel", card_str(show, "email"));
	card_field_if(c, "Téléphone", card_str(show, "phone"));
	card_field(c, "Créé le", card_str(d, "created"));
	card_field_if(c, "1re connexion", card_str(d, "first_login"));
	card_field_if(c, "Activé le", card_str(d, "activated"));
	card_field_if(c, "Dernier accès", card_str(d, "last_access"));
}

/* One child: name, class, birth date, school, and why it gives no
 * account when it does not. */
static void
card_child(struct card *c, const json_t *x)
{
	const char	*class = card_str(x, "class");
	const char	*born = card_str(x, "birth_date");
	const char	*school = card_str(x, "school_name");
	const char	*reason = card_str(x, "reason");
	struct buf	 b;

	buf_init(&b);
	buf_printf(&b, "%s, ", card_str(x, "name"));
	if (class != NULL)
		buf_printf(&b, "classe %s", class);
	else
		buf_add_str(&b, "sans classe");
	if (born != NULL)
		buf_printf(&b, ", né·e le %s", born);
	if (school != NULL)
		buf_printf(&b, " — %s", school);
	if (reason != NULL)
		buf_printf(&b, " — %s", reason);
	card_add(c, NULL, xstrdup(buf_cstr(&b)));
	buf_free(&b);
}

/* One event: when, what, the change of state if any, who and how. */
static void
card_event(struct card *c, const json_t *x)
{
	const char	*from = card_str(x, "from"), *to = card_str(x, "to");
	const char	*detail = card_str(x, "detail");
	struct buf	 b;

	buf_init(&b);
	buf_printf(&b, "%s  %s", card_str(x, "at"), card_str(x, "label"));
	if (to != NULL && (from == NULL || strcmp(from, to) != 0))
		buf_printf(&b, " (%s%s%s)", from != NULL ? from : "",
		    from != NULL ? " → " : "→ ", to);
	buf_printf(&b, "  [%s, %s]", card_str(x, "actor"),
	    card_str(x, "channel"));
	if (detail != NULL)
		buf_printf(&b, " — %s", detail);
	card_add(c, NULL, xstrdup(buf_cstr(&b)));
	buf_free(&b);
}

/* A string member, "" when absent. */
static const char *
card_str0(const json_t *o, const char *key)
{
	const char	*s = card_str(o, key);

	return s != NULL ? s : "";
}

/* A mail of the outbox: when, what, to whom, and how it went. */
static void
card_mail(struct card *c, const json_t *x)
{
	static const char *const kinds[][2] = {
		{ "notification", "Notification" },
		{ "activation", "Lien d'activation" },
		{ "forgot_login", "Identifiant oublié" },
		{ "forgot_password", "Mot de passe oublié" },
		{ "email_change", "Confirmation d'adresse" },
	};
	const char	*kind = card_str0(x, "kind"), *status;
	char		 how[512];
	size_t		 i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strcmp(kinds[i][0], kind) == 0)
			kind = kinds[i][1];
	}
	status = card_str0(x, "status");
	if (strcmp(status, "sent") == 0)
		snprintf(how, sizeof how, "envoyé le %s", card_str0(x, "sent"));
	else if (strcmp(status, "failed") == 0)
		snprintf(how, sizeof how, "EN ÉCHEC le %s (%s)",
		    card_str0(x, "failed"), card_str0(x, "error"));
	else
		snprintf(how, sizeof how, "en attente (%lld tentative%s)",
		    (long long)json_integer_value(json_object_get(x,
		    "attempts")), json_integer_value(json_object_get(x,
		    "attempts")) > 1 ? "s" : "");
	card_entry(c, "%s  %s à %s, %s", card_str0(x, "queued"), kind,
	    card_str0(x, "to"), how);
}

/* A letter handed over: when, what, by whom. */
static void
card_letter(struct card *c, const json_t *x)
{
	card_entry(c, "%s  %s (par %s)", card_str(x, "at"), card_str(x,
	    "kind"), card_str(x, "by"));
}

/* A titled section, an entry an item of the list, or "(aucun)". */
static void
card_section(struct card *c, const char *title, const json_t *list,
    void (*entry)(struct card *, const json_t *))
{
	const json_t	*x;
	size_t		 i;

	card_add(c, title, NULL);
	json_array_foreach(list, i, x)
		entry(c, x);
	if (json_array_size(list) == 0)
		card_entry(c, "%s", "(aucun)");
}

void
card_build(struct card *c, const json_t *show)
{
	memset(c, 0, sizeof *c);
	card_fields(c, show);
	card_section(c, "Enfants", json_object_get(show, "children"),
	    card_child);
	card_section(c, "Courriers remis", json_object_get(show, "letters"),
	    card_letter);
	/* From a server that sends mail: what went to this account. */
	if (json_object_get(show, "mails") != NULL)
		card_section(c, "Courriels", json_object_get(show, "mails"),
		    card_mail);
	card_section(c, "Historique", json_object_get(show, "events"),
	    card_event);
}

void
card_free(struct card *c)
{
	size_t	i;

	for (i = 0; i < c->nlines; i++)
		free(c->lines[i].value);
	free(c->lines);
	memset(c, 0, sizeof *c);
}

char **
card_text(const struct card *c, size_t *nlines, size_t *state)
{
	const struct card_line	*l;
	char			**text, *label;
	size_t			 i, n = 0;

	/* At most one blank line more than lines: before each section. */
	text = xreallocarray(NULL, 2 * c->nlines + 1, sizeof *text);
	*state = 0;
	for (i = 0; i < c->nlines; i++) {
		l = &c->lines[i];
		if (i == c->state)
			*state = n;
		if (l->value == NULL) {
			text[n++] = xstrdup("");
			text[n++] = xstrdup(l->label);
		} else if (l->label == NULL)
			xasprintf(&text[n++], "  %s", l->value);
		else {
			/* printf pads bytes, not cells: "État" needs
			 * utf8_fit. */
			label = utf8_fit(l->label, CARD_LABEL_WIDTH, 0);
			xasprintf(&text[n++], "%s %s", label, l->value);
			free(label);
		}
	}
	*nlines = n;
	return text;
}

void
card_text_free(char **text, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(text[i]);
	free(text);
}
