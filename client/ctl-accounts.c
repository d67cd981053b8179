/*
 * ecadmctl commands on guardians' accounts: notify them, list them, reset
 * a password, show an account's card. The first three receive a document
 * carrying passwords: its name is checked before the server does the work
 * (a notification whose sheets cannot be saved would have to be printed
 * again), and it is saved by settings_write_document() (mode 0600, no
 * link followed, renamed into place once whole), as ecadm saves its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "card.h"
#include "ctl.h"

/* Write a received document (settings_write_document: mode 0600, no
 * link followed, renamed into place once whole). */
static int
write_document(const char *path, const struct rpc_reply *r)
{
	char	*cause;

	if (r->blob == NULL) {
		fprintf(stderr, "ecadmctl : le serveur n'a pas envoyé de "
		    "document\n");
		return -1;
	}
	if (settings_write_document(path, r->blob, r->blob_len,
	    &cause) == -1) {
		fprintf(stderr, "ecadmctl : %s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Refuse an output name before the server does the work (a notification
 * whose sheets cannot be saved would have to be printed again). */
static int
check_document(const char *path)
{
	char	*cause;

	if (settings_document_check(path, &cause) == 0)
		return 0;
	fprintf(stderr, "ecadmctl : %s\n", cause);
	free(cause);
	return -1;
}

/* --class, --login, --all: the selection of notify and list. */
struct selection {
	json_t	*classes;
	json_t	*logins;
	int	 all;
};

/* Put the selection into the request (everything, when none was given
 * and default_all), and drop it. */
static void
selection_args(struct selection *sel, json_t *args, int default_all)
{
	if (json_array_size(sel->classes) > 0)
		json_object_set(args, "classes", sel->classes);
	else if (json_array_size(sel->logins) > 0)
		json_object_set(args, "logins", sel->logins);
	else if (sel->all || default_all)
		json_object_set_new(args, "all", json_true());
	json_decref(sel->classes);
	json_decref(sel->logins);
}

/* notify --paper: notify accounts and save their sheets. */
int
cmd_notify(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "paper", no_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "class", required_argument, NULL, 'c' },
		{ "login", required_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct selection	 sel = { json_array(), json_array(), 0 };
	struct rpc_reply	*r = NULL;
	const char		*out = NULL;
	json_t			*args = json_object(), *res, *x;
	size_t			 i, counts[3] = { 0, 0, 0 };
	int			 ch, paper = 0, status = 0, kinds;

	while ((ch = ctl_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'p':
			paper = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'c':
			json_array_append_new(sel.classes, json_string(optarg));
			break;
		case 'l':
			json_array_append_new(sel.logins, json_string(optarg));
			break;
		case 'a':
			sel.all = 1;
			break;
		default:
			ctl_usage_command();
		}
	}
	kinds = (json_array_size(sel.classes) > 0) +
	    (json_array_size(sel.logins) > 0) + sel.all;
	if (optind != argc || !paper || out == NULL || kinds != 1)
		ctl_usage_command();
	if (check_document(out) == -1) {
		json_decref(args);
		json_decref(sel.classes);
		json_decref(sel.logins);
		return EXIT_USAGE;
	}
	selection_args(&sel, args, 0);
	if ((res = ctl_call(ctl, OP_NOTIFY, args, &r)) == NULL)
		return EXIT_REFUSED;
	if (r->blob != NULL && write_document(out, r) == -1)
		status = EXIT_USAGE;
	if (ctl->s.json) {
		json_object_set_new(res, "file", r->blob != NULL ?
		    json_string(out) : json_null());
		ctl_print_json(res);
	} else {
		json_array_foreach(json_object_get(res, "notified"), i, x) {
			const char *k = jstr(x, "letter");

			counts[strcmp(k, "rappel") == 0 ? 2 :
			    strcmp(k, "réimpression") == 0 ? 1 : 0]++;
		}
		printf("%zu compte%s notifié%s : %zu nouveau%s mot%s de passe, "
		    "%zu réimpression%s, %zu rappel%s.\n",
		    json_array_size(json_object_get(res, "notified")),
		    json_array_size(json_object_get(res, "notified")) > 1 ?
		    "s" : "", json_array_size(json_object_get(res,
		    "notified")) > 1 ? "s" : "", counts[0], counts[0] > 1 ?
		    "x" : "", counts[0] > 1 ? "s" : "", counts[1],
		    counts[1] > 1 ? "s" : "", counts[2], counts[2] > 1 ? "s" :
		    "");
		if (r->blob != NULL)
			printf("Feuilles : %s (%lld pages)\n", out,
			    (long long)json_integer_value(json_object_get(res,
			    "pages")));
		if (json_array_size(json_object_get(res, "skipped")) > 0)
			printf("%zu ignoré%s :\n", json_array_size(
			    json_object_get(res, "skipped")), json_array_size(
			    json_object_get(res, "skipped")) > 1 ? "s" : "");
		json_array_foreach(json_object_get(res, "skipped"), i, x)
			printf("  %s%s%s%s : %s\n", jstr(x, "guardian") != NULL ?
			    jstr(x, "guardian") : "", jstr(x, "login") != NULL ?
			    " (" : "", jstr(x, "login") != NULL ? jstr(x,
			    "login") : "", jstr(x, "login") != NULL ? ")" : "",
			    jstr(x, "reason"));
	}
	rpc_reply_free(r);
	json_decref(res);
	return status;
}

/* list: the guardians with their logins and passwords, as PDF or
 * CSV. */
int
cmd_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "class", required_argument, NULL, 'c' },
		{ "login", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct selection	 sel = { json_array(), json_array(), 0 };
	struct rpc_reply	*r = NULL;
	const char		*out = NULL, *dot;
	json_t			*args = json_object(), *res;
	int			 ch, status = 0;

	while ((ch = ctl_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'c':
			json_array_append_new(sel.classes, json_string(optarg));
			break;
		case 'l':
			json_array_append_new(sel.logins, json_string(optarg));
			break;
		default:
			ctl_usage_command();
		}
	}
	if (optind != argc || out == NULL || (dot = strrchr(out, '.')) ==
	    NULL || (strcasecmp(dot, ".pdf") != 0 &&
	    strcasecmp(dot, ".csv") != 0)) {
		json_decref(args);
		json_decref(sel.classes);
		json_decref(sel.logins);
		ctl_usage_command();
	}
	if (check_document(out) == -1) {
		json_decref(args);
		json_decref(sel.classes);
		json_decref(sel.logins);
		return EXIT_USAGE;
	}
	json_object_set_new(args, "format", json_string(strcasecmp(dot,
	    ".csv") == 0 ? "csv" : "pdf"));
	selection_args(&sel, args, 1);
	if ((res = ctl_call(ctl, OP_LIST, args, &r)) == NULL)
		return EXIT_REFUSED;
	if (write_document(out, r) == -1)
		status = EXIT_USAGE;
	else if (ctl->s.json) {
		json_object_set_new(res, "file", json_string(out));
		ctl_print_json(res);
	} else
		printf("Liste : %s (%lld ligne%s)\n", out,
		    (long long)json_integer_value(json_object_get(res, "rows")),
		    json_integer_value(json_object_get(res, "rows")) > 1 ?
		    "s" : "");
	rpc_reply_free(r);
	json_decref(res);
	return status;
}

/* reset: a new provisional password and its sheet. */
int
cmd_reset(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct rpc_reply	*r = NULL;
	const char		*out = NULL;
	json_t			*res;
	int			 ch, status = 0;

	while ((ch = ctl_getopt(argc, argv, opts)) != -1) {
		if (ch != 'o')
			ctl_usage_command();
		out = optarg;
	}
	if (optind != argc - 1)
		ctl_usage_command();
	if (out != NULL && check_document(out) == -1)
		return EXIT_USAGE;
	if ((res = ctl_call(ctl, OP_RESET, json_pack("{s:s}", "login",
	    argv[optind]), &r)) == NULL)
		return EXIT_REFUSED;
	if (out == NULL)
		out = r->blob_name != NULL ? r->blob_name : "notification.pdf";
	if (write_document(out, r) == -1)
		status = EXIT_USAGE;
	else if (ctl->s.json) {
		json_object_set_new(res, "file", json_string(out));
		ctl_print_json(res);
	} else
		printf("Mot de passe de %s réinitialisé. Nouvelle feuille : "
		    "%s\n", argv[optind], out);
	rpc_reply_free(r);
	json_decref(res);
	return status;
}

/* show: the account card (card.c), as ecadm shows it. */
int
cmd_show(struct ctl *ctl, int argc, char **argv)
{
	struct card	 card;
	json_t		*res;
	char		**text;
	size_t		 i, n, state;

	if (argc != 2)
		ctl_usage_command();
	if ((res = ctl_call(ctl, OP_SHOW, json_pack("{s:s}", "login", argv[1]),
	    NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		ctl_print_json(res);
		json_decref(res);
		return 0;
	}
	card_build(&card, res);
	text = card_text(&card, &n, &state);
	for (i = 0; i < n; i++)
		puts(text[i]);
	card_text_free(text, n);
	card_free(&card);
	json_decref(res);
	return 0;
}

/* set-email: a guardian's address; a waiting account gets a new link. */
int
cmd_set_email(struct ctl *ctl, int argc, char **argv)
{
	json_t	*res;

	if (argc != 3)
		ctl_usage_command();
	if ((res = ctl_call(ctl, OP_SET_EMAIL, json_pack("{s:s, s:s}",
	    "login", argv[1], "email", argv[2]), NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json)
		ctl_print_json(res);
	else
		printf("Adresse de %s : %s%s\n", argv[1], jstr(res,
		    "email"), json_is_true(json_object_get(res, "mailed")) ?
		    " (nouveau lien d'activation envoyé)" : "");
	json_decref(res);
	return 0;
}

/* resend-activation: a new activation link for a waiting account. */
int
cmd_resend_activation(struct ctl *ctl, int argc, char **argv)
{
	json_t	*res;

	if (argc != 2)
		ctl_usage_command();
	if ((res = ctl_call(ctl, OP_RESEND_ACTIVATION, json_pack("{s:s}",
	    "login", argv[1]), NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json)
		ctl_print_json(res);
	else
		printf("Lien d'activation de %s renvoyé à %s\n", argv[1],
		    jstr(res, "email"));
	json_decref(res);
	return 0;
}
