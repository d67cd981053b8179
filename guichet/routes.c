/*
 * The pages of the guichet, one function per method and path: read the
 * form, call ecadmd, draw the answer. ecadmd decides everything (who may
 * log in, the birth date, the password policy, the throttles); the
 * guichet only carries the parent's words to it and its French answers
 * back, a field's error next to that field.
 *
 * The pages that receive an address or a login ("forgot" and "resend")
 * answer the same whether it exists or not, so they cannot be used to
 * learn who has an account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guichet.h"
#include "log.h"
#include "rpc.h"
#include "xmalloc.h"

#define TITLE_LOGIN	"Première connexion"

/* The argument names of ecadmd and the fields of our forms. */
static const struct {
	const char	*arg;
	const char	*field;
} field_names[] = {
	{ "login", "identifiant" },
	{ "password", "mot_de_passe" },
	{ "new_password", "nouveau_mot_de_passe" },
	{ "confirmation", "confirmation" },
	{ "email", "courriel" },
	{ "birth_date", "date_naissance" },
	{ "current", "mot_de_passe_actuel" },
};

static const struct page_field login_fields[] = {
	{ "identifiant", "Identifiant", "text", "username",
	    "Il figure sur la feuille remise par l'école (ex. : a.martin12)." },
	{ "mot_de_passe", "Mot de passe", "password", "current-password",
	    "Le mot de passe provisoire de la feuille, ou celui que vous avez "
	    "choisi." },
};

static const struct page_field activation_fields[] = {
	{ "nouveau_mot_de_passe", "Nouveau mot de passe", "password",
	    "new-password", "De 8 à 14 caractères, avec des lettres et des "
	    "chiffres." },
	{ "confirmation", "Confirmation du mot de passe", "password",
	    "new-password", NULL },
	{ "courriel", "Adresse électronique", "email", "email",
	    "Le lien d'activation y sera envoyé." },
	{ "date_naissance", "Date de naissance de l'enfant", "text", "off",
	    "Au format JJ/MM/AAAA, par exemple 04/09/2019." },
};

static const struct page_field password_fields[] = {
	{ "mot_de_passe_actuel", "Mot de passe actuel", "password",
	    "current-password", NULL },
	{ "nouveau_mot_de_passe", "Nouveau mot de passe", "password",
	    "new-password", "De 8 à 14 caractères, avec des lettres et des "
	    "chiffres." },
	{ "confirmation", "Confirmation du nouveau mot de passe", "password",
	    "new-password", NULL },
};

static const struct page_field email_fields[] = {
	{ "courriel", "Nouvelle adresse électronique", "email", "email",
	    "Un lien de confirmation y sera envoyé." },
};

static const struct page_field resend_fields[] = {
	{ "identifiant", "Identifiant", "text", "username", NULL },
};

static const struct page_field forgot_login_fields[] = {
	{ "courriel", "Adresse électronique", "email", "email",
	    "Celle que vous avez donnée en activant votre compte." },
};

static const struct page_field forgot_password_fields[] = {
	{ "identifiant", "Identifiant", "text", "username", NULL },
	{ "courriel", "Adresse électronique", "email", "email", NULL },
};

static const struct page_field reset_fields[] = {
	{ "nouveau_mot_de_passe", "Nouveau mot de passe", "password",
	    "new-password", "De 8 à 14 caractères, avec des lettres et des "
	    "chiffres." },
	{ "confirmation", "Confirmation du mot de passe", "password",
	    "new-password", NULL },
};

#define NITEMS(a)	(sizeof (a) / sizeof (a)[0])

static const char *
form_value(struct gx *gx, const char *name)
{
	const char	*v = form_get(&gx->form, name);

	return v != NULL ? v : "";
}

/* A string member of an object, or "". */
static const char *
json_text(const json_t *o, const char *name)
{
	const char	*s = json_string_value(json_object_get(o, name));

	return s != NULL ? s : "";
}

static void
unavailable(struct gx *gx)
{
	page_message(gx, 503, "Service indisponible",
	    "Le service est momentanément indisponible. Réessayez dans "
	    "quelques minutes.", "/", "Revenir à l'accueil");
}

/* An error of ecadmd as form errors: its details go next to their fields
 * (the checks of E_INVALID, a wrong birth date of E_AUTH), anything else
 * above the form. */
static void
reply_errors(const struct rpc_reply *r, struct form_errors *e)
{
	const json_t	*d;
	const char	*arg, *text;
	size_t		 i, j;

	if (json_is_array(r->details) && json_array_size(r->details) > 0) {
		json_array_foreach(r->details, i, d) {
			arg = json_string_value(json_object_get(d, "field"));
			text = json_string_value(json_object_get(d, "text"));
			if (text == NULL)
				continue;
			for (j = 0; arg != NULL && j < NITEMS(field_names); j++)
				if (strcmp(field_names[j].arg, arg) == 0)
					break;
			/* A detail about no field of ours (the token of a
			 * link) is said by the message. */
			if (arg != NULL && j < NITEMS(field_names))
				form_errors_add(e, field_names[j].field, text);
			else
				form_errors_add(e, NULL, r->message != NULL ?
				    r->message : text);
		}
		if (e->n > 0 && e->general == NULL)
			form_errors_add(e, NULL, "Le formulaire contient des "
			    "erreurs : corrigez les champs signalés.");
		return;
	}
	form_errors_add(e, NULL, r->message != NULL ? r->message :
	    "La demande a été refusée.");
}

/* Whether an error's details are about the link's token. */
static int
reply_about_token(const struct rpc_reply *r)
{
	const json_t	*d;
	const char	*field;
	size_t		 i;

	json_array_foreach(r->details, i, d) {
		field = json_string_value(json_object_get(d, "field"));
		if (field != NULL && strcmp(field, "token") == 0)
			return 1;
	}
	return 0;
}

/* GET / and a failed POST /connexion. */
static void
page_login(struct gx *gx, const struct form_errors *e)
{
	const char	*values[] = { form_get(&gx->form, "identifiant"), NULL };

	page_begin(gx, TITLE_LOGIN);
	page_paragraph(gx, "Connectez-vous avec l'identifiant et le mot de "
	    "passe provisoire de la feuille remise par l'école.");
	page_form(gx, "/connexion", login_fields, NITEMS(login_fields),
	    values, e, "Se connecter", NULL);
	buf_add_str(&gx->body, "<ul class=\"links\">\n"
	    "<li><a href=\"/identifiant-oublie\">Identifiant oublié</a></li>\n"
	    "<li><a href=\"/mot-de-passe-oublie\">Mot de passe oublié</a>"
	    "</li>\n</ul>\n");
	page_end(gx);
}

static void
route_home(struct gx *gx)
{
	page_login(gx, NULL);
}

/* The child named on the activation form: "Léa MARTIN (CP, École …)". */
static char *
child_sentence(const json_t *result)
{
	const json_t	*child;
	char		*s, *name;
	const char	*class, *school;

	child = json_object_get(result, "child");
	xasprintf(&name, "%s%s%s", json_text(child, "first_name"),
	    *json_text(child, "first_name") != '\0' ? " " : "",
	    json_text(child, "name"));
	class = json_text(child, "class");
	school = json_text(child, "school");
	if (*class != '\0' && *school != '\0')
		xasprintf(&s, "%s (%s, %s)", name, class, school);
	else if (*class != '\0' || *school != '\0')
		xasprintf(&s, "%s (%s)", name, *class != '\0' ? class : school);
	else
		s = xstrdup(name);
	free(name);
	return s;
}

static void
page_activation(struct gx *gx, const char *child, const char *email,
    const struct form_errors *e)
{
	const char	*values[] = { NULL, NULL, email,
			    form_get(&gx->form, "date_naissance") };
	const char	*hidden[] = { "enfant", child, NULL };
	char		*text;

	page_begin(gx, "Activer votre compte");
	page_paragraph(gx, "Choisissez votre mot de passe et indiquez votre "
	    "adresse électronique.");
	xasprintf(&text, "Pour vérifier votre identité, indiquez la date de "
	    "naissance de %s.", child);
	page_paragraph(gx, text);
	free(text);
	page_form(gx, "/activation", activation_fields,
	    NITEMS(activation_fields), values, e, "Activer mon compte", hidden);
	page_end(gx);
}

/* POST /connexion: ecadmd checks the login; the session it opens goes in
 * the cookie, and the next form is bound to it. */
static void
route_login(struct gx *gx)
{
	struct form_errors	 e = { 0 };
	struct rpc_reply	*r;
	const char		*session, *stage;
	char			*child;

	r = backend_call(OP_GUARDIAN_LOGIN, json_pack("{s:s, s:s, s:s}",
	    "login", form_value(gx, "identifiant"),
	    "password", form_value(gx, "mot_de_passe"), "addr", gx->addr));
	if (r == NULL) {
		unavailable(gx);
		return;
	}
	session = json_text(r->result, "session");
	if (!r->ok || *session == '\0') {
		if (r->ok)
			form_errors_add(&e, NULL, "Réponse inattendue du "
			    "serveur.");
		else
			reply_errors(r, &e);
		gx->status = r->ok ? 502 : 200;
		page_login(gx, &e);
		form_errors_free(&e);
		rpc_reply_free(r);
		return;
	}
	gx->set_session = xstrdup(session);
	gx->session = gx->set_session;
	free(gx->binding);
	gx->binding = NULL;
	stage = json_text(r->result, "stage");
	if (strcmp(stage, "activation") == 0) {
		child = child_sentence(r->result);
		page_activation(gx, child, json_text(r->result, "email"), NULL);
		free(child);
	} else
		gx_redirect(gx, "/compte");
	rpc_reply_free(r);
}

/* POST /activation. */
static void
route_activation(struct gx *gx)
{
	struct form_errors	 e = { 0 };
	struct rpc_reply	*r;
	char			*text;

	if (gx->session == NULL) {
		gx_redirect(gx, "/");
		return;
	}
	r = backend_call(OP_GUARDIAN_ACTIVATE, json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s}", "session", gx->session,
	    "new_password", form_value(gx, "nouveau_mot_de_passe"),
	    "confirmation", form_value(gx, "confirmation"),
	    "email", form_value(gx, "courriel"),
	    "birth_date", form_value(gx, "date_naissance"), "addr", gx->addr));
	if (r == NULL) {
		unavailable(gx);
		return;
	}
	if (!r->ok) {
		reply_errors(r, &e);
		page_activation(gx, form_value(gx, "enfant"),
		    form_get(&gx->form, "courriel"), &e);
		form_errors_free(&e);
		rpc_reply_free(r);
		return;
	}
	xasprintf(&text, "Un courriel vous a été envoyé à %s : cliquez sur le "
	    "lien qu'il contient pour activer votre compte.",
	    *json_text(r->result, "email") != '\0' ?
	    json_text(r->result, "email") : form_value(gx, "courriel"));
	page_message(gx, 200, "Vérifiez votre messagerie", text, NULL, NULL);
	free(text);
	rpc_reply_free(r);
}

static void
page_resend(struct gx *gx, const char *why, const struct form_errors *e)
{
	page_begin(gx, "Lien d'activation");
	if (why != NULL)
		page_error_box(gx, why);
	page_paragraph(gx, "Vous pouvez demander un nouveau lien : il sera "
	    "envoyé à l'adresse électronique donnée lors de la première "
	    "connexion.");
	page_form(gx, "/renvoyer", resend_fields, NITEMS(resend_fields), NULL,
	    e, "Recevoir un nouveau lien", NULL);
	page_end(gx);
}

/* GET /confirmer?jeton=: the link of the activation mail. */
static void
route_confirm(struct gx *gx)
{
	struct rpc_reply	*r;
	const char		*token = gx_query(gx, "jeton");

	if (token == NULL || *token == '\0') {
		gx->status = 400;
		page_resend(gx, "Ce lien est incomplet.", NULL);
		return;
	}
	r = backend_call(OP_GUARDIAN_CONFIRM, json_pack("{s:s}", "token",
	    token));
	if (r == NULL) {
		unavailable(gx);
		return;
	}
	if (r->ok)
		page_message(gx, 200, "Votre compte est activé",
		    "Votre compte est activé : vous pouvez maintenant vous "
		    "connecter avec votre identifiant et le mot de passe que "
		    "vous avez choisi.", "/", "Se connecter");
	else
		page_resend(gx, r->message, NULL);
	rpc_reply_free(r);
}

/* POST /renvoyer. */
static void
route_resend(struct gx *gx)
{
	struct rpc_reply	*r;

	r = backend_call(OP_GUARDIAN_RESEND, json_pack("{s:s, s:s}", "login",
	    form_value(gx, "identifiant"), "addr", gx->addr));
	if (r == NULL) {
		unavailable(gx);
		return;
	}
	if (!r->ok && r->error == E_BUSY)
		page_resend(gx, r->message, NULL);
	else
		page_message(gx, 200, "Lien envoyé", "Si ce compte attend son "
		    "activation, un nouveau lien a été envoyé à son adresse "
		    "électronique. Il remplace les précédents.", "/",
		    "Revenir à l'accueil");
	rpc_reply_free(r);
}

/* The account page; pw and em are the errors of its two forms. */
static void
page_account(struct gx *gx, const json_t *account, const char *notice,
    const struct form_errors *pw, const struct form_errors *em)
{
	const json_t	*children, *c;
	size_t		 i;

	page_begin(gx, "Mon compte");
	if (notice != NULL)
		page_notice(gx, notice);
	buf_add_str(&gx->body, "<dl>\n<dt>Identifiant</dt><dd>");
	html_escape(&gx->body, json_text(account, "login"));
	buf_add_str(&gx->body, "</dd>\n<dt>Adresse électronique</dt><dd>");
	html_escape(&gx->body, json_text(account, "email"));
	buf_add_str(&gx->body, "</dd>\n</dl>\n");
	page_heading(gx, "Mes enfants");
	children = json_object_get(account, "children");
	buf_add_str(&gx->body, "<ul>\n");
	json_array_foreach(children, i, c) {
		buf_add_str(&gx->body, "<li>");
		html_escape(&gx->body, json_text(c, "name"));
		buf_add_str(&gx->body, " – ");
		html_escape(&gx->body, json_text(c, "class"));
		buf_add_str(&gx->body, ", ");
		html_escape(&gx->body, json_text(c, "school"));
		buf_add_str(&gx->body, "</li>\n");
	}
	buf_add_str(&gx->body, "</ul>\n");
	page_heading(gx, "Changer de mot de passe");
	page_form(gx, "/compte/mot-de-passe", password_fields,
	    NITEMS(password_fields), NULL, pw, "Changer le mot de passe", NULL);
	page_heading(gx, "Changer d'adresse électronique");
	page_form(gx, "/compte/courriel", email_fields, NITEMS(email_fields),
	    NULL, em, "Changer l'adresse", NULL);
	page_form(gx, "/deconnexion", NULL, 0, NULL, NULL, "Se déconnecter",
	    NULL);
	page_end(gx);
}

/* The account of the session, or NULL with the page already drawn (the
 * login page when the session is over). */
static struct rpc_reply *
account_get(struct gx *gx)
{
	struct rpc_reply	*r;

	if (gx->session == NULL) {
		gx_redirect(gx, "/");
		return NULL;
	}
	r = backend_call(OP_GUARDIAN_ACCOUNT, json_pack("{s:s}", "session",
	    gx->session));
	if (r == NULL) {
		unavailable(gx);
		return NULL;
	}
	if (!r->ok) {
		gx->clear_session = 1;
		gx->session = NULL;
		page_message(gx, r->error == E_AUTH ? 200 : 403,
		    "Session terminée", r->message != NULL ? r->message :
		    "Votre session est terminée.", "/", "Se connecter");
		rpc_reply_free(r);
		return NULL;
	}
	return r;
}

/* GET /compte; ?fait= says which change just succeeded. */
static void
route_account(struct gx *gx)
{
	struct rpc_reply	*r;
	const char		*done = gx_query(gx, "fait"), *notice = NULL;

	if ((r = account_get(gx)) == NULL)
		return;
	if (done != NULL && strcmp(done, "mot-de-passe") == 0)
		notice = "Votre mot de passe a été changé.";
	else if (done != NULL && strcmp(done, "courriel") == 0)
		notice = "Un courriel de confirmation a été envoyé à la "
		    "nouvelle adresse : cliquez sur son lien pour qu'elle "
		    "remplace l'ancienne.";
	page_account(gx, r->result, notice, NULL, NULL);
	rpc_reply_free(r);
}

/* POST /compte/mot-de-passe and /compte/courriel: one change, then back
 * to the account page (a redirect, so reloading does not post again). */
static void
route_account_change(struct gx *gx, int email)
{
	struct form_errors	 e = { 0 };
	struct rpc_reply	*r, *account;

	if (gx->session == NULL) {
		gx_redirect(gx, "/");
		return;
	}
	if (email)
		r = backend_call(OP_GUARDIAN_EMAIL, json_pack("{s:s, s:s}",
		    "session", gx->session, "email",
		    form_value(gx, "courriel")));
	else
		r = backend_call(OP_GUARDIAN_PASSWORD, json_pack(
		    "{s:s, s:s, s:s, s:s}", "session", gx->session,
		    "current", form_value(gx, "mot_de_passe_actuel"),
		    "new_password", form_value(gx, "nouveau_mot_de_passe"),
		    "confirmation", form_value(gx, "confirmation")));
	if (r == NULL) {
		unavailable(gx);
		return;
	}
	if (r->ok) {
		gx_redirect(gx, email ? "/compte?fait=courriel" :
		    "/compte?fait=mot-de-passe");
		rpc_reply_free(r);
		return;
	}
	reply_errors(r, &e);
	rpc_reply_free(r);
	if ((account = account_get(gx)) != NULL) {
		page_account(gx, account->result, NULL, email ? NULL : &e,
		    email ? &e : NULL);
		rpc_reply_free(account);
	}
	form_errors_free(&e);
}

static void
route_account_password(struct gx *gx)
{
	route_account_change(gx, 0);
}

static void
route_account_email(struct gx *gx)
{
	route_account_change(gx, 1);
}

/* GET /confirmer-courriel?jeton=: the link sent to a new address. */
static void
route_email_confirm(struct gx *gx)
{
	struct rpc_reply	*r;
	const char		*token = gx_query(gx, "jeton");

	r = backend_call(OP_GUARDIAN_EMAIL_CONFIRM, json_pack("{s:s}", "token",
	    token != NULL ? token : ""));
	if (r == NULL) {
		unavailable(gx);
		return;
	}
	if (r->ok)
		page_message(gx, 200, "Adresse confirmée", "Votre nouvelle "
		    "adresse électronique est enregistrée.", "/compte",
		    "Mon compte");
	else
		page_message(gx, 200, "Lien non valable", r->message, "/compte",
		    "Mon compte");
	rpc_reply_free(r);
}

/* POST /deconnexion. */
static void
route_logout(struct gx *gx)
{
	struct rpc_reply	*r;

	if (gx->session != NULL &&
	    (r = backend_call(OP_GUARDIAN_LOGOUT, json_pack("{s:s}",
	    "session", gx->session))) != NULL)
		rpc_reply_free(r);
	gx->clear_session = 1;
	gx_redirect(gx, "/");
}

static void
page_forgot_login(struct gx *gx, const struct form_errors *e)
{
	const char	*values[] = { form_get(&gx->form, "courriel") };

	page_begin(gx, "Identifiant oublié");
	page_paragraph(gx, "Indiquez l'adresse électronique de votre compte : "
	    "votre identifiant vous sera envoyé.");
	page_form(gx, "/identifiant-oublie", forgot_login_fields,
	    NITEMS(forgot_login_fields), values, e, "Recevoir mon identifiant",
	    NULL);
	page_link(gx, "/", "Revenir à la connexion");
	page_end(gx);
}

static void
page_forgot_password(struct gx *gx, const struct form_errors *e)
{
	const char	*values[] = { form_get(&gx->form, "identifiant"),
			    form_get(&gx->form, "courriel") };

	page_begin(gx, "Mot de passe oublié");
	page_paragraph(gx, "Indiquez votre identifiant et l'adresse "
	    "électronique de votre compte : un lien pour choisir un nouveau "
	    "mot de passe vous sera envoyé.");
	page_form(gx, "/mot-de-passe-oublie", forgot_password_fields,
	    NITEMS(forgot_password_fields), values, e, "Recevoir le lien",
	    NULL);
	page_link(gx, "/", "Revenir à la connexion");
	page_end(gx);
}

/* After a "forgot" form: the same words whatever exists. Only a malformed
 * field or a throttle is said. */
static void
forgot_answer(struct gx *gx, struct rpc_reply *r, int login)
{
	struct form_errors	 e = { 0 };

	if (!r->ok && r->error == E_INTERNAL) {
		unavailable(gx);
		return;
	}
	if (!r->ok && (r->error == E_BUSY || (r->error == E_INVALID &&
	    json_array_size(r->details) > 0))) {
		reply_errors(r, &e);
		if (login)
			page_forgot_login(gx, &e);
		else
			page_forgot_password(gx, &e);
		form_errors_free(&e);
		return;
	}
	page_message(gx, 200, "Demande enregistrée", login ?
	    "Si cette adresse est celle d'un compte, un courriel contenant "
	    "l'identifiant vient d'y être envoyé." :
	    "Si cet identifiant et cette adresse correspondent à un compte, "
	    "un courriel contenant un lien pour choisir un nouveau mot de "
	    "passe vient d'y être envoyé.", "/", "Revenir à la connexion");
}

static void
route_forgot_login(struct gx *gx)
{
	struct rpc_reply	*r;

	if (strcmp(gx->method, "POST") != 0) {
		page_forgot_login(gx, NULL);
		return;
	}
	r = backend_call(OP_GUARDIAN_FORGOT_LOGIN, json_pack("{s:s, s:s}",
	    "email", form_value(gx, "courriel"), "addr", gx->addr));
	if (r == NULL) {
		unavailable(gx);
		return;
	}
	forgot_answer(gx, r, 1);
	rpc_reply_free(r);
}

static void
route_forgot_password(struct gx *gx)
{
	struct rpc_reply	*r;

	if (strcmp(gx->method, "POST") != 0) {
		page_forgot_password(gx, NULL);
		return;
	}
	r = backend_call(OP_GUARDIAN_FORGOT_PASSWORD, json_pack(
	    "{s:s, s:s, s:s}", "login", form_value(gx, "identifiant"),
	    "email", form_value(gx, "courriel"), "addr", gx->addr));
	if (r == NULL) {
		unavailable(gx);
		return;
	}
	forgot_answer(gx, r, 0);
	rpc_reply_free(r);
}

static void
page_reset(struct gx *gx, const char *token, const struct form_errors *e)
{
	const char	*hidden[] = { "jeton", token, NULL };

	page_begin(gx, "Nouveau mot de passe");
	page_form(gx, "/mot-de-passe", reset_fields, NITEMS(reset_fields),
	    NULL, e, "Enregistrer", hidden);
	page_end(gx);
}

/* GET/POST /mot-de-passe: the link of the "forgot password" mail. */
static void
route_reset(struct gx *gx)
{
	struct form_errors	 e = { 0 };
	struct rpc_reply	*r;
	const char		*token;

	if (strcmp(gx->method, "POST") != 0) {
		token = gx_query(gx, "jeton");
		page_reset(gx, token != NULL ? token : "", NULL);
		return;
	}
	token = form_value(gx, "jeton");
	r = backend_call(OP_GUARDIAN_RESET_PASSWORD, json_pack(
	    "{s:s, s:s, s:s}", "token", token,
	    "new_password", form_value(gx, "nouveau_mot_de_passe"),
	    "confirmation", form_value(gx, "confirmation")));
	if (r == NULL) {
		unavailable(gx);
		return;
	}
	if (r->ok)
		page_message(gx, 200, "Mot de passe changé", "Votre nouveau mot "
		    "de passe est enregistré.", "/", "Se connecter");
	else if (r->error == E_INVALID && json_array_size(r->details) > 0 &&
	    !reply_about_token(r)) {
		reply_errors(r, &e);
		page_reset(gx, token, &e);
		form_errors_free(&e);
	} else
		page_message(gx, 200, "Lien non valable", r->message,
		    "/mot-de-passe-oublie", "Demander un nouveau lien");
	rpc_reply_free(r);
}

static void
route_style(struct gx *gx)
{
	page_style(gx);
}

static const struct {
	const char	*method;	/* NULL: GET and POST */
	const char	*path;
	void		(*fn)(struct gx *);
} routes[] = {
	{ "GET", "/", route_home },
	{ "GET", "/style.css", route_style },
	{ "POST", "/connexion", route_login },
	{ "POST", "/activation", route_activation },
	{ "GET", "/confirmer", route_confirm },
	{ "POST", "/renvoyer", route_resend },
	{ "GET", "/compte", route_account },
	{ "POST", "/compte/mot-de-passe", route_account_password },
	{ "POST", "/compte/courriel", route_account_email },
	{ "GET", "/confirmer-courriel", route_email_confirm },
	{ "POST", "/deconnexion", route_logout },
	{ NULL, "/identifiant-oublie", route_forgot_login },
	{ NULL, "/mot-de-passe-oublie", route_forgot_password },
	{ NULL, "/mot-de-passe", route_reset },
};

/* HEAD is GET without the body (libmicrohttpd drops it). */
void
route(struct gx *gx)
{
	const char	*method;
	size_t		 i;
	int		 path_known = 0;

	method = strcmp(gx->method, "HEAD") == 0 ? "GET" : gx->method;
	for (i = 0; i < NITEMS(routes); i++) {
		if (strcmp(routes[i].path, gx->path) != 0)
			continue;
		path_known = 1;
		if (routes[i].method == NULL ||
		    strcmp(routes[i].method, method) == 0) {
			routes[i].fn(gx);
			return;
		}
	}
	if (path_known && strcmp(method, "GET") == 0) {
		/* A form's address opened directly: back to the start. */
		gx_redirect(gx, "/");
		return;
	}
	page_message(gx, path_known ? 405 : 404, path_known ?
	    "Méthode non prise en charge" : "Page introuvable",
	    "Cette page n'existe pas.", "/", "Revenir à l'accueil");
}
