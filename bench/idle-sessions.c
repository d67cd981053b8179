/*
 * idle-sessions: open N connections to ecadmd, each with a staff session
 * (one login, then "resume" with its token on every other connection),
 * keep them open, and wait for a line on stdin before closing them; for
 * make bench, which measures the server meanwhile.
 *
 *	idle-sessions HOST:PORT CA USER PASSWORD N
 * prints "ready N" once every session is open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "xmalloc.h"

int
main(int argc, char **argv)
{
	struct rpc_options	 o;
	struct rpc		**conns;
	struct rpc_reply	*r;
	char			*cause, *token = NULL, line[16];
	int			 n, i;

	if (argc != 6) {
		fprintf(stderr, "usage: idle-sessions HOST:PORT CA USER "
		    "PASSWORD N\n");
		return 2;
	}
	n = atoi(argv[5]);
	conns = xcalloc((size_t)n, sizeof *conns);
	memset(&o, 0, sizeof o);
	o.server = argv[1];
	o.ca = argv[2];
	o.client = "idle-sessions";
	for (i = 0; i < n; i++) {
		if ((conns[i] = rpc_open(&o, &cause)) == NULL) {
			fprintf(stderr, "connection %d: %s\n", i, cause);
			return 1;
		}
		if (token == NULL)
			r = rpc_call(conns[i], OP_LOGIN, json_pack("{s:s, s:s}",
			    "login", argv[3], "password", argv[4]), 60000);
		else
			r = rpc_call(conns[i], OP_RESUME, json_pack("{s:s}",
			    "token", token), 60000);
		if (r == NULL || !r->ok) {
			fprintf(stderr, "session %d: %s\n", i, r != NULL ?
			    r->message : rpc_error(conns[i]));
			return 1;
		}
		if (token == NULL)
			token = xstrdup(json_string_value(json_object_get(
			    r->result, "token")));
		rpc_reply_free(r);
	}
	printf("ready %d\n", n);
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL)
		line[0] = '\0';
	/* Each session still answers. */
	for (i = 0; i < n; i++) {
		r = rpc_call(conns[i], OP_WHOAMI, NULL, 60000);
		if (r == NULL || !r->ok) {
			fprintf(stderr, "session %d lost\n", i);
			return 1;
		}
		rpc_reply_free(r);
		rpc_close(conns[i]);
	}
	printf("alive %d\n", n);
	free(conns);
	free(token);
	return 0;
}
