/* Small text helpers shared by the handlers. */
#include <string.h>

#include "server.h"
#include "state.h"
#include "xmalloc.h"

char *
person_name(const char *last, const char *first)
{
	char	*s;

	if (first == NULL || *first == '\0')
		return xstrdup(last != NULL ? last : "");
	xasprintf(&s, "%s %s", last != NULL ? last : "", first);
	return s;
}

const char *
action_label(const char *action)
{
	static const struct {
		const char	*code;
		const char	*label;
	} labels[] = {
		{ "create", "Compte pré-créé" },
		{ "notify_paper", "Feuille de notification remise" },
		{ "reminder_paper", "Rappel d'identifiant remis" },
		{ "notify_email", "Notification envoyée par courriel" },
		{ "reminder_email", "Rappel d'identifiant envoyé par courriel" },
		{ "reset", "Mot de passe réinitialisé" },
		{ "deactivate", "Compte désactivé" },
		{ "reactivate", "Compte réactivé" },
		{ "import", "Import ONDE" },
		{ "document_notification", "Feuilles de notification éditées" },
		{ "document_reset", "Feuille de réinitialisation éditée" },
		{ "document_list", "Liste des responsables éditée" },
		{ "staff_add", "Compte du personnel créé" },
		{ "staff_disable", "Compte du personnel désactivé" },
		{ "staff_set_key", "Clé SSH ajoutée" },
		{ "staff_remove_key", "Clé SSH retirée" },
		{ "staff_totp", "Double authentification (TOTP) activée" },
		{ "staff_totp_remove", "Double authentification (TOTP) retirée" },
		{ "guardian_login", "Connexion au guichet" },
		{ "birth_date_failed", "Date de naissance erronée au guichet" },
		{ "activate", "Première connexion : activation demandée" },
		{ "activation_confirmed", "Adresse confirmée, compte activé" },
		{ "resend_activation", "Lien d'activation renvoyé" },
		{ "set_email", "Adresse électronique modifiée" },
		{ "email_change_requested", "Changement d'adresse demandé" },
		{ "email_change", "Nouvelle adresse confirmée" },
		{ "password_change", "Mot de passe changé au guichet" },
		{ "password_reset", "Mot de passe oublié : nouveau choisi" },
		{ "forgot_login", "Identifiant oublié : rappel envoyé" },
		{ "forgot_password", "Mot de passe oublié : lien envoyé" },
		{ "sql", "Modification directe en base" },
	};
	size_t	i;

	for (i = 0; i < sizeof labels / sizeof labels[0]; i++) {
		if (strcmp(labels[i].code, action) == 0)
			return labels[i].label;
	}
	return action;
}

const char *
state_label(const char *code)
{
	const struct state_info	*s = state_shown(code, 0);

	return s != NULL ? s->label : code;
}
