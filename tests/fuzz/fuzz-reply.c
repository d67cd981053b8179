/*
 * libFuzzer target: what a client (ecadm, ecadmctl, the front-end daemons)
 * does with the bytes a server sends. The input is the stream of one
 * connection, handed to rpc_feed() in two reads so frames straddle them:
 * frames cut under the client's limit, replies parsed, payloads announced,
 * collected frame by frame and checked against their SHA-256. Every reply
 * that comes out must be whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "rpc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Take the replies out as rpc_wait does, checking each. */
static void
fuzz_drain(struct rpc *rpc)
{
	struct rpc_reply	*r;
	char			 sha[65];

	while ((r = rpc_next_reply(rpc)) != NULL) {
		if (r->ok && (r->result == NULL || r->code != NULL))
			abort();
		if (!r->ok && (r->code == NULL || r->message == NULL ||
		    r->result != NULL))
			abort();
		if ((r->blob == NULL) != (r->blob_len == 0) ||
		    r->blob_len > PROTO_BLOB_MAX)
			abort();
		if (r->blob != NULL)
			proto_sha256_hex(r->blob, r->blob_len, sha);
		rpc_reply_free(r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc	*rpc = rpc_offline();
	size_t		 half = size / 2, got, total;

	if (rpc_feed(rpc, data, half) == 0) {
		fuzz_drain(rpc);
		rpc_feed(rpc, data + half, size - half);
	}
	/* Replies queued before a failure are still handed out. */
	fuzz_drain(rpc);
	if (rpc_progress(rpc, &got, &total) && (got > total || total == 0))
		abort();
	if (rpc_error(rpc) == NULL)
		abort();
	rpc_close(rpc);
	return 0;
}
