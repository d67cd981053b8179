/*
 * One connection's authentication, in its own process (main.c forks).
 *
 * Public keys only, and ecadmd decides: the key a client offers is sent to
 * ecadmd as the sshd peer ("ssh-key"), and once libssh has checked the
 * client's signature with it, ecadmd opens a session for that staff member
 * ("ssh-login") and returns its token. So a disabled member or a removed
 * key is refused at once, with nothing to copy to this host. A member who
 * has TOTP gets a partial success for the key, and keyboard-interactive
 * then asks for the code, which ecadmd checks in "ssh-login".
 *
 * Passwords are never offered; a client that sends one anyway is refused
 * and the attempt counted. The connection ends after max_auth_tries
 * refusals, or login_grace seconds (an alarm: nothing to clean up, and
 * the listener counts the death as a failure).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "log.h"
#include "rpc.h"
#include "sshd.h"
#include "xmalloc.h"

#define TOTP_PROMPT	"Code de vérification (TOTP) : "

struct auth {
	ssh_session		 session;
	const char		*addr;
	int			 tries;		/* refusals so far */
	char			*login;		/* whose key passed, for TOTP */
	char			*key;		/* "TYPE BASE64" of that key */
	int			 asked;		/* the code was asked for */
	char			*offered_login;	/* the last key ecadmd knew */
	char			*offered_key;
	int			 offered_totp;
	struct auth_result	*result;	/* filled on success */
	int			 done;
};

static struct rpc	*auth_rpc;

/* One question to ecadmd; NULL if it cannot be asked (logged). */
static struct rpc_reply *
auth_call(enum proto_op op, json_t *args)
{
	struct rpc_options	 o;
	struct rpc_reply	*r;
	char			*cause;

	if (auth_rpc == NULL) {
		memset(&o, 0, sizeof o);
		o.server = sshd_cfg.server;
		o.ctx = sshd_tls_ctx;
		o.client = "ecadm-sshd/" ECADM_VERSION;
		o.timeout_ms = sshd_cfg.timeout * 1000;
		if ((auth_rpc = rpc_open(&o, &cause)) == NULL) {
			log_warnx("ecadmd %s: %s", sshd_cfg.server, cause);
			free(cause);
			json_decref(args);
			return NULL;
		}
	}
	if ((r = rpc_call(auth_rpc, op, args, sshd_cfg.timeout * 1000)) ==
	    NULL) {
		log_warnx("ecadmd %s: %s", sshd_cfg.server,
		    rpc_error(auth_rpc));
		rpc_close(auth_rpc);
		auth_rpc = NULL;
	}
	return r;
}

void
auth_forget(void)
{
	rpc_close(auth_rpc);
	auth_rpc = NULL;
	/* The last reference: OpenSSL clears the private key as it frees
	 * it. From here on this process cannot speak as the gateway. */
	SSL_CTX_free(sshd_tls_ctx);
	sshd_tls_ctx = NULL;
}

void
auth_result_free(struct auth_result *r)
{
	free(r->login);
	if (r->token != NULL)
		OPENSSL_clear_free(r->token, strlen(r->token));
	free(r->name);
	memset(r, 0, sizeof *r);
}

/* A login that can name a folder: what ecadmd's logins are made of. */
static int
auth_login_valid(const char *login)
{
	size_t	len = strlen(login);

	return len > 0 && len <= 64 && login[0] != '.' &&
	    strspn(login, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/* The key as ecadmd stores it: "TYPE BASE64". */
static char *
auth_key_line(ssh_key key)
{
	const char	*type;
	char		*b64, *line;

	if ((type = ssh_key_type_to_char(ssh_key_type(key))) == NULL ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return NULL;
	xasprintf(&line, "%s %s", type, b64);
	ssh_string_free_char(b64);
	return line;
}

static void
auth_refused(struct auth *a, const char *login, const char *why)
{
	a->tries++;
	log_info("%s refused: %s (%d of %d)", login, why, a->tries,
	    sshd_cfg.max_auth_tries);
}

/* Ask ecadmd for the session of login; 0 and a->result filled, or -1. */
static int
auth_session(struct auth *a, const char *login, const char *key,
    const char *code)
{
	struct rpc_reply	*r;
	json_t			*args;
	const char		*token, *name;

	args = json_pack("{s:s, s:s, s:s}", "login", login, "key", key,
	    "addr", a->addr);
	if (code != NULL)
		json_object_set_new(args, "totp", json_string(code));
	if ((r = auth_call(OP_SSH_LOGIN, args)) == NULL)
		return -1;
	if (!r->ok || (token = json_string_value(json_object_get(r->result,
	    "token"))) == NULL) {
		auth_refused(a, login, r->ok ? "no token" : r->message);
		rpc_reply_free(r);
		return -1;
	}
	name = json_string_value(json_object_get(r->result, "name"));
	a->result->login = xstrdup(login);
	a->result->token = xstrdup(token);
	a->result->name = xstrdup(name != NULL ? name : login);
	a->done = 1;
	log_info("%s (%s) logged in by key%s", login, a->result->name,
	    code != NULL ? " and TOTP code" : "");
	rpc_reply_free(r);
	return 0;
}

/*
 * Whether ecadmd knows the key as login's: 0 and *totp, or -1 (refused,
 * counted). OpenSSH offers a key, then signs with it: the answer to the
 * offer stands for the signature that follows, one question fewer.
 */
static int
auth_key_known(struct auth *a, const char *login, const char *line,
    int *totp)
{
	struct rpc_reply	*r;

	if (a->offered_login != NULL && strcmp(a->offered_login, login) == 0 &&
	    strcmp(a->offered_key, line) == 0) {
		*totp = a->offered_totp;
		return 0;
	}
	if ((r = auth_call(OP_SSH_KEY, json_pack("{s:s, s:s, s:s}", "login",
	    login, "key", line, "addr", a->addr))) == NULL)
		return -1;
	if (!r->ok) {
		/* Agents offer their keys one by one: an offer of the wrong
		 * one counts like any refusal, as in OpenSSH. */
		auth_refused(a, login, r->message);
		rpc_reply_free(r);
		return -1;
	}
	*totp = json_is_true(json_object_get(r->result, "totp"));
	rpc_reply_free(r);
	free(a->offered_login);
	free(a->offered_key);
	a->offered_login = xstrdup(login);
	a->offered_key = xstrdup(line);
	a->offered_totp = *totp;
	return 0;
}

static int
auth_pubkey(ssh_session session, const char *login, struct ssh_key_struct *key,
    char state, void *arg)
{
	struct auth	*a = arg;
	char		*line;
	int		 totp, rc = SSH_AUTH_DENIED;

	(void)session;
	if (state != SSH_PUBLICKEY_STATE_NONE &&
	    state != SSH_PUBLICKEY_STATE_VALID) {
		auth_refused(a, login, "bad signature");
		return SSH_AUTH_DENIED;
	}
	if (!auth_login_valid(login)) {
		auth_refused(a, "?", "not a staff login");
		return SSH_AUTH_DENIED;
	}
	if ((line = auth_key_line(key)) == NULL) {
		auth_refused(a, login, "unreadable key");
		return SSH_AUTH_DENIED;
	}
	if (auth_key_known(a, login, line, &totp) == -1)
		goto out;
	if (state == SSH_PUBLICKEY_STATE_NONE) {
		rc = SSH_AUTH_SUCCESS;	/* "this key would do": sign */
		goto out;
	}
	if (totp) {
		/* The key is proven; the code comes next. */
		free(a->login);
		free(a->key);
		a->login = xstrdup(login);
		a->key = line;
		line = NULL;
		ssh_set_auth_methods(a->session, SSH_AUTH_METHOD_INTERACTIVE);
		rc = SSH_AUTH_PARTIAL;
		goto out;
	}
	if (auth_session(a, login, line, NULL) == 0)
		rc = SSH_AUTH_SUCCESS;
out:
	free(line);
	return rc;
}

static int
auth_password(ssh_session session, const char *login, const char *password,
    void *arg)
{
	(void)session;
	(void)password;
	auth_refused(arg, auth_login_valid(login) ? login : "?",
	    "password authentication is not offered");
	return SSH_AUTH_DENIED;
}

/* keyboard-interactive, only after a key that needs its TOTP code. */
static int
auth_message(ssh_session session, ssh_message msg, void *arg)
{
	struct auth	*a = arg;
	const char	*prompts[] = { TOTP_PROMPT };
	const char	*code;
	char		 echo[] = { 0 };

	if (ssh_message_type(msg) != SSH_REQUEST_AUTH ||
	    ssh_message_subtype(msg) != SSH_AUTH_METHOD_INTERACTIVE ||
	    a->login == NULL)
		return 1;	/* refused by libssh's default answer */
	if (!ssh_message_auth_kbdint_is_response(msg)) {
		/* The code is asked of whoever proved the key, only. */
		if (ssh_message_auth_user(msg) == NULL ||
		    strcmp(ssh_message_auth_user(msg), a->login) != 0)
			return 1;
		ssh_message_auth_interactive_request(msg, "Responsables",
		    "Votre compte demande un code de vérification.", 1,
		    prompts, echo);
		a->asked = 1;
		return 0;
	}
	/* A response names no user: it answers the question asked. */
	if (!a->asked)
		return 1;
	a->asked = 0;
	if (ssh_userauth_kbdint_getnanswers(session) != 1 ||
	    (code = ssh_userauth_kbdint_getanswer(session, 0)) == NULL) {
		auth_refused(a, a->login, "no TOTP code");
		return 1;
	}
	if (auth_session(a, a->login, a->key, code) == -1)
		return 1;
	ssh_message_auth_reply_success(msg, 0);
	return 0;
}

int
auth_run(ssh_session session, ssh_event event, const char *addr,
    struct auth_result *result)
{
	struct ssh_server_callbacks_struct	 cb;
	struct auth				 a;
	int					 status = -1;

	memset(&a, 0, sizeof a);
	a.session = session;
	a.addr = addr;
	a.result = result;
	memset(&cb, 0, sizeof cb);
	cb.userdata = &a;
	cb.auth_pubkey_function = auth_pubkey;
	cb.auth_password_function = auth_password;
	ssh_callbacks_init(&cb);
	ssh_set_server_callbacks(session, &cb);
	ssh_set_message_callback(session, auth_message, &a);
	ssh_set_auth_methods(session, SSH_AUTH_METHOD_PUBLICKEY);

	/* SIGALRM's default action ends the process: a client that stalls
	 * the key exchange or the authentication goes with it. */
	alarm((unsigned)sshd_cfg.login_grace);
	if (ssh_handle_key_exchange(session) != SSH_OK) {
		log_info("key exchange: %s", ssh_get_error(session));
		goto out;
	}
	if (ssh_event_add_session(event, session) != SSH_OK)
		goto out;
	while (!a.done && a.tries < sshd_cfg.max_auth_tries &&
	    (ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0) {
		if (ssh_event_dopoll(event, 1000) == SSH_ERROR)
			break;
	}
	if (a.done)
		status = 0;
	else if (a.tries >= sshd_cfg.max_auth_tries)
		log_info("too many refusals: disconnected");
	ssh_event_remove_session(event, session);
out:
	alarm(0);
	ssh_set_message_callback(session, NULL, NULL);
	free(a.login);
	free(a.key);
	free(a.offered_login);
	free(a.offered_key);
	return status;
}
