/*
 * The SFTP subsystem of ecadm-sshd, on libssh 0.10's server SFTP API.
 *
 * The client sees one flat directory, "/": the staff member's document
 * folder, which the caller opened as dirfd. Every path the client sends
 * goes through sftp_path_name(), which makes it either the folder itself
 * or one file name, and every file is then reached relative to dirfd by
 * *at() calls that follow no link. So no string leads out: there is no
 * "..", no "/" inside a name, no symbolic link, no special file.
 *
 * What exists for the client is the regular files whose names it could
 * have typed (not a dot file, UTF-8 without control bytes). Everything
 * else in the folder is hidden, and listing, stat, open and remove agree
 * on that: a hidden thing is "no such file" to all four.
 *
 * The folder is read-only but for remove: open for reading, read, close,
 * list, stat and remove; every other request is refused with a status.
 *
 * Requests are answered one at a time in the calling process (ecadm-sshd
 * runs a process per connection). Open files and listings are slots of a
 * fixed table, so a client holds at most SFTP_HANDLES_MAX descriptors, and
 * a read returns at most SFTP_READ_MAX bytes.
 *
 * libssh 0.10 decides a few things before the module sees a request.
 * sftp_get_client_message() reads a whole request with blocking reads
 * once its first byte has come (the idle wait covers only the time
 * between requests) and accepts requests of up to 256 MiB: both are the
 * caller's to bound (an alarm, a memory limit on the process). It drops
 * a request of a type it does not know, and Debian's build a READ of
 * more than 255 KiB, with no way to answer: that ends the session as a
 * protocol failure.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libssh declares the server half of its SFTP API only to programs that
 * say they are servers. */
#define WITH_SERVER
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "log.h"
#include "sftp.h"
#include "valid.h"
#include "xmalloc.h"

#define SFTP_HANDLES_MAX	32
#define SFTP_READ_MAX		(64 * 1024)
/* Names per READDIR answer: with names of at most NAME_MAX bytes this
 * keeps an answer far below a client's packet limit (OpenSSH: 256 KiB). */
#define SFTP_DIR_BATCH		64
/* An "ls -l" line: the name and about 60 bytes of columns. */
#define SFTP_LONGNAME_MAX	(NAME_MAX + 128)

/* The status messages, in French: OpenSSH's clients may show them. */
#define SFTP_MSG_NOENT		"Fichier introuvable"
#define SFTP_MSG_READONLY	"Dossier en lecture seule : seuls la lecture " \
				"et la suppression sont permises"
#define SFTP_MSG_UNSUPPORTED	"Opération non prise en charge"
#define SFTP_MSG_HANDLE		"Descripteur inconnu"
#define SFTP_MSG_FAILURE	"Erreur du serveur"

enum sftp_slot_kind {
	SFTP_SLOT_FREE = 0,
	SFTP_SLOT_FILE,
	SFTP_SLOT_DIR,
};

/* An open handle: a file being fetched, or a listing of the folder. */
struct sftp_slot {
	enum sftp_slot_kind	 kind;
	int			 fd;		/* SFTP_SLOT_FILE */
	DIR			*dir;		/* SFTP_SLOT_DIR */
	int			 dir_done;	/* the whole listing was sent */
	char			 name[NAME_MAX + 1];	/* for the log */
	unsigned long long	 sent;		/* bytes read, for the log */
};

struct sftp_conn {
	sftp_session		 sftp;
	int			 dirfd;
	struct sftp_slot	 slots[SFTP_HANDLES_MAX];
	char			*buf;		/* SFTP_READ_MAX bytes */
};

/* Whether name can be a file of the folder as the client sees it: one
 * component, not hidden (dot files, so "." and ".." too), typeable
 * (UTF-8 without control bytes) and not longer than a file name. */
static int
sftp_name_valid(const char *name)
{
	size_t	len = strlen(name);

	if (len == 0 || len > NAME_MAX)
		return 0;
	if (name[0] == '.' || strchr(name, '/') != NULL)
		return 0;
	return valid_utf8_text(name, len);
}

int
sftp_path_name(const char *path, char *out, size_t outlen)
{
	const char	*p = path;
	size_t		 len;

	if (path == NULL || outlen == 0)
		return -1;
	/* The folder is both the root and the current directory, so any
	 * run of leading "/" and "./" still designates the folder. */
	for (;;) {
		if (p[0] == '/')
			p++;
		else if (p[0] == '.' && p[1] == '/')
			p += 2;
		else
			break;
	}
	if (p[0] == '\0' || strcmp(p, ".") == 0) {
		out[0] = '\0';
		return 0;
	}
	/* What is left must be one file name: a "/" would go below the
	 * folder, a ".." above it; both are refused here, with dot files. */
	if (!sftp_name_valid(p))
		return -1;
	len = strlen(p);
	if (len >= outlen)
		return -1;
	memcpy(out, p, len + 1);
	return 0;
}

/* A time for SFTP version 3, whose times are 32-bit unsigned. */
static uint32_t
sftp_time32(time_t t)
{
	if (t < 0)
		return 0;
	if ((unsigned long long)t > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)t;
}

/* The attributes the client sees: the folder is a directory it may list,
 * a file is read-only for its owner; no owner is told. */
static void
sftp_attr_fill(struct sftp_attributes_struct *attr, const struct stat *st)
{
	memset(attr, 0, sizeof *attr);
	attr->flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_PERMISSIONS |
	    SSH_FILEXFER_ATTR_ACMODTIME;
	if (S_ISDIR(st->st_mode)) {
		attr->type = SSH_FILEXFER_TYPE_DIRECTORY;
		attr->permissions = SSH_S_IFDIR | 0500;
	} else {
		attr->type = SSH_FILEXFER_TYPE_REGULAR;
		attr->permissions = SSH_S_IFREG | 0400;
		attr->size = (uint64_t)st->st_size;
	}
	attr->atime = sftp_time32(st->st_atime);
	attr->mtime = sftp_time32(st->st_mtime);
}

/* The "ls -l" line of a file: OpenSSH's sftp prints it as it comes. */
static void
sftp_longname(char *out, size_t outlen, const char *name,
    const struct stat *st)
{
	char		 when[32];
	const char	*fmt;
	struct tm	 tm;
	time_t		 now = time(NULL);

	/* As ls does: the time of day for the last six months, else the
	 * year. */
	if (st->st_mtime > now - 182 * 24 * 3600 && st->st_mtime <= now + 3600)
		fmt = "%b %e %H:%M";
	else
		fmt = "%b %e  %Y";
	if (localtime_r(&st->st_mtime, &tm) == NULL ||
	    strftime(when, sizeof when, fmt, &tm) == 0)
		snprintf(when, sizeof when, "?");
	snprintf(out, outlen, "-r--------    1 ecadm    ecadm    %8lld %s %s",
	    (long long)st->st_size, when, name);
}

/* Answer a failed system call on one of the folder's files. A link or a
 * missing file is "no such file"; what the server cannot explain is
 * logged. */
static int
sftp_status_errno(sftp_client_message msg, const char *what,
    const char *name, int error)
{
	switch (error) {
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
		return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
		    SFTP_MSG_NOENT);
	case EACCES:
	case EPERM:
	case EROFS:
		return sftp_reply_status(msg, SSH_FX_PERMISSION_DENIED,
		    "Accès refusé");
	default:
		log_warnx("sftp: %s %s: %s", what, name, strerror(error));
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    SFTP_MSG_FAILURE);
	}
}

/* What a client's path designates: 0 with its name ("" for the folder)
 * and its stat, or -1 with errno (ENOENT for anything hidden). */
static int
sftp_lookup(struct sftp_conn *c, const char *path, char *name,
    size_t namelen, struct stat *st)
{
	name[0] = '\0';
	if (sftp_path_name(path, name, namelen) == -1) {
		log_debug("sftp: refused a path outside the folder");
		errno = ENOENT;
		return -1;
	}
	if (name[0] == '\0')
		return fstat(c->dirfd, st);
	if (fstatat(c->dirfd, name, st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISREG(st->st_mode)) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* A free slot, or NULL when the client already holds SFTP_HANDLES_MAX. */
static struct sftp_slot *
sftp_slot_new(struct sftp_conn *c)
{
	int	i;

	for (i = 0; i < SFTP_HANDLES_MAX; i++) {
		if (c->slots[i].kind == SFTP_SLOT_FREE)
			return &c->slots[i];
	}
	return NULL;
}

/* The slot in use that the request's handle names, of that kind unless
 * kind is SFTP_SLOT_FREE; NULL for any other handle. */
static struct sftp_slot *
sftp_slot_get(struct sftp_conn *c, sftp_client_message msg,
    enum sftp_slot_kind kind)
{
	void	*info;
	int	 i;

	/* libssh 0.10 has no getter for the handle of a request. */
	if (msg->handle == NULL)
		return NULL;
	info = sftp_handle(c->sftp, msg->handle);
	/* libssh answers with whatever pointer sits at the index the client
	 * wrote; only a pointer into our own table is believed. */
	for (i = 0; i < SFTP_HANDLES_MAX; i++) {
		if (info == &c->slots[i])
			break;
	}
	if (i == SFTP_HANDLES_MAX || c->slots[i].kind == SFTP_SLOT_FREE)
		return NULL;
	if (kind != SFTP_SLOT_FREE && c->slots[i].kind != kind)
		return NULL;
	return &c->slots[i];
}

/* Release what the slot holds, without a word in the log. */
static void
sftp_slot_clear(struct sftp_slot *slot)
{
	if (slot->kind == SFTP_SLOT_FILE)
		close(slot->fd);
	else if (slot->kind == SFTP_SLOT_DIR)
		closedir(slot->dir);
	memset(slot, 0, sizeof *slot);
	slot->fd = -1;
}

/* Close the slot: a file handed out is a get, logged once. */
static void
sftp_slot_close(struct sftp_slot *slot)
{
	if (slot->kind == SFTP_SLOT_FILE)
		log_info("sftp: sent %s (%llu bytes)", slot->name, slot->sent);
	sftp_slot_clear(slot);
}

/* Hand the filled slot to the client as a new handle. */
static int
sftp_slot_reply(struct sftp_conn *c, sftp_client_message msg,
    struct sftp_slot *slot)
{
	ssh_string	handle;
	int		rc;

	handle = sftp_handle_alloc(c->sftp, slot);
	if (handle == NULL) {
		sftp_slot_clear(slot);
		return sftp_reply_status(msg, SSH_FX_FAILURE, SFTP_MSG_FAILURE);
	}
	rc = sftp_reply_handle(msg, handle);
	ssh_string_free(handle);
	return rc;
}

/* REALPATH: "/" or "/name", whether the file exists or not, as a path
 * is only made absolute here. */
static int
sftp_op_realpath(sftp_client_message msg)
{
	char	name[NAME_MAX + 1], path[NAME_MAX + 2];

	if (sftp_path_name(sftp_client_message_get_filename(msg), name,
	    sizeof name) == -1) {
		log_debug("sftp: refused a path outside the folder");
		return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
		    SFTP_MSG_NOENT);
	}
	snprintf(path, sizeof path, "/%s", name);
	return sftp_reply_name(msg, path, NULL);
}

/* STAT and LSTAT alike: links are hidden, so there is none to follow. */
static int
sftp_op_stat(struct sftp_conn *c, sftp_client_message msg)
{
	struct sftp_attributes_struct	 attr;
	struct stat			 st;
	char				 name[NAME_MAX + 1];
	const char			*path;

	path = sftp_client_message_get_filename(msg);
	if (sftp_lookup(c, path, name, sizeof name, &st) == -1)
		return sftp_status_errno(msg, "stat", name, errno);
	sftp_attr_fill(&attr, &st);
	return sftp_reply_attr(msg, &attr);
}

static int
sftp_op_fstat(struct sftp_conn *c, sftp_client_message msg)
{
	struct sftp_attributes_struct	 attr;
	struct sftp_slot		*slot;
	struct stat			 st;
	int				 fd;

	if ((slot = sftp_slot_get(c, msg, SFTP_SLOT_FREE)) == NULL)
		return sftp_reply_status(msg, SSH_FX_INVALID_HANDLE,
		    SFTP_MSG_HANDLE);
	fd = slot->kind == SFTP_SLOT_FILE ? slot->fd : dirfd(slot->dir);
	if (fstat(fd, &st) == -1)
		return sftp_status_errno(msg, "fstat", slot->name, errno);
	sftp_attr_fill(&attr, &st);
	return sftp_reply_attr(msg, &attr);
}

/* OPEN, for reading only. */
static int
sftp_op_open(struct sftp_conn *c, sftp_client_message msg)
{
	const uint32_t		 writing = SSH_FXF_WRITE | SSH_FXF_APPEND |
				    SSH_FXF_CREAT | SSH_FXF_TRUNC |
				    SSH_FXF_EXCL;
	struct sftp_slot	*slot;
	struct stat		 st;
	char			 name[NAME_MAX + 1];
	uint32_t		 flags;
	int			 fd;

	flags = sftp_client_message_get_flags(msg);
	if ((flags & writing) != 0 || (flags & SSH_FXF_READ) == 0)
		return sftp_reply_status(msg, SSH_FX_PERMISSION_DENIED,
		    SFTP_MSG_READONLY);
	if (sftp_path_name(sftp_client_message_get_filename(msg), name,
	    sizeof name) == -1 || name[0] == '\0') {
		log_debug("sftp: refused to open a path");
		return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
		    SFTP_MSG_NOENT);
	}
	if ((slot = sftp_slot_new(c)) == NULL)
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "Trop de fichiers ouverts");
	/* O_NOFOLLOW: a link planted in the folder fails (ELOOP) instead
	 * of leading elsewhere; O_NONBLOCK: a FIFO cannot hang the open;
	 * then fstat keeps regular files only. */
	fd = openat(c->dirfd, name,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return sftp_status_errno(msg, "open", name, errno);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sftp_reply_status(msg, SSH_FX_NO_SUCH_FILE,
		    SFTP_MSG_NOENT);
	}
	slot->kind = SFTP_SLOT_FILE;
	slot->fd = fd;
	slot->sent = 0;
	snprintf(slot->name, sizeof slot->name, "%s", name);
	return sftp_slot_reply(c, msg, slot);
}

/* READ: at most SFTP_READ_MAX bytes at the offset asked. */
static int
sftp_op_read(struct sftp_conn *c, sftp_client_message msg)
{
	struct sftp_slot	*slot;
	uint32_t		 len;
	off_t			 offset;
	ssize_t			 n;

	if ((slot = sftp_slot_get(c, msg, SFTP_SLOT_FILE)) == NULL)
		return sftp_reply_status(msg, SSH_FX_INVALID_HANDLE,
		    SFTP_MSG_HANDLE);
	/* libssh 0.10 has no getters for the offset and length either. */
	len = msg->len < SFTP_READ_MAX ? msg->len : SFTP_READ_MAX;
	offset = (off_t)msg->offset;
	/* An offset off_t cannot hold is past the end of any file. */
	if (offset < 0 || (uint64_t)offset != msg->offset || len == 0)
		return sftp_reply_status(msg, SSH_FX_EOF, NULL);
	n = pread(slot->fd, c->buf, len, offset);
	if (n == -1)
		return sftp_status_errno(msg, "read", slot->name, errno);
	if (n == 0)
		return sftp_reply_status(msg, SSH_FX_EOF, NULL);
	slot->sent += (unsigned long long)n;
	return sftp_reply_data(msg, c->buf, (int)n);
}

static int
sftp_op_close(struct sftp_conn *c, sftp_client_message msg)
{
	struct sftp_slot	*slot;

	if ((slot = sftp_slot_get(c, msg, SFTP_SLOT_FREE)) == NULL)
		return sftp_reply_status(msg, SSH_FX_INVALID_HANDLE,
		    SFTP_MSG_HANDLE);
	sftp_handle_remove(c->sftp, slot);
	sftp_slot_close(slot);
	return sftp_reply_status(msg, SSH_FX_OK, NULL);
}

/* OPENDIR: only the folder itself can be listed. */
static int
sftp_op_opendir(struct sftp_conn *c, sftp_client_message msg)
{
	struct sftp_slot	*slot;
	struct stat		 st;
	char			 name[NAME_MAX + 1];
	const char		*path;
	int			 fd;

	path = sftp_client_message_get_filename(msg);
	if (sftp_lookup(c, path, name, sizeof name, &st) == -1)
		return sftp_status_errno(msg, "opendir", name, errno);
	if (name[0] != '\0')
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "Ce n'est pas un dossier");
	if ((slot = sftp_slot_new(c)) == NULL)
		return sftp_reply_status(msg, SSH_FX_FAILURE,
		    "Trop de fichiers ouverts");
	/* A descriptor of its own, not a dup(): a dup shares the read
	 * position, and two listings would then steal entries from each
	 * other. fdopendir takes it over. */
	fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return sftp_status_errno(msg, "opendir", "/", errno);
	if ((slot->dir = fdopendir(fd)) == NULL) {
		close(fd);
		return sftp_status_errno(msg, "opendir", "/", errno);
	}
	slot->kind = SFTP_SLOT_DIR;
	slot->dir_done = 0;
	snprintf(slot->name, sizeof slot->name, "/");
	return sftp_slot_reply(c, msg, slot);
}

/* READDIR: the next batch of visible files, then EOF. */
static int
sftp_op_readdir(struct sftp_conn *c, sftp_client_message msg)
{
	struct sftp_attributes_struct	 attr;
	struct sftp_slot		*slot;
	struct dirent			*de;
	struct stat			 st;
	char				 longname[SFTP_LONGNAME_MAX];
	int				 count = 0;

	if ((slot = sftp_slot_get(c, msg, SFTP_SLOT_DIR)) == NULL)
		return sftp_reply_status(msg, SSH_FX_INVALID_HANDLE,
		    SFTP_MSG_HANDLE);
	while (!slot->dir_done && count < SFTP_DIR_BATCH) {
		errno = 0;
		if ((de = readdir(slot->dir)) == NULL) {
			/* A failure mid-way shortens the listing; the
			 * names already gathered are still sent. */
			if (errno != 0)
				log_warn("sftp: listing the folder");
			slot->dir_done = 1;
			break;
		}
		if (!sftp_name_valid(de->d_name))
			continue;
		if (fstatat(c->dirfd, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
			continue;
		sftp_attr_fill(&attr, &st);
		sftp_longname(longname, sizeof longname, de->d_name, &st);
		if (sftp_reply_names_add(msg, de->d_name, longname,
		    &attr) == -1)
			return -1;
		count++;
	}
	if (count == 0)
		return sftp_reply_status(msg, SSH_FX_EOF, NULL);
	return sftp_reply_names(msg);
}

/* REMOVE: regular files only, never the folder. */
static int
sftp_op_remove(struct sftp_conn *c, sftp_client_message msg)
{
	struct stat	 st;
	char		 name[NAME_MAX + 1];
	const char	*path;

	path = sftp_client_message_get_filename(msg);
	if (sftp_lookup(c, path, name, sizeof name, &st) == -1)
		return sftp_status_errno(msg, "remove", name, errno);
	if (name[0] == '\0')
		return sftp_reply_status(msg, SSH_FX_PERMISSION_DENIED,
		    "Le dossier ne peut pas être supprimé");
	/* A link could replace the file between the check and the unlink:
	 * unlinkat removes the link itself, never its target, so nothing
	 * outside can be reached that way. */
	if (unlinkat(c->dirfd, name, 0) == -1)
		return sftp_status_errno(msg, "remove", name, errno);
	log_info("sftp: removed %s", name);
	return sftp_reply_status(msg, SSH_FX_OK, NULL);
}

/* Answer one request; -1 when the answer could not be sent. */
static int
sftp_dispatch(struct sftp_conn *c, sftp_client_message msg)
{
	uint8_t	type = sftp_client_message_get_type(msg);

	switch (type) {
	case SSH_FXP_REALPATH:
		return sftp_op_realpath(msg);
	case SSH_FXP_STAT:
	case SSH_FXP_LSTAT:
		return sftp_op_stat(c, msg);
	case SSH_FXP_FSTAT:
		return sftp_op_fstat(c, msg);
	case SSH_FXP_OPEN:
		return sftp_op_open(c, msg);
	case SSH_FXP_READ:
		return sftp_op_read(c, msg);
	case SSH_FXP_CLOSE:
		return sftp_op_close(c, msg);
	case SSH_FXP_OPENDIR:
		return sftp_op_opendir(c, msg);
	case SSH_FXP_READDIR:
		return sftp_op_readdir(c, msg);
	case SSH_FXP_REMOVE:
		return sftp_op_remove(c, msg);
	case SSH_FXP_WRITE:
	case SSH_FXP_SETSTAT:
	case SSH_FXP_FSETSTAT:
	case SSH_FXP_MKDIR:
	case SSH_FXP_RMDIR:
	case SSH_FXP_RENAME:
	case SSH_FXP_SYMLINK:
		log_debug("sftp: refused request %u (read-only)", type);
		return sftp_reply_status(msg, SSH_FX_PERMISSION_DENIED,
		    SFTP_MSG_READONLY);
	default:
		/* READLINK (there are no links to read) and the extensions
		 * libssh announces on its own (posix-rename, hardlink). */
		log_debug("sftp: refused request %u (unsupported)", type);
		return sftp_reply_status(msg, SSH_FX_OP_UNSUPPORTED,
		    SFTP_MSG_UNSUPPORTED);
	}
}

/* Wait for the client's next request: 1 when it has begun to come, 0
 * when the client stayed idle idle_ms or closed the channel, -1 when the
 * session broke. */
static int
sftp_wait(ssh_session session, ssh_channel chan, int idle_ms)
{
	int	rc;

	rc = ssh_channel_poll_timeout(chan, idle_ms, 0);
	if (rc > 0)
		return 1;
	if (rc == SSH_EOF)
		return 0;
	if (rc == 0) {
		/* poll also stops, with nothing read, on a closed channel */
		if (ssh_channel_is_closed(chan) || ssh_channel_is_eof(chan))
			return 0;
		log_info("sftp: idle for %d s, closing", idle_ms / 1000);
		return 0;
	}
	log_warnx("sftp: waiting for a request: %s", ssh_get_error(session));
	return -1;
}

int
sftp_serve(ssh_session session, ssh_channel chan, int dirfd,
    int idle_seconds)
{
	struct sftp_conn	 c;
	sftp_client_message	 msg;
	int			 i, idle_ms, rc;

	if (idle_seconds <= 0)
		idle_ms = -1;
	else if (idle_seconds > INT_MAX / 1000)
		idle_ms = INT_MAX;
	else
		idle_ms = idle_seconds * 1000;

	memset(&c, 0, sizeof c);
	c.dirfd = dirfd;
	for (i = 0; i < SFTP_HANDLES_MAX; i++)
		c.slots[i].fd = -1;
	if ((c.sftp = sftp_server_new(session, chan)) == NULL) {
		log_warnx("sftp: %s", ssh_get_error(session));
		return -1;
	}
	c.buf = xmalloc(SFTP_READ_MAX);

	/* sftp_server_init reads the client's INIT with blocking reads:
	 * the idle limit applies to it as to any request. */
	if ((rc = sftp_wait(session, chan, idle_ms)) == 1) {
		if (sftp_server_init(c.sftp) == -1) {
			log_warnx("sftp: init: %s", ssh_get_error(session));
			rc = -1;
		}
	}
	while (rc == 1) {
		if ((rc = sftp_wait(session, chan, idle_ms)) != 1)
			break;
		if ((msg = sftp_get_client_message(c.sftp)) == NULL) {
			log_warnx("sftp: reading a request: %s",
			    ssh_get_error(session));
			rc = -1;
			break;
		}
		if (sftp_dispatch(&c, msg) == -1) {
			log_warnx("sftp: answering a request: %s",
			    ssh_get_error(session));
			rc = -1;
		}
		sftp_client_message_free(msg);
	}

	for (i = 0; i < SFTP_HANDLES_MAX; i++)
		sftp_slot_close(&c.slots[i]);
	sftp_server_free(c.sftp);
	free(c.buf);
	return rc == -1 ? -1 : 0;
}
