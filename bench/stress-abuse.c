/* stress-abuse.c: the abusers of make stress (reset, flood, slow, idle,
 * garbage). */
#include "stress.h"

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

int
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
	r = rpc_call(rpc, OP_LOGIN, json_pack("{s:s, s:s}", "login", argv[0],
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

int
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

int
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
int
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

int
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
