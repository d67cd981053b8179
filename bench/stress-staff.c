/* stress-staff.c: the legitimate traffic of make stress. */
#include "stress.h"

/* -- staff: the legitimate traffic ------------------------------------- */

struct staff {
	char		*login;
	char		*password;
	char		*uai;		/* NULL: the helpdesk */
	int		 notify;
	unsigned	 seed;
	pthread_t	 thread;
};

/* One call, timed and counted; the reply if it succeeded. *lost is set
 * when the connection broke. */
static struct rpc_reply *
staff_call(struct rpc *rpc, enum proto_op which, json_t *args, int *lost)
{
	struct rpc_reply	*r;
	const char		*op = proto_op(which)->name;
	double			 t = now();

	if ((r = rpc_call(rpc, which, args, CALL_TIMEOUT_MS)) == NULL) {
		count_add(1, "staff.%s.lost", op);
		fprintf(stderr, "stress: staff %s: %s\n", op, rpc_error(rpc));
		*lost = 1;
		return NULL;
	}
	if (!r->ok) {
		count_add(1, "staff.%s.%s", op, r->code);
		if (r->error != E_BUSY)
			fprintf(stderr, "stress: staff %s: %s: %s\n", op,
			    r->code, r->message);
		rpc_reply_free(r);
		return NULL;
	}
	timing_add(op, (now() - t) * 1e3);
	count_add(1, "staff.%s.ok", op);
	return r;
}

/* Search a class, show one account of it, notify that one on paper. */
static void
staff_round(struct staff *s, struct rpc *rpc, int *lost)
{
	const struct class_ref	*cl;
	struct rpc_reply	*r;
	json_t			*rows, *row;
	char			*login = NULL;
	size_t			 i, n, k;

	if ((cl = class_pick(s->uai, &s->seed)) == NULL)
		return;
	r = staff_call(rpc, OP_SEARCH, json_pack("{s:s, s:[s]}", "school",
	    cl->uai, "classes", cl->name), lost);
	if (r == NULL)
		return;
	/* An account of the class that can be notified. */
	rows = json_object_get(r->result, "rows");
	n = json_array_size(rows);
	for (i = 0; n > 0 && i < n && login == NULL; i++) {
		k = ((size_t)rand_r(&s->seed) + i) % n;
		row = json_array_get(rows, k);
		if (json_string_value(json_object_get(row, "login")) != NULL &&
		    json_is_true(json_object_get(row, "eligible")))
			login = xstrdup(json_string_value(json_object_get(row,
			    "login")));
	}
	rpc_reply_free(r);
	if (login == NULL) {
		count_add(1, "staff.search.no_account");
		return;
	}
	r = staff_call(rpc, OP_SHOW, json_pack("{s:s, s:s}", "school", cl->uai,
	    "login", login), lost);
	rpc_reply_free(r);
	if (*lost || !s->notify) {
		free(login);
		return;
	}
	r = staff_call(rpc, OP_NOTIFY, json_pack("{s:s, s:[s]}", "school",
	    cl->uai, "logins", login), lost);
	if (r != NULL && (r->blob == NULL || r->blob_len < 5 ||
	    memcmp(r->blob, "%PDF-", 5) != 0)) {
		count_add(1, "staff.notify.no_pdf");
		fprintf(stderr, "stress: notify %s: no PDF in the reply\n",
		    login);
	} else if (r != NULL)
		count_add((long)r->blob_len, "staff.notify.pdf_bytes");
	rpc_reply_free(r);
	free(login);
}

/* One client: sessions of STAFF_ROUNDS rounds until the end. */
static void *
staff_main(void *arg)
{
	struct staff		*s = arg;
	struct rpc_options	 o;
	struct rpc_reply	*r;
	struct rpc		*rpc;
	char			*cause;
	int			 i, lost, refused = 0, iterations = 0;

	memset(&o, 0, sizeof o);
	o.server = server_addr;
	o.ca = ca_file;
	o.client = "stress";
	while (running() && iterations++ < MAX_ITERATIONS) {
		if ((rpc = rpc_open(&o, &cause)) == NULL) {
			count_add(1, "staff.connect.failed");
			fprintf(stderr, "stress: staff connect: %s\n", cause);
			free(cause);
			/* A server that is gone: the driver will tell. */
			if (++refused == 5)
				break;
			nap(1000);
			continue;
		}
		refused = 0;
		lost = 0;
		r = staff_call(rpc, OP_LOGIN, json_pack("{s:s, s:s}", "login",
		    s->login, "password", s->password), &lost);
		if (r != NULL) {
			rpc_reply_free(r);
			for (i = 0; i < STAFF_ROUNDS && !lost && running(); i++)
				staff_round(s, rpc, &lost);
			if (!lost)
				rpc_reply_free(staff_call(rpc, OP_LOGOUT, NULL,
				    &lost));
		} else if (!lost)
			nap(200);
		rpc_close(rpc);
	}
	return NULL;
}

int
mode_staff(char **argv)
{
	struct staff	*clients = NULL;
	char		 line[512], *f[4], *p;
	size_t		 n = 0, i;
	int		 k;
	FILE		*fp;

	classes_load(argv[1]);
	if ((fp = fopen(argv[0], "r")) == NULL) {
		fprintf(stderr, "stress: %s: %s\n", argv[0], strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		for (k = 0, p = line; k < 4; k++) {
			f[k] = p;
			if ((p = strchr(p, ';')) == NULL)
				break;
			*p++ = '\0';
		}
		if (k < 3)
			continue;
		clients = xreallocarray(clients, n + 1, sizeof *clients);
		memset(&clients[n], 0, sizeof clients[n]);
		clients[n].login = xstrdup(f[0]);
		clients[n].password = xstrdup(f[1]);
		clients[n].uai = f[2][0] != '\0' ? xstrdup(f[2]) : NULL;
		clients[n].notify = atoi(f[3]);
		clients[n].seed = (unsigned)(n * 7919 + 1);
		n++;
	}
	fclose(fp);
	for (i = 0; i < n; i++) {
		if (pthread_create(&clients[i].thread, NULL, staff_main,
		    &clients[i]) != 0) {
			fprintf(stderr, "stress: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < n; i++)
		pthread_join(clients[i].thread, NULL);
	count_add((long)n, "staff.clients");
	return 0;
}
