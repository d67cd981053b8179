/*
 * One connection of the loop thread (loop.c): its TLS handshake, its
 * buffers, its frames, and the requests it hands to the pool.
 *
 * A connection reads frames into its input buffer and handles them one at a
 * time: "hello" is answered here, any other request becomes a job for the
 * worker pool, and the connection reads no further request until that job
 * comes back (requests of one connection are answered in order). A binary
 * payload announced by a request (an import file) is collected here, after
 * the gate has checked that the caller may send it, and travels with the job.
 *
 * Limits, so that no client can exhaust the server: the input buffer holds
 * at most INPUT_LIMIT bytes; requests are not read while the unsent output
 * is above OUTPUT_PAUSE; a client whose output passes OUTPUT_MAX is closed
 * (loop.c closes those that leave it unread too long). Buffers are wiped
 * when emptied (they carry passwords and documents) and shrink back after
 * a large frame.
 */
#include <sys/epoll.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "server.h"
#include "tls.h"
#include "valid.h"
#include "xmalloc.h"

/* Input kept before the socket stops being read: a whole frame fits. */
#define INPUT_LIMIT	(2 * PROTO_REQUEST_MAX + 64)
/* Unsent output above which no further request is read. */
#define OUTPUT_PAUSE	(1u << 20)
/* Unsent output that closes the connection (one reply cannot grow past
 * OUTPUT_PAUSE by more than this). */
#define OUTPUT_MAX	(256u << 20)
/* Buffers larger than this are freed, not kept, once empty. */
#define BUFFER_KEEP	(64u << 10)

struct conn_list		 conns = TAILQ_HEAD_INITIALIZER(conns);
struct conn_list		 closed_conns =
				    TAILQ_HEAD_INITIALIZER(closed_conns);
unsigned			 nconns;
unsigned			 jobs_in_flight;
static uint64_t			 next_conn_id = 1;

static void
conn_log_context(struct conn *c)
{
	char	ctx[48];

	if (c == NULL) {
		log_context_set(NULL);
		return;
	}
	if (c->session != NULL)
		snprintf(ctx, sizeof ctx, "c%llu s%lld",
		    (unsigned long long)c->id, (long long)c->session->id);
	else
		snprintf(ctx, sizeof ctx, "c%llu", (unsigned long long)c->id);
	log_context_set(ctx);
}

/*
 * Whether the socket should be read: not while enough input waits, nor
 * while the client leaves its replies unread (a client that only writes
 * must not make us buffer without bound).
 */
static int
conn_wants_input(const struct conn *c)
{
	return c->state == CONN_OPEN && buf_left(&c->in) < INPUT_LIMIT &&
	    buf_left(&c->out) < OUTPUT_PAUSE;
}

/* Whether a request could be handled now: a whole frame waits, no job is
 * in flight, and the output is below its pause. */
static int
conn_can_process(const struct conn *c)
{
	const unsigned char	*p;
	size_t			 len;

	return c->state == CONN_OPEN && c->busy == NULL &&
	    buf_left(&c->out) < OUTPUT_PAUSE &&
	    proto_frame_peek(&c->in, PROTO_REQUEST_MAX, &p, &len) != 0;
}

/* Make the epoll interest match what the connection waits for. */
void
conn_update_events(struct conn *c)
{
	struct epoll_event	ev;
	uint32_t		events = 0;

	if (c->closed)
		return;
	if (c->state == CONN_HANDSHAKE)
		events = EPOLLIN | (c->want_write ? EPOLLOUT : 0);
	else {
		if (conn_wants_input(c))
			events |= EPOLLIN;
		if (buf_left(&c->out) > 0 || c->want_write)
			events |= EPOLLOUT;
	}
	if (events == c->events)
		return;
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		fatal("epoll_ctl mod");
	c->events = events;
}

void
conn_free(struct conn *c)
{
	/* Requests carry passwords, replies provisional passwords. */
	buf_free_secret(&c->in);
	buf_free_secret(&c->out);
	session_free(c->session);
	free(c);
}

static void
job_free(struct job *job)
{
	req_clear(&job->req);
	buf_free_secret(&job->out);
	free(job);
}

/* Wipe and release what an emptied buffer held; keep small ones. */
static void
conn_buf_drained(struct buf *b)
{
	if (buf_left(b) != 0 || b->data == NULL)
		return;
	if (b->size > BUFFER_KEEP)
		buf_free_secret(b);
	else
		buf_wipe(b);
}

void
conn_close(struct conn *c, const char *why)
{
	if (c->closed)
		return;
	conn_log_context(c);
	log_info("closing %s: %s", c->addr, why);
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->state != CONN_HANDSHAKE)
		SSL_shutdown(c->ssl);	/* best effort close_notify */
	SSL_free(c->ssl);
	close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	if (c->upload != NULL) {
		job_free(c->upload);
		c->upload = NULL;
	}
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	metrics_connection_closed();
	/* A job not yet started is dropped by its worker. */
	if (c->busy != NULL)
		atomic_store(&c->busy->cancelled, 1);
	c->closed = 1;
	TAILQ_INSERT_TAIL(&closed_conns, c, entry);
	log_context_set(NULL);
}

/* Queue a reply built here (not by a worker). */
static void
conn_reply(struct conn *c, json_t *reply)
{
	proto_frame_json(&c->out, reply);
	json_decref(reply);
}

/* Answer a protocol violation and close once the answer is out. */
static void
conn_violation(struct conn *c, const char *why)
{
	conn_log_context(c);
	log_warnx("protocol error from %s: %s", c->addr, why);
	conn_reply(c, proto_reply_error(0, E_PROTO, NULL));
	c->state = CONN_CLOSING;
}

/*
 * Connections from that host not yet trusted: in the TLS handshake, or
 * clients that have not logged in. Front-end daemons, known by their
 * certificate, are not counted: one guichet serves many parents.
 */
unsigned
conn_count_untrusted(const char *host)
{
	struct conn	*c;
	unsigned	 n = 0;

	TAILQ_FOREACH(c, &conns, entry) {
		if ((c->state == CONN_HANDSHAKE || (c->peer == PEER_CLIENT &&
		    c->session == NULL)) && strcmp(c->host, host) == 0)
			n++;
	}
	return n;
}

/* A connection on an accepted socket: its TLS handshake starts with the
 * first event. */
void
conn_new(int fd, const char *host, const char *port, SSL_CTX *ctx)
{
	struct epoll_event	 ev;
	struct conn		*c;

	c = xcalloc(1, sizeof *c);
	c->id = next_conn_id++;
	c->fd = fd;
	c->state = CONN_HANDSHAKE;
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	c->active = c->output = c->started;
	snprintf(c->addr, sizeof c->addr, "%.46s:%.8s", host, port);
	snprintf(c->host, sizeof c->host, "%.46s", host);
	if ((c->ssl = SSL_new(ctx)) == NULL)
		fatalx("SSL_new: %s", tls_error());
	SSL_set_fd(c->ssl, fd);
	SSL_set_accept_state(c->ssl);
	ev.events = c->events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		fatal("epoll_ctl add");
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	metrics_connection_opened();
	conn_log_context(c);
	log_debug("connection from %s", c->addr);
	log_context_set(NULL);
}

/* Tell the kind of peer from its verified client certificate. */
static unsigned
conn_peer_kind(struct conn *c)
{
	char		*role;
	unsigned	 peer = PEER_CLIENT;

	if ((role = tls_peer_role(c->ssl)) == NULL)
		return PEER_CLIENT;
	if (strcmp(role, "sshd") == 0)
		peer = PEER_SSHD;
	else if (strcmp(role, "guichet") == 0)
		peer = PEER_GUICHET;
	free(role);
	return peer;
}

static int
conn_handshake(struct conn *c)
{
	enum tls_io	r;

	c->want_write = 0;
	if ((r = tls_handshake(c->ssl)) == TLS_IO_DONE) {
		c->state = CONN_OPEN;
		c->peer = conn_peer_kind(c);
		conn_log_context(c);
		log_debug("TLS established with %s (%s)", c->addr,
		    SSL_get_version(c->ssl));
		return 0;
	}
	if (r == TLS_IO_WANT_READ)
		return 0;
	if (r == TLS_IO_WANT_WRITE) {
		c->want_write = 1;
		return 0;
	}
	conn_close(c, r == TLS_IO_ERROR ? tls_error() : "handshake failed");
	return -1;
}

/* Read what the socket has; 0, or -1 if the connection was closed. */
static int
conn_read(struct conn *c)
{
	enum tls_io	r;
	size_t		n;

	while (conn_wants_input(c)) {
		r = tls_read(c->ssl, buf_reserve(&c->in, 16384), 16384, &n);
		if (r == TLS_IO_DONE) {
			buf_commit(&c->in, n);
			clock_gettime(CLOCK_MONOTONIC, &c->active);
			continue;
		}
		if (r == TLS_IO_WANT_READ)
			return 0;
		if (r == TLS_IO_WANT_WRITE) {
			c->want_write = 1;
			return 0;
		}
		conn_close(c, r == TLS_IO_EOF ? "closed by peer" :
		    r == TLS_IO_ERROR ? tls_error() : "connection lost");
		return -1;
	}
	return 0;
}

int
conn_write(struct conn *c)
{
	enum tls_io	r;
	size_t		len, n;
	int		sent = 0;

	c->want_write = 0;
	if (buf_left(&c->out) > OUTPUT_MAX) {
		conn_close(c, "too much unread output");
		return -1;
	}
	while (buf_left(&c->out) > 0) {
		len = buf_left(&c->out);
		if (len > 65536)
			len = 65536;
		r = tls_write(c->ssl, buf_head(&c->out), len, &n);
		if (r == TLS_IO_DONE) {
			buf_consume(&c->out, n);
			clock_gettime(CLOCK_MONOTONIC, &c->output);
			sent = 1;
			continue;
		}
		if (r == TLS_IO_WANT_WRITE) {
			c->want_write = 1;
			return 0;
		}
		if (r == TLS_IO_WANT_READ)
			return 0;
		conn_close(c, "write failed");
		return -1;
	}
	/* Wipe once, when the last bytes went: this runs on every event,
	 * and an empty buffer has been wiped already. */
	if (sent)
		conn_buf_drained(&c->out);
	/* Nothing waits to be sent: the write timeout counts from now. */
	clock_gettime(CLOCK_MONOTONIC, &c->output);
	if (c->state == CONN_CLOSING && c->busy == NULL) {
		conn_close(c, draining ? "server shutting down" :
		    "after protocol error");
		return -1;
	}
	return 0;
}

/* Answer hello: check the version, learn the client's name. The error
 * answered, or -1. */
static int
conn_hello(struct conn *c, json_int_t id, json_t *args)
{
	json_t		*version = json_object_get(args, "version");
	const char	*client = json_string_value(json_object_get(args,
			    "client"));

	if (!json_is_integer(version) ||
	    json_integer_value(version) != PROTO_VERSION) {
		conn_reply(c, proto_reply_error(id, E_VERSION,
		    "Version du protocole non prise en charge : mettez à jour "
		    "le logiciel client."));
		conn_log_context(c);
		log_warnx("protocol version mismatch from %s", c->addr);
		c->state = CONN_CLOSING;
		return E_VERSION;
	}
	/* The name goes into logs and the journal: printable UTF-8 that fits,
	 * never cut inside a character. */
	if (client != NULL && (strlen(client) >= sizeof c->channel ||
	    !valid_utf8_text(client, strlen(client)))) {
		conn_reply(c, proto_reply_error(id, E_INVALID,
		    "Nom de client invalide."));
		conn_log_context(c);
		log_warnx("invalid client name from %s", c->addr);
		c->state = CONN_CLOSING;
		return E_INVALID;
	}
	if (client == NULL || client[0] == '\0')
		client = "client";
	/* A later hello (a liveness check) does not rename the channel
	 * that the logs and the journal already know. */
	if (!c->hello)
		snprintf(c->channel, sizeof c->channel, "%s", client);
	c->hello = 1;
	conn_reply(c, proto_reply_ok(id, json_pack("{s:i, s:s, s:s}",
	    "version", PROTO_VERSION, "server", "ecadmd/" ECADM_VERSION,
	    "peer", c->peer == PEER_SSHD ? "sshd" :
	    c->peer == PEER_GUICHET ? "guichet" : "client")));
	return -1;
}

static void
conn_dispatch(struct conn *c, struct job *job)
{
	clock_gettime(CLOCK_MONOTONIC, &job->queued);
	if (worker_submit(job) == -1) {
		conn_reply(c, proto_reply_error(job->req.id, E_BUSY, NULL));
		metrics_request(job->req.op, E_BUSY, 0);
		job_free(job);
		return;
	}
	c->busy = job;
	jobs_in_flight++;
}

/* Start collecting the payload announced by a request. */
static int
conn_upload_start(struct conn *c, struct job *job)
{
	const char	*sha;
	size_t		 size;

	if (proto_blob_parse(job->req.msg, &size, &sha) == -1)
		return -1;
	c->upload = job;
	c->upload_size = size;
	c->upload_got = 0;
	snprintf(job->req.upload_sha256, sizeof job->req.upload_sha256, "%s",
	    sha);
	return 0;
}

/* One payload frame of an upload; dispatch the job when it is whole. */
static void
conn_upload_frame(struct conn *c, const unsigned char *p, size_t len)
{
	struct job	*job = c->upload;

	if (len > c->upload_size - c->upload_got) {
		c->upload = NULL;
		job_free(job);
		conn_violation(c, "upload longer than announced");
		return;
	}
	c->upload_got += len;
	/* A refused upload is read to its end, not kept, then answered. */
	if (job->req.error == -1)
		buf_add(&job->req.upload, p, len);
	if (c->upload_got < c->upload_size)
		return;
	c->upload = NULL;
	if (job->req.error != -1) {
		req_reply(&job->req, &c->out);
		metrics_request(job->req.op, job->req.error, 0);
		job_free(job);
		return;
	}
	/* The worker checks the digest: hashing a large file here would
	 * stall every other connection. */
	conn_dispatch(c, job);
}

/* Handle one request frame. */
static void
conn_request(struct conn *c, const unsigned char *p, size_t len)
{
	struct proto_request	 r;
	struct job		*job;
	const char		*cause;

	if (proto_request_parse(p, len, &r, &cause) == -1) {
		conn_violation(c, cause);
		return;
	}
	if (!c->hello && r.op != OP_HELLO) {
		json_decref(r.msg);
		conn_violation(c, "request before hello");
		return;
	}
	if (r.op == -1) {
		conn_reply(c, proto_reply_error(r.id, E_INVALID,
		    "Opération inconnue."));
		json_decref(r.msg);
		return;
	}
	if (r.op == OP_HELLO) {
		metrics_request(OP_HELLO, conn_hello(c, r.id, r.args), 0);
		json_decref(r.msg);
		return;
	}

	job = xcalloc(1, sizeof *job);
	job->conn = c;
	job->req.conn_id = c->id;
	job->req.id = r.id;
	job->req.op = (enum proto_op)r.op;
	job->req.msg = r.msg;
	if (r.args == NULL)
		json_object_set_new(r.msg, "args", json_object());
	job->req.args = json_object_get(r.msg, "args");
	job->req.peer = c->peer;
	job->req.channel = c->channel;
	job->req.addr = c->host;
	job->req.session = c->session;
	job->req.error = -1;

	if (proto_op(job->req.op)->flags & OPF_UPLOAD) {
		if (conn_upload_start(c, job) == -1) {
			job_free(job);
			conn_violation(c, "upload without a valid blob");
			return;
		}
		/*
		 * Check the role before accepting megabytes: an anonymous
		 * peer must not make us buffer a file. A refused payload is
		 * still read (and dropped) so the stream stays in step.
		 */
		gate_check_role(&job->req);
		/* Accepted: one allocation for the announced size (bounded
		 * by proto_blob_parse) rather than doublings that copy an
		 * academy's 100 MB extraction several times over. */
		if (job->req.error == -1)
			buf_reserve(&job->req.upload, c->upload_size);
		return;
	}
	conn_dispatch(c, job);
}

/* Handle every complete frame, until a job is in flight or the output
 * must drain first. */
static void
conn_process(struct conn *c)
{
	const unsigned char	*p;
	size_t			 len;
	int			 r, consumed = 0;

	while (c->state == CONN_OPEN && c->busy == NULL &&
	    buf_left(&c->out) < OUTPUT_PAUSE) {
		r = proto_frame_peek(&c->in, PROTO_REQUEST_MAX, &p, &len);
		if (r == 0)
			break;
		if (r == -1) {
			conn_violation(c, "frame length out of bounds");
			break;
		}
		if (c->upload != NULL)
			conn_upload_frame(c, p, len);
		else
			conn_request(c, p, len);
		buf_consume(&c->in, 4 + len);
		consumed = 1;
	}
	/* As for the output: wipe what requests left, once. */
	if (consumed)
		conn_buf_drained(&c->in);
}

/*
 * Move a connection on as far as it can go: read, handle the frames, write
 * the replies; again while writing made room for frames that wait. Returns
 * -1 if the connection was closed.
 */
static int
conn_pump(struct conn *c)
{
	do {
		if (conn_wants_input(c) && conn_read(c) == -1)
			return -1;
		conn_process(c);
		if (conn_write(c) == -1)
			return -1;
	} while (conn_can_process(c));
	conn_update_events(c);
	return 0;
}

/* The events epoll reported on a connection. */
void
conn_io(struct conn *c, uint32_t events)
{
	/* Closed earlier in this batch of events. */
	if (c->closed)
		return;
	conn_log_context(c);
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		conn_close(c, "socket error");
		return;
	}
	if (c->state == CONN_HANDSHAKE) {
		if (conn_handshake(c) == -1)
			return;
		if (c->state == CONN_HANDSHAKE) {
			conn_update_events(c);
			log_context_set(NULL);
			return;
		}
	}
	if (conn_pump(c) == 0)
		log_context_set(NULL);
}

/* Take back a job from the pool: the session it opened or ended, its
 * reply, and whatever waited behind it. */
void
conn_job_done(struct job *job)
{
	struct conn	*c = job->conn;

	c->busy = NULL;
	jobs_in_flight--;
	if (c->closed) {
		/* A login that raced a disconnect: drop its session.
		 * The connection is freed by loop_reap. */
		session_free(job->req.new_session);
		job->req.new_session = NULL;
		job_free(job);
		return;
	}
	if (job->req.new_session != NULL) {
		session_free(c->session);
		c->session = job->req.new_session;
		job->req.new_session = NULL;
	} else if (job->req.end_session) {
		session_free(c->session);
		c->session = NULL;
	}
	/* Most often nothing is waiting: take the reply's buffer
	 * rather than copy it. */
	if (buf_left(&c->out) == 0) {
		buf_free_secret(&c->out);
		c->out = job->out;
		buf_init(&job->out);
	} else
		buf_add(&c->out, buf_head(&job->out),
		    buf_left(&job->out));
	job_free(job);
	conn_log_context(c);
	/* Frames that waited behind the job, and bytes SSL holds. */
	if (conn_pump(c) == 0)
		log_context_set(NULL);
}
