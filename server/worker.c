/*
 * The worker pool: a fixed number of threads, each with its own database
 * connection, taking jobs from one FIFO queue. A worker runs the gate, then
 * the handler, serializes the reply and hands the job back to the loop.
 * Handlers are plain sequential code over libpq: the concurrency lives here
 * and in loop.c, nowhere else.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "xmalloc.h"

static pthread_mutex_t		 queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 queue_cond = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, job)	 queue = TAILQ_HEAD_INITIALIZER(queue);
static size_t			 queue_len;
static int			 queue_stop;
static struct worker		*workers;
static int			 nworkers;

/* The handler of each operation; the loop answers hello itself. */
static const op_handler handlers[OP__COUNT] = {
	[OP_LOGIN] = session_login,
	[OP_RESUME] = session_resume,
	[OP_LOGOUT] = session_logout,
	[OP_WHOAMI] = op_whoami,
	[OP_CLASSES] = op_classes,
	[OP_SEARCH] = op_search,
	[OP_STATS] = op_stats,
	[OP_STAFF_ADD] = op_staff_add,
	[OP_STAFF_LIST] = op_staff_list,
	[OP_STAFF_DISABLE] = op_staff_disable,
	[OP_STAFF_SET_KEY] = op_staff_set_key,
	[OP_IMPORT] = op_import,
	[OP_NOTIFY] = op_notify,
	[OP_RESET] = op_reset,
	[OP_LIST] = op_list,
	[OP_SHOW] = op_show,
	[OP_JOURNAL] = op_journal,
	[OP_STAFF_TOTP] = op_staff_totp,
	[OP_GUARDIAN_LOGIN] = op_guardian_login,
	[OP_GUARDIAN_ACTIVATE] = op_guardian_activate,
	[OP_GUARDIAN_CONFIRM] = op_guardian_confirm,
	[OP_GUARDIAN_RESEND] = op_guardian_resend,
	[OP_GUARDIAN_ACCOUNT] = op_guardian_account,
	[OP_GUARDIAN_PASSWORD] = op_guardian_password,
	[OP_GUARDIAN_EMAIL] = op_guardian_email,
	[OP_GUARDIAN_EMAIL_CONFIRM] = op_guardian_email_confirm,
	[OP_GUARDIAN_FORGOT_LOGIN] = op_guardian_forgot_login,
	[OP_GUARDIAN_FORGOT_PASSWORD] = op_guardian_forgot_password,
	[OP_GUARDIAN_RESET_PASSWORD] = op_guardian_reset_password,
	[OP_GUARDIAN_LOGOUT] = op_guardian_logout,
	[OP_SET_EMAIL] = op_set_email,
	[OP_RESEND_ACTIVATION] = op_resend_activation,
	[OP_STAFF_KEYS] = op_staff_keys,
	[OP_STAFF_REMOVE_KEY] = op_staff_remove_key,
	[OP_SSH_KEY] = op_ssh_key,
	[OP_SSH_LOGIN] = op_ssh_login,
};

void
op_dispatch(struct worker *w, struct request *req)
{
	handlers[req->op](w, req);
}

/* Every operation but hello (answered by the loop) has a handler: a gap
 * in the table is found at start-up, not at the first call. */
static void
worker_check_handlers(void)
{
	int	op;

	for (op = 0; op < OP__COUNT; op++) {
		if (op != OP_HELLO && handlers[op] == NULL)
			fatalx("no handler for operation %s",
			    proto_op((enum proto_op)op)->name);
	}
}

/* Whether an uploaded payload is the one announced; E_INVALID if not.
 * Done here, not in the loop: hashing a large file would stall every
 * other connection. */
static int
worker_check_upload(struct request *req)
{
	char	sha[65];

	if (!(proto_op(req->op)->flags & OPF_UPLOAD))
		return 0;
	proto_sha256_hex(req->upload.data, req->upload.len, sha);
	if (strcmp(sha, req->upload_sha256) == 0)
		return 0;
	req_error(req, E_INVALID, "Fichier altéré pendant le transfert "
	    "(empreinte SHA-256 différente).");
	return -1;
}

/* Run one job: the gate, the handler, the reply. */
static void
worker_run(struct worker *w, struct job *job)
{
	struct request	*req = &job->req;
	struct timespec	 start;
	char		 ctx[48];

	if (req->session != NULL)
		snprintf(ctx, sizeof ctx, "c%llu s%lld w%d",
		    (unsigned long long)req->conn_id,
		    (long long)req->session->id, w->index);
	else
		snprintf(ctx, sizeof ctx, "c%llu w%d",
		    (unsigned long long)req->conn_id, w->index);
	log_context_set(ctx);
	clock_gettime(CLOCK_MONOTONIC, &start);
	metrics_worker_busy(1);
	metrics_queue_wait(timespec_since(&job->queued));

	if (timespec_since(&job->queued) > server_cfg.queue_timeout) {
		/* The client has waited long enough: say so rather than run
		 * late work it may have given up on. */
		log_warnx("%s waited %.1f s for a worker",
		    proto_op(req->op)->name, timespec_since(&job->queued));
		req_error(req, E_BUSY, NULL);
	} else if (db_ensure(w->db) == -1)
		req_error(req, E_BUSY, "Base de données indisponible, "
		    "réessayez dans un instant.");
	else if (worker_check_upload(req) == 0 && gate_run(w, req) == 0) {
		op_dispatch(w, req);
		if (db_in_transaction(w->db)) {
			/* A handler that left a transaction open is a bug;
			 * its work is not committed. */
			log_warnx("%s left a transaction open",
			    proto_op(req->op)->name);
			db_rollback(w->db);
		}
	}
	log_debug("%s %s (%.1f ms)", proto_op(req->op)->name,
	    req->error == -1 ? "ok" : proto_error_name(req->error),
	    timespec_since(&start) * 1000);
	req_reply(req, &job->out);
	/* Counted before the loop has the reply: a client that has its
	 * answer finds it in the next scrape. */
	metrics_request(req->op, req->error, timespec_since(&job->queued));
	metrics_worker_busy(-1);
	log_context_set(NULL);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct job	*job;

	for (;;) {
		pthread_mutex_lock(&queue_lock);
		while (TAILQ_EMPTY(&queue) && !queue_stop)
			pthread_cond_wait(&queue_cond, &queue_lock);
		if (TAILQ_EMPTY(&queue)) {
			pthread_mutex_unlock(&queue_lock);
			break;
		}
		job = TAILQ_FIRST(&queue);
		TAILQ_REMOVE(&queue, job, entry);
		queue_len--;
		metrics_queue_depth(queue_len);
		pthread_mutex_unlock(&queue_lock);

		/* Nobody would read the reply of a closed connection. */
		if (!atomic_load(&job->cancelled))
			worker_run(w, job);
		loop_complete(job);
	}
	return NULL;
}

void
worker_start(void)
{
	sigset_t	all, old;
	char		*cause;
	int		 i;

	worker_check_handlers();
	nworkers = server_cfg.workers;
	workers = xcalloc((size_t)nworkers, sizeof *workers);
	/* Signals belong to the loop's signalfd: workers block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < nworkers; i++) {
		workers[i].index = i;
		if ((workers[i].db = db_open(server_cfg.database,
		    &cause)) == NULL)
			fatalx("database: %s", cause);
		if (pthread_create(&workers[i].thread, NULL, worker_main,
		    &workers[i]) != 0)
			fatalx("pthread_create");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	log_info("%d workers started", nworkers);
}

void
worker_stop(void)
{
	int	i;

	pthread_mutex_lock(&queue_lock);
	queue_stop = 1;
	pthread_cond_broadcast(&queue_cond);
	pthread_mutex_unlock(&queue_lock);
	for (i = 0; i < nworkers; i++) {
		pthread_join(workers[i].thread, NULL);
		db_close(workers[i].db);
	}
	free(workers);
	workers = NULL;
}

int
worker_submit(struct job *job)
{
	pthread_mutex_lock(&queue_lock);
	if (queue_len >= (size_t)server_cfg.max_queue) {
		pthread_mutex_unlock(&queue_lock);
		return -1;
	}
	TAILQ_INSERT_TAIL(&queue, job, entry);
	queue_len++;
	metrics_queue_depth(queue_len);
	pthread_cond_signal(&queue_cond);
	pthread_mutex_unlock(&queue_lock);
	return 0;
}

size_t
worker_queued(void)
{
	size_t	n;

	pthread_mutex_lock(&queue_lock);
	n = queue_len;
	pthread_mutex_unlock(&queue_lock);
	return n;
}
