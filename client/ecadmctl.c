/*
 * ecadmctl: the operations of the Responsables tab for scripts and
 * operators (DESIGN.md §13). This file reads the global options, finds the
 * command in the table below, connects, logs in and runs it; the commands
 * themselves are in ctl-school.c, ctl-accounts.c and ctl-staff.c.
 *
 * The table is the one description of the commands: the help text is
 * written from it, and the operation each entry names decides, from the
 * roles of common/proto-ops.def, who may run it. A command the user's role
 * may not run is refused here, before any request, with the status the
 * server's refusal would have given.
 *
 * Exit status: 0 done; 1 refused by the server (code and message on
 * stderr); 2 usage; 3 cannot connect or TLS failure.
 */
#include <sys/ioctl.h>

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "log.h"
#include "utf8.h"
#include "xmalloc.h"

/* A long operation (an import, a school's letters) may take a while. */
#define CALL_TIMEOUT_MS	(15 * 60 * 1000)

/* Where the help text wraps, and where descriptions start. */
#define USAGE_WIDTH	78
#define USAGE_HELP_COLUMN 40

static const struct ctl_command commands[] = {
	{ "classes", NULL, "classes",
	    "les classes de l'école", OP_CLASSES, cmd_classes },
	{ "search", NULL, "search [--class NOM]... [--state CODE] "
	    "[--query TEXTE] [--email avec|sans]",
	    "les lignes de l'onglet Responsables", OP_SEARCH, cmd_search },
	{ "stats", NULL, "stats",
	    "les comptes par état", OP_STATS, cmd_stats },
	{ "import", NULL, "import FICHIER [--dry-run]",
	    "charger une extraction ONDE", OP_IMPORT, cmd_import },
	{ "notify", NULL, "notify --paper --out FICHIER.pdf | --email "
	    "(--class NOM... | --all | --login IDENTIFIANT...)",
	    "notifier les comptes (feuilles ou courriels)", OP_NOTIFY,
	    cmd_notify },
	{ "list", NULL, "list --out FICHIER.pdf|FICHIER.csv "
	    "[--class NOM]... [--login IDENTIFIANT]...",
	    "la liste des responsables", OP_LIST, cmd_list },
	{ "show", NULL, "show IDENTIFIANT",
	    "la fiche d'un compte", OP_SHOW, cmd_show },
	{ "reset", NULL, "reset IDENTIFIANT [--out FICHIER.pdf]",
	    "réinitialiser le mot de passe", OP_RESET, cmd_reset },
	{ "set-email", NULL, "set-email IDENTIFIANT ADRESSE",
	    "changer l'adresse électronique (nouveau lien d'activation)",
	    OP_SET_EMAIL, cmd_set_email },
	{ "resend-activation", NULL, "resend-activation IDENTIFIANT",
	    "renvoyer le lien d'activation", OP_RESEND_ACTIVATION,
	    cmd_resend_activation },
	{ "journal", NULL, "journal [--since JJ/MM/AAAA] [--limit N]",
	    "ce qui a été fait dans l'école", OP_JOURNAL, cmd_journal },
	{ "staff", "add", "staff add LOGIN --role RÔLE [--school UAI]... "
	    "--name NOM [--initial-password-file FICHIER]",
	    "créer un compte du personnel", OP_STAFF_ADD, cmd_staff_add },
	{ "staff", "list", "staff list",
	    "les comptes du personnel", OP_STAFF_LIST, cmd_staff_list },
	{ "staff", "disable", "staff disable LOGIN",
	    "désactiver un compte du personnel", OP_STAFF_DISABLE,
	    cmd_staff_disable },
	{ "staff", "set-key", "staff set-key LOGIN FICHIER.pub",
	    "ajouter une clé SSH à un compte", OP_STAFF_SET_KEY,
	    cmd_staff_set_key },
	{ "staff", "keys", "staff keys LOGIN",
	    "les clés SSH d'un compte", OP_STAFF_KEYS, cmd_staff_keys },
	{ "staff", "remove-key", "staff remove-key LOGIN EMPREINTE",
	    "retirer une clé SSH d'un compte (ses sessions SSH sont closes)",
	    OP_STAFF_REMOVE_KEY, cmd_staff_remove_key },
	{ "staff", "totp", "staff totp LOGIN [--remove]",
	    "activer (ou retirer) le code de vérification d'un compte",
	    OP_STAFF_TOTP, cmd_staff_totp },
	{ NULL, NULL, NULL, NULL, -1, NULL },
};

static const struct ctl_command *ctl_command;

/* Write the words of text from *column on, going to a new line indented
 * by indent cells before a word that would pass USAGE_WIDTH. Widths are
 * in cells ("RÔLE"). */
static void
usage_words(FILE *f, const char *text, int *column, int indent)
{
	const char	*p = text, *end;
	char		*word;
	int		 w, first = 1;

	while (*p != '\0') {
		end = p + strcspn(p, " ");
		word = xstrndup(p, (size_t)(end - p));
		w = utf8_width(word);
		if (!first && *column + 1 + w > USAGE_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			*column = indent;
		} else if (!first) {
			fputc(' ', f);
			(*column)++;
		}
		fputs(word, f);
		*column += w;
		free(word);
		first = 0;
		p = *end == ' ' ? end + 1 : end;
	}
}

/* One command of the help text: its usage, continued under its first
 * argument, then its description from USAGE_HELP_COLUMN, on the usage's last
 * line if it leaves room, else on a line of its own. */
static void
usage_entry(FILE *f, const struct ctl_command *c)
{
	int	column = 2, indent;

	indent = 2 + utf8_width(c->name) + 1;
	if (c->sub != NULL)
		indent += utf8_width(c->sub) + 1;
	fputs("  ", f);
	usage_words(f, c->usage, &column, indent);
	if (column + 2 > USAGE_HELP_COLUMN) {
		fputc('\n', f);
		column = 0;
	}
	fprintf(f, "%*s", USAGE_HELP_COLUMN - column, "");
	column = USAGE_HELP_COLUMN;
	usage_words(f, c->help, &column, USAGE_HELP_COLUMN);
	fputc('\n', f);
}

static void __attribute__((noreturn))
usage(void)
{
	const struct ctl_command	*c;

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
"Commandes :\n");
	for (c = commands; c->name != NULL; c++)
		usage_entry(stderr, c);
	fprintf(stderr,
"\n"
"Codes de sortie : 0 fait, 1 refusé par le serveur, 2 usage,\n"
"3 connexion impossible.\n");
	exit(EXIT_USAGE);
}

void
ctl_usage_command(void)
{
	fprintf(stderr, "usage : ecadmctl %s\n", ctl_command->usage);
	exit(EXIT_USAGE);
}

json_t *
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

json_t *
ctl_call(struct ctl *ctl, enum proto_op op, json_t *args, struct rpc_reply **rp)
{
	return ctl_call_upload(ctl, op, args, NULL, 0, rp);
}

void
ctl_print_json(json_t *v)
{
	char	*s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		    JSON_ENCODE_ANY);

	puts(s);
	free(s);
}

int
ctl_say(struct ctl *ctl, json_t *res, const char *fmt, ...)
{
	va_list	ap;

	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json)
		ctl_print_json(res);
	else {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	json_decref(res);
	return 0;
}

int
ctl_terminal_width(void)
{
	struct winsize	ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ,
	    &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

char *
jint(const json_t *o, const char *key)
{
	char	*s;

	xasprintf(&s, "%lld", (long long)json_integer_value(
	    json_object_get(o, key)));
	return s;
}

int
ctl_getopt(int argc, char **argv, const struct option *opts)
{
	return getopt_long(argc, argv, "", opts, NULL);
}

/* Log in with the settings and keep the role ecadmd gives the session;
 * exits on failure. */
static void
ctl_login(struct ctl *ctl)
{
	struct rpc_reply	*r;
	json_t			*args;
	const char		*role;
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
	/* A role this client does not know stays 0: the server decides. */
	if ((role = jstr(r->result, "role")) != NULL)
		ctl->role = proto_role_lookup(role);
	rpc_reply_free(r);
}

/* The labels of the roles of a mask, "Directeur et Assistance". */
static char *
ctl_roles_text(unsigned roles)
{
	static const enum proto_role all[] = { ROLE_DIRECTEUR,
	    ROLE_ASSISTANCE, ROLE_ADMIN };
	struct buf	 b;
	size_t		 i, n = 0, total = 0;
	char		*s;

	for (i = 0; i < sizeof all / sizeof all[0]; i++)
		total += (roles & all[i]) != 0;
	buf_init(&b);
	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (!(roles & all[i]))
			continue;
		n++;
		buf_printf(&b, "%s%s", n == 1 ? "" : n == total ? " et " :
		    ", ", proto_role_label(all[i]));
	}
	s = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return s;
}

/*
 * Whether the role of the login may run the command, from the roles of its
 * operation in proto-ops.def. The server's gate decides in the end; this
 * spares a request (an upload, a school's letters) that it would refuse,
 * and says so in the words of E_FORBIDDEN so scripts see the same code and
 * status. -1 after saying why.
 */
static int
ctl_check_role(const struct ctl *ctl, const struct ctl_command *c)
{
	const struct proto_op_info	*op;
	char				*allowed;

	if (c->op < 0 || ctl->role == 0)
		return 0;
	op = proto_op(c->op);
	if (op->roles == 0 || (op->roles & ctl->role))
		return 0;
	allowed = ctl_roles_text(op->roles);
	fprintf(stderr, "ecadmctl : %s : la commande « %s%s%s » est réservée "
	    "%s %s ; votre compte a le rôle %s.\n",
	    proto_error_name(E_FORBIDDEN), c->name, c->sub != NULL ? " " : "",
	    c->sub != NULL ? c->sub : "", (op->roles & (op->roles - 1)) != 0 ?
	    "aux rôles" : "au rôle", allowed, proto_role_label(ctl->role));
	free(allowed);
	return -1;
}

/* The command named by the first words of argv (moved past them), or
 * NULL. */
static const struct ctl_command *
ctl_find(int *argc, char ***argv)
{
	const struct ctl_command	*c;

	for (c = commands; c->name != NULL; c++) {
		if (strcmp(c->name, (*argv)[0]) != 0)
			continue;
		if (c->sub == NULL)
			return c;
		if (*argc > 1 && strcmp(c->sub, (*argv)[1]) == 0) {
			(*argc)--;
			(*argv)++;
			return c;
		}
	}
	return NULL;
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
	const struct ctl_command	*c;
	struct ctl			 ctl;
	char				*cause;
	int				 ch, status;

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
	if (argc == 0 || (c = ctl_find(&argc, &argv)) == NULL)
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
	if (ctl_check_role(&ctl, c) == -1)
		status = EXIT_REFUSED;
	else {
		/* 0 makes getopt start afresh (GNU) for the command's
		 * options. */
		optind = 0;
		status = c->run(&ctl, argc, argv);
	}
	rpc_close(ctl.rpc);
	settings_free(&ctl.s);
	return status;
}
