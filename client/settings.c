/* Client settings: config file, environment, password sources. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"
#include "settings.h"
#include "xmalloc.h"

void
settings_set(char **field, const char *value)
{
	free(*field);
	*field = value != NULL && *value != '\0' ? xstrdup(value) : NULL;
}

int
settings_option(struct settings *s, int ch, const char *arg)
{
	switch (ch) {
	case 'S':
		settings_set(&s->server, arg);
		return 1;
	case 'C':
		settings_set(&s->ca, arg);
		return 1;
	case 'u':
		settings_set(&s->user, arg);
		return 1;
	case 'P':
		settings_set(&s->password_file, arg);
		return 1;
	case 'T':
		settings_set(&s->totp, arg);
		return 1;
	case 's':
		settings_set(&s->school, arg);
		return 1;
	}
	return 0;
}

void
settings_free(struct settings *s)
{
	free(s->server);
	free(s->ca);
	free(s->user);
	freestr_secret(s->password);
	free(s->password_file);
	free(s->totp);
	free(s->school);
	memset(s, 0, sizeof *s);
}

int
settings_load(struct settings *s, char **cause)
{
	char			*server = NULL, *ca = NULL, *user = NULL;
	char			*school = NULL, *path;
	const char		*home, *xdg;
	const struct config_key	 keys[] = {
		{ "ecadm", "server", CONFIG_STRING, &server, NULL,
		    "server address, host:port" },
		{ "ecadm", "ca", CONFIG_STRING, &ca, NULL,
		    "CA certificate that signed the server's" },
		{ "ecadm", "user", CONFIG_STRING, &user, NULL, "login" },
		{ "ecadm", "school", CONFIG_STRING, &school, NULL,
		    "UAI of the school to work on" },
		{ NULL, NULL, CONFIG_STRING, NULL, NULL, NULL },
	};

	memset(s, 0, sizeof *s);
	config_defaults(keys);
	if ((xdg = getenv("XDG_CONFIG_HOME")) != NULL && *xdg != '\0')
		xasprintf(&path, "%s/ecadm/config", xdg);
	else if ((home = getenv("HOME")) != NULL)
		xasprintf(&path, "%s/.config/ecadm/config", home);
	else
		path = NULL;
	if (path != NULL && access(path, F_OK) == 0 &&
	    config_load(keys, path, cause) == -1) {
		free(path);
		config_free(keys);
		return -1;
	}
	free(path);
	s->server = server;
	s->ca = ca;
	s->user = user;
	s->school = school;
	if (getenv("ECADM_SERVER") != NULL)
		settings_set(&s->server, getenv("ECADM_SERVER"));
	if (getenv("ECADM_CA") != NULL)
		settings_set(&s->ca, getenv("ECADM_CA"));
	if (getenv("ECADM_USER") != NULL)
		settings_set(&s->user, getenv("ECADM_USER"));
	if (getenv("ECADM_SCHOOL") != NULL)
		settings_set(&s->school, getenv("ECADM_SCHOOL"));
	if (getenv("ECADM_PASSWORD") != NULL)
		settings_set(&s->password, getenv("ECADM_PASSWORD"));
	if (s->server == NULL)
		s->server = xstrdup("127.0.0.1:7443");
	return 0;
}

char *
settings_read_file(const char *path, size_t max, size_t *lenp, char **cause)
{
	struct stat	 st;
	char		*data;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s : %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > max) {
		xasprintf(cause, "%s : fichier absent, spécial ou trop gros",
		    path);
		close(fd);
		return NULL;
	}
	data = xmalloc((size_t)st.st_size + 1);
	xmadvise_huge(data, (size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, data + len, (size_t)st.st_size - len);
		if (n <= 0) {
			xasprintf(cause, "%s : %s", path, n == 0 ?
			    "fichier tronqué" : strerror(errno));
			free(data);
			close(fd);
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	data[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return data;
}

/* The refusal of a temporary name that already exists. */
static void
settings_tmp_exists(const char *tmp, char **cause)
{
	xasprintf(cause, "%s existe déjà (fichier laissé par une écriture "
	    "interrompue, ou lien symbolique) : document non enregistré ; "
	    "supprimez-le puis recommencez", tmp);
}

/* Whether path and path.tmp are free of links and odd files. */
int
settings_document_check(const char *path, char **cause)
{
	struct stat	 st;
	char		*tmp;

	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s : %s : document non enregistré (choisissez "
		    "un autre nom)", path, S_ISLNK(st.st_mode) ?
		    "c'est un lien symbolique" : "ce n'est pas un fichier");
		return -1;
	}
	xasprintf(&tmp, "%s.tmp", path);
	if (lstat(tmp, &st) == 0) {
		settings_tmp_exists(tmp, cause);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/*
 * Write a document received from the server. It may carry provisional
 * passwords, and it is written where a hostile local user may have planted
 * a symbolic link (a shared folder, a predictable name): the bytes go to
 * PATH.tmp, created here and nowhere else (O_EXCL: an existing file or link
 * of that name is an error; O_NOFOLLOW), mode 0600, then renamed over
 * PATH once whole so a reader never sees half a document. A link at PATH
 * itself is refused too: rename() would not follow it, but replacing a
 * link the user did not expect to lose is not ours to decide.
 */
int
settings_write_document(const char *path, const void *data, size_t len,
    char **cause)
{
	const char	*p = data;
	char		*tmp;
	ssize_t		 n;
	int		 fd, saved;

	if (settings_document_check(path, cause) == -1)
		return -1;
	xasprintf(&tmp, "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		/* Planted since the check: the open is what protects. */
		if (errno == EEXIST || errno == ELOOP)
			settings_tmp_exists(tmp, cause);
		else
			xasprintf(cause, "%s : %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	/* Whole and on disk before it takes the name. */
	saved = len > 0 || fsync(fd) == -1 ? errno : 0;
	if (close(fd) == -1 && saved == 0)
		saved = errno;
	if (saved == 0 && rename(tmp, path) == -1)
		saved = errno;
	if (saved != 0) {
		xasprintf(cause, "%s : %s", path, strerror(saved));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* Prompt on the terminal without echo. */
static char *
settings_prompt(const char *prompt)
{
	struct termios	 old, quiet;
	char		 line[256];
	FILE		*tty;
	size_t		 n;
	int		 ok;

	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return NULL;
	fputs(prompt, tty);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ok = fgets(line, sizeof line, tty) != NULL;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (!ok)
		return NULL;
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	return xstrdup(line);
}

int
settings_password(struct settings *s, int allow_prompt, char **cause)
{
	char	*data, *p;

	if (s->password_file != NULL) {
		if ((data = settings_read_file(s->password_file, 4096, NULL,
		    cause)) == NULL)
			return -1;
		data[strcspn(data, "\r\n")] = '\0';
		freestr_secret(s->password);
		s->password = data;
		return 0;
	}
	if (s->password != NULL)
		return 0;
	if (allow_prompt && isatty(STDIN_FILENO) &&
	    (p = settings_prompt("Mot de passe : ")) != NULL) {
		s->password = p;
		return 0;
	}
	*cause = xstrdup("mot de passe manquant (ECADM_PASSWORD, "
	    "--password-file ou un terminal)");
	return -1;
}

struct rpc *
settings_connect(const struct settings *s, const char *client, char **cause)
{
	struct rpc_options	 o;
	struct rpc		*rpc;

	memset(&o, 0, sizeof o);
	o.server = s->server;
	o.ca = s->ca;
	o.client = client;
	o.timeout_ms = 10000;
	if ((rpc = rpc_open(&o, cause)) != NULL)
		rpc_set_school(rpc, s->school);
	return rpc;
}
