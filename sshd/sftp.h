/*
 * The SFTP subsystem of ecadm-sshd: a staff member's document folder served
 * as a flat, read-only "/" from which files can be fetched and removed.
 * Nothing outside the folder, nothing below it, no link, no write.
 *
 * The channel stays the caller's. After sftp_serve, end it as OpenSSH's
 * sshd does: an exit status (0), EOF, close, and let the client hang up
 * first; without the status ssh exits 255 and scp reports a failure
 * although the file was copied.
 */
#ifndef SSHD_SFTP_H
#define SSHD_SFTP_H

#include <stddef.h>

#include <libssh/libssh.h>

/* Serve the SFTP subsystem on chan until the client closes it or stays
 * idle idle_seconds; dirfd is the staff member's document folder (opened
 * O_DIRECTORY by the caller, not closed here). 0 on a normal end, -1 on a
 * protocol or I/O failure (logged). */
int	sftp_serve(ssh_session session, ssh_channel chan, int dirfd,
	    int idle_seconds);
/* The file name a client's path designates inside the folder: "" for the
 * folder itself, else one component; -1 if the path leaves the folder or
 * names something below it. Exposed for unit tests. */
int	sftp_path_name(const char *path, char *out, size_t outlen);

#endif
