/*
 * The metrics' listener: libmicrohttpd on a loopback port of its own
 * ([metrics] listen), one internal thread, GET /metrics and nothing else,
 * in the Prometheus text exposition format (version 0.0.4).
 *
 * Why a thread of its own and not the epoll loop: the loop speaks TLS
 * frames to clients, and a scrape must be answered while every worker is
 * busy and while the database is down, which is when it matters. So it
 * runs on no worker and reads only atomics (metrics.c), the kernel's
 * figures for the process, and the outbox on a connection of its own
 * under a deadline (metrics-outbox.c). One thread serves the scrapes in
 * turn: a page takes microseconds to make, the outbox two seconds at the
 * worst, and a few connections (METRICS_CONNECTIONS), closed after
 * METRICS_TIMEOUT idle seconds, are all a Prometheus or two need.
 *
 * Why loopback only: the page is plain HTTP, without authentication. It
 * holds no secret, but the rate of each operation is the schools' activity
 * and the errors tell an attacker how the server fares. ecadmd refuses to
 * start with another address, rather than trust a firewall to be right; a
 * Prometheus on another host reaches it through a proxy that brings TLS
 * and authentication (as nginx does for the guichet), or an agent on the
 * host forwards the samples (etc/prometheus.yml).
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "server.h"

/* Connections served at once, and the seconds an idle one is kept. */
#define METRICS_CONNECTIONS	8
#define METRICS_TIMEOUT		10

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

static struct MHD_Daemon	*metrics_daemon;
static time_t			 metrics_started;

/* libmicrohttpd's complaints, in our log. */
static void
metrics_http_log(void *arg, const char *fmt, va_list ap)
{
	char	line[256];

	(void)arg;
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warnx("metrics: %s", line);
}

/* Descriptors open: the entries of /proc/self/fd, less the one reading
 * them. -1 if it cannot be read. */
static long
metrics_open_fds(void)
{
	struct dirent	*de;
	DIR		*dir;
	long		 n = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(dir);
	return n - 1;
}

/* The process's own figures, under the names every Prometheus client
 * library gives them, and what ecadmd was configured with. */
static void
metrics_render_process(struct buf *b)
{
	struct rusage	 ru;
	struct rlimit	 rl;
	FILE		*f;
	unsigned long	 size, resident;
	long		 fds;

	buf_printf(b, "# HELP ecadmd_build_info The version of ecadmd.\n"
	    "# TYPE ecadmd_build_info gauge\n"
	    "ecadmd_build_info{version=\"%s\"} 1\n", ECADM_VERSION);
	buf_printf(b, "# HELP process_start_time_seconds When ecadmd started "
	    "serving, in seconds since the epoch.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %lld\n", (long long)metrics_started);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		buf_printf(b, "# HELP process_cpu_seconds_total User and "
		    "system CPU time spent.\n"
		    "# TYPE process_cpu_seconds_total counter\n"
		    "process_cpu_seconds_total %.3f\n",
		    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%lu %lu", &size, &resident) == 2)
			buf_printf(b, "# HELP process_resident_memory_bytes "
			    "Resident memory size.\n"
			    "# TYPE process_resident_memory_bytes gauge\n"
			    "process_resident_memory_bytes %llu\n",
			    (unsigned long long)resident *
			    (unsigned long long)sysconf(_SC_PAGESIZE));
		fclose(f);
	}
	if ((fds = metrics_open_fds()) >= 0)
		buf_printf(b, "# HELP process_open_fds Open file descriptors.\n"
		    "# TYPE process_open_fds gauge\n"
		    "process_open_fds %ld\n", fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		buf_printf(b, "# HELP process_max_fds The limit of open file "
		    "descriptors.\n"
		    "# TYPE process_max_fds gauge\n"
		    "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	buf_printf(b, "# HELP ecadmd_workers Worker threads ([server] "
	    "workers).\n"
	    "# TYPE ecadmd_workers gauge\n"
	    "ecadmd_workers %d\n"
	    "# HELP ecadmd_queue_capacity Requests that may wait for a worker "
	    "before E_BUSY ([server] max_queue).\n"
	    "# TYPE ecadmd_queue_capacity gauge\n"
	    "ecadmd_queue_capacity %d\n"
	    "# HELP ecadmd_connections_max Client connections held at once "
	    "([server] max_connections).\n"
	    "# TYPE ecadmd_connections_max gauge\n"
	    "ecadmd_connections_max %d\n", server_cfg.workers,
	    server_cfg.max_queue, server_cfg.max_connections);
}

/* Queue a short answer of that status; the body is text. */
static enum MHD_Result
metrics_http_answer(struct MHD_Connection *c, unsigned status,
    const char *type, const void *body, size_t len, const char *allow)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
metrics_http_handler(void *arg, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	static const char	 not_allowed[] = "Method not allowed: GET "
				    "/metrics.\n";
	static const char	 not_found[] = "Not found: the metrics are "
				    "at /metrics.\n";
	struct buf		 b;
	enum MHD_Result		 ret;

	(void)arg;
	(void)version;
	(void)upload_data;
	(void)con_cls;
	/* Answered at once, from the headers: a body is never read. */
	*upload_data_size = 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return metrics_http_answer(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "text/plain; charset=utf-8", not_allowed,
		    sizeof not_allowed - 1, "GET, HEAD");
	if (strcmp(url, "/metrics") != 0)
		return metrics_http_answer(c, MHD_HTTP_NOT_FOUND,
		    "text/plain; charset=utf-8", not_found,
		    sizeof not_found - 1, NULL);
	buf_init(&b);
	metrics_render_process(&b);
	metrics_render(&b);
	metrics_outbox_render(&b);
	ret = metrics_http_answer(c, MHD_HTTP_OK, METRICS_CONTENT_TYPE,
	    buf_head(&b), buf_left(&b), NULL);
	buf_free(&b);
	return ret;
}

void
metrics_start(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	sigset_t		 all, old;
	unsigned		 flags;
	char			*cause;
	int			 fd;

	metrics_started = time(NULL);
	if (server_cfg.metrics_listen == NULL)
		return;
	if (net_check_loopback(server_cfg.metrics_listen, &cause) == -1)
		fatalx("[metrics] listen: %s: the metrics are served over "
		    "plain HTTP without authentication, on the loopback only "
		    "(see ecadmd(8))", cause);
	/* Our socket, as the guichet does: every daemon reads host:port
	 * alike (common/net.c). libmicrohttpd closes it at the end. */
	if ((fd = net_listen(server_cfg.metrics_listen, 16, &cause)) == -1)
		fatalx("[metrics] %s", cause);
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 &&
	    ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Signals belong to the loop's signalfd: the thread blocks them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	metrics_daemon = MHD_start_daemon(flags, 0, NULL, NULL,
	    metrics_http_handler, NULL,
	    /* First, or libmicrohttpd logs the options before it to stderr. */
	    MHD_OPTION_EXTERNAL_LOGGER, metrics_http_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT,
	    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (metrics_daemon == NULL) {
		close(fd);
		fatalx("[metrics] cannot serve on %s",
		    server_cfg.metrics_listen);
	}
	log_info("metrics on http://%s/metrics", server_cfg.metrics_listen);
}

void
metrics_stop(void)
{
	if (metrics_daemon == NULL)
		return;
	/* Joins the thread: the outbox connection is ours after. */
	MHD_stop_daemon(metrics_daemon);
	metrics_daemon = NULL;
	metrics_outbox_close();
}
