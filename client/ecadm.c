/*
 * ecadm: the terminal client of Responsables. It connects to ecadmd, logs
 * in (directly when a user and a password are given, else on its login
 * screen) and opens the Responsables tab of the director's school.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "settings.h"
#include "tui.h"
#include "utf8.h"
#include "xmalloc.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
"usage : ecadm [--server HÔTE:PORT] [--ca FICHIER] [--user IDENTIFIANT]\n"
"              [--password-file FICHIER] [--totp CODE] [--school UAI]\n"
"\n"
"Sans identifiant et mot de passe (options ou ECADM_USER et\n"
"ECADM_PASSWORD), ecadm affiche son écran de connexion.\n");
	exit(EXIT_USAGE);
}

static void
login_done(struct tui *t, struct rpc_reply *r, void *arg)
{
	int	i;

	(void)arg;
	if (r == NULL) {
		if (t->login != NULL)
			screen_login_ready(t->login);
		return;
	}
	if (!r->ok) {
		if (t->login == NULL)
			t->login = screen_login_new(t);
		screen_login_ready(t->login);
		tui_status(t, 1, "%s", r->message);
		return;
	}
	json_decref(t->session);
	t->session = json_incref(r->result);
	freestr_secret(t->token);
	t->token = xstrdup(json_string_value(json_object_get(r->result,
	    "token")));
	if (t->login != NULL) {
		t->login->free(t->login);
		free(t->login);
		t->login = NULL;
	}
	/* The tabs live as long as the session: switching keeps their
	 * filters and scroll positions. */
	for (i = 0; i < TAB__COUNT; i++) {
		if (t->tabs[i] != NULL) {
			if (t->tabs[i]->data != NULL)
				tui_forget(t, t->tabs[i]->data);
			t->tabs[i]->free(t->tabs[i]);
			free(t->tabs[i]);
		}
	}
	t->tabs[TAB_RESPONSABLES] = screen_responsables_new(t);
	t->tabs[TAB_ETAT] = screen_etat_new(t);
	t->tabs[TAB_JOURNAL] = screen_journal_new(t);
	t->tabs[TAB_AIDE] = screen_aide_new(t);
	tui_status(t, 0, "Connecté. ? : aide.");
	tui_tab(t, TAB_RESPONSABLES);
}

void
tui_login(struct tui *t, const char *user, const char *password)
{
	json_t	*args;

	args = json_pack("{s:s, s:s}", "login", user, "password", password);
	if (t->settings->totp != NULL)
		json_object_set_new(args, "totp",
		    json_string(t->settings->totp));
	tui_request(t, OP_LOGIN, args, login_done, NULL);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		SETTINGS_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct settings	 s;
	struct tui	 t;
	struct rpc	*rpc;
	sigset_t	 set;
	char		*cause;
	int		 ch, status;

	utf8_locale_init();
	log_init("ecadm", LOG_LEVEL_WARN, 0);
	/* A server gone between two writes is an error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (settings_load(&s, &cause) == -1) {
		fprintf(stderr, "ecadm : %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (settings_option(&s, ch, optarg))
			continue;
		switch (ch) {
		case 'V':
			printf("ecadm %s\n", ECADM_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* Without a terminal, curses reads end-of-file forever and the
	 * loop never waits, so never sees a signal: refuse at once. */
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "ecadm : il faut un terminal ; dans un script, "
		    "utilisez ecadmctl.\n");
		settings_free(&s);
		return EXIT_USAGE;
	}
	if (s.password_file != NULL && settings_password(&s, 0,
	    &cause) == -1) {
		fprintf(stderr, "ecadm : %s\n", cause);
		free(cause);
		settings_free(&s);
		return EXIT_USAGE;
	}
	if ((rpc = settings_connect(&s, "ecadm", &cause)) == NULL) {
		fprintf(stderr, "ecadm : connexion à %s impossible : %s\n",
		    s.server, cause);
		free(cause);
		settings_free(&s);
		return EXIT_CONNECT;
	}

	tui_init(&t, &s, rpc);
	t.login = screen_login_new(&t);
	if (s.user != NULL && s.password != NULL) {
		tui_status(&t, 0, "Connexion…");
		tui_login(&t, s.user, s.password);
	}
	status = tui_run(&t);
	rpc = t.rpc;	/* a reconnection may have replaced it */
	tui_end(&t);
	rpc_close(rpc);
	settings_free(&s);
	if (t.signal != 0) {
		/* The terminal is back: now die of the signal, so whoever
		 * started us sees how we ended. */
		sigemptyset(&set);
		sigaddset(&set, t.signal);
		signal(t.signal, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(t.signal);
	}
	return status;
}
