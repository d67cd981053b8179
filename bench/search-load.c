/*
 * search-load: the search of one class through ecadmd over TLS, by C
 * concurrent clients for some seconds; for make bench, against pgbench
 * running the same query straight on PostgreSQL. One thread drives every
 * connection (each keeps one request in flight), so the load costs as
 * little CPU as pgbench's.
 *
 *	search-load HOST:PORT CA USER PASSWORD CLASSES-FILE CLIENTS SECONDS
 * CLASSES-FILE: lines "UAI;class name". Prints: requests seconds p50 p99
 * (milliseconds).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpc.h"
#include "xmalloc.h"

struct client {
	struct rpc	*rpc;
	double		 sent;
};

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
send_search(struct client *c, char **uai, char **name, int nclasses)
{
	int	k = rand() % nclasses;

	rpc_send(c->rpc, OP_SEARCH, json_pack("{s:s, s:[s]}", "school",
	    uai[k], "classes", name[k]), NULL, 0);
	c->sent = now();
}

int
main(int argc, char **argv)
{
	struct rpc_options	 o;
	struct client		*clients;
	struct rpc_reply	*r;
	struct pollfd		*pfd;
	char			*cause, *token = NULL, line[256], **uai = NULL;
	char			**name = NULL, *semi;
	double			*lat = NULL, start, end;
	size_t			 nlat = 0, sizelat = 0;
	int			 n, secs, i, nclasses = 0;
	FILE			*f;

	if (argc != 8) {
		fprintf(stderr, "usage: search-load HOST:PORT CA USER PASSWORD "
		    "CLASSES CLIENTS SECONDS\n");
		return 2;
	}
	if ((f = fopen(argv[5], "r")) == NULL)
		return 1;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((semi = strchr(line, ';')) == NULL)
			continue;
		*semi = '\0';
		uai = xreallocarray(uai, (size_t)nclasses + 1, sizeof *uai);
		name = xreallocarray(name, (size_t)nclasses + 1, sizeof *name);
		uai[nclasses] = xstrdup(line);
		name[nclasses++] = xstrdup(semi + 1);
	}
	fclose(f);
	n = atoi(argv[6]);
	secs = atoi(argv[7]);
	clients = xcalloc((size_t)n, sizeof *clients);
	pfd = xcalloc((size_t)n, sizeof *pfd);
	memset(&o, 0, sizeof o);
	o.server = argv[1];
	o.ca = argv[2];
	o.client = "search-load";
	for (i = 0; i < n; i++) {
		if ((clients[i].rpc = rpc_open(&o, &cause)) == NULL) {
			fprintf(stderr, "%s\n", cause);
			return 1;
		}
		r = token == NULL ? rpc_call(clients[i].rpc, OP_LOGIN,
		    json_pack("{s:s, s:s}", "login", argv[3], "password",
		    argv[4]), 60000) : rpc_call(clients[i].rpc, OP_RESUME,
		    json_pack("{s:s}", "token", token), 60000);
		if (r == NULL || !r->ok) {
			fprintf(stderr, "session: %s\n", r != NULL ? r->message :
			    "lost");
			return 1;
		}
		if (token == NULL)
			token = xstrdup(json_string_value(json_object_get(
			    r->result, "token")));
		rpc_reply_free(r);
	}
	srand(42);
	start = now();
	end = start + secs;
	for (i = 0; i < n; i++)
		send_search(&clients[i], uai, name, nclasses);
	while (now() < end) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = rpc_fd(clients[i].rpc);
			pfd[i].events = POLLIN | (rpc_want_write(
			    clients[i].rpc) ? POLLOUT : 0);
		}
		if (poll(pfd, (nfds_t)n, 100) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (rpc_io(clients[i].rpc) == -1) {
				fprintf(stderr, "connection lost\n");
				return 1;
			}
			while ((r = rpc_next_reply(clients[i].rpc)) != NULL) {
				if (!r->ok) {
					fprintf(stderr, "%s\n", r->message);
					return 1;
				}
				if (nlat == sizelat) {
					sizelat = sizelat ? sizelat * 2 : 4096;
					lat = xreallocarray(lat, sizelat,
					    sizeof *lat);
				}
				lat[nlat++] = (now() - clients[i].sent) * 1e3;
				rpc_reply_free(r);
				send_search(&clients[i], uai, name, nclasses);
			}
		}
	}
	end = now() - start;
	qsort(lat, nlat, sizeof *lat, cmp_double);
	printf("%zu %.3f %.3f %.3f\n", nlat, end, nlat ? lat[nlat / 2] : 0,
	    nlat ? lat[(size_t)((double)nlat * 0.99)] : 0);
	return 0;
}
