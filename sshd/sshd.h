/*
 * ecadm-sshd: the SSH gateway of Responsables. A director's SSH client
 * reaches ecadm through it, with no shell and no system account.
 *
 *   main.c     options, configuration, host key, the listener: it accepts,
 *              counts failures per source address and forks one process
 *              per connection; it never reads a byte of SSH itself
 *   auth.c     one connection's authentication: key exchange, the offered
 *              key and the TOTP code checked by ecadmd (the sshd peer)
 *   session.c  one connection's channel once authenticated: ecadm on a
 *              pseudo-terminal, the SFTP folder, every other request refused
 *   sftp.c     the SFTP subsystem, confined to the staff member's folder
 *
 * Isolation: the listener holds the host key and the TLS key that lets
 * ecadmd trust us; a connection's process inherits them, uses them during
 * the key exchange and the authentication, and drops the TLS key as soon
 * as the staff member is known (auth_forget). ecadm then runs in a
 * grandchild with a clean environment, no descriptor but its terminal and
 * the session token's pipe, and no way to run anything else.
 */
#ifndef SSHD_H
#define SSHD_H

#include <sys/types.h>

#include <libssh/libssh.h>

#include <jansson.h>

/* Exit status of a connection's process, read by the listener. */
#define SSHD_EXIT_OK		0	/* authenticated, ended normally */
#define SSHD_EXIT_AUTH_FAILED	3	/* never authenticated: one failure */

struct sshd_config {
	char	*listen;		/* host:port */
	char	*host_key;		/* ed25519, created if missing */
	char	*user;			/* drop to this user when started as root */
	int	 max_connections;
	int	 max_auth_tries;	/* per connection */
	int	 login_grace;		/* seconds to authenticate */
	int	 idle_timeout;		/* seconds without a keystroke */
	int	 max_failures;		/* failed connections per address... */
	int	 failure_window;	/* ...within this many seconds */
	char	*ecadm;			/* path of the ecadm program */
	char	*documents;		/* one folder per staff member below */
	int	 retention;		/* days a document is kept */
	char	*public_host;		/* for the scp line ecadm prints */
	char	*server;		/* ecadmd */
	char	*ca;
	char	*cert;
	char	*key;
	int	 timeout;		/* seconds for one ecadmd answer */
	int	 debug;
};
extern struct sshd_config sshd_cfg;

/* What the authentication established. */
struct auth_result {
	char	*login;			/* the staff member */
	char	*token;			/* their session, for ecadm (secret) */
	char	*name;			/* their name, for the log */
};

/* main.c */
extern void	*sshd_tls_ctx;		/* SSL_CTX of the sshd peer */
extern int	 sshd_documents_fd;	/* the documents folder */

/* auth.c */
/* Run the key exchange and the authentication on a fresh session: 0 and
 * *result filled when a staff member is in, -1 otherwise (logged). */
int	auth_run(ssh_session, ssh_event, const char *addr,
	    struct auth_result *result);
/* Drop the TLS key and ecadmd's connection: not needed any more. */
void	auth_forget(void);
void	auth_result_free(struct auth_result *);

/* session.c */
/* Serve the channels of an authenticated connection until it ends. */
void	session_run(ssh_session, ssh_event, const char *addr,
	    struct auth_result *);
/* The staff member's documents folder, created if needed (0700). */
int	session_folder(const char *login);

#endif
