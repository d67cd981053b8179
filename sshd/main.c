/*
 * ecadm-sshd: options, configuration, the host key and the listener.
 *
 * The listener accepts and forks: every connection runs in its own
 * process, so that a fault in one (libssh parses everything a client
 * sends) reaches no other director's session, and so that a process can
 * give up, once its user is known, the credentials only the authentication
 * needs (see sshd.h). The listener itself parses nothing a client sends:
 * it reads the peer's address, refuses addresses that failed too often and
 * connections beyond the limit, and counts as a failure every connection
 * that ended without authenticating (the exit status of its process).
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include <openssl/ssl.h>

#include "config.h"
#include "log.h"
#include "net.h"
#include "sshd.h"
#include "tls.h"
#include "xmalloc.h"

#define DEFAULT_CONFIG	"/etc/ecadm/ecadm-sshd.ini"
/* Room for the addresses the listener remembers failures of. */
#define FAILURES_MAX	4096

struct sshd_config	 sshd_cfg;
void			*sshd_tls_ctx;
int			 sshd_documents_fd = -1;

static const struct config_key sshd_keys[] = {
	{ "ssh", "listen", CONFIG_STRING, &sshd_cfg.listen, "127.0.0.1:2222",
	    "address and port of the SSH server (host:port)" },
	{ "ssh", "host_key", CONFIG_STRING, &sshd_cfg.host_key,
	    "/var/lib/ecadm-sshd/ssh_host_ed25519_key",
	    "the server's ed25519 key (created, mode 0600, if missing)" },
	{ "ssh", "user", CONFIG_STRING, &sshd_cfg.user, NULL,
	    "when started as root, run as this user once the keys are read "
	    "and the port is bound" },
	{ "ssh", "max_connections", CONFIG_INT, &sshd_cfg.max_connections,
	    "500", "connections at once; more are closed at once" },
	{ "ssh", "max_auth_tries", CONFIG_INT, &sshd_cfg.max_auth_tries, "6",
	    "refused keys, passwords or codes before a connection is closed" },
	{ "ssh", "login_grace", CONFIG_INT, &sshd_cfg.login_grace, "30",
	    "seconds a connection has to authenticate" },
	{ "ssh", "idle_timeout", CONFIG_INT, &sshd_cfg.idle_timeout, "1800",
	    "seconds without a keystroke before a session ends" },
	{ "ssh", "max_failures", CONFIG_INT, &sshd_cfg.max_failures, "20",
	    "connections that fail to authenticate from one address before "
	    "the address is refused..." },
	{ "ssh", "failure_window", CONFIG_INT, &sshd_cfg.failure_window,
	    "600", "...for this many seconds after its last failure" },
	{ "session", "ecadm", CONFIG_STRING, &sshd_cfg.ecadm,
	    "/usr/local/bin/ecadm", "the ecadm program run for each session" },
	{ "session", "documents", CONFIG_STRING, &sshd_cfg.documents,
	    "/var/lib/ecadm-sshd/documents",
	    "where each staff member's folder of documents is (0700 each)" },
	{ "session", "retention", CONFIG_INT, &sshd_cfg.retention, "7",
	    "days a document is kept in the folder" },
	{ "session", "public_host", CONFIG_STRING, &sshd_cfg.public_host,
	    NULL, "the host name directors give to scp and sftp (default: "
	    "the listen address)" },
	{ "ecadmd", "server", CONFIG_STRING, &sshd_cfg.server,
	    "127.0.0.1:7443", "ecadmd's address (host:port)" },
	{ "ecadmd", "ca", CONFIG_STRING, &sshd_cfg.ca,
	    "/etc/ecadm/tls/ca.crt", "CA of ecadmd's certificate (ecadm "
	    "reads it too)" },
	{ "ecadmd", "certificate", CONFIG_STRING, &sshd_cfg.cert,
	    "/etc/ecadm/tls/sshd.crt",
	    "the gateway's client certificate (URI urn:ecadm:peer:sshd)" },
	{ "ecadmd", "key", CONFIG_STRING, &sshd_cfg.key,
	    "/etc/ecadm/tls/sshd.key", "its private key" },
	{ "ecadmd", "timeout", CONFIG_INT, &sshd_cfg.timeout, "15",
	    "seconds to wait for one answer of ecadmd" },
	{ "log", "debug", CONFIG_BOOL, &sshd_cfg.debug, "no",
	    "log every connection's steps" },
	{ NULL, NULL, CONFIG_STRING, NULL, NULL, NULL },
};

/* A connection's process, and where it came from. */
struct child {
	pid_t	pid;
	char	addr[INET6_ADDRSTRLEN];
};

/* Failed connections of one address; forgotten failure_window seconds
 * after the last one. */
struct failure {
	char	addr[INET6_ADDRSTRLEN];
	int	count;
	time_t	last;
};

static struct child	*children;
static int		 nchildren;
static struct failure	 failures[FAILURES_MAX];

static void
config_check(void)
{
	if (sshd_cfg.max_connections < 1)
		fatalx("[ssh] max_connections must be at least 1");
	if (sshd_cfg.max_auth_tries < 1)
		fatalx("[ssh] max_auth_tries must be at least 1");
	if (sshd_cfg.login_grace < 1 || sshd_cfg.idle_timeout < 1)
		fatalx("[ssh] login_grace and idle_timeout must be at least 1");
	if (sshd_cfg.max_failures < 1 || sshd_cfg.failure_window < 1)
		fatalx("[ssh] max_failures and failure_window must be at "
		    "least 1");
	if (sshd_cfg.retention < 1)
		fatalx("[session] retention must be at least 1 day");
	if (sshd_cfg.timeout < 1)
		fatalx("[ecadmd] timeout must be at least 1");
	if (sshd_cfg.host_key == NULL || sshd_cfg.ecadm == NULL ||
	    sshd_cfg.documents == NULL || sshd_cfg.server == NULL)
		fatalx("[ssh] host_key, [session] ecadm and documents, "
		    "[ecadmd] server are required");
	if (sshd_cfg.public_host == NULL) {
		char	*host, *port, *cause;

		if (net_hostport(sshd_cfg.listen, &host, &port, &cause) == -1)
			fatalx("[ssh] listen: %s", cause);
		sshd_cfg.public_host = xstrdup(host[0] != '\0' ? host :
		    "localhost");
		free(host);
		free(port);
	}
}

/*
 * The host key: read, or made on first start. A key others may read is
 * refused, as OpenSSH does: whoever holds it can pose as the gateway.
 */
static ssh_key
host_key_load(void)
{
	struct stat	 st;
	ssh_key		 key = NULL;
	unsigned char	*hash = NULL;
	size_t		 hlen;
	char		*fp;
	mode_t		 old;

	if (stat(sshd_cfg.host_key, &st) == -1) {
		if (errno != ENOENT)
			fatal("%s", sshd_cfg.host_key);
		if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
			fatalx("cannot generate an ed25519 host key");
		old = umask(077);
		if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL,
		    sshd_cfg.host_key) != SSH_OK)
			fatalx("cannot write the host key %s",
			    sshd_cfg.host_key);
		umask(old);
		if (chmod(sshd_cfg.host_key, 0600) == -1)
			fatal("chmod %s", sshd_cfg.host_key);
		log_info("created the host key %s", sshd_cfg.host_key);
	} else {
		if ((st.st_mode & 077) != 0)
			fatalx("%s: others may read the host key (mode %03o); "
			    "chmod 600 it", sshd_cfg.host_key,
			    (unsigned)(st.st_mode & 0777));
		if (ssh_pki_import_privkey_file(sshd_cfg.host_key, NULL, NULL,
		    NULL, &key) != SSH_OK)
			fatalx("cannot read the host key %s",
			    sshd_cfg.host_key);
	}
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) == 0 && (fp = ssh_get_fingerprint_hash(
	    SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL) {
		log_info("host key %s", fp);
		ssh_string_free_char(fp);
	}
	ssh_clean_pubkey_hash(&hash);
	return key;
}

/* The documents folder, made if missing and opened for the processes to
 * come, which find each staff member's folder below it. */
static void
documents_open(uid_t owner, gid_t group)
{
	if (mkdir(sshd_cfg.documents, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", sshd_cfg.documents);
	if ((sshd_documents_fd = open(sshd_cfg.documents, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		fatal("%s", sshd_cfg.documents);
	if (fchown(sshd_documents_fd, owner, group) == -1 ||
	    fchmod(sshd_documents_fd, 0700) == -1)
		fatal("%s", sshd_cfg.documents);
}

/* Remove the documents older than the retention from every folder. */
static void
documents_sweep(void)
{
	DIR		*top, *sub;
	struct dirent	*d, *f;
	struct stat	 st;
	time_t		 limit = time(NULL) - (time_t)sshd_cfg.retention * 86400;
	int		 fd, removed = 0;

	if ((fd = openat(sshd_documents_fd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (top = fdopendir(fd)) == NULL) {
		log_warn("%s", sshd_cfg.documents);
		if (fd != -1)
			close(fd);
		return;
	}
	while ((d = readdir(top)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if ((fd = openat(dirfd(top), d->d_name, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		if ((sub = fdopendir(fd)) == NULL) {
			close(fd);
			continue;
		}
		while ((f = readdir(sub)) != NULL) {
			if (fstatat(dirfd(sub), f->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
			    st.st_mtime < limit &&
			    unlinkat(dirfd(sub), f->d_name, 0) == 0)
				removed++;
		}
		closedir(sub);
	}
	closedir(top);
	if (removed > 0)
		log_info("removed %d document(s) older than %d day(s)",
		    removed, sshd_cfg.retention);
}

/* When started as root, become the configured user for good. */
static void
privileges_drop(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return;
	if (sshd_cfg.user == NULL) {
		log_warnx("running as root: set [ssh] user so that "
		    "connections do not run as root");
		return;
	}
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("cannot become %s", sshd_cfg.user);
	if (setuid(0) != -1)
		fatalx("could become root again after dropping privileges");
	log_info("running as %s", sshd_cfg.user);
}

static struct failure *
failure_find(const char *addr, int create)
{
	struct failure	*f, *oldest = &failures[0];
	time_t		 now = time(NULL);
	int		 i;

	for (i = 0; i < FAILURES_MAX; i++) {
		f = &failures[i];
		if (f->count > 0 && now - f->last > sshd_cfg.failure_window)
			f->count = 0;
		if (f->count > 0 && strcmp(f->addr, addr) == 0)
			return f;
		if (f->count == 0 || f->last < oldest->last)
			oldest = f;
	}
	if (!create)
		return NULL;
	/* Full of abusers: forget the one quiet the longest. */
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
	return oldest;
}

/* A connection's process ended: count it if it never authenticated. */
static void
children_reap(void)
{
	struct failure	*f;
	pid_t		 pid;
	int		 status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < nchildren; i++) {
			if (children[i].pid == pid)
				break;
		}
		if (i == nchildren)
			continue;
		if (!WIFEXITED(status) ||
		    WEXITSTATUS(status) == SSHD_EXIT_AUTH_FAILED) {
			f = failure_find(children[i].addr, 1);
			f->count++;
			f->last = time(NULL);
			if (f->count == sshd_cfg.max_failures)
				log_warnx("%s: %d failed connections, refused "
				    "for %d s", f->addr, f->count,
				    sshd_cfg.failure_window);
		}
		children[i] = children[--nchildren];
	}
}

/* The life of one connection, in its own process. */
static void __attribute__((noreturn))
connection_run(ssh_bind bind, int fd, const char *addr)
{
	struct auth_result	 who;
	struct rlimit		 rl = { 0, 0 };
	ssh_session		 session;
	ssh_event		 event;
	sigset_t		 none;
	char			 context[64];

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Other connections run as the same user: none may read this one's
	 * memory (ptrace, /proc/PID/mem) nor gain anything by exec. */
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &rl);
	snprintf(context, sizeof context, "%s[%ld]", addr, (long)getpid());
	log_context_set(context);

	if ((session = ssh_new()) == NULL || (event = ssh_event_new()) == NULL)
		fatalx("out of memory");
	if (ssh_bind_accept_fd(bind, session, fd) != SSH_OK) {
		log_warnx("accept: %s", ssh_get_error(bind));
		_exit(SSHD_EXIT_AUTH_FAILED);
	}
	memset(&who, 0, sizeof who);
	if (auth_run(session, event, addr, &who) == -1) {
		ssh_disconnect(session);
		_exit(SSHD_EXIT_AUTH_FAILED);
	}
	auth_forget();
	session_run(session, event, addr, &who);
	auth_result_free(&who);
	ssh_disconnect(session);
	ssh_event_free(event);
	ssh_free(session);
	_exit(SSHD_EXIT_OK);
}

static void
listener_accept(int lfd, ssh_bind bind)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	struct failure		*f;
	char			 addr[INET6_ADDRSTRLEN];
	pid_t			 pid;
	int			 fd, one = 1;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	/* SSH sends small packets back to back (the key exchange, each
	 * keystroke's echo): without this, Nagle holds the second one for
	 * the peer's delayed ACK, 40 ms a time. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (getnameinfo((struct sockaddr *)&ss, len, addr, sizeof addr, NULL,
	    0, NI_NUMERICHOST) != 0)
		snprintf(addr, sizeof addr, "?");
	if ((f = failure_find(addr, 0)) != NULL &&
	    f->count >= sshd_cfg.max_failures) {
		log_info("%s: refused, too many failed connections", addr);
		close(fd);
		return;
	}
	if (nchildren >= sshd_cfg.max_connections) {
		log_warnx("%s: refused, %d connections already", addr,
		    nchildren);
		close(fd);
		return;
	}
	switch (pid = fork()) {
	case -1:
		log_warn("fork");
		close(fd);
		return;
	case 0:
		close(lfd);
		connection_run(bind, fd, addr);
	}
	close(fd);
	children[nchildren].pid = pid;
	snprintf(children[nchildren].addr, sizeof children[nchildren].addr,
	    "%s", addr);
	nchildren++;
	log_debug("%s: connection %ld", addr, (long)pid);
}

/* Accept until SIGTERM or SIGINT; then end every connection. */
static int
serve(void)
{
	struct signalfd_siginfo	 si;
	struct passwd		*pw = NULL;
	struct pollfd		 pfd[2];
	ssh_bind		 bind;
	sigset_t		 mask;
	char			*cause;
	time_t			 swept;
	int			 lfd, sfd, i, running = 1, process_config = 0;
	uid_t			 uid = geteuid();
	gid_t			 gid = getegid();

	if (geteuid() == 0 && sshd_cfg.user != NULL) {
		if ((pw = getpwnam(sshd_cfg.user)) == NULL)
			fatalx("[ssh] user: no user %s", sshd_cfg.user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (ssh_init() != SSH_OK)
		fatalx("ssh_init failed");
	if ((bind = ssh_bind_new()) == NULL)
		fatalx("out of memory");
	/* Nothing from /etc/ssh: this is not the system's sshd. */
	ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG,
	    &process_config);
	if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY,
	    host_key_load()) != SSH_OK)
		fatalx("host key: %s", ssh_get_error(bind));
	if (sshd_cfg.debug) {
		int	verbosity = SSH_LOG_PROTOCOL;

		ssh_bind_options_set(bind, SSH_BIND_OPTIONS_LOG_VERBOSITY,
		    &verbosity);
	}
	/* Read while we may: once we run as the user, the keys of the
	 * sshd peer can stay readable by root alone. */
	if ((sshd_tls_ctx = tls_client_ctx(sshd_cfg.ca, sshd_cfg.cert,
	    sshd_cfg.key, &cause)) == NULL)
		fatalx("[ecadmd] %s", cause);
	documents_open(uid, gid);
	if ((lfd = net_listen(sshd_cfg.listen, 128, &cause)) == -1)
		fatalx("%s", cause);
	privileges_drop(uid, gid);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	signal(SIGPIPE, SIG_IGN);
	children = xcalloc((size_t)sshd_cfg.max_connections,
	    sizeof *children);
	documents_sweep();
	swept = time(NULL);
	log_info("listening on %s, ecadmd at %s", sshd_cfg.listen,
	    sshd_cfg.server);

	while (running) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, 60 * 1000) == -1 && errno != EINTR)
			fatal("poll");
		if (pfd[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof si) == sizeof si) {
				if (si.ssi_signo == SIGCHLD)
					children_reap();
				else if (si.ssi_signo == SIGHUP)
					log_info("SIGHUP ignored: restart to "
					    "read the configuration");
				else
					running = 0;
			}
		}
		if (running && (pfd[0].revents & POLLIN))
			listener_accept(lfd, bind);
		if (time(NULL) - swept >= 3600) {
			documents_sweep();
			swept = time(NULL);
		}
	}

	log_info("stopping: %d connection(s) to end", nchildren);
	close(lfd);
	for (i = 0; i < nchildren; i++)
		kill(children[i].pid, SIGTERM);
	for (i = 0; i < 50 && nchildren > 0; i++) {
		usleep(100 * 1000);
		children_reap();
	}
	ssh_bind_free(bind);
	SSL_CTX_free(sshd_tls_ctx);
	ssh_finalize();
	free(children);
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct config_daemon	 daemon = { "ecadm-sshd",
		sshd_keys, DEFAULT_CONFIG, NULL, NULL,
		&sshd_cfg.debug, NULL };
	int					 status;

	if (config_daemon_args(&daemon, argc, argv) != argc)
		config_daemon_usage(&daemon, 2);
	config_check();
	status = serve();
	config_free(sshd_keys);
	return status;
}
