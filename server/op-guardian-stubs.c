/* Stubs until the handlers land. */
#include "server.h"

void
op_guardian_login(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_activate(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_confirm(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_resend(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_account(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_password(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_email(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_email_confirm(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_forgot_login(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_forgot_password(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_reset_password(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_guardian_logout(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_set_email(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

void
op_resend_activation(struct worker *w, struct request *req)
{
	(void)w;
	req_error(req, E_INTERNAL, "Pas encore disponible.");
}

