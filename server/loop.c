/*
 * The network side of ecadmd: one thread, one epoll set, every TLS
 * connection non-blocking. This file is the loop: the listener and
 * accept(), the jobs coming back from the pool, the timers and the
 * shutdown. What a connection does with its bytes is in conn.c.
 *
 * Workers never touch a connection: they fill the job's reply bytes and hand
 * the job back through loop_complete(), which queues it and wakes this
 * thread through an eventfd. A connection that dies while its job runs is
 * unlinked from the socket at once and freed when the job returns.
 *
 * A connection closed while an event batch is being handled stays in memory
 * (closed, its socket gone) until the batch is over: a later event of the
 * same batch may still name it. Closed connections are freed by
 * loop_reap(), once no job of theirs is in flight.
 *
 * Limits, so that no client can hold the server (the buffer limits are in
 * conn.c): a client that does not take its output for write_timeout seconds
 * is closed; connections that have not logged in are closed after
 * login_timeout seconds and counted per source address.
 *
 * SIGTERM and SIGINT stop the listener; the loop then waits for the jobs in
 * flight, flushes their replies, closes every connection and returns.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "server.h"
#include "xmalloc.h"

/* Time a draining server waits for jobs in flight and unread replies. */
#define DRAIN_TIMEOUT	30
/* Seconds accept() is paused when descriptors run out. */
#define ACCEPT_PAUSE	1

int				 epfd = -1;
int				 draining;
static int			 accept_paused;
static struct timespec		 accept_paused_at;
static int			 listen_fd = -1;
static int			 wake_fd = -1;
static int			 signal_fd = -1;
static SSL_CTX			*loop_ctx;
static struct timespec		 drain_started;

/* Completed jobs, handed over by the workers. */
static pthread_mutex_t		 done_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, job)	 done_jobs = TAILQ_HEAD_INITIALIZER(done_jobs);

/* epoll data of the non-connection descriptors. */
static char			 tag_listen, tag_wake, tag_signal;

double
timespec_since(const struct timespec *then)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - then->tv_sec) +
	    (double)(now.tv_nsec - then->tv_nsec) / 1e9;
}

/* Free the connections closed during the last batch of events, unless a
 * job of theirs still runs: those wait until it is back (loop_collect). */
static void
loop_reap(void)
{
	struct conn	*c, *next;

	TAILQ_FOREACH_SAFE(c, &closed_conns, entry, next) {
		if (c->busy != NULL)
			continue;
		TAILQ_REMOVE(&closed_conns, c, entry);
		conn_free(c);
	}
}

/* Stop accepting for a while: the listening socket stays readable while
 * descriptors are exhausted, and the loop would spin on it. */
static void
loop_pause_accept(void)
{
	log_warn("accept");
	epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, NULL);
	accept_paused = 1;
	clock_gettime(CLOCK_MONOTONIC, &accept_paused_at);
}

static void
loop_resume_accept(void)
{
	struct epoll_event	ev;

	if (!accept_paused || listen_fd == -1 ||
	    timespec_since(&accept_paused_at) < ACCEPT_PAUSE)
		return;
	ev.events = EPOLLIN;
	ev.data.ptr = &tag_listen;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) == -1)
		fatal("epoll_ctl add listener");
	accept_paused = 0;
}

/* Take the connections that wait on the listener. */
static void
loop_accept(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 host[NI_MAXHOST], port[NI_MAXSERV];
	int			 fd, one = 1;

	for (;;) {
		len = sizeof ss;
		fd = accept4(listen_fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				loop_pause_accept();
				return;
			}
			fatal("accept");
		}
		if (draining || nconns >= (unsigned)server_cfg.max_connections) {
			log_warnx("refusing a connection: %s", draining ?
			    "shutting down" : "too many connections");
			metrics_connection_refused(draining ?
			    METRICS_REFUSED_DRAINING :
			    METRICS_REFUSED_MAX_CONNECTIONS);
			close(fd);
			continue;
		}
		if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof host,
		    port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
			snprintf(host, sizeof host, "?");
			snprintf(port, sizeof port, "?");
		}
		host[46] = '\0';	/* an IPv6 address is at most 45 */
		if (conn_count_untrusted(host) >=
		    (unsigned)server_cfg.max_untrusted_per_address) {
			log_warnx("refusing a connection from %s: %d not "
			    "logged in already", host,
			    server_cfg.max_untrusted_per_address);
			metrics_connection_refused(METRICS_REFUSED_PER_ADDRESS);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		conn_new(fd, host, port, loop_ctx);
	}
}

void
loop_complete(struct job *job)
{
	uint64_t	one = 1;

	pthread_mutex_lock(&done_lock);
	TAILQ_INSERT_TAIL(&done_jobs, job, entry);
	pthread_mutex_unlock(&done_lock);
	if (write(wake_fd, &one, sizeof one) != sizeof one)
		fatal("write eventfd");
}

/* Take back the jobs the workers finished. */
static void
loop_collect(void)
{
	TAILQ_HEAD(, job)	 jobs = TAILQ_HEAD_INITIALIZER(jobs);
	struct job		*job;
	uint64_t		 n;

	if (read(wake_fd, &n, sizeof n) == -1 && errno != EAGAIN)
		fatal("read eventfd");
	pthread_mutex_lock(&done_lock);
	TAILQ_CONCAT(&jobs, &done_jobs, entry);
	pthread_mutex_unlock(&done_lock);

	while ((job = TAILQ_FIRST(&jobs)) != NULL) {
		TAILQ_REMOVE(&jobs, job, entry);
		conn_job_done(job);
	}
}

/* Close connections that outstayed their welcome. */
static void
loop_timeouts(void)
{
	struct conn	*c, *next;
	double		 idle_max = server_cfg.session_idle * 60.0 + 300;

	TAILQ_FOREACH_SAFE(c, &conns, entry, next) {
		if (c->state == CONN_HANDSHAKE) {
			if (timespec_since(&c->started) >
			    server_cfg.handshake_timeout)
				conn_close(c, "handshake timeout");
		} else if (buf_left(&c->out) > 0 && timespec_since(&c->output) >
		    server_cfg.write_timeout)
			conn_close(c, "client does not read its replies");
		else if (c->busy != NULL)
			continue;
		else if (c->peer == PEER_CLIENT && c->session == NULL &&
		    timespec_since(&c->started) > server_cfg.login_timeout)
			conn_close(c, "no login in time");
		else if (timespec_since(&c->active) > idle_max)
			conn_close(c, "idle timeout");
	}
}

static void
loop_drain(void)
{
	struct conn	*c, *next;

	if (draining)
		return;
	log_info("shutting down: finishing %u connection(s)", nconns);
	draining = 1;
	clock_gettime(CLOCK_MONOTONIC, &drain_started);
	if (!accept_paused)
		epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, NULL);
	close(listen_fd);
	listen_fd = -1;
	TAILQ_FOREACH_SAFE(c, &conns, entry, next) {
		if (c->state == CONN_HANDSHAKE) {
			conn_close(c, "server shutting down");
			continue;
		}
		/* Requests not yet started are dropped; the one in flight
		 * finishes and its reply is sent before the close. */
		c->state = CONN_CLOSING;
		if (conn_write(c) == 0)
			conn_update_events(c);
	}
}

static void
loop_signal(void)
{
	struct signalfd_siginfo	si;

	if (read(signal_fd, &si, sizeof si) != sizeof si)
		return;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
		loop_drain();
	else
		log_info("signal %u ignored", si.ssi_signo);
}

static int
loop_listen(const char *spec)
{
	char	*cause;
	int	 fd;

	if ((fd = net_listen(spec, 512, &cause)) == -1)
		fatalx("%s", cause);
	return fd;
}

/* Allow as many descriptors as the hard limit: each session is one. */
static void
loop_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void
loop_run(void *tls_ctx)
{
	struct epoll_event	 ev, evs[64];
	struct timespec		 last_tick;
	sigset_t		 mask;
	int			 n, i;
	void			*tag;

	loop_ctx = tls_ctx;
	loop_raise_nofile();
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	if ((wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd");
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if ((signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	listen_fd = loop_listen(server_cfg.listen);

	ev.events = EPOLLIN;
	ev.data.ptr = &tag_listen;
	epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev);
	ev.data.ptr = &tag_wake;
	epoll_ctl(epfd, EPOLL_CTL_ADD, wake_fd, &ev);
	ev.data.ptr = &tag_signal;
	epoll_ctl(epfd, EPOLL_CTL_ADD, signal_fd, &ev);
	log_info("listening on %s", server_cfg.listen);

	clock_gettime(CLOCK_MONOTONIC, &last_tick);
	for (;;) {
		n = epoll_wait(epfd, evs, 64, 1000);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		for (i = 0; i < n; i++) {
			tag = evs[i].data.ptr;
			if (tag == &tag_listen)
				loop_accept();
			else if (tag == &tag_wake)
				loop_collect();
			else if (tag == &tag_signal)
				loop_signal();
			else
				conn_io(tag, evs[i].events);
		}
		if (timespec_since(&last_tick) >= 1.0) {
			loop_timeouts();
			loop_resume_accept();
			clock_gettime(CLOCK_MONOTONIC, &last_tick);
		}
		loop_reap();
		if (draining && (nconns == 0 ||
		    timespec_since(&drain_started) > DRAIN_TIMEOUT))
			break;
	}

	/* Past the drain timeout: what is left is dropped. */
	while (!TAILQ_EMPTY(&conns))
		conn_close(TAILQ_FIRST(&conns), "server stopped");
	/* Wait for jobs still running for closed connections. */
	while (jobs_in_flight > 0) {
		struct pollfd	pfd = { .fd = wake_fd, .events = POLLIN };

		poll(&pfd, 1, 1000);
		loop_collect();
	}
	loop_reap();
	close(signal_fd);
	close(wake_fd);
	close(epfd);
}
