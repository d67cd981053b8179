/*
 * ecadm-guichet: options, configuration, start and stop. The HTTP threads
 * do all the work (http.c); the main thread waits for SIGTERM or SIGINT,
 * which every other thread blocks, and stops them.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "guichet.h"
#include "log.h"

#define DEFAULT_CONFIG	"/etc/ecadm/ecadm-guichet.ini"

struct guichet_config guichet_cfg;

static const struct config_key guichet_keys[] = {
	{ "http", "listen", CONFIG_STRING, &guichet_cfg.listen,
	    "127.0.0.1:8080", "address and port of the web server (host:port)" },
	{ "http", "threads", CONFIG_INT, &guichet_cfg.threads, "8",
	    "HTTP threads, each with its own connection to ecadmd (1-64)" },
	{ "http", "public_url", CONFIG_STRING, &guichet_cfg.public_url,
	    "https://guichet.example.fr/",
	    "the address parents use (the one printed on the letters)" },
	{ "http", "https_certificate", CONFIG_STRING, &guichet_cfg.https_cert,
	    NULL, "certificate to serve HTTPS directly (PEM; none: plain HTTP "
	    "behind a reverse proxy)" },
	{ "http", "https_key", CONFIG_STRING, &guichet_cfg.https_key, NULL,
	    "its private key (PEM, mode 0600)" },
	{ "http", "trusted_proxy", CONFIG_STRING, &guichet_cfg.trusted_proxy,
	    NULL, "address of the reverse proxy whose X-Forwarded-For is "
	    "believed (none: the header is ignored)" },
	{ "http", "csrf_key_file", CONFIG_STRING, &guichet_cfg.csrf_key_file,
	    "/var/lib/ecadm/guichet-csrf.key",
	    "key of the form tokens (created, mode 0600, if missing; give "
	    "every instance the same file)" },
	{ "ecadmd", "server", CONFIG_STRING, &guichet_cfg.server,
	    "127.0.0.1:7443", "ecadmd's address (host:port)" },
	{ "ecadmd", "ca", CONFIG_STRING, &guichet_cfg.ca,
	    "/etc/ecadm/tls/ca.crt", "CA of ecadmd's certificate" },
	{ "ecadmd", "certificate", CONFIG_STRING, &guichet_cfg.cert,
	    "/etc/ecadm/tls/guichet.crt",
	    "the guichet's client certificate (URI urn:ecadm:peer:guichet)" },
	{ "ecadmd", "key", CONFIG_STRING, &guichet_cfg.key,
	    "/etc/ecadm/tls/guichet.key", "its private key" },
	{ "ecadmd", "timeout", CONFIG_INT, &guichet_cfg.timeout, "15",
	    "seconds to wait for one answer of ecadmd" },
	{ "log", "debug", CONFIG_BOOL, &guichet_cfg.debug, "no",
	    "log every request (never a password or a token)" },
	{ NULL, NULL, CONFIG_STRING, NULL, NULL, NULL },
};

static void
config_check(void)
{
	if (guichet_cfg.threads < 1 || guichet_cfg.threads > 64)
		fatalx("[http] threads must be between 1 and 64");
	if (guichet_cfg.timeout < 1)
		fatalx("[ecadmd] timeout must be at least 1");
	if ((guichet_cfg.https_cert == NULL) != (guichet_cfg.https_key == NULL))
		fatalx("[http] https_certificate and https_key go together");
	if (guichet_cfg.csrf_key_file == NULL)
		fatalx("[http] csrf_key_file is required");
	if (guichet_cfg.server == NULL)
		fatalx("[ecadmd] server is required");
}

/* Run until SIGTERM or SIGINT. */
static int
serve(void)
{
	sigset_t	 set;
	char		*cause;
	int		 sig;

	if (csrf_init(guichet_cfg.csrf_key_file, &cause) == -1)
		fatalx("%s", cause);
	backend_init();
	/* Blocked before the threads start, so they inherit the mask and
	 * only sigwait() below sees the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (http_start(&cause) == -1)
		fatalx("%s", cause);
	log_info("listening on %s, ecadmd at %s", guichet_cfg.listen,
	    guichet_cfg.server);
	while (sigwait(&set, &sig) != 0)
		;
	log_info("signal %d: stopping", sig);
	http_stop();
	csrf_free();
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct config_daemon	 daemon = { "ecadm-guichet",
		guichet_keys, DEFAULT_CONFIG, NULL, NULL,
		&guichet_cfg.debug, NULL };
	int					 status;

	if (config_daemon_args(&daemon, argc, argv) != argc)
		config_daemon_usage(&daemon, 2);
	config_check();
	status = serve();
	config_free(guichet_keys);
	return status;
}
