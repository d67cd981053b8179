/*
 * What ecadmd tells its operators: counters and gauges kept in fixed arrays
 * of C11 atomics (metrics.c), served in the Prometheus text format on a
 * loopback HTTP port of their own (metrics-http.c), with the depth of the
 * outbox read at each scrape (metrics-outbox.c).
 *
 * The hooks below are called on the hot path (every request, every
 * connection): each is one or two relaxed atomic additions, no lock, no
 * allocation. They may be called whether or not the metrics are served.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#include "buf.h"
#include "proto.h"

/* Why a connection was refused at accept(). */
enum metrics_refusal {
	METRICS_REFUSED_MAX_CONNECTIONS,
	METRICS_REFUSED_PER_ADDRESS,	/* max_untrusted_per_address */
	METRICS_REFUSED_DRAINING,	/* shutting down */
	METRICS_REFUSED__COUNT
};

/* metrics.c: the counters. */
/* A request answered: error is -1 (ok) or an enum proto_error; seconds
 * from the moment it was queued for a worker to its reply (0 for those
 * the loop answers itself). */
void	 metrics_request(enum proto_op, int error, double seconds);
/* Seconds a request waited in the queue before a worker took it. */
void	 metrics_queue_wait(double seconds);
void	 metrics_connection_opened(void);
void	 metrics_connection_closed(void);
void	 metrics_connection_refused(enum metrics_refusal);
/* The requests waiting for a worker, set under the queue's lock. */
void	 metrics_queue_depth(size_t);
/* A worker starts (1) or ends (-1) a request. */
void	 metrics_worker_busy(int delta);
/* A lost database connection was reset: ok, or still down. */
void	 metrics_db_reconnect(int ok);
/* Append the counters above, in the text exposition format. */
void	 metrics_render(struct buf *);

/* metrics-http.c: the listener ([metrics] listen; off when empty). */
void	 metrics_start(void);
void	 metrics_stop(void);

/* metrics-outbox.c: the outbox, read on a connection of its own. */
void	 metrics_outbox_render(struct buf *);
void	 metrics_outbox_close(void);

#endif
