/*
 * The logins of ecadm-sshd. The gateway speaks SSH to staff members and
 * this protocol to ecadmd, with its own client certificate (peer sshd, the
 * only one these operations allow). When an SSH client offers a public
 * key, the gateway asks "ssh-key" whether it is one of that member's and
 * whether a TOTP code will be needed; once the client has proved it holds
 * the key (the signature is the gateway's to check) and typed its code,
 * "ssh-login" opens the staff session, as "login" does with a password.
 * The rules, the failure counters and the session are session.c's: here
 * are only the arguments, read as hostile as any.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"
#include "sshkey.h"

/* The arguments both operations share: the login, the key and the SSH
 * client's address. 0, or -1 with the error set. */
static int
ssh_args(struct request *req, const char **login, struct sshkey *key,
    const char **addr)
{
	unsigned char	 ip[sizeof(struct in6_addr)];
	const char	*line;
	char		*cause;

	*login = req_arg_str(req, "login", 1);
	line = req_arg_str(req, "key", 1);
	*addr = req_arg_str(req, "addr", 1);
	if (req->error != -1)
		return -1;
	if (inet_pton(AF_INET, *addr, ip) != 1 &&
	    inet_pton(AF_INET6, *addr, ip) != 1) {
		req_error(req, E_INVALID, "Paramètre invalide : addr (une "
		    "adresse IPv4 ou IPv6 est attendue).");
		return -1;
	}
	/* A key that does not read is none of anybody's: the same refusal
	 * as a key not registered. */
	if (sshkey_parse(line, key, &cause) == -1) {
		log_warnx("unreadable SSH key refused from %s: %s", *addr,
		    cause);
		free(cause);
		req_error(req, E_AUTH, "Clé refusée.");
		return -1;
	}
	return 0;
}

void
op_ssh_key(struct worker *w, struct request *req)
{
	struct sshkey	 key;
	const char	*login, *addr;
	int		 totp;

	if (ssh_args(req, &login, &key, &addr) == -1)
		return;
	if (session_key_check(w, req, login, &key, addr, &totp) == 0)
		req->result = json_pack("{s:b}", "totp", totp);
	sshkey_clear(&key);
}

void
op_ssh_login(struct worker *w, struct request *req)
{
	struct sshkey	 key;
	const char	*login, *addr, *code;

	code = req_arg_str(req, "totp", 0);
	if (req->error != -1 || ssh_args(req, &login, &key, &addr) == -1)
		return;
	session_key_login(w, req, login, &key, addr, code);
	sshkey_clear(&key);
}
