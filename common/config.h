/*
 * INI configuration (inih). A program describes its keys once, in a table
 * that gives each key's section, type, default and meaning; the same table
 * parses the file, rejects unknown keys with their line, and prints the
 * documented defaults (--dump-config).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdio.h>

enum config_type {
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_BOOL,
};

struct config_key {
	const char		*section;
	const char		*name;
	enum config_type	 type;
	void			*value;	/* char ** or int * */
	const char		*fallback;	/* default, as text; NULL: none */
	const char		*doc;
};

/* Set every key to its default. */
void	config_defaults(const struct config_key *);
/* Read path over the defaults. -1 and *cause on error. */
int	config_load(const struct config_key *, const char *path, char **cause);
/* Print the table as a commented INI file. */
void	config_dump(const struct config_key *, FILE *);
/* Free the strings the table holds. */
void	config_free(const struct config_key *);

/* What a daemon's command line needs to know of it. */
struct config_daemon {
	const char		*name;		/* for logs, usage, --version */
	const struct config_key	*keys;
	const char		*default_path;	/* read if it exists */
	const char		*operands;	/* in the usage line, or NULL */
	const char		*operands_help;	/* their lines, or NULL */
	int			*debug;		/* its [log] debug, set by -d */
	int			*syslog;	/* its [log] syslog, or NULL */
};
/*
 * The options every daemon takes: -c FILE, -d, --help, --version and
 * --dump-config. Loads the configuration over the defaults (FILE, else
 * the default path when it exists) and sets up logging from it (-d: debug
 * messages to standard error); exits after --help, --version,
 * --dump-config, or an error. Returns the index of the first operand.
 */
int	config_daemon_args(const struct config_daemon *, int argc, char **argv);
/* Print the usage (to standard output when status is 0) and exit. */
void	config_daemon_usage(const struct config_daemon *, int status)
	    __attribute__((noreturn));

#endif
