/*
 * The counters of ecadmd's metrics and their text exposition.
 *
 * Every series is known at build time: an operation of proto-ops.def
 * times an error of proto-errors.def (or ok), the buckets of a histogram,
 * a handful of gauges. So they live in fixed arrays of C11 atomics, and a
 * hook is one or two relaxed additions: no lock, no allocation, nothing a
 * worker could wait on. Relaxed order is enough because no series is used
 * to publish anything else; a scrape that races a request may see its
 * count before its histogram or the reverse, and the next scrape agrees.
 *
 * Every series is printed, zeros included: a rate() in Prometheus needs a
 * series to exist before its first increment, and the set is small and
 * fixed (the operations times the errors), so it costs no cardinality.
 *
 * A histogram keeps each bucket's own count (not the cumulative one) and
 * its sum in nanoseconds, an integer that an atomic adds exactly. The
 * cumulative buckets and _count are made from one reading of the buckets,
 * so they are consistent with each other whatever runs meanwhile.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* Upper bounds of the latency buckets, in 1-2-5 steps from 1 ms to 10 s;
 * 20 ms is one of them: the search's p99 objective (DESIGN.md §10). */
#define METRICS_BUCKETS	13
static const uint64_t	 bucket_ns[METRICS_BUCKETS] = {
	1000000, 2000000, 5000000, 10000000, 20000000, 50000000,
	100000000, 200000000, 500000000, 1000000000, 2000000000,
	5000000000, 10000000000,
};
static const char *const bucket_le[METRICS_BUCKETS] = {
	"0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2",
	"0.5", "1", "2", "5", "10",
};

struct histogram {
	_Atomic uint64_t	 bucket[METRICS_BUCKETS + 1];	/* last: +Inf */
	_Atomic uint64_t	 sum_ns;
};

/* [op][0]: ok; [op][1 + e]: error e. */
static _Atomic uint64_t	 requests[OP__COUNT][1 + E__COUNT];
static struct histogram	 durations[OP__COUNT];
static struct histogram	 queue_wait;
static _Atomic uint64_t	 conn_accepted;
static _Atomic int64_t	 conn_open;
static _Atomic uint64_t	 conn_refused[METRICS_REFUSED__COUNT];
static _Atomic uint64_t	 queue_depth;
static _Atomic int64_t	 workers_busy;
static _Atomic uint64_t	 db_reconnects[2];	/* [0] failed, [1] ok */

static const char *const refusal_names[METRICS_REFUSED__COUNT] = {
	[METRICS_REFUSED_MAX_CONNECTIONS] = "max_connections",
	[METRICS_REFUSED_PER_ADDRESS] = "per_address",
	[METRICS_REFUSED_DRAINING] = "draining",
};

#define ADD(counter, n) \
	atomic_fetch_add_explicit(&(counter), (n), memory_order_relaxed)
#define LOAD(counter) \
	atomic_load_explicit(&(counter), memory_order_relaxed)

static void
histogram_observe(struct histogram *h, double seconds)
{
	uint64_t	ns;
	int		i;

	/* Clamped: a clock that went back, or a request older than a
	 * year, must not wrap the sum. */
	if (!(seconds > 0))
		ns = 0;
	else if (seconds > 3.15e7)
		ns = (uint64_t)3.15e16;
	else
		ns = (uint64_t)(seconds * 1e9);
	for (i = 0; i < METRICS_BUCKETS && ns > bucket_ns[i]; i++)
		;
	ADD(h->bucket[i], 1);
	ADD(h->sum_ns, ns);
}

void
metrics_request(enum proto_op op, int error, double seconds)
{
	if ((unsigned)op >= OP__COUNT || error < -1 || error >= E__COUNT)
		return;
	ADD(requests[op][1 + error], 1);
	histogram_observe(&durations[op], seconds);
}

void
metrics_queue_wait(double seconds)
{
	histogram_observe(&queue_wait, seconds);
}

void
metrics_connection_opened(void)
{
	ADD(conn_accepted, 1);
	ADD(conn_open, 1);
}

void
metrics_connection_closed(void)
{
	ADD(conn_open, -1);
}

void
metrics_connection_refused(enum metrics_refusal why)
{
	if ((unsigned)why < METRICS_REFUSED__COUNT)
		ADD(conn_refused[why], 1);
}

void
metrics_queue_depth(size_t n)
{
	atomic_store_explicit(&queue_depth, n, memory_order_relaxed);
}

void
metrics_worker_busy(int delta)
{
	ADD(workers_busy, delta);
}

void
metrics_db_reconnect(int ok)
{
	ADD(db_reconnects[ok ? 1 : 0], 1);
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The lines of one histogram; labels are "" or `op="search",`. */
static void
histogram_render(struct buf *b, const char *name, const char *labels,
    struct histogram *h)
{
	uint64_t	counts[METRICS_BUCKETS + 1], total = 0;
	int		i;
	size_t		len = strlen(labels);

	for (i = 0; i <= METRICS_BUCKETS; i++)
		counts[i] = LOAD(h->bucket[i]);
	for (i = 0; i < METRICS_BUCKETS; i++) {
		total += counts[i];
		buf_printf(b, "%s_bucket{%sle=\"%s\"} %llu\n", name, labels,
		    bucket_le[i], (unsigned long long)total);
	}
	total += counts[METRICS_BUCKETS];
	buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
	    (unsigned long long)total);
	/* The same labels without their trailing comma, or none. */
	if (len > 0)
		buf_printf(b, "%s_sum{%.*s} %.6f\n%s_count{%.*s} %llu\n", name,
		    (int)len - 1, labels, (double)LOAD(h->sum_ns) / 1e9, name,
		    (int)len - 1, labels, (unsigned long long)total);
	else
		buf_printf(b, "%s_sum %.6f\n%s_count %llu\n", name,
		    (double)LOAD(h->sum_ns) / 1e9, name,
		    (unsigned long long)total);
}

/* The operations' and errors' names are [a-z-] and [A-Z_]: label values
 * that need no escaping. */
void
metrics_render(struct buf *b)
{
	char	labels[64];
	int	op, e;

	family(b, "ecadmd_requests_total", "counter",
	    "Requests answered, by operation and result (ok or the error "
	    "code).");
	for (op = 0; op < OP__COUNT; op++) {
		for (e = -1; e < E__COUNT; e++)
			buf_printf(b, "ecadmd_requests_total{op=\"%s\","
			    "code=\"%s\"} %llu\n",
			    proto_op((enum proto_op)op)->name, e == -1 ? "ok" :
			    proto_error_name((enum proto_error)e),
			    (unsigned long long)LOAD(requests[op][1 + e]));
	}
	family(b, "ecadmd_request_duration_seconds", "histogram",
	    "Seconds from a request's queueing for a worker to its reply "
	    "(0 for those the network loop answers itself).");
	for (op = 0; op < OP__COUNT; op++) {
		snprintf(labels, sizeof labels, "op=\"%s\",",
		    proto_op((enum proto_op)op)->name);
		histogram_render(b, "ecadmd_request_duration_seconds", labels,
		    &durations[op]);
	}
	family(b, "ecadmd_queue_wait_seconds", "histogram",
	    "Seconds a request waited for a worker.");
	histogram_render(b, "ecadmd_queue_wait_seconds", "", &queue_wait);

	family(b, "ecadmd_connections_open", "gauge",
	    "Client connections open.");
	buf_printf(b, "ecadmd_connections_open %lld\n",
	    (long long)LOAD(conn_open));
	family(b, "ecadmd_connections_accepted_total", "counter",
	    "Client connections accepted.");
	buf_printf(b, "ecadmd_connections_accepted_total %llu\n",
	    (unsigned long long)LOAD(conn_accepted));
	family(b, "ecadmd_connections_refused_total", "counter",
	    "Client connections closed at accept(), by reason.");
	for (e = 0; e < METRICS_REFUSED__COUNT; e++)
		buf_printf(b, "ecadmd_connections_refused_total{reason=\"%s\"} "
		    "%llu\n", refusal_names[e],
		    (unsigned long long)LOAD(conn_refused[e]));
	family(b, "ecadmd_queue_depth", "gauge",
	    "Requests waiting for a worker.");
	buf_printf(b, "ecadmd_queue_depth %llu\n",
	    (unsigned long long)LOAD(queue_depth));
	family(b, "ecadmd_workers_busy", "gauge",
	    "Workers running a request.");
	buf_printf(b, "ecadmd_workers_busy %lld\n",
	    (long long)LOAD(workers_busy));
	family(b, "ecadmd_db_reconnects_total", "counter",
	    "Resets of a lost database connection, by result.");
	buf_printf(b, "ecadmd_db_reconnects_total{result=\"ok\"} %llu\n"
	    "ecadmd_db_reconnects_total{result=\"failed\"} %llu\n",
	    (unsigned long long)LOAD(db_reconnects[1]),
	    (unsigned long long)LOAD(db_reconnects[0]));
}
