/*
 * ecadmctl commands of the administrators: the staff accounts (create,
 * list, disable, SSH keys, TOTP) and the import of an ONDE extraction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <qrencode.h>

#include "buf.h"
#include "ctl.h"
#include "table.h"
#include "utf8.h"
#include "xmalloc.h"

/* staff add: a staff account, with a generated or given first
 * password. */
int
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

	while ((ch = ctl_getopt(argc, argv, opts)) != -1) {
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
			ctl_usage_command();
		}
	}
	if (optind != argc - 1 || json_object_get(args, "role") == NULL ||
	    json_object_get(args, "name") == NULL)
		ctl_usage_command();
	login = argv[optind];
	json_object_set_new(args, "login", json_string(login));
	json_object_set_new(args, "schools", schools);
	if (password != NULL)
		json_object_set_new(args, "password", json_string(password));
	res = ctl_call(ctl, OP_STAFF_ADD, args, NULL);
	freestr_secret(password);
	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json)
		ctl_print_json(res);
	else if (jstr(res, "password") != NULL)
		printf("Compte %s créé. Mot de passe initial (affiché une "
		    "seule fois) : %s\n", login, jstr(res, "password"));
	else
		printf("Compte %s créé.\n", login);
	json_decref(res);
	return 0;
}

/* staff list: the staff accounts. */
int
cmd_staff_list(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = { "Identifiant", "Nom", "Rôle",
	    "Écoles", "État", "Clés SSH", "TOTP", "Dernière connexion" };
	json_t		*res, *st, *sc;
	struct table	*t;
	struct buf	 schools;
	char		*keys;
	size_t		 i, j;

	(void)argv;
	if (argc > 1)
		ctl_usage_command();
	if ((res = ctl_call(ctl, OP_STAFF_LIST, NULL, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		ctl_print_json(json_object_get(res, "staff"));
		json_decref(res);
		return 0;
	}
	t = table_new(8, headers);
	json_array_foreach(json_object_get(res, "staff"), i, st) {
		buf_init(&schools);
		json_array_foreach(json_object_get(st, "schools"), j, sc)
			buf_printf(&schools, "%s%s", j > 0 ? " " : "",
			    json_string_value(sc));
		keys = jint(st, "ssh_keys");
		table_add(t, (const char *const[]){ jstr(st, "login"),
		    jstr(st, "name"), jstr(st, "role"), buf_cstr(&schools),
		    json_is_true(json_object_get(st, "disabled")) ?
		    "désactivé" : "actif", keys,
		    json_is_true(json_object_get(st, "totp")) ? "oui" :
		    "non", jstr(st, "last_login") });
		free(keys);
		buf_free(&schools);
	}
	table_print(t, stdout, ctl_terminal_width());
	table_free(t);
	json_decref(res);
	return 0;
}

/* staff disable: close a staff account. */
int
cmd_staff_disable(struct ctl *ctl, int argc, char **argv)
{
	if (argc != 2)
		ctl_usage_command();
	return ctl_say(ctl, ctl_call(ctl, OP_STAFF_DISABLE, json_pack("{s:s}",
	    "login", argv[1]), NULL), "Compte %s désactivé.\n", argv[1]);
}

/* staff set-key: add an SSH key to a staff account's keys. */
int
cmd_staff_set_key(struct ctl *ctl, int argc, char **argv)
{
	json_t	*res;
	char	*key, *cause;

	if (argc != 3)
		ctl_usage_command();
	/* Room for the largest key the server takes (16 KiB in base64). */
	if ((key = settings_read_file(argv[2], 32768, NULL, &cause)) == NULL) {
		fprintf(stderr, "ecadmctl : %s\n", cause);
		return EXIT_USAGE;
	}
	key[strcspn(key, "\r\n")] = '\0';
	res = ctl_call(ctl, OP_STAFF_SET_KEY, json_pack("{s:s, s:s}",
	    "login", argv[1], "key", key), NULL);
	free(key);
	return ctl_say(ctl, res, "Clé %s pour %s : %s (%s)\n",
	    json_is_true(json_object_get(res, "added")) ? "ajoutée" :
	    "déjà enregistrée", argv[1], jstr(res, "fingerprint"),
	    jstr(res, "type"));
}

/* staff remove-key: remove one SSH key of a staff account; the SSH
 * sessions it opened end. */
int
cmd_staff_remove_key(struct ctl *ctl, int argc, char **argv)
{
	if (argc != 3)
		ctl_usage_command();
	return ctl_say(ctl, ctl_call(ctl, OP_STAFF_REMOVE_KEY,
	    json_pack("{s:s, s:s}", "login", argv[1], "fingerprint", argv[2]),
	    NULL), "Clé retirée pour %s : %s\n", argv[1], argv[2]);
}

/* staff keys: the SSH keys of a staff account. */
int
cmd_staff_keys(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = { "Empreinte", "Type",
	    "Commentaire", "Ajoutée" };
	json_t		*res, *k;
	struct table	*t;
	size_t		 i;

	if (argc != 2)
		ctl_usage_command();
	res = ctl_call(ctl, OP_STAFF_KEYS, json_pack("{s:s}", "login",
	    argv[1]), NULL);
	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		ctl_print_json(json_object_get(res, "keys"));
		json_decref(res);
		return 0;
	}
	if (json_array_size(json_object_get(res, "keys")) == 0) {
		printf("Aucune clé SSH pour %s.\n", argv[1]);
		json_decref(res);
		return 0;
	}
	t = table_new(4, headers);
	json_array_foreach(json_object_get(res, "keys"), i, k)
		table_add(t, (const char *const[]){ jstr(k, "fingerprint"),
		    jstr(k, "type"), jstr(k, "comment"), jstr(k, "created") });
	/* Not fitted to the terminal: a fingerprint cut short could not be
	 * given to staff remove-key. A narrow terminal wraps the lines. */
	table_print(t, stdout, 0);
	table_free(t);
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

/* staff totp: enrol (or remove) the TOTP of a staff account, showing
 * the secret once as a QR code. */
int
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

	while ((ch = ctl_getopt(argc, argv, opts)) != -1) {
		if (ch != 'r')
			ctl_usage_command();
		remove = 1;
	}
	if (optind != argc - 1)
		ctl_usage_command();
	login = argv[optind];
	res = ctl_call(ctl, OP_STAFF_TOTP, json_pack("{s:s, s:b}",
	    "login", login, "remove", remove), NULL);
	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json)
		ctl_print_json(res);
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

/* import: load an ONDE extraction (or simulate it). */
int
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

	while ((ch = ctl_getopt(argc, argv, opts)) != -1) {
		if (ch != 'n')
			ctl_usage_command();
		dry_run = 1;
	}
	if (optind != argc - 1)
		ctl_usage_command();
	if ((data = settings_read_file(argv[optind], 1024u << 20, &len,
	    &cause)) == NULL) {
		fprintf(stderr, "ecadmctl : %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	res = ctl_call_upload(ctl, OP_IMPORT, json_pack("{s:b}",
	    "dry_run", dry_run), data, len, NULL);
	free(data);
	if (res == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		ctl_print_json(res);
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
