/*
 * stress: the load workers of make stress. bench/stress.py starts the
 * stack, runs one of these processes for each kind of traffic side by side,
 * watches ecadmd and judges; each process does one kind, to 127.0.0.1
 * only, bounded in time (SECONDS) and in count, and prints what it did and
 * how the server answered:
 *
 *	count NAME N		a counter (NAME: kind.what[.outcome])
 *	lat NAME N P50 P99	N timings, in milliseconds
 *
 *	stress staff   HOST:PORT CA SECONDS CLIENTS-FILE CLASSES-FILE
 *	stress reset   HOST:PORT CA SECONDS LOGIN PASSWORD CLASSES-FILE THREADS
 *	stress flood   HOST:PORT CA SECONDS THREADS
 *	stress slow    HOST:PORT CA SECONDS SOCKETS
 *	stress idle    HOST:PORT CA SECONDS CONNECTIONS
 *	stress garbage HOST:PORT CA SECONDS THREADS
 *
 * CLIENTS-FILE: lines "login;password;UAI;notify" (UAI empty: the
 * helpdesk, over every school; notify 1: a director who notifies).
 * CLASSES-FILE: lines "UAI;class name".
 *
 * staff is the legitimate traffic: one thread per client, each logs in,
 * then searches a class, shows an account and (directors) notifies that
 * one account on paper, reading the PDF, with no think time; every 20
 * rounds it logs out and starts again on a new connection. The others are
 * the abusers: reset pipelines requests then closes with SO_LINGER 0 (an
 * RST while a request is in flight); flood says hello again and again
 * without ever reading; slow opens TCP and sends a TLS ClientHello one
 * byte a second, or nothing; idle holds connections after hello (it says
 * "ready" once they are open, opens again those the server closes, and
 * closes them all at the end); garbage sends malformed frames. The staff
 * connect from 127.0.0.1, each abuser from an address of its own in
 * 127.0.0.0/8 (all to 127.0.0.1). The abusers are paced so that the two
 * cores of a small machine still serve the staff: the point is what the
 * server survives, not how fast a client can burn CPU.
 */
#include "stress.h"

static const struct mode {
	const char	*name;
	int		 nargs;		/* after HOST:PORT CA SECONDS */
	int		(*run)(char **);
} modes[] = {
	{ "staff", 2, mode_staff },
	{ "reset", 4, mode_reset },
	{ "flood", 1, mode_flood },
	{ "slow", 1, mode_slow },
	{ "idle", 1, mode_idle },
	{ "garbage", 1, mode_garbage },
	{ NULL, 0, NULL },
};

int
main(int argc, char **argv)
{
	const struct mode	*m;
	struct sigaction	 sa;
	char			*cause, *colon;
	int			 status;

	for (m = modes; m->name != NULL; m++) {
		if (argc > 1 && strcmp(argv[1], m->name) == 0)
			break;
	}
	if (m->name == NULL || argc != 5 + m->nargs) {
		fprintf(stderr, "usage: stress staff|reset|flood|slow|idle|"
		    "garbage HOST:PORT CA SECONDS ...\n");
		return 2;
	}
	server_addr = argv[2];
	server_host = xstrdup(argv[2]);
	if ((colon = strrchr(server_host, ':')) == NULL) {
		fprintf(stderr, "stress: %s: expected host:port\n", argv[2]);
		return 2;
	}
	*colon = '\0';
	server_port = colon + 1;
	/* Loopback only: this tool attacks. */
	if (strcmp(server_host, "127.0.0.1") != 0) {
		fprintf(stderr, "stress: only 127.0.0.1, not %s\n",
		    server_host);
		return 2;
	}
	ca_file = argv[3];
	deadline = now() + atof(argv[4]);

	/* Servers that reset us must not kill us with SIGPIPE; the driver
	 * stops us early with SIGTERM. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if ((tls_ctx = tls_client_ctx(ca_file, NULL, NULL, &cause)) == NULL) {
		fprintf(stderr, "stress: %s\n", cause);
		return 1;
	}
	status = m->run(argv + 5);
	stats_print();
	SSL_CTX_free(tls_ctx);
	return status;
}
