/* whoami: the caller's session, as the login returned it. */
#include "server.h"

void
op_whoami(struct worker *w, struct request *req)
{
	(void)w;
	req->result = session_describe(req->session, NULL);
}
