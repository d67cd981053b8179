/*
 * sftp-server-test: a TEST FIXTURE, not a program of Responsables. It puts
 * sshd/sftp.c behind the smallest libssh server that OpenSSH's sftp and
 * scp will talk to, so tests/integration/test_sftp_module.py can drive the
 * module with the real clients until ecadm-sshd exists. Never installed.
 *
 *   sftp-server-test PORT HOST_KEY AUTHORIZED_KEY FOLDER [IDLE_SECONDS]
 *
 * It listens on 127.0.0.1:PORT, prints "ready" on its standard output,
 * accepts one connection, lets in the one public key of AUTHORIZED_KEY,
 * grants the "sftp" subsystem on a session channel and serves FOLDER
 * there. The exit status is 0 when sftp_serve ended normally, 1 otherwise.
 * Its log (stderr) has the module's lines.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "log.h"
#include "sftp.h"

/* What the callbacks learn while the client gets as far as the sftp
 * subsystem. */
struct fixture {
	ssh_key					 authorized;
	int					 authenticated;
	ssh_channel				 chan;
	int					 granted;
	struct ssh_channel_callbacks_struct	 chan_cb;
};

/* Only the authorized key gets in, once libssh has checked its
 * signature; a probe without a signature is told the key would do. */
static int
fixture_auth_pubkey(ssh_session session, const char *user,
    struct ssh_key_struct *pubkey, char signature_state, void *userdata)
{
	struct fixture	*f = userdata;

	(void)session;
	(void)user;
	if (ssh_key_cmp(pubkey, f->authorized, SSH_KEY_CMP_PUBLIC) != 0)
		return SSH_AUTH_DENIED;
	if (signature_state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS;
	if (signature_state == SSH_PUBLICKEY_STATE_VALID) {
		f->authenticated = 1;
		return SSH_AUTH_SUCCESS;
	}
	return SSH_AUTH_DENIED;
}

/* The "sftp" subsystem, and nothing else, on the session channel. */
static int
fixture_subsystem(ssh_session session, ssh_channel chan,
    const char *subsystem, void *userdata)
{
	struct fixture	*f = userdata;

	(void)session;
	if (chan != f->chan || strcmp(subsystem, "sftp") != 0)
		return SSH_ERROR;
	f->granted = 1;
	return SSH_OK;
}

/* One session channel, once authenticated. */
static ssh_channel
fixture_open_session(ssh_session session, void *userdata)
{
	struct fixture	*f = userdata;

	if (!f->authenticated || f->chan != NULL)
		return NULL;
	if ((f->chan = ssh_channel_new(session)) == NULL)
		return NULL;
	ssh_callbacks_init(&f->chan_cb);
	f->chan_cb.userdata = f;
	f->chan_cb.channel_subsystem_request_function = fixture_subsystem;
	ssh_set_channel_callbacks(f->chan, &f->chan_cb);
	return f->chan;
}

/* Run the session until the client is granted the sftp subsystem: 0, or
 * -1 if it left before. */
static int
fixture_handshake(ssh_session session, struct fixture *f)
{
	struct ssh_server_callbacks_struct	 cb;
	ssh_event				 event;
	int					 rc = 0;

	memset(&cb, 0, sizeof cb);
	ssh_callbacks_init(&cb);
	cb.userdata = f;
	cb.auth_pubkey_function = fixture_auth_pubkey;
	cb.channel_open_request_session_function = fixture_open_session;
	ssh_set_server_callbacks(session, &cb);
	ssh_set_auth_methods(session, SSH_AUTH_METHOD_PUBLICKEY);
	if (ssh_handle_key_exchange(session) != SSH_OK) {
		log_warnx("key exchange: %s", ssh_get_error(session));
		return -1;
	}
	if ((event = ssh_event_new()) == NULL)
		fatalx("ssh_event_new failed");
	ssh_event_add_session(event, session);
	while (!f->granted) {
		if (ssh_event_dopoll(event, -1) == SSH_ERROR) {
			log_warnx("before the sftp subsystem: %s",
			    ssh_get_error(session));
			rc = -1;
			break;
		}
	}
	/* Back to the session's own polling: sftp_serve uses the blocking
	 * channel calls. */
	ssh_event_remove_session(event, session);
	ssh_event_free(event);
	return rc;
}

/* End the channel as sshd does, with an exit status, and let the client
 * hang up first: without the status ssh exits 255 and scp reports a
 * failure, and a server that drops the connection at once makes ssh say
 * it was "closed by remote host". */
static void
fixture_hang_up(ssh_session session, ssh_channel chan, int status)
{
	ssh_event	event;
	int		i;

	ssh_channel_request_send_exit_status(chan, status);
	ssh_channel_send_eof(chan);
	ssh_channel_close(chan);
	if ((event = ssh_event_new()) == NULL)
		fatalx("ssh_event_new failed");
	ssh_event_add_session(event, session);
	for (i = 0; i < 50 && ssh_is_connected(session); i++) {
		if (ssh_event_dopoll(event, 100) == SSH_ERROR)
			break;
	}
	ssh_event_remove_session(event, session);
	ssh_event_free(event);
}

int
main(int argc, char **argv)
{
	struct fixture	 f;
	ssh_bind	 sshbind;
	ssh_session	 session;
	int		 dirfd, idle = 60, rc = -1;

	log_init("sftp-server-test", LOG_LEVEL_DEBUG, 0);
	if (argc != 5 && argc != 6)
		fatalx("usage: sftp-server-test PORT HOST_KEY AUTHORIZED_KEY "
		    "FOLDER [IDLE_SECONDS]");
	if (argc == 6 && (idle = atoi(argv[5])) <= 0)
		fatalx("bad idle time %s", argv[5]);
	memset(&f, 0, sizeof f);
	if (ssh_init() != SSH_OK)
		fatalx("ssh_init failed");
	if (ssh_pki_import_pubkey_file(argv[3], &f.authorized) != SSH_OK)
		fatalx("cannot read the public key %s", argv[3]);
	if ((dirfd = open(argv[4], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("%s", argv[4]);

	if ((sshbind = ssh_bind_new()) == NULL)
		fatalx("ssh_bind_new failed");
	if (ssh_bind_options_set(sshbind, SSH_BIND_OPTIONS_BINDADDR,
	    "127.0.0.1") != SSH_OK ||
	    ssh_bind_options_set(sshbind, SSH_BIND_OPTIONS_BINDPORT_STR,
	    argv[1]) != SSH_OK ||
	    ssh_bind_options_set(sshbind, SSH_BIND_OPTIONS_HOSTKEY,
	    argv[2]) != SSH_OK || ssh_bind_listen(sshbind) != SSH_OK)
		fatalx("listen: %s", ssh_get_error(sshbind));
	printf("ready\n");
	fflush(stdout);

	if ((session = ssh_new()) == NULL)
		fatalx("ssh_new failed");
	if (ssh_bind_accept(sshbind, session) != SSH_OK)
		fatalx("accept: %s", ssh_get_error(sshbind));
	if (fixture_handshake(session, &f) == 0) {
		rc = sftp_serve(session, f.chan, dirfd, idle);
		log_info("sftp_serve returned %d", rc);
		fixture_hang_up(session, f.chan, rc == 0 ? 0 : 1);
	}
	if (f.chan != NULL)
		ssh_channel_free(f.chan);

	ssh_disconnect(session);
	ssh_free(session);
	ssh_bind_free(sshbind);
	ssh_key_free(f.authorized);
	ssh_finalize();
	close(dirfd);
	return rc == 0 ? 0 : 1;
}
