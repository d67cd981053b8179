/*
 * Settings shared by ecadm and ecadmctl (DESIGN.md §13): built-in defaults,
 * then ~/.config/ecadm/config, then the environment (ECADM_SERVER,
 * ECADM_CA, ECADM_USER, ECADM_PASSWORD, ECADM_SCHOOL), then options.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include "rpc.h"

struct settings {
	char	*server;
	char	*ca;
	char	*user;
	char	*password;
	char	*password_file;
	char	*totp;
	char	*school;
	int	 json;
};

/* Exit statuses of ecadmctl (and ecadm). */
#define EXIT_REFUSED	1	/* the server said no */
#define EXIT_USAGE	2
#define EXIT_CONNECT	3	/* cannot connect, TLS failure */

/* The options both programs take, for their getopt_long tables. */
#define SETTINGS_OPTIONS \
	{ "server", required_argument, NULL, 'S' }, \
	{ "ca", required_argument, NULL, 'C' }, \
	{ "user", required_argument, NULL, 'u' }, \
	{ "password-file", required_argument, NULL, 'P' }, \
	{ "totp", required_argument, NULL, 'T' }, \
	{ "school", required_argument, NULL, 's' }

/* Take one of SETTINGS_OPTIONS; 1 if ch was one of them. */
int	 settings_option(struct settings *, int ch, const char *arg);
/* Fill from the config file and the environment; -1 and *cause on a bad
 * config file. */
int	 settings_load(struct settings *, char **cause);
void	 settings_set(char **, const char *);
void	 settings_free(struct settings *);
/* Read the password from --password-file, or from the terminal (prompt
 * on /dev/tty, no echo) when allow_prompt. -1 and *cause if none. */
int	 settings_password(struct settings *, int allow_prompt, char **cause);
/* Connect to the configured server as program client. */
struct rpc *settings_connect(const struct settings *, const char *client,
	    char **cause);
/* Write a received document at path (through path.tmp, created with
 * O_EXCL and O_NOFOLLOW, mode 0600, then renamed); a link at either name
 * is refused. -1 and *cause (French) on failure. */
int	 settings_write_document(const char *path, const void *, size_t,
	    char **cause);
/* Whether a document could be written there (no link at path or
 * path.tmp): checked before asking the server for it, so a refused name
 * costs no notification. -1 and *cause (French) if not. */
int	 settings_document_check(const char *path, char **cause);
/* Read a whole file (at most max bytes); NULL and *cause on failure. */
char	*settings_read_file(const char *path, size_t max, size_t *len,
	    char **cause);

#endif
