/*
 * One authenticated connection: a single session channel, which becomes
 * either ecadm on a pseudo-terminal (shell request with a pty) or the SFTP
 * folder (subsystem "sftp"). Everything else a client may ask is refused:
 * commands (a French message on the channel's stderr, exit status 1),
 * other subsystems, X11 and agent forwarding, port forwarding, a second
 * channel (libssh's default answers, which OpenSSH clients print).
 *
 * ecadm runs in a process of its own with a clean environment: its
 * terminal, the pipe that holds the session token (ECADM_SESSION_FD, never
 * argv, never the environment), where to save documents, and nothing
 * else. Output flows to the client only as fast as the channel's window
 * allows, so a client that stops reading stalls its own ecadm and no one
 * else; a session without a keystroke for idle_timeout seconds ends.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include <openssl/crypto.h>

#include "log.h"
#include "net.h"
#include "sftp.h"
#include "sshd.h"
#include "xmalloc.h"

#define OUTPUT_CHUNK	16384

enum session_mode {
	MODE_WAITING,		/* no request yet */
	MODE_ECADM,		/* ecadm runs on the pty */
	MODE_SFTP,		/* the subsystem was asked for */
	MODE_REFUSED,		/* say why and close */
};

struct session {
	ssh_session		 ssh;
	ssh_event		 event;
	ssh_channel		 channel;
	struct auth_result	*who;
	struct ssh_channel_callbacks_struct *callbacks;
	enum session_mode	 mode;
	const char		*refusal;	/* MODE_REFUSED: the message */
	int			 pty_wanted;
	struct winsize		 size;
	char			 term[64];
	int			 master;	/* pty, ours; -1 when closed */
	int			 slave;		/* kept open: see session_drain */
	int			 polling;	/* master is in the event */
	pid_t			 pid;		/* ecadm */
	int			 status;	/* its wait status, once ended */
	time_t			 active;	/* last keystroke */
	int			 client_gone;
};

/* The staff member's folder below the documents folder. */
int
session_folder(const char *login)
{
	struct stat	st;
	int		fd;

	if (mkdirat(sshd_documents_fd, login, 0700) == -1 && errno != EEXIST)
		return -1;
	if ((fd = openat(sshd_documents_fd, login, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_uid != geteuid() ||
	    ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) == -1)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* A terminal name is passed to ncurses: letters, digits and a little. */
static void
session_set_term(struct session *s, const char *term)
{
	size_t	len = term != NULL ? strlen(term) : 0;

	if (len == 0 || len >= sizeof s->term || strspn(term,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    ".+-_") != len)
		term = "xterm-256color";
	snprintf(s->term, sizeof s->term, "%s", term);
}

static void
session_set_size(struct session *s, int cols, int rows)
{
	/* Bounded so that ncurses does not size a screen of gigabytes. */
	s->size.ws_col = (unsigned short)(cols > 0 && cols <= 1000 ? cols : 80);
	s->size.ws_row = (unsigned short)(rows > 0 && rows <= 1000 ? rows : 24);
	s->size.ws_xpixel = s->size.ws_ypixel = 0;
}

/* In ecadm's process: the environment, the descriptors, then ecadm. */
static void __attribute__((noreturn))
session_exec(struct session *s, int slave, int token_fd)
{
	char	*env[16], *argv[2], *port, *host, *cause, *dir;
	int	 n = 0;

	if (setsid() == -1 || login_tty(slave) == -1)
		_exit(127);
	/* dup2 onto itself would keep close-on-exec. */
	if (token_fd == 3 ? fcntl(3, F_SETFD, 0) == -1 :
	    dup2(token_fd, 3) == -1)
		_exit(127);
	close_range(4, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	xasprintf(&dir, "%s/%s", sshd_cfg.documents, s->who->login);
	xasprintf(&env[n++], "TERM=%s", s->term);
	env[n++] = xstrdup("LANG=C.UTF-8");
	env[n++] = xstrdup("PATH=/usr/bin:/bin");
	xasprintf(&env[n++], "HOME=%s", dir);
	xasprintf(&env[n++], "USER=%s", s->who->login);
	xasprintf(&env[n++], "ECADM_SERVER=%s", sshd_cfg.server);
	xasprintf(&env[n++], "ECADM_CA=%s", sshd_cfg.ca);
	env[n++] = xstrdup("ECADM_SESSION_FD=3");
	xasprintf(&env[n++], "ECADM_DOWNLOAD_DIR=%s", dir);
	xasprintf(&env[n++], "ECADM_DOWNLOAD_DAYS=%d", sshd_cfg.retention);
	if (net_hostport(sshd_cfg.listen, &host, &port, &cause) == 0) {
		if (strcmp(port, "22") == 0)
			xasprintf(&env[n++], "ECADM_DOWNLOAD_HINT=scp %s@%s:",
			    s->who->login, sshd_cfg.public_host);
		else
			xasprintf(&env[n++], "ECADM_DOWNLOAD_HINT=scp -P %s "
			    "%s@%s:", port, s->who->login,
			    sshd_cfg.public_host);
	}
	env[n] = NULL;
	argv[0] = xstrdup("ecadm");
	argv[1] = NULL;
	execve(sshd_cfg.ecadm, argv, env);
	fprintf(stderr, "ecadm-sshd : ecadm ne démarre pas (%s).\r\n",
	    strerror(errno));
	_exit(127);
}

/* Start ecadm for the staff member on a new pty. */
static int
session_ecadm_start(struct session *s)
{
	int	master, slave, token[2], folder;
	size_t	len;

	if ((folder = session_folder(s->who->login)) == -1) {
		log_warn("%s: documents folder", s->who->login);
		return -1;
	}
	close(folder);
	if (openpty(&master, &slave, NULL, NULL, &s->size) == -1) {
		log_warn("openpty");
		return -1;
	}
	if (pipe2(token, O_CLOEXEC) == -1) {
		log_warn("pipe");
		close(master);
		close(slave);
		return -1;
	}
	/* A token is 64 bytes: the pipe holds it without a reader. */
	len = strlen(s->who->token);
	if (write(token[1], s->who->token, len) != (ssize_t)len) {
		log_warn("pipe");
		close(master);
		close(slave);
		close(token[0]);
		close(token[1]);
		return -1;
	}
	close(token[1]);
	OPENSSL_cleanse(s->who->token, len);
	switch (s->pid = fork()) {
	case -1:
		log_warn("fork");
		close(master);
		close(slave);
		close(token[0]);
		return -1;
	case 0:
		close(master);
		session_exec(s, slave, token[0]);
	}
	close(token[0]);
	s->master = master;
	s->slave = slave;
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	s->mode = MODE_ECADM;
	log_info("ecadm started for %s (%s, %dx%d)", s->who->login, s->term,
	    s->size.ws_col, s->size.ws_row);
	return 0;
}

static int
session_pty_request(ssh_session ssh, ssh_channel channel, const char *term,
    int cols, int rows, int px, int py, void *arg)
{
	struct session	*s = arg;

	(void)ssh;
	(void)channel;
	(void)px;
	(void)py;
	if (s->mode != MODE_WAITING)
		return SSH_ERROR;
	session_set_term(s, term);
	session_set_size(s, cols, rows);
	s->pty_wanted = 1;
	return SSH_OK;
}

static int
session_window_change(ssh_session ssh, ssh_channel channel, int cols,
    int rows, int px, int py, void *arg)
{
	struct session	*s = arg;

	(void)ssh;
	(void)channel;
	(void)px;
	(void)py;
	session_set_size(s, cols, rows);
	s->active = time(NULL);
	/* The kernel tells ecadm (SIGWINCH) when the size changes. */
	if (s->master != -1 && ioctl(s->master, TIOCSWINSZ, &s->size) == -1)
		return SSH_ERROR;
	return SSH_OK;
}

static int
session_shell_request(ssh_session ssh, ssh_channel channel, void *arg)
{
	struct session	*s = arg;

	(void)ssh;
	(void)channel;
	if (s->mode != MODE_WAITING)
		return SSH_ERROR;
	if (!s->pty_wanted) {
		s->mode = MODE_REFUSED;
		s->refusal = "ecadm-sshd : ecadm a besoin d'un terminal ; "
		    "connectez-vous avec ssh -t.\r\n";
		return SSH_OK;
	}
	if (session_ecadm_start(s) == -1) {
		s->mode = MODE_REFUSED;
		s->refusal = "ecadm-sshd : ecadm ne peut pas démarrer ; "
		    "réessayez plus tard.\r\n";
	}
	return SSH_OK;
}

static int
session_exec_request(ssh_session ssh, ssh_channel channel,
    const char *command, void *arg)
{
	struct session	*s = arg;

	(void)ssh;
	(void)channel;
	if (s->mode != MODE_WAITING)
		return SSH_ERROR;
	log_info("%s: command refused (%zu bytes)", s->who->login,
	    strlen(command));
	s->mode = MODE_REFUSED;
	s->refusal = "ecadm-sshd : pas de commande ici. Connectez-vous sans "
	    "commande (ssh -t) pour ouvrir ecadm, ou utilisez sftp ou scp "
	    "pour vos documents.\r\n";
	return SSH_OK;
}

static int
session_subsystem_request(ssh_session ssh, ssh_channel channel,
    const char *subsystem, void *arg)
{
	struct session	*s = arg;

	(void)ssh;
	(void)channel;
	if (s->mode != MODE_WAITING || strcmp(subsystem, "sftp") != 0) {
		log_info("%s: subsystem %.32s refused", s->who->login,
		    subsystem);
		return SSH_ERROR;
	}
	s->mode = MODE_SFTP;
	return SSH_OK;
}

static int
session_data(ssh_session ssh, ssh_channel channel, void *data, uint32_t len,
    int is_stderr, void *arg)
{
	struct session	*s = arg;
	ssize_t		 n;
	size_t		 done = 0;

	(void)ssh;
	(void)channel;
	(void)is_stderr;
	/* Not ours: SFTP reads the channel itself. */
	if (s->mode != MODE_ECADM)
		return 0;
	s->active = time(NULL);
	if (s->master == -1)
		return (int)len;	/* ecadm is gone: drop it */
	/* Keystrokes are few; if ecadm does not read them, wait for it
	 * (only this connection waits). */
	while (done < len) {
		n = write(s->master, (char *)data + done, len - done);
		if (n == -1 && errno == EAGAIN) {
			struct pollfd	pfd = { s->master, POLLOUT, 0 };

			poll(&pfd, 1, 1000);
			continue;
		}
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return (int)len;
}

static void
session_client_eof(ssh_session ssh, ssh_channel channel, void *arg)
{
	struct session	*s = arg;

	(void)ssh;
	(void)channel;
	s->client_gone = 1;
}

/* ecadm wrote: pass it on, within the channel's window. */
static int
session_output(socket_t fd, int revents, void *arg)
{
	struct session	*s = arg;
	char		 buf[OUTPUT_CHUNK];
	uint32_t	 window;
	ssize_t		 n;

	if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0)
		return 0;
	window = ssh_channel_window_size(s->channel);
	if (window == 0)
		return 0;
	n = read(fd, buf, window < sizeof buf ? window : sizeof buf);
	if (n > 0)
		ssh_channel_write(s->channel, buf, (uint32_t)n);
	return 0;
}

/* Poll ecadm's output only while the client can take some. */
static void
session_flow(struct session *s)
{
	int	room = ssh_channel_window_size(s->channel) > 0;

	if (s->master == -1)
		return;
	if (room && !s->polling) {
		ssh_event_add_fd(s->event, s->master, POLLIN, session_output,
		    s);
		s->polling = 1;
	} else if (!room && s->polling) {
		ssh_event_remove_fd(s->event, s->master);
		s->polling = 0;
	}
}

static ssh_channel
session_channel_open(ssh_session ssh, void *arg)
{
	struct session	*s = arg;

	/* One channel a connection: ecadm or SFTP. */
	if (s->channel != NULL)
		return NULL;
	if ((s->channel = ssh_channel_new(ssh)) != NULL)
		ssh_set_channel_callbacks(s->channel, s->callbacks);
	return s->channel;
}

static void
session_sftp(struct session *s, struct ssh_channel_callbacks_struct *cb)
{
	int	folder;

	ssh_remove_channel_callbacks(s->channel, cb);
	if ((folder = session_folder(s->who->login)) == -1) {
		log_warn("%s: documents folder", s->who->login);
		return;
	}
	log_info("%s: sftp", s->who->login);
	/* The status tells scp and sftp that all went well. */
	if (sftp_serve(s->ssh, s->channel, folder, sshd_cfg.idle_timeout) == 0)
		ssh_channel_request_send_exit_status(s->channel, 0);
	close(folder);
}

/*
 * What ecadm wrote last (its farewell, after it gave the terminal back)
 * is still in the pty when it has ended. We hold the slave side open, so
 * reading the master gives all of it and then waits, never the EIO with
 * which Linux may drop the tail once the last slave descriptor closes.
 */
static void
session_drain(struct session *s)
{
	struct pollfd	 pfd;
	char		 buf[OUTPUT_CHUNK];
	uint32_t	 window;
	ssize_t		 n;
	int		 i;

	if (s->polling) {
		ssh_event_remove_fd(s->event, s->master);
		s->polling = 0;
	}
	for (i = 0; i < 50 && !s->client_gone &&
	    ssh_channel_is_open(s->channel); i++) {
		if ((window = ssh_channel_window_size(s->channel)) == 0) {
			ssh_event_dopoll(s->event, 100);
			continue;
		}
		/* The kernel hands what the slave side wrote to the master a
		 * moment later: wait a little for the tail before the end. */
		pfd.fd = s->master;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) <= 0)
			break;
		n = read(s->master, buf, window < sizeof buf ? window :
		    sizeof buf);
		if (n <= 0)
			break;
		ssh_channel_write(s->channel, buf, (uint32_t)n);
	}
	close(s->master);
	close(s->slave);
	s->master = s->slave = -1;
}

/* Run ecadm until it ends, the client leaves or the session idles. */
static void
session_ecadm(struct session *s)
{
	time_t	hup = 0;
	int	idle = 0, status;

	while (s->pid > 0) {
		session_flow(s);
		if (ssh_event_dopoll(s->event, 1000) == SSH_ERROR)
			s->client_gone = 1;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->status = status;
			s->pid = 0;
			break;
		}
		if (!s->client_gone && !ssh_channel_is_open(s->channel))
			s->client_gone = 1;
		if (s->client_gone && !idle) {
			/* ecadm puts the terminal back and ends on SIGHUP. */
			kill(s->pid, SIGHUP);
			hup = time(NULL);
			idle = -1;
		}
		if (!idle && time(NULL) - s->active >= sshd_cfg.idle_timeout) {
			log_info("%s: idle for %d s, ended", s->who->login,
			    sshd_cfg.idle_timeout);
			kill(s->pid, SIGHUP);
			hup = time(NULL);
			idle = 1;
		}
		/* Told to end and still there: it is stuck. */
		if (hup != 0 && time(NULL) - hup > 5)
			kill(s->pid, SIGKILL);
	}
	session_drain(s);
	if (s->client_gone || !ssh_channel_is_open(s->channel))
		return;
	if (idle == 1) {
		char	msg[128];

		snprintf(msg, sizeof msg, "\r\necadm-sshd : session fermée "
		    "après %d minute(s) sans activité.\r\n",
		    sshd_cfg.idle_timeout / 60 > 0 ?
		    sshd_cfg.idle_timeout / 60 : 1);
		ssh_channel_write_stderr(s->channel, msg, (uint32_t)strlen(msg));
	}
	ssh_channel_request_send_exit_status(s->channel,
	    WIFEXITED(s->status) ? WEXITSTATUS(s->status) : 1);
}

void
session_run(ssh_session ssh, ssh_event event, const char *addr,
    struct auth_result *who)
{
	struct ssh_server_callbacks_struct	 scb;
	struct ssh_channel_callbacks_struct	 ccb;
	struct session				 s;
	time_t					 start = time(NULL);

	(void)addr;
	memset(&s, 0, sizeof s);
	s.ssh = ssh;
	s.event = event;
	s.who = who;
	s.master = s.slave = -1;
	s.active = start;
	s.callbacks = &ccb;
	session_set_term(&s, NULL);
	session_set_size(&s, 0, 0);

	memset(&scb, 0, sizeof scb);
	scb.userdata = &s;
	scb.channel_open_request_session_function = session_channel_open;
	ssh_callbacks_init(&scb);
	ssh_set_server_callbacks(ssh, &scb);
	/* X11, agent forwarding, env: no callback, so libssh refuses. */
	memset(&ccb, 0, sizeof ccb);
	ccb.userdata = &s;
	ccb.channel_pty_request_function = session_pty_request;
	ccb.channel_pty_window_change_function = session_window_change;
	ccb.channel_shell_request_function = session_shell_request;
	ccb.channel_exec_request_function = session_exec_request;
	ccb.channel_subsystem_request_function = session_subsystem_request;
	ccb.channel_data_function = session_data;
	ccb.channel_eof_function = session_client_eof;
	ssh_callbacks_init(&ccb);
	if (ssh_event_add_session(event, ssh) != SSH_OK)
		return;

	/* Wait for the channel and what it is for, as long as a login
	 * may take. */
	while (s.mode == MODE_WAITING &&
	    (ssh_get_status(ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0 &&
	    time(NULL) - start < sshd_cfg.login_grace) {
		if (s.channel != NULL && !ssh_channel_is_open(s.channel))
			break;
		if (ssh_event_dopoll(event, 1000) == SSH_ERROR)
			break;
	}
	switch (s.mode) {
	case MODE_WAITING:
		log_info("%s: no session requested", who->login);
		break;
	case MODE_REFUSED:
		ssh_channel_write_stderr(s.channel, s.refusal,
		    (uint32_t)strlen(s.refusal));
		ssh_channel_request_send_exit_status(s.channel, 1);
		break;
	case MODE_SFTP:
		session_sftp(&s, &ccb);
		break;
	case MODE_ECADM:
		session_ecadm(&s);
		log_info("%s: ecadm ended after %ld s", who->login,
		    (long)(time(NULL) - start));
		break;
	}
	if (s.channel != NULL) {
		ssh_channel_send_eof(s.channel);
		ssh_channel_close(s.channel);
		/* The client answers our close with its own, then hangs up:
		 * wait for that (a few seconds at most). Going first would
		 * cut its answer, and OpenSSH then exits 255 whatever the
		 * exit status said. */
		for (int i = 0; i < 50 && (ssh_get_status(ssh) &
		    (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0; i++)
			ssh_event_dopoll(event, 100);
		ssh_channel_free(s.channel);
	}
	ssh_event_remove_session(event, ssh);
}
