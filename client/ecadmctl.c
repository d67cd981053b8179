/*
 * ecadmctl: the operations of the Responsables tab for scripts and
 * operators. Each command is one function: it parses its own options, makes
 * its calls and prints a table, or JSON with --json (DESIGN.md §13).
 *
 * Exit status: 0 done; 1 refused by the server (code and message on
 * stderr); 2 usage; 3 cannot connect or TLS failure.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <qrencode.h>

#include "buf.h"
#include "log.h"
#include "rpc.h"
#include "settings.h"
#include "state.h"
#include "table.h"
#include "utf8.h"
#include "xmalloc.h"

/* A long operation (an import, a school's letters) may take a while. */
#define CALL_TIMEOUT_MS	(15 * 60 * 1000)

struct ctl {
	struct settings	 s;
	struct rpc	*rpc;
};

struct command {
	const char	*name;
	const char	*sub;		/* second word, or NULL */
	int		(*run)(struct ctl *, int, char **);
	const char	*usage;
};

static const struct command *ctl_command;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
"usage : ecadmctl [options] COMMANDE [arguments]\n"
"\n"
"Options :\n"
"  --server HÔTE:PORT     serveur ecadmd (ECADM_SERVER)\n"
"  --ca FICHIER           autorité de certification du serveur (ECADM_CA)\n"
"  --user IDENTIFIANT     identifiant (ECADM_USER)\n"
"  --password-file F      lire le mot de passe dans F (sinon ECADM_PASSWORD\n"
"                         ou une saisie au terminal)\n"
"  --totp CODE            code de vérification, si le compte en demande un\n"
"  --school UAI           l'école concernée (ECADM_SCHOOL)\n"
"  --json                 sortie JSON\n"
"\n"
"Commandes :\n"
"  classes                               les classes de l'école\n"
"  search [--class NOM]... [--state CODE] [--query TEXTE] [--email avec|sans]\n"
"  stats                                 les comptes par état\n"
"  import FICHIER [--dry-run]            charger une extraction ONDE\n"
"  notify --paper --out F.pdf (--class NOM... | --all | --login ID...)\n"
"                                        notifier les comptes (feuilles)\n"
"  list --out F.pdf|F.csv [--class NOM]... [--login ID]...\n"
"                                        la liste des responsables\n"
"  show ID                               la fiche d'un compte\n"
"  reset ID [--out F.pdf]                réinitialiser le mot de passe\n"
"  journal [--since JJ/MM/AAAA]          ce qui a été fait dans l'école\n"
"  staff add LOGIN --role RÔLE [--school UAI]... --name NOM\n"
"            [--initial-password-file FICHIER]\n"
"  staff list | staff disable LOGIN | staff set-key LOGIN FICHIER.pub\n"
"  staff totp LOGIN [--remove]           activer (ou retirer) le code de\n"
"                                        vérification d'un compte\n"
"\n"
"Codes de sortie : 0 fait, 1 refusé par le serveur, 2 usage,\n"
"3 connexion impossible.\n");
	exit(EXIT_USAGE);
}

static void __attribute__((noreturn))
usage_command(void)
{
	fprintf(stderr, "usage : ecadmctl %s\n", ctl_command->usage);
	exit(EXIT_USAGE);
}

/* Make a call (with an upload when data is set); on refusal print the
 * code, the message and the details, and return NULL. */
static json_t *
ctl_call_upload(struct ctl *ctl, enum proto_op op, json_t *args,
    const void *data, size_t len, struct rpc_reply **rp)
{
	struct rpc_reply	*r;
	json_t			*result, *d;
	size_t			 i;

	r = rpc_call_upload(ctl->rpc, op, args, data, len, CALL_TIMEOUT_MS);
	if (r == NULL) {
		fprintf(stderr, "ecadmctl : connexion perdue : %s\n",
		    rpc_error(ctl->rpc));
		exit(EXIT_CONNECT);
	}
	if (!r->ok) {
		fprintf(stderr, "ecadmctl : %s : %s\n", r->code, r->message);
		json_array_foreach(r->details, i, d) {
			fprintf(stderr, "  %s\n", json_string_value(
			    json_object_get(d, "text")));
		}
		rpc_reply_free(r);
		return NULL;
	}
	result = json_incref(r->result);
	if (rp != NULL)
		*rp = r;
	else
		rpc_reply_free(r);
	return result;
}

static json_t *
ctl_call(struct ctl *ctl, enum proto_op op, json_t *args, struct rpc_reply **rp)
{
	return ctl_call_upload(ctl, op, args, NULL, 0, rp);
}

static void
print_json(json_t *v)
{
	char	*s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		    JSON_ENCODE_ANY);

	puts(s);
	free(s);
}

/* Columns of the terminal, or 0 when output is not one. */
static int
terminal_width(void)
{
	struct winsize	ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ,
	    &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static char *
jint(json_t *o, const char *key)
{
	char	*s;

	xasprintf(&s, "%lld", (long long)json_integer_value(
	    json_object_get(o, key)));
	return s;
}

/* Parse the options of a command, before or after its operands. */
static int
command_getopt(int argc, char **argv, const struct option *opts)
{
	return getopt_long(argc, argv, "", opts, NULL);
}

static int
cmd_classes(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = { "Classe", "Niveaux", "Élèves",
	    "Responsables", "Activés" };
	json_t		*res, *c;
	struct table	*t;
	char		*n[3];
	size_t		 i;

	(void)argv;
	if (argc > 1)
		usage_command();
	if ((res = ctl_call(ctl, OP_CLASSES, NULL, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		print_json(json_object_get(res, "classes"));
		json_decref(res);
		return 0;
	}
	t = table_new(5, headers);
	table_align_right(t, 2);
	table_align_right(t, 3);
	table_align_right(t, 4);
	json_array_foreach(json_object_get(res, "classes"), i, c) {
		n[0] = jint(c, "pupils");
		n[1] = jint(c, "guardians");
		n[2] = jint(c, "activated");
		table_add(t, (const char *const[]){ jstr(c, "name"),
		    jstr(c, "levels"), n[0], n[1], n[2] });
		free(n[0]);
		free(n[1]);
		free(n[2]);
	}
	printf("%s — %s\n\n", jstr(res, "school_name") != NULL ?
	    jstr(res, "school_name") : jstr(res, "school"),
	    jstr(res, "school"));
	table_print(t, stdout, terminal_width());
	table_free(t);
	json_decref(res);
	return 0;
}

static int
cmd_search(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "class", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "query", required_argument, NULL, 'q' },
		{ "email", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const headers[] = { "Élève", "Classe",
	    "Responsable", "Identifiant", "Mot de passe", "État", "Courriel",
	    "Remarque" };
	json_t		*args = json_object(), *classes = json_array();
	json_t			*res, *row;
	struct table		*t;
	const struct state_info	*st;
	const char		*state;
	size_t		 i;
	int		 ch;

	while ((ch = command_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'c':
			json_array_append_new(classes, json_string(optarg));
			break;
		case 's':
			json_object_set_new(args, "state", json_string(optarg));
			break;
		case 'q':
			json_object_set_new(args, "query", json_string(optarg));
			break;
		case 'e':
			json_object_set_new(args, "email", json_string(optarg));
			break;
		default:
			usage_command();
		}
	}
	if (optind != argc)
		usage_command();
	if (json_array_size(classes) > 0)
		json_object_set_new(args, "classes", classes);
	else
		json_decref(classes);
	if ((res = ctl_call(ctl, OP_SEARCH, args, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		print_json(json_object_get(res, "rows"));
		json_decref(res);
		return 0;
	}
	t = table_new(8, headers);
	json_array_foreach(json_object_get(res, "rows"), i, row) {
		st = state_of_row(row);
		state = st != NULL ? st->label : NULL;
		table_add(t, (const char *const[]){ jstr(row, "pupil"),
		    jstr(row, "class"), jstr(row, "guardian"),
		    jstr(row, "login"), jstr(row, "password"), state,
		    jstr(row, "email"), jstr(row, "reason") });
	}
	table_print(t, stdout, terminal_width());
	printf("\n%zu ligne%s%s\n", json_array_size(json_object_get(res,
	    "rows")), json_array_size(json_object_get(res, "rows")) > 1 ?
	    "s" : "", json_is_true(json_object_get(res, "truncated")) ?
	    " (liste tronquée : précisez la recherche)" : "");
	table_free(t);
	json_decref(res);
	return 0;
}

/* A table of per-group state counts (classes or levels). */
static void
stats_groups(json_t *groups, const char *title)
{
	const char	*headers[STATE__STORED + 2];
	struct table	*t;
	char		*cells[STATE__STORED + 2];
	json_t		*g;
	size_t		 i;
	int		 c;

	headers[0] = title;
	for (c = 0; c < STATE__STORED; c++)
		headers[1 + c] = state_info(c)->short_label;
	headers[STATE__STORED + 1] = "Total";
	t = table_new(STATE__STORED + 2, headers);
	for (c = 1; c < STATE__STORED + 2; c++)
		table_align_right(t, c);
	json_array_foreach(groups, i, g) {
		cells[0] = xstrdup(jstr(g, "name")[0] != '\0' ?
		    jstr(g, "name") : "(sans)");
		for (c = 0; c < STATE__STORED; c++)
			cells[c + 1] = jint(json_object_get(g, "states"),
			    state_info(c)->code);
		cells[STATE__STORED + 1] = jint(g, "total");
		table_add(t, (const char *const *)cells);
		for (c = 0; c < STATE__STORED + 2; c++)
			free(cells[c]);
	}
	table_print(t, stdout, terminal_width());
	table_free(t);
}

static int
cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = { "État", "Comptes" };
	json_t		*res, *st;
	struct table	*t;
	char		*n;
	size_t		 i;

	(void)argv;
	if (argc > 1)
		usage_command();
	if ((res = ctl_call(ctl, OP_STATS, NULL, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		print_json(res);
		json_decref(res);
		return 0;
	}
	t = table_new(2, headers);
	table_align_right(t, 1);
	json_array_foreach(json_object_get(res, "states"), i, st) {
		n = jint(st, "count");
		table_add(t, (const char *const[]){ jstr(st, "label"), n });
		free(n);
	}
	n = jint(res, "total");
	table_add(t, (const char *const[]){ "Total", n });
	free(n);
	printf("%s — %s\n\n", jstr(res, "school_name") != NULL ?
	    jstr(res, "school_name") : jstr(res, "school"),
	    jstr(res, "school"));
	table_print(t, stdout, 0);
	table_free(t);
	printf("\nResponsables ayant activé leur compte : %.0f %% ; élèves "
	    "avec au moins un responsable activé : %.0f %%\n",
	    100 * json_real_value(json_object_get(json_object_get(res,
	    "guardians"), "share")), 100 * json_real_value(json_object_get(
	    json_object_get(res, "pupils"), "share")));
	printf("Mots de passe provisoires qui expirent dans les 15 jours : "
	    "%lld\n\n", (long long)json_integer_value(json_object_get(res,
	    "expiring_15_days")));
	stats_groups(json_object_get(res, "classes"), "Classe");
	printf("\n");
	stats_groups(json_object_get(res, "levels"), "Niveau");
	json_decref(res);
	return 0;
}

static int
cmd_staff_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "school", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "initial-password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	json_t		*args = json_object(), *schools = json_array(), *res;
	char		*password = NULL, *cause;
	const char	*login;
	int		 ch;

	while ((ch = command_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'r':
			json_object_set_new(args, "role", json_string(optarg));
			break;
		case 's':
			json_array_append_new(schools, json_string(optarg));
			break;
		case 'n':
			json_object_set_new(args, "name", json_string(optarg));
			break;
		case 'p':
			freestr_secret(password);
			if ((password = settings_read_file(optarg, 4096, NULL,
			    &cause)) == NULL) {
				fprintf(stderr, "ecadmctl : %s\n", cause);
				exit(EXIT_USAGE);
			}
			password[strcspn(password, "\r\n")] = '\0';
			break;
		default:
			usage_command();
		}
	}
	if (optind != argc - 1 || json_object_get(args, "role") == NULL ||
	    json_object_get(args, "name") == NULL)
		usage_command();
	login = argv[optind];
	json_object_set_new(args, "login", json_string(login));
	json_object_set_new(args, "schools", schools);
	if (password != NULL)
		json_object_set_new(args, "password", json_string(password));
	/* The global --school is not this command's school list. */
	json_object_set_new(args, "school", json_null());
	res = ctl_call(ctl, OP_STAFF_ADD, args, NULL);
	freestr_secret(password);
	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json)
		print_json(res);
	else if (jstr(res, "password") != NULL)
		printf("Compte %s créé. Mot de passe initial (affiché une "
		    "seule fois) : %s\n", login, jstr(res, "password"));
	else
		printf("Compte %s créé.\n", login);
	json_decref(res);
	return 0;
}

static int
cmd_staff_list(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = { "Identifiant", "Nom", "Rôle",
	    "Écoles", "État", "Clé SSH", "TOTP", "Dernière connexion" };
	json_t		*res, *st, *sc;
	struct table	*t;
	struct buf	 schools;
	size_t		 i, j;

	(void)argv;
	if (argc > 1)
		usage_command();
	if ((res = ctl_call(ctl, OP_STAFF_LIST, NULL, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		print_json(json_object_get(res, "staff"));
		json_decref(res);
		return 0;
	}
	t = table_new(8, headers);
	json_array_foreach(json_object_get(res, "staff"), i, st) {
		buf_init(&schools);
		json_array_foreach(json_object_get(st, "schools"), j, sc)
			buf_printf(&schools, "%s%s", j > 0 ? " " : "",
			    json_string_value(sc));
		table_add(t, (const char *const[]){ jstr(st, "login"),
		    jstr(st, "name"), jstr(st, "role"), buf_cstr(&schools),
		    json_is_true(json_object_get(st, "disabled")) ?
		    "désactivé" : "actif",
		    json_is_true(json_object_get(st, "ssh_key")) ? "oui" :
		    "non", json_is_true(json_object_get(st, "totp")) ? "oui" :
		    "non", jstr(st, "last_login") });
		buf_free(&schools);
	}
	table_print(t, stdout, terminal_width());
	table_free(t);
	json_decref(res);
	return 0;
}

static int
cmd_staff_disable(struct ctl *ctl, int argc, char **argv)
{
	json_t	*res;

	if (argc != 2)
		usage_command();
	res = ctl_call(ctl, OP_STAFF_DISABLE, json_pack("{s:s, s:n}", "login",
	    argv[1], "school"), NULL);
	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json)
		print_json(res);
	else
		printf("Compte %s désactivé.\n", argv[1]);
	json_decref(res);
	return 0;
}

static int
cmd_staff_set_key(struct ctl *ctl, int argc, char **argv)
{
	json_t	*res;
	char	*key, *cause;

	if (argc != 3)
		usage_command();
	if ((key = settings_read_file(argv[2], 16384, NULL, &cause)) == NULL) {
		fprintf(stderr, "ecadmctl : %s\n", cause);
		return EXIT_USAGE;
	}
	key[strcspn(key, "\r\n")] = '\0';
	res = ctl_call(ctl, OP_STAFF_SET_KEY, json_pack("{s:s, s:s, s:n}",
	    "login", argv[1], "key", key, "school"), NULL);
	free(key);
	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json)
		print_json(res);
	else
		printf("Clé SSH de %s enregistrée.\n", argv[1]);
	json_decref(res);
	return 0;
}

/* Whether module (x, y) of a QR code is dark; outside it (the quiet zone)
 * modules are light. */
static int
qr_dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[y * qr->width + x] & 1;
}

/* Print text as a QR code for a terminal: two rows of modules a line with
 * the half blocks ▀ ▄ █, the light modules drawn (a terminal's text is
 * light on dark, as `qrencode -t UTF8` assumes), in a quiet zone of four
 * modules, which scanners need to find the code. -1 if it cannot encode. */
static int
print_qr(const char *text, FILE *f)
{
	static const char *const cells[2][2] = {
		/* [top dark][bottom dark] */
		{ "█", "▀" },
		{ "▄", " " },
	};
	const int	 margin = 4;
	QRcode		*qr;
	int		 x, y, size, top, bottom;

	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1)) == NULL)
		return -1;
	size = qr->width + 2 * margin;
	for (y = 0; y < size; y += 2) {
		for (x = 0; x < size; x++) {
			top = qr_dark(qr, x - margin, y - margin);
			/* An odd last row: its lower half is the terminal's. */
			bottom = y + 1 < size ?
			    qr_dark(qr, x - margin, y + 1 - margin) : 1;
			fputs(cells[top][bottom], f);
		}
		fputc('\n', f);
	}
	QRcode_free(qr);
	return 0;
}

static int
cmd_staff_totp(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remove", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*login, *secret;
	json_t		*res;
	size_t		 i;
	int		 ch, remove = 0;

	while ((ch = command_getopt(argc, argv, opts)) != -1) {
		if (ch != 'r')
			usage_command();
		remove = 1;
	}
	if (optind != argc - 1)
		usage_command();
	login = argv[optind];
	res = ctl_call(ctl, OP_STAFF_TOTP, json_pack("{s:s, s:b, s:n}",
	    "login", login, "remove", remove, "school"), NULL);
	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json)
		print_json(res);
	else if (remove)
		printf("Code de vérification (TOTP) de %s retiré.\n", login);
	else {
		printf("Code de vérification (TOTP) de %s activé. À scanner "
		    "avec une application d'authentification (affiché une "
		    "seule fois) :\n\n", login);
		if (print_qr(jstr(res, "uri"), stdout) == -1)
			printf("(QR code impossible à produire)\n");
		printf("\n%s\nClé à saisir à la main :", jstr(res, "uri"));
		secret = jstr(res, "secret");
		for (i = 0; secret[i] != '\0'; i++)
			printf("%s%c", i % 4 == 0 ? " " : "", secret[i]);
		printf("\n");
	}
	json_decref(res);
	return 0;
}

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

/* One line of the import summary: "élèves : 480 (12 créés, …)". */
static void
import_line(json_t *res, const char *key, const char *label,
    const char *const *parts)
{
	json_t	*o = json_object_get(res, key);
	char	*cell = utf8_fit(label, 13, 0);
	int	 i, first = 1;

	/* printf pads bytes, not cells: "élèves" needs utf8_fit. */
	printf("  %s %6lld", cell, (long long)json_integer_value(
	    json_object_get(o, "total")));
	free(cell);
	for (i = 0; parts[i] != NULL; i += 2) {
		printf("%s%lld %s", first ? " (" : ", ",
		    (long long)json_integer_value(json_object_get(o,
		    parts[i])), parts[i + 1]);
		first = 0;
	}
	printf("%s\n", first ? "" : ")");
}

static int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	json_t		*res, *a;
	char		*data, *cause;
	size_t		 len;
	int		 ch, dry_run = 0;

	while ((ch = command_getopt(argc, argv, opts)) != -1) {
		if (ch != 'n')
			usage_command();
		dry_run = 1;
	}
	if (optind != argc - 1)
		usage_command();
	if ((data = settings_read_file(argv[optind], 1024u << 20, &len,
	    &cause)) == NULL) {
		fprintf(stderr, "ecadmctl : %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	res = ctl_call_upload(ctl, OP_IMPORT, json_pack("{s:b, s:n}",
	    "dry_run", dry_run, "school"), data, len, NULL);
	free(data);
	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		print_json(res);
		json_decref(res);
		return 0;
	}
	printf("%s%s : %lld lignes (%s), %.1f s\n", dry_run ?
	    "Simulation de l'import de " : "Import de ", argv[optind],
	    (long long)json_integer_value(json_object_get(res, "lines")),
	    jstr(res, "encoding"), json_real_value(json_object_get(res,
	    "seconds")));
	import_line(res, "schools", "écoles", (const char *const[]){
	    "created", "créées", "updated", "modifiées", NULL });
	import_line(res, "pupils", "élèves", (const char *const[]){
	    "created", "créés", "updated", "modifiés", "unchanged",
	    "inchangés", "left", "partis", NULL });
	import_line(res, "guardians", "responsables", (const char *const[]){
	    "created", "créés", "updated", "modifiés", "unchanged",
	    "inchangés", NULL });
	import_line(res, "links", "liens", (const char *const[]){
	    "created", "créés", "updated", "modifiés", "unchanged",
	    "inchangés", "removed", "retirés", NULL });
	a = json_object_get(res, "accounts");
	printf("  %-13s        %lld créés, %lld désactivés, %lld réactivés\n",
	    "comptes", (long long)json_integer_value(json_object_get(a,
	    "created")), (long long)json_integer_value(json_object_get(a,
	    "deactivated")), (long long)json_integer_value(json_object_get(a,
	    "reactivated")));
	if (!json_is_true(json_object_get(res, "changed")))
		printf("Aucun changement : la base était déjà à jour.\n");
	if (dry_run)
		printf("Simulation : rien n'a été enregistré.\n");
	json_decref(res);
	return 0;
}

/* --class, --login, --all: the selection of notify and list. */
struct selection {
	json_t	*classes;
	json_t	*logins;
	int	 all;
};

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

static int
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

	while ((ch = command_getopt(argc, argv, opts)) != -1) {
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
			usage_command();
		}
	}
	kinds = (json_array_size(sel.classes) > 0) +
	    (json_array_size(sel.logins) > 0) + sel.all;
	if (optind != argc || !paper || out == NULL || kinds != 1)
		usage_command();
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
		print_json(res);
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

static int
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

	while ((ch = command_getopt(argc, argv, opts)) != -1) {
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
			usage_command();
		}
	}
	if (optind != argc || out == NULL || (dot = strrchr(out, '.')) ==
	    NULL || (strcasecmp(dot, ".pdf") != 0 &&
	    strcasecmp(dot, ".csv") != 0)) {
		json_decref(args);
		json_decref(sel.classes);
		json_decref(sel.logins);
		usage_command();
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
		print_json(res);
	} else
		printf("Liste : %s (%lld ligne%s)\n", out,
		    (long long)json_integer_value(json_object_get(res, "rows")),
		    json_integer_value(json_object_get(res, "rows")) > 1 ?
		    "s" : "");
	rpc_reply_free(r);
	json_decref(res);
	return status;
}

static int
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

	while ((ch = command_getopt(argc, argv, opts)) != -1) {
		if (ch != 'o')
			usage_command();
		out = optarg;
	}
	if (optind != argc - 1)
		usage_command();
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
		print_json(res);
	} else
		printf("Mot de passe de %s réinitialisé. Nouvelle feuille : "
		    "%s\n", argv[optind], out);
	rpc_reply_free(r);
	json_decref(res);
	return status;
}

static int
cmd_show(struct ctl *ctl, int argc, char **argv)
{
	json_t		*res, *x, *d;
	size_t		 i;

	if (argc != 2)
		usage_command();
	if ((res = ctl_call(ctl, OP_SHOW, json_pack("{s:s}", "login", argv[1]),
	    NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		print_json(res);
		json_decref(res);
		return 0;
	}
	d = json_object_get(res, "dates");
	printf("Compte       %s\n", jstr(res, "login"));
	printf("Responsable  %s%s%s\n", jstr(res, "civility") != NULL ?
	    jstr(res, "civility") : "", jstr(res, "civility") != NULL ? " " :
	    "", jstr(res, "guardian"));
	printf("État         %s%s\n", state_of_row(res) != NULL ?
	    state_of_row(res)->label : "",
	    json_is_true(json_object_get(res, "eligible")) ? "" :
	    " — non éligible");
	if (!json_is_true(json_object_get(res, "eligible")))
		printf("Raison       %s\n", jstr(res, "reason"));
	printf("Mot de passe %s\n", jstr(res, "password") != NULL ?
	    jstr(res, "password") : "(aucun)");
	if (jstr(d, "expires") != NULL)
		printf("Valable      jusqu'au %s\n", jstr(d, "expires"));
	printf("Courriel     %s\n", jstr(res, "email") != NULL ?
	    jstr(res, "email") : "(aucun)");
	printf("Créé le      %s\n", jstr(d, "created"));
	if (jstr(d, "first_login") != NULL)
		printf("1re connexion %s\n", jstr(d, "first_login"));
	if (jstr(d, "activated") != NULL)
		printf("Activé le    %s\n", jstr(d, "activated"));
	if (jstr(d, "last_access") != NULL)
		printf("Dernier accès %s\n", jstr(d, "last_access"));
	printf("\nEnfants\n");
	json_array_foreach(json_object_get(res, "children"), i, x)
		printf("  %s, %s%s — %s%s%s\n", jstr(x, "name"),
		    jstr(x, "class") != NULL ? "classe " : "sans classe",
		    jstr(x, "class") != NULL ? jstr(x, "class") : "",
		    jstr(x, "school_name"), jstr(x, "reason") != NULL ?
		    " — " : "", jstr(x, "reason") != NULL ? jstr(x, "reason") :
		    "");
	printf("\nCourriers remis\n");
	if (json_array_size(json_object_get(res, "letters")) == 0)
		printf("  (aucun)\n");
	json_array_foreach(json_object_get(res, "letters"), i, x)
		printf("  %s  %s (%s)\n", jstr(x, "at"), jstr(x, "kind"),
		    jstr(x, "by"));
	printf("\nHistorique\n");
	json_array_foreach(json_object_get(res, "events"), i, x) {
		printf("  %s  %s", jstr(x, "at"), jstr(x, "label"));
		if (jstr(x, "to") != NULL && (jstr(x, "from") == NULL ||
		    strcmp(jstr(x, "from"), jstr(x, "to")) != 0))
			printf(" (%s%s%s)", jstr(x, "from") != NULL ?
			    jstr(x, "from") : "", jstr(x, "from") != NULL ?
			    " → " : "→ ", jstr(x, "to"));
		printf("  [%s, %s]%s%s\n", jstr(x, "actor"), jstr(x, "channel"),
		    jstr(x, "detail") != NULL ? " — " : "",
		    jstr(x, "detail") != NULL ? jstr(x, "detail") : "");
	}
	json_decref(res);
	return 0;
}

static int
cmd_journal(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const headers[] = { "Date", "Action", "Compte",
	    "Responsable", "Par", "Détail" };
	json_t		*args = json_object(), *res, *x;
	struct table	*t;
	size_t		 i;
	int		 ch;

	while ((ch = command_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 's':
			json_object_set_new(args, "since", json_string(optarg));
			break;
		case 'n':
			json_object_set_new(args, "limit",
			    json_integer(atoi(optarg)));
			break;
		default:
			usage_command();
		}
	}
	if (optind != argc)
		usage_command();
	if ((res = ctl_call(ctl, OP_JOURNAL, args, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		print_json(json_object_get(res, "events"));
		json_decref(res);
		return 0;
	}
	t = table_new(6, headers);
	json_array_foreach(json_object_get(res, "events"), i, x)
		table_add(t, (const char *const[]){ jstr(x, "at"),
		    jstr(x, "label"), jstr(x, "login"), jstr(x, "guardian"),
		    jstr(x, "actor"), jstr(x, "detail") });
	table_print(t, stdout, terminal_width());
	table_free(t);
	json_decref(res);
	return 0;
}

static const struct command commands[] = {
	{ "classes", NULL, cmd_classes, "classes" },
	{ "search", NULL, cmd_search, "search [--class NOM]... "
	    "[--state CODE] [--query TEXTE] [--email avec|sans]" },
	{ "stats", NULL, cmd_stats, "stats" },
	{ "import", NULL, cmd_import, "import FICHIER [--dry-run]" },
	{ "notify", NULL, cmd_notify, "notify --paper --out FICHIER.pdf "
	    "(--class NOM... | --all | --login IDENTIFIANT...)" },
	{ "list", NULL, cmd_list, "list --out FICHIER.pdf|FICHIER.csv "
	    "[--class NOM]... [--login IDENTIFIANT]..." },
	{ "show", NULL, cmd_show, "show IDENTIFIANT" },
	{ "reset", NULL, cmd_reset, "reset IDENTIFIANT [--out FICHIER.pdf]" },
	{ "journal", NULL, cmd_journal, "journal [--since JJ/MM/AAAA] "
	    "[--limit N]" },
	{ "staff", "add", cmd_staff_add, "staff add LOGIN --role RÔLE "
	    "[--school UAI]... --name NOM [--initial-password-file FICHIER]" },
	{ "staff", "list", cmd_staff_list, "staff list" },
	{ "staff", "disable", cmd_staff_disable, "staff disable LOGIN" },
	{ "staff", "set-key", cmd_staff_set_key,
	    "staff set-key LOGIN FICHIER.pub" },
	{ "staff", "totp", cmd_staff_totp, "staff totp LOGIN [--remove]" },
	{ NULL, NULL, NULL, NULL },
};

/* Log in with the settings; exits on failure. */
static void
ctl_login(struct ctl *ctl)
{
	struct rpc_reply	*r;
	json_t			*args;
	char			*cause;

	if (ctl->s.user == NULL) {
		fprintf(stderr, "ecadmctl : identifiant manquant (--user ou "
		    "ECADM_USER)\n");
		exit(EXIT_USAGE);
	}
	if (settings_password(&ctl->s, 1, &cause) == -1) {
		fprintf(stderr, "ecadmctl : %s\n", cause);
		exit(EXIT_USAGE);
	}
	args = json_pack("{s:s, s:s}", "login", ctl->s.user, "password",
	    ctl->s.password);
	if (ctl->s.totp != NULL)
		json_object_set_new(args, "totp", json_string(ctl->s.totp));
	r = rpc_call(ctl->rpc, OP_LOGIN, args, 60000);
	if (r == NULL) {
		fprintf(stderr, "ecadmctl : connexion perdue : %s\n",
		    rpc_error(ctl->rpc));
		exit(EXIT_CONNECT);
	}
	if (!r->ok) {
		fprintf(stderr, "ecadmctl : %s : %s\n", r->code, r->message);
		rpc_reply_free(r);
		exit(EXIT_REFUSED);
	}
	rpc_reply_free(r);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		SETTINGS_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command	*c;
	struct ctl		 ctl;
	char			*cause;
	int			 ch, status;

	utf8_locale_init();
	log_init("ecadmctl", LOG_LEVEL_WARN, 0);
	/* A server gone between two writes is an error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	memset(&ctl, 0, sizeof ctl);
	if (settings_load(&ctl.s, &cause) == -1) {
		fprintf(stderr, "ecadmctl : %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (settings_option(&ctl.s, ch, optarg))
			continue;
		switch (ch) {
		case 'j':
			ctl.s.json = 1;
			break;
		case 'V':
			printf("ecadmctl %s\n", ECADM_VERSION);
			return 0;
		case 'h':
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	for (c = commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[0]) != 0)
			continue;
		if (c->sub == NULL)
			break;
		if (argc > 1 && strcmp(c->sub, argv[1]) == 0) {
			argc--;
			argv++;
			break;
		}
	}
	if (c->name == NULL)
		usage();
	ctl_command = c;

	if ((ctl.rpc = settings_connect(&ctl.s, "ecadmctl", &cause)) == NULL) {
		fprintf(stderr, "ecadmctl : connexion à %s impossible : %s\n",
		    ctl.s.server, cause);
		free(cause);
		settings_free(&ctl.s);
		return EXIT_CONNECT;
	}
	ctl_login(&ctl);
	/* 0 makes getopt start afresh (GNU) for the command's options. */
	optind = 0;
	status = c->run(&ctl, argc, argv);
	rpc_close(ctl.rpc);
	settings_free(&ctl.s);
	return status;
}
