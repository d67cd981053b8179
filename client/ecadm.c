/*
 * ecadm: the terminal client of Responsables. It connects to ecadmd, logs
 * in (directly when a user and a password are given, else on its login
 * screen) or resumes the session ecadm-sshd hands over on ECADM_SESSION_FD,
 * and opens the Responsables tab of the director's school.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
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

/* The longest session token ecadm-sshd may hand over (hex). */
#define SESSION_TOKEN_MAX	128
/* What a director under ecadm-sshd does when the session is over. */
#define SSH_AGAIN		"Reconnectez-vous avec ssh."

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

/* A session has begun (a login, or the first resume of a session handed
 * over): result is the server's description of it; the tabs open. */
static void
session_open(struct tui *t, json_t *result)
{
	int	i;

	json_decref(t->session);
	t->session = json_incref(result);
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

static void
login_done(struct tui *t, struct rpc_reply *r, void *arg)
{
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
	/* Kept to resume the session after a reconnection. */
	freestr_secret(t->token);
	t->token = xstrdup(json_string_value(json_object_get(r->result,
	    "token")));
	session_open(t, r->result);
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

static void
resume_done(struct tui *t, struct rpc_reply *r, void *arg)
{
	(void)arg;
	if (r == NULL)
		return;
	if (!r->ok) {
		if (tui_session_ended(t, r->message))
			return;
		/* The session did not survive: log in again. */
		json_decref(t->session);
		t->session = NULL;
		/* A progress bar among them goes too. */
		t->progress = NULL;
		while (t->noverlays > 0)
			tui_pop(t);
		if (t->login == NULL)
			t->login = screen_login_new(t);
		tui_status(t, 1, "Connexion rétablie, mais %s",
		    r->message);
		return;
	}
	/* A session handed over opens at its first resume. Its reply has
	 * no token: t->token, read from ECADM_SESSION_FD, stays the one. */
	if (t->session == NULL) {
		session_open(t, r->result);
		return;
	}
	tui_status(t, 0, "Connexion rétablie.");
	if (t->tabs[t->tab] != NULL && t->tabs[t->tab]->show != NULL)
		t->tabs[t->tab]->show(t->tabs[t->tab], t);
}

void
tui_resume(struct tui *t)
{
	tui_request(t, OP_RESUME, json_pack("{s:s}", "token", t->token),
	    resume_done, NULL);
}

/*
 * ECADM_SESSION_FD=N: ecadm-sshd left a session token (hex, maybe a
 * newline) on descriptor N, to its end: never in argv nor the environment,
 * which ps and /proc show. Read it, close N, wipe the buffer. Returns 0
 * (*token NULL without the variable), or the exit status and *cause
 * (French): EXIT_USAGE for a variable that is no descriptor, EXIT_REFUSED
 * for a token that cannot be read.
 */
static int
session_fd_token(char **token, char **cause)
{
	const char	*var = getenv("ECADM_SESSION_FD");
	char		 buf[SESSION_TOKEN_MAX + 3], *end;
	size_t		 len = 0;
	ssize_t		 n = 0;
	long		 fd;
	int		 saved;

	*token = NULL;
	if (var == NULL)
		return 0;
	errno = 0;
	fd = strtol(var, &end, 10);
	/* 0, 1 and 2 are the terminal. */
	if (errno != 0 || end == var || *end != '\0' || fd < 3 ||
	    fd > INT_MAX) {
		xasprintf(cause, "ECADM_SESSION_FD invalide : %s", var);
		return EXIT_USAGE;
	}
	/* One byte more than a token and its newline: too long. */
	while (len < sizeof buf - 1) {
		n = read((int)fd, buf + len, sizeof buf - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	saved = errno;
	close((int)fd);
	unsetenv("ECADM_SESSION_FD");
	if (n == -1)
		xasprintf(cause, "session illisible (descripteur %ld : %s). "
		    SSH_AGAIN, fd, strerror(saved));
	else {
		if (len > 0 && buf[len - 1] == '\n')
			len--;
		buf[len] = '\0';
		if (len == 0 || len > SESSION_TOKEN_MAX ||
		    strspn(buf, "0123456789abcdefABCDEF") < len)
			xasprintf(cause, "jeton de session invalide. "
			    SSH_AGAIN);
		else
			*token = xstrndup(buf, len);
	}
	OPENSSL_cleanse(buf, sizeof buf);
	return *token != NULL ? 0 : EXIT_REFUSED;
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
	char		*cause, *token;
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
	if ((status = session_fd_token(&token, &cause)) != 0) {
		fprintf(stderr, "ecadm : %s\n", cause);
		free(cause);
		settings_free(&s);
		return status;
	}
	/* Without a terminal, curses reads end-of-file forever and the
	 * loop never waits, so never sees a signal: refuse at once. */
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "ecadm : il faut un terminal ; dans un script, "
		    "utilisez ecadmctl.\n");
		freestr_secret(token);
		settings_free(&s);
		return EXIT_USAGE;
	}
	if (token == NULL && s.password_file != NULL &&
	    settings_password(&s, 0, &cause) == -1) {
		fprintf(stderr, "ecadm : %s\n", cause);
		free(cause);
		settings_free(&s);
		return EXIT_USAGE;
	}
	if ((rpc = settings_connect(&s, "ecadm", &cause)) == NULL) {
		fprintf(stderr, "ecadm : connexion à %s impossible : %s\n",
		    s.server, cause);
		free(cause);
		freestr_secret(token);
		settings_free(&s);
		return EXIT_CONNECT;
	}

	tui_init(&t, &s, rpc);
	if (token != NULL) {
		/* ecadm-sshd logged the director in: no login screen. */
		t.handed_over = 1;
		t.token = token;
		tui_status(&t, 0, "Connexion…");
		tui_resume(&t);
	} else {
		t.login = screen_login_new(&t);
		if (s.user != NULL && s.password != NULL) {
			tui_status(&t, 0, "Connexion…");
			tui_login(&t, s.user, s.password);
		}
	}
	status = tui_run(&t);
	rpc = t.rpc;	/* a reconnection may have replaced it */
	tui_end(&t);
	rpc_close(rpc);
	settings_free(&s);
	if (t.farewell != NULL) {
		/* The terminal is back: the last words stay on it. */
		fprintf(stderr, "ecadm : %s " SSH_AGAIN "\n", t.farewell);
		free(t.farewell);
	}
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
