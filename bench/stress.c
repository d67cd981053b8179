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
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "proto.h"
#include "rpc.h"
#include "tls.h"
#include "xmalloc.h"

/* A request that takes longer has failed, for this tool. */
#define CALL_TIMEOUT_MS		30000
/* Rounds of a staff session before it logs out and in again. */
#define STAFF_ROUNDS		20
/* Requests a reset abuser pipelines before it drops the connection. */
#define RESET_REQUESTS		8
/* Pause of an abuser between two connections, in milliseconds. */
#define RESET_PACE_MS		40
#define GARBAGE_PACE_MS		40
#define FLOOD_PACE_MS		1000
/* Bytes of hello a flood connection sends at most, and for how long: a
 * server without a bound on unread replies holds them all in memory. */
#define FLOOD_MAX_BYTES		(512u << 20)
#define FLOOD_MAX_SECONDS	30
/* A flood whose writes block that long: the server stopped reading (it
 * may take a few seconds to chew through what the socket held). */
#define FLOOD_STALL_SECONDS	10
/* A slow handshake we give up ourselves (the server should close first). */
#define SLOW_MAX_SECONDS	40
/* Time an abuser waits for the server's answer or close. */
#define ANSWER_TIMEOUT_MS	3000
/* The source addresses of the abusers (the staff use 127.0.0.1); idle
 * connections are spread IDLE_PER_SOURCE to an address of 127.0.1.0/24. */
#define RESET_SOURCE		"127.0.0.2"
#define FLOOD_SOURCE		"127.0.0.3"
#define SLOW_SOURCE		"127.0.0.4"
#define GARBAGE_SOURCE		"127.0.0.6"
#define IDLE_PER_SOURCE		50
/* Upper bounds on the loops, whatever SECONDS says. */
#define MAX_ITERATIONS		1000000

static const char		*server_host, *server_port, *server_addr;
static const char		*ca_file;
static SSL_CTX			*tls_ctx;
static double			 deadline;
static volatile sig_atomic_t	 stop_flag;

/* Counters and timings, shared by the threads of one process. */
struct counter {
	char	 name[96];
	long	 n;
};
struct timing {
	char	 name[48];
	double	*v;
	size_t	 n;
	size_t	 size;
};
static pthread_mutex_t	 stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counter	*counters;
static size_t		 ncounters;
static struct timing	*timings;
static size_t		 ntimings;

/* A class to search: its school and its name. */
struct class_ref {
	char	*uai;
	char	*name;
};
static struct class_ref	*classes;
static size_t		 nclasses;

/* Monotonic time in seconds. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether the run goes on: before the deadline and not told to stop. */
static int
running(void)
{
	return !stop_flag && now() < deadline;
}

/* Sleep for ms milliseconds, or less if the run ends. */
static void
nap(int ms)
{
	struct timespec	ts;

	while (ms > 0 && running()) {
		ts.tv_sec = 0;
		ts.tv_nsec = (ms > 100 ? 100 : ms) * 1000000L;
		nanosleep(&ts, NULL);
		ms -= 100;
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Add n to the counter of that name. */
static void __attribute__((format(printf, 2, 3)))
count_add(long n, const char *fmt, ...)
{
	char	name[96];
	va_list	ap;
	size_t	i;

	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < ncounters; i++) {
		if (strcmp(counters[i].name, name) == 0)
			break;
	}
	if (i == ncounters) {
		counters = xreallocarray(counters, ncounters + 1,
		    sizeof *counters);
		snprintf(counters[i].name, sizeof counters[i].name, "%s",
		    name);
		counters[i].n = 0;
		ncounters++;
	}
	counters[i].n += n;
	pthread_mutex_unlock(&stats_lock);
}

/* Record one timing, in milliseconds. */
static void
timing_add(const char *name, double ms)
{
	struct timing	*t;
	size_t		 i;

	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < ntimings; i++) {
		if (strcmp(timings[i].name, name) == 0)
			break;
	}
	if (i == ntimings) {
		timings = xreallocarray(timings, ntimings + 1, sizeof *timings);
		memset(&timings[i], 0, sizeof timings[i]);
		snprintf(timings[i].name, sizeof timings[i].name, "%s", name);
		ntimings++;
	}
	t = &timings[i];
	if (t->n == t->size) {
		t->size = t->size ? t->size * 2 : 1024;
		t->v = xreallocarray(t->v, t->size, sizeof *t->v);
	}
	t->v[t->n++] = ms;
	pthread_mutex_unlock(&stats_lock);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Print every counter and timing, for the driver. */
static void
stats_print(void)
{
	struct timing	*t;
	size_t		 i;

	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < ncounters; i++)
		printf("count %s %ld\n", counters[i].name, counters[i].n);
	for (i = 0; i < ntimings; i++) {
		t = &timings[i];
		qsort(t->v, t->n, sizeof *t->v, cmp_double);
		printf("lat %s %zu %.3f %.3f\n", t->name, t->n,
		    t->v[t->n / 2], t->v[(size_t)((double)t->n * 0.99)]);
	}
	pthread_mutex_unlock(&stats_lock);
	fflush(stdout);
}

/* Read "UAI;class" lines. */
static void
classes_load(const char *path)
{
	char	 line[512], *semi;
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "stress: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((semi = strchr(line, ';')) == NULL)
			continue;
		*semi = '\0';
		classes = xreallocarray(classes, nclasses + 1, sizeof *classes);
		classes[nclasses].uai = xstrdup(line);
		classes[nclasses++].name = xstrdup(semi + 1);
	}
	fclose(f);
	if (nclasses == 0) {
		fprintf(stderr, "stress: %s: no class\n", path);
		exit(2);
	}
}

/* A class at random, of that school (NULL: any school). */
static const struct class_ref *
class_pick(const char *uai, unsigned *seed)
{
	size_t	i, n = 0, k;

	for (i = 0; i < nclasses; i++)
		n += uai == NULL || strcmp(classes[i].uai, uai) == 0;
	if (n == 0)
		return NULL;
	k = (size_t)rand_r(seed) % n;
	for (i = 0; i < nclasses; i++) {
		if (uai != NULL && strcmp(classes[i].uai, uai) != 0)
			continue;
		if (k-- == 0)
			return &classes[i];
	}
	return NULL;
}

/* The protocol by hand, for the abusers: rpc.c is a well-behaved client
 * and cannot be made to misbehave. */
struct raw {
	SSL		*ssl;
	int		 fd;
	struct buf	 in;
	json_int_t	 next_id;
};

/* Write all of data; 0 done, 1 timed out (the server does not read), -1
 * the connection is gone. */
static int
raw_write(struct raw *c, const void *data, size_t len, int timeout_ms)
{
	const unsigned char	*p = data;
	struct pollfd		 pfd;
	double			 until = now() + timeout_ms / 1e3;
	int			 n, e;

	while (len > 0) {
		n = SSL_write(c->ssl, p, len > 65536 ? 65536 : (int)len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			until = now() + timeout_ms / 1e3;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) {
			ERR_clear_error();
			return -1;
		}
		if (now() >= until)
			return 1;
		/* Replies we never read may make the socket readable: wait
		 * for room to write only. */
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		poll(&pfd, 1, 100);
	}
	return 0;
}

/* Read one frame and parse it; 1 and *msg, 0 nothing within timeout_ms,
 * -1 closed or not a frame. */
static int
raw_read(struct raw *c, int timeout_ms, json_t **msg)
{
	const unsigned char	*p;
	const char		*cause;
	struct pollfd		 pfd;
	size_t			 len;
	double			 until = now() + timeout_ms / 1e3;
	int			 n, e, r;

	*msg = NULL;
	for (;;) {
		r = proto_frame_peek(&c->in, PROTO_REPLY_MAX, &p, &len);
		if (r == -1)
			return -1;
		if (r == 1) {
			*msg = proto_parse(p, len, &cause);
			buf_consume(&c->in, 4 + len);
			return *msg != NULL ? 1 : -1;
		}
		n = SSL_read(c->ssl, buf_reserve(&c->in, 65536), 65536);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			ERR_clear_error();
			return -1;
		}
		if (now() >= until)
			return 0;
		pfd.fd = c->fd;
		pfd.events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
		poll(&pfd, 1, 100);
	}
}

/* Queue a request frame. */
static void
raw_request(struct raw *c, struct buf *out, const char *op, json_t *args)
{
	json_t	*msg;

	msg = json_pack("{s:I, s:s, s:o}", "id", c->next_id++, "op", op,
	    "args", args != NULL ? args : json_object());
	proto_frame_json(out, msg);
	json_decref(msg);
}

/* Send one request and wait for its reply; the reply (caller frees) or
 * NULL. */
static json_t *
raw_call(struct raw *c, const char *op, json_t *args)
{
	struct buf	 out;
	json_t		*reply = NULL;

	buf_init(&out);
	raw_request(c, &out, op, args);
	if (raw_write(c, buf_head(&out), buf_left(&out), CALL_TIMEOUT_MS) == 0)
		raw_read(c, CALL_TIMEOUT_MS, &reply);
	buf_free(&out);
	return reply;
}

/* The error code of a reply, or NULL if it is a success. */
static const char *
reply_code(json_t *reply)
{
	const char	*code;

	if (json_is_true(json_object_get(reply, "ok")))
		return NULL;
	code = json_string_value(json_object_get(json_object_get(reply,
	    "error"), "code"));
	return code != NULL ? code : "E_?";
}

/*
 * A TCP connection to the server from that loopback address, non-blocking;
 * -1 on failure. Each abuser has its own source address, as another host
 * would: the server's limits by address must not count them against the
 * staff, who come from 127.0.0.1.
 */
static int
tcp_open(const char *source)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	socklen_t		len = sizeof sin;
	int			fd, error = 0, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, source, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		goto fail;
	sin.sin_port = htons((uint16_t)atoi(server_port));
	inet_pton(AF_INET, server_host, &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		len = sizeof error;
		if (poll(&pfd, 1, 10000) != 1 || getsockopt(fd, SOL_SOCKET,
		    SO_ERROR, &error, &len) == -1 || error != 0)
			goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
fail:
	close(fd);
	return -1;
}

/* The TLS handshake on a connected socket, checking the server's
 * certificate for 127.0.0.1; NULL on failure. */
static SSL *
tls_over(int fd)
{
	struct pollfd	 pfd;
	SSL		*ssl;
	double		 until = now() + 10;
	int		 r, e;

	if ((ssl = SSL_new(tls_ctx)) == NULL)
		return NULL;
	SSL_set_fd(ssl, fd);
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_host);
	while ((r = SSL_connect(ssl)) != 1) {
		e = SSL_get_error(ssl, r);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    now() >= until) {
			SSL_free(ssl);
			ERR_clear_error();
			return NULL;
		}
		pfd.fd = fd;
		pfd.events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
		poll(&pfd, 1, 100);
	}
	return ssl;
}

/* Connect from source over TLS, and say hello when asked; NULL if that
 * failed (the failure is counted under what). */
static struct raw *
raw_open(const char *what, const char *source, int hello)
{
	struct raw	*c;
	json_t		*reply;
	SSL		*ssl;
	int		 fd;

	if ((fd = tcp_open(source)) == -1) {
		count_add(1, "%s.connect_failed", what);
		return NULL;
	}
	if ((ssl = tls_over(fd)) == NULL) {
		/* Refused at once (a cap per address) or timed out. */
		count_add(1, "%s.handshake_failed", what);
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->ssl = ssl;
	c->fd = fd;
	c->next_id = 1;
	buf_init(&c->in);
	if (!hello)
		return c;
	reply = raw_call(c, "hello", json_pack("{s:i, s:s}", "version",
	    PROTO_VERSION, "client", "stress"));
	if (reply == NULL || reply_code(reply) != NULL) {
		count_add(1, "%s.hello_failed", what);
		json_decref(reply);
		SSL_free(c->ssl);
		close(c->fd);
		buf_free(&c->in);
		free(c);
		return NULL;
	}
	json_decref(reply);
	return c;
}

/* Drop the connection with an RST: SO_LINGER 0, no close_notify. */
static void
raw_reset(struct raw *c)
{
	struct linger	l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	SSL_free(c->ssl);
	close(c->fd);
	buf_free(&c->in);
	free(c);
}

/* Close politely: close_notify, then the socket. */
static void
raw_close(struct raw *c)
{
	SSL_shutdown(c->ssl);
	ERR_clear_error();
	SSL_free(c->ssl);
	close(c->fd);
	buf_free(&c->in);
	free(c);
}

/* Wait for the server's answer to something malformed: an error reply
 * (its code) and/or the close; the outcome as a word for the counters. */
static const char *
raw_outcome(struct raw *c, char *out, size_t size)
{
	char	 code[32] = "";
	json_t	*msg;
	int	 r;
	double	 until = now() + ANSWER_TIMEOUT_MS / 1e3;

	snprintf(out, size, "open");
	while (now() < until) {
		r = raw_read(c, (int)((until - now()) * 1e3) + 1, &msg);
		if (r == 0)
			break;
		if (r == -1) {
			snprintf(out, size, "%s%sclosed", code,
			    code[0] != '\0' ? "+" : "");
			return out;
		}
		if (code[0] == '\0' && reply_code(msg) != NULL) {
			snprintf(code, sizeof code, "%s", reply_code(msg));
			snprintf(out, size, "%s", code);
		}
		json_decref(msg);
	}
	return out;
}

/* Whether the server closes a plain TCP connection within the answer
 * timeout (whatever it sends first, a TLS alert maybe). */
static const char *
tcp_outcome(int fd)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	unsigned char	junk[4096];
	ssize_t		n;
	double		until = now() + ANSWER_TIMEOUT_MS / 1e3;

	while (now() < until) {
		if (poll(&pfd, 1, (int)((until - now()) * 1e3) + 1) <= 0)
			break;
		if ((n = recv(fd, junk, sizeof junk, 0)) <= 0)
			return "closed";
	}
	return "open";
}

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
staff_call(struct rpc *rpc, const char *op, json_t *args, int *lost)
{
	struct rpc_reply	*r;
	double			 t = now();

	if ((r = rpc_call(rpc, op, args, CALL_TIMEOUT_MS)) == NULL) {
		count_add(1, "staff.%s.lost", op);
		fprintf(stderr, "stress: staff %s: %s\n", op, rpc_error(rpc));
		*lost = 1;
		return NULL;
	}
	if (!r->ok) {
		count_add(1, "staff.%s.%s", op, r->code);
		if (strcmp(r->code, "E_BUSY") != 0)
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
	r = staff_call(rpc, "search", json_pack("{s:s, s:[s]}", "school",
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
	r = staff_call(rpc, "show", json_pack("{s:s, s:s}", "school", cl->uai,
	    "login", login), lost);
	rpc_reply_free(r);
	if (*lost || !s->notify) {
		free(login);
		return;
	}
	r = staff_call(rpc, "notify", json_pack("{s:s, s:[s]}", "school",
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
		r = staff_call(rpc, "login", json_pack("{s:s, s:s}", "login",
		    s->login, "password", s->password), &lost);
		if (r != NULL) {
			rpc_reply_free(r);
			for (i = 0; i < STAFF_ROUNDS && !lost && running(); i++)
				staff_round(s, rpc, &lost);
			if (!lost)
				rpc_reply_free(staff_call(rpc, "logout", NULL,
				    &lost));
		} else if (!lost)
			nap(200);
		rpc_close(rpc);
	}
	return NULL;
}

static int
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

/* -- reset: requests in flight, then an RST ---------------------------- */

static const char	*reset_token;

static void *
reset_main(void *arg)
{
	unsigned		 seed = (unsigned)(uintptr_t)arg;
	const struct class_ref	*cl;
	struct raw		*c;
	struct buf		 out;
	json_t			*reply;
	int			 i, iterations = 0;

	while (running() && iterations++ < MAX_ITERATIONS) {
		if ((c = raw_open("reset", RESET_SOURCE, 1)) == NULL) {
			nap(500);
			continue;
		}
		reply = raw_call(c, "resume", json_pack("{s:s}", "token",
		    reset_token));
		if (reply == NULL || reply_code(reply) != NULL) {
			count_add(1, "reset.resume.%s", reply == NULL ?
			    "lost" : reply_code(reply));
			json_decref(reply);
			raw_close(c);
			nap(500);
			continue;
		}
		json_decref(reply);
		/* Requests that go to the workers, sent at once: the first
		 * runs while the others wait in the server's buffer. */
		buf_init(&out);
		for (i = 0; i < RESET_REQUESTS; i++) {
			cl = class_pick(NULL, &seed);
			switch (i % 3) {
			case 0:
				raw_request(c, &out, "search", json_pack(
				    "{s:s, s:[s]}", "school", cl->uai,
				    "classes", cl->name));
				break;
			case 1:
				raw_request(c, &out, "stats", json_pack(
				    "{s:s}", "school", cl->uai));
				break;
			default:
				raw_request(c, &out, "journal", json_pack(
				    "{s:s, s:i}", "school", cl->uai, "limit",
				    50));
				break;
			}
		}
		if (raw_write(c, buf_head(&out), buf_left(&out), 2000) == 0)
			count_add(RESET_REQUESTS, "reset.requests");
		buf_free(&out);
		/* Sometimes at once, sometimes while a worker runs one. */
		nap(rand_r(&seed) % 20);
		raw_reset(c);
		count_add(1, "reset.connections");
		nap(RESET_PACE_MS);
	}
	return NULL;
}

static int
mode_reset(char **argv)
{
	struct rpc_options	 o;
	struct rpc_reply	*r;
	struct rpc		*rpc;
	pthread_t		*threads;
	char			*cause;
	int			 i, n;

	classes_load(argv[2]);
	n = atoi(argv[3]);
	memset(&o, 0, sizeof o);
	o.server = server_addr;
	o.ca = ca_file;
	o.client = "stress";
	/* One login (scrypt is slow on purpose); the connections resume. */
	if ((rpc = rpc_open(&o, &cause)) == NULL) {
		fprintf(stderr, "stress: reset: %s\n", cause);
		return 1;
	}
	r = rpc_call(rpc, "login", json_pack("{s:s, s:s}", "login", argv[0],
	    "password", argv[1]), CALL_TIMEOUT_MS);
	if (r == NULL || !r->ok) {
		fprintf(stderr, "stress: reset: login: %s\n", r != NULL ?
		    r->message : rpc_error(rpc));
		return 1;
	}
	reset_token = xstrdup(json_string_value(json_object_get(r->result,
	    "token")));
	rpc_reply_free(r);
	threads = xcalloc((size_t)n, sizeof *threads);
	for (i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, reset_main,
		    (void *)(uintptr_t)(i + 1));
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	rpc_close(rpc);
	return 0;
}

/* -- flood: hello after hello, never reading --------------------------- */

static void *
flood_main(void *arg)
{
	struct raw	*c;
	struct buf	 frames;
	json_t		*msg;
	size_t		 frame_len, sent, off;
	double		 start;
	int		 i, r, iterations = 0;

	(void)arg;
	/* 512 hellos in one buffer, written again and again. */
	buf_init(&frames);
	for (i = 0; i < 512; i++) {
		msg = json_pack("{s:i, s:s, s:{s:i, s:s}}", "id", i + 2, "op",
		    "hello", "args", "version", PROTO_VERSION, "client",
		    "stress-flood");
		proto_frame_json(&frames, msg);
		json_decref(msg);
	}
	frame_len = buf_left(&frames) / 512;
	while (running() && iterations++ < MAX_ITERATIONS) {
		if ((c = raw_open("flood", FLOOD_SOURCE, 1)) == NULL) {
			nap(FLOOD_PACE_MS);
			continue;
		}
		count_add(1, "flood.connections");
		start = now();
		sent = 0;
		for (;;) {
			if (!running() || now() - start > FLOOD_MAX_SECONDS ||
			    sent >= FLOOD_MAX_BYTES) {
				count_add(1, "flood.capped");
				break;
			}
			r = raw_write(c, buf_head(&frames), buf_left(&frames),
			    FLOOD_STALL_SECONDS * 1000);
			if (r == 1) {
				/* The server stopped reading us: it holds
				 * its ground. */
				count_add(1, "flood.stalled");
				break;
			}
			if (r == -1) {
				count_add(1, "flood.closed_by_server");
				break;
			}
			sent += buf_left(&frames);
		}
		off = sent / frame_len;
		count_add((long)off, "flood.hellos");
		raw_reset(c);
		nap(FLOOD_PACE_MS);
	}
	buf_free(&frames);
	return NULL;
}

static int
mode_flood(char **argv)
{
	pthread_t	*threads;
	int		 i, n = atoi(argv[0]);

	threads = xcalloc((size_t)n, sizeof *threads);
	for (i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, flood_main, NULL);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	return 0;
}

/* -- slow: handshakes that never end ----------------------------------- */

/* The bytes of a TLS 1.3 ClientHello, made through memory BIOs. */
static unsigned char *
client_hello(size_t *len)
{
	unsigned char	*hello;
	BIO		*rbio, *wbio;
	SSL		*ssl;
	int		 n;

	ssl = SSL_new(tls_ctx);
	rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(BIO_s_mem());
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_connect_state(ssl);
	SSL_do_handshake(ssl);
	n = (int)BIO_pending(wbio);
	hello = xmalloc(n > 0 ? (size_t)n : 1);
	*len = n > 0 ? (size_t)BIO_read(wbio, hello, n) : 0;
	SSL_free(ssl);
	ERR_clear_error();
	return hello;
}

struct slow {
	int	 fd;
	int	 drip;		/* 1: a byte a second; 0: silent */
	size_t	 sent;
	double	 opened;
	double	 next;		/* next byte */
};

static int
mode_slow(char **argv)
{
	struct slow	*s;
	struct pollfd	*pfd;
	unsigned char	*hello, junk[4096];
	const char	*kind;
	size_t		 hello_len;
	ssize_t		 n;
	double		 t;
	int		 i, count = atoi(argv[0]), opened = 0;

	hello = client_hello(&hello_len);
	s = xcalloc((size_t)count, sizeof *s);
	pfd = xcalloc((size_t)count, sizeof *pfd);
	for (i = 0; i < count; i++) {
		s[i].fd = -1;
		s[i].drip = i % 2 == 0;
	}
	while (running() && opened < MAX_ITERATIONS) {
		t = now();
		for (i = 0; i < count; i++) {
			kind = s[i].drip ? "drip" : "silent";
			if (s[i].fd == -1) {
				if ((s[i].fd = tcp_open(SLOW_SOURCE)) == -1) {
					count_add(1, "slow.%s.connect_failed",
					    kind);
					continue;
				}
				opened++;
				count_add(1, "slow.%s.opened", kind);
				s[i].sent = 0;
				s[i].opened = t;
				s[i].next = t;
			}
			if (t - s[i].opened > SLOW_MAX_SECONDS) {
				/* The server kept it: that is a finding. */
				count_add(1, "slow.%s.outlived", kind);
				close(s[i].fd);
				s[i].fd = -1;
				continue;
			}
			if (s[i].drip && s[i].sent < hello_len &&
			    t >= s[i].next) {
				if (send(s[i].fd, hello + s[i].sent, 1,
				    MSG_NOSIGNAL) == 1)
					s[i].sent++;
				s[i].next = t + 1;
			}
		}
		for (i = 0; i < count; i++) {
			pfd[i].fd = s[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)count, 200) <= 0)
			continue;
		for (i = 0; i < count; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			n = recv(s[i].fd, junk, sizeof junk, MSG_DONTWAIT);
			if (n > 0 || (n == -1 && errno == EAGAIN))
				continue;
			kind = s[i].drip ? "drip" : "silent";
			count_add(1, "slow.%s.closed_by_server", kind);
			timing_add(s[i].drip ? "slow.drip.lifetime" :
			    "slow.silent.lifetime", (now() - s[i].opened) * 1e3);
			close(s[i].fd);
			s[i].fd = -1;
		}
	}
	for (i = 0; i < count; i++) {
		if (s[i].fd != -1)
			close(s[i].fd);
	}
	free(hello);
	free(s);
	free(pfd);
	return 0;
}

/* -- idle: connections after hello that say nothing more --------------- */

/* The source address of idle connection i. */
static void
idle_source(int i, char *source, size_t size)
{
	snprintf(source, size, "127.0.1.%d", 1 + i / IDLE_PER_SOURCE);
}

/*
 * Hold n connections that said hello and nothing more. One the server
 * closes (a server may give clients that never log in some time only) is
 * opened again a second later, as a client that insists would.
 */
static int
mode_idle(char **argv)
{
	struct rlimit	 rl;
	struct raw	**c;
	struct pollfd	*pfd;
	unsigned char	 junk[4096];
	double		*opened, *retry;
	char		 source[32];
	int		 i, n = atoi(argv[0]), r, reopened = 0;

	if (n <= 0 || n > 250 * IDLE_PER_SOURCE)
		return 2;
	/* Our end of hundreds of sockets. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	c = xcalloc((size_t)n, sizeof *c);
	pfd = xcalloc((size_t)n, sizeof *pfd);
	opened = xcalloc((size_t)n, sizeof *opened);
	retry = xcalloc((size_t)n, sizeof *retry);
	for (i = 0; i < n && running(); i++) {
		idle_source(i, source, sizeof source);
		if ((c[i] = raw_open("idle", source, 1)) != NULL) {
			count_add(1, "idle.opened");
			opened[i] = now();
		} else
			retry[i] = now() + 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (running()) {
		for (i = 0; i < n && reopened < MAX_ITERATIONS; i++) {
			if (c[i] != NULL || now() < retry[i])
				continue;
			idle_source(i, source, sizeof source);
			reopened++;
			if ((c[i] = raw_open("idle", source, 1)) != NULL) {
				count_add(1, "idle.reopened");
				opened[i] = now();
			} else
				retry[i] = now() + 1;
		}
		for (i = 0; i < n; i++) {
			pfd[i].fd = c[i] != NULL ? c[i]->fd : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, 200) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (c[i] == NULL || pfd[i].revents == 0)
				continue;
			r = SSL_read(c[i]->ssl, junk, sizeof junk);
			if (r > 0 || SSL_get_error(c[i]->ssl, r) ==
			    SSL_ERROR_WANT_READ)
				continue;
			ERR_clear_error();
			count_add(1, "idle.closed_by_server");
			timing_add("idle.lifetime", (now() - opened[i]) * 1e3);
			raw_reset(c[i]);
			c[i] = NULL;
			retry[i] = now() + 1;
		}
	}
	for (i = 0; i < n; i++) {
		if (c[i] != NULL) {
			count_add(1, "idle.held_at_end");
			raw_close(c[i]);
		}
	}
	free(c);
	free(pfd);
	free(opened);
	free(retry);
	return 0;
}

/* -- garbage: malformed frames ------------------------------------------ */

enum garbage_kind {
	G_TCP_RANDOM,		/* no TLS at all */
	G_TLS_RANDOM,		/* random bytes inside TLS */
	G_LEN_ZERO,
	G_LEN_HUGE,		/* 0xffffffff */
	G_LEN_OVER,		/* one byte over the request limit */
	G_TRUNCATED,		/* a frame cut short, then our close */
	G_BAD_JSON,
	G_NOT_OBJECT,
	G_BAD_UTF8,
	G_NO_HELLO,
	G_BAD_TYPES,
	G_UNKNOWN_OP,
	G_DEEP_JSON,
	G_BAD_BLOB,		/* payload longer than announced */
	G_MANY_SMALL,		/* a thousand one-byte frames */
	G__COUNT
};

static const char *const garbage_names[G__COUNT] = {
	"tcp_random", "tls_random", "len_zero", "len_huge", "len_over",
	"truncated", "bad_json", "not_object", "bad_utf8", "no_hello",
	"bad_types", "unknown_op", "deep_json", "bad_blob", "many_small",
};

/* Random bytes. */
static void
random_bytes(unsigned char *p, size_t n, unsigned *seed)
{
	while (n-- > 0)
		*p++ = (unsigned char)rand_r(seed);
}

/* A frame of a literal text. */
static void
frame_text(struct buf *b, const char *text)
{
	proto_frame_raw(b, text, strlen(text));
}

/* One malformed conversation of that kind; counts its outcome. */
static void
garbage_one(enum garbage_kind k, unsigned *seed)
{
	const char	*name = garbage_names[k];
	unsigned char	 bytes[4096];
	struct raw	*c;
	struct buf	 b;
	char		 outcome[64], *deep;
	size_t		 i;
	int		 fd, hello;

	if (k == G_TCP_RANDOM) {
		if ((fd = tcp_open(GARBAGE_SOURCE)) == -1) {
			count_add(1, "garbage.%s.connect_failed", name);
			return;
		}
		random_bytes(bytes, 512, seed);
		send(fd, bytes, 512, MSG_NOSIGNAL);
		count_add(1, "garbage.%s.%s", name, tcp_outcome(fd));
		close(fd);
		return;
	}
	hello = k >= G_BAD_TYPES;
	if ((c = raw_open("garbage", GARBAGE_SOURCE, hello)) == NULL)
		return;
	buf_init(&b);
	switch (k) {
	case G_TLS_RANDOM:
		random_bytes(bytes, sizeof bytes, seed);
		buf_add(&b, bytes, sizeof bytes);
		break;
	case G_LEN_ZERO:
		buf_add_u32be(&b, 0);
		break;
	case G_LEN_HUGE:
		buf_add_u32be(&b, 0xffffffffu);
		buf_add(&b, "{}", 2);
		break;
	case G_LEN_OVER:
		buf_add_u32be(&b, PROTO_REQUEST_MAX + 1);
		buf_add(&b, "{\"id\":1", 7);
		break;
	case G_TRUNCATED:
		buf_add_u32be(&b, 1000);
		buf_add(&b, "{\"id\":1,\"op\"", 12);
		break;
	case G_BAD_JSON:
		frame_text(&b, "{\"id\":1,\"op\":\"hello\",\"args\":{\"version\"");
		break;
	case G_NOT_OBJECT:
		frame_text(&b, "[1,2,3]");
		break;
	case G_BAD_UTF8:
		frame_text(&b, "{\"id\":1,\"op\":\"hel\xff\xfelo\",\"args\":{}}");
		break;
	case G_NO_HELLO:
		frame_text(&b, "{\"id\":1,\"op\":\"search\",\"args\":{}}");
		break;
	case G_BAD_TYPES:
		frame_text(&b, "{\"id\":\"x\",\"op\":5,\"args\":[]}");
		break;
	case G_UNKNOWN_OP:
		frame_text(&b, "{\"id\":2,\"op\":\"rm -rf /\",\"args\":{}}");
		break;
	case G_DEEP_JSON:
		deep = xmalloc(200001);
		memset(deep, '[', 200000);
		deep[200000] = '\0';
		frame_text(&b, deep);
		free(deep);
		break;
	case G_BAD_BLOB:
		frame_text(&b, "{\"id\":2,\"op\":\"import\",\"args\":{},\"blob\":"
		    "{\"size\":100,\"sha256\":\"000000000000000000000000000000"
		    "0000000000000000000000000000000000\"}}");
		random_bytes(bytes, 200, seed);
		proto_frame_raw(&b, bytes, 200);
		break;
	case G_MANY_SMALL:
		for (i = 0; i < 1000; i++)
			proto_frame_raw(&b, "x", 1);
		break;
	default:
		break;
	}
	if (raw_write(c, buf_head(&b), buf_left(&b), ANSWER_TIMEOUT_MS) != 0)
		snprintf(outcome, sizeof outcome, "closed_while_sending");
	else if (k == G_TRUNCATED)
		snprintf(outcome, sizeof outcome, "sent");
	else
		raw_outcome(c, outcome, sizeof outcome);
	buf_free(&b);
	count_add(1, "garbage.%s.%s", name, outcome);
	if (k == G_TRUNCATED)
		raw_reset(c);
	else
		raw_close(c);
}

static void *
garbage_main(void *arg)
{
	unsigned	seed = (unsigned)(uintptr_t)arg;
	int		k = (int)seed, iterations = 0;

	while (running() && iterations++ < MAX_ITERATIONS) {
		garbage_one((enum garbage_kind)(k++ % G__COUNT), &seed);
		nap(GARBAGE_PACE_MS);
	}
	return NULL;
}

static int
mode_garbage(char **argv)
{
	pthread_t	*threads;
	int		 i, n = atoi(argv[0]);

	threads = xcalloc((size_t)n, sizeof *threads);
	for (i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, garbage_main,
		    (void *)(uintptr_t)(i * 5 + 1));
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	return 0;
}

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
