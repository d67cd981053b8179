/*
 * The link to ecadmd: one TLS connection per HTTP thread, opened on first
 * use and kept in thread-specific data (a thread serves one request at a
 * time, so the connection needs no lock), closed when the thread ends.
 *
 * ecadmd may restart under us: a call that fails on a connection that had
 * already served is tried once more on a fresh one. The request may then
 * reach ecadmd twice only if the first one was processed and its reply
 * lost in the same instant; every guardian operation is safe to repeat
 * (a second login or confirmation is refused like a wrong one).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "guichet.h"
#include "log.h"
#include "rpc.h"

static pthread_key_t	backend_key;
static pthread_once_t	backend_once = PTHREAD_ONCE_INIT;

static void
backend_destroy(void *p)
{
	rpc_close(p);
}

static void
backend_key_make(void)
{
	if (pthread_key_create(&backend_key, backend_destroy) != 0)
		fatalx("pthread_key_create");
}

void
backend_init(void)
{
	pthread_once(&backend_once, backend_key_make);
}

/* This thread's connection, opened if needed; NULL if ecadmd is away. */
static struct rpc *
backend_get(int *fresh)
{
	struct rpc_options	 o;
	struct rpc		*rpc;
	char			*cause;

	*fresh = 0;
	if ((rpc = pthread_getspecific(backend_key)) != NULL)
		return rpc;
	memset(&o, 0, sizeof o);
	o.server = guichet_cfg.server;
	o.ca = guichet_cfg.ca;
	o.cert = guichet_cfg.cert;
	o.key = guichet_cfg.key;
	o.client = "ecadm-guichet/" ECADM_VERSION;
	o.timeout_ms = guichet_cfg.timeout * 1000;
	if ((rpc = rpc_open(&o, &cause)) == NULL) {
		log_warnx("ecadmd %s: %s", guichet_cfg.server, cause);
		free(cause);
		return NULL;
	}
	log_debug("connected to ecadmd %s", guichet_cfg.server);
	pthread_setspecific(backend_key, rpc);
	*fresh = 1;
	return rpc;
}

static void
backend_drop(struct rpc *rpc)
{
	log_info("ecadmd link lost: %s", rpc_error(rpc));
	pthread_setspecific(backend_key, NULL);
	rpc_close(rpc);
}

struct rpc_reply *
backend_call(enum proto_op op, json_t *args)
{
	struct rpc		*rpc;
	struct rpc_reply	*reply;
	int			 fresh, attempt;

	if (args == NULL)
		args = json_object();
	for (attempt = 0; attempt < 2; attempt++) {
		if ((rpc = backend_get(&fresh)) == NULL)
			break;
		json_incref(args);
		reply = rpc_call(rpc, op, args, guichet_cfg.timeout * 1000);
		if (reply != NULL) {
			json_decref(args);
			return reply;
		}
		backend_drop(rpc);
		/* A fresh connection that fails is not a stale one. */
		if (fresh)
			break;
	}
	json_decref(args);
	return NULL;
}
