/* Table-driven INI configuration on top of inih. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "log.h"
#include "xmalloc.h"

struct config_state {
	const struct config_key	*keys;
	FILE			*f;
	int			 line;		/* lines inih has read */
	char			*cause;		/* of the first bad key */
	int			 cause_line;
};

static int
config_set(const struct config_key *k, const char *text, char **cause)
{
	char	*end;
	long	 n;

	switch (k->type) {
	case CONFIG_STRING:
		free(*(char **)k->value);
		*(char **)k->value = text != NULL && *text != '\0' ?
		    xstrdup(text) : NULL;
		return 0;
	case CONFIG_INT:
		errno = 0;
		n = strtol(text, &end, 10);
		if (*text == '\0' || *end != '\0' || errno != 0 ||
		    n < INT_MIN || n > INT_MAX) {
			xasprintf(cause, "[%s] %s: not an integer: %s",
			    k->section, k->name, text);
			return -1;
		}
		*(int *)k->value = (int)n;
		return 0;
	case CONFIG_BOOL:
		if (strcmp(text, "yes") == 0 || strcmp(text, "true") == 0 ||
		    strcmp(text, "1") == 0 || strcmp(text, "on") == 0)
			*(int *)k->value = 1;
		else if (strcmp(text, "no") == 0 ||
		    strcmp(text, "false") == 0 || strcmp(text, "0") == 0 ||
		    strcmp(text, "off") == 0)
			*(int *)k->value = 0;
		else {
			xasprintf(cause, "[%s] %s: not yes or no: %s",
			    k->section, k->name, text);
			return -1;
		}
		return 0;
	}
	return -1;
}

void
config_defaults(const struct config_key *keys)
{
	const struct config_key	*k;
	char			*cause;

	for (k = keys; k->name != NULL; k++) {
		if (k->type == CONFIG_STRING)
			*(char **)k->value = NULL;
		if (k->fallback != NULL && config_set(k, k->fallback,
		    &cause) != 0)
			abort();	/* a bad default is a programming error */
	}
}

/* inih's reader: fgets, counting the lines as inih does (one a call), so
 * the handler knows the line of a bad key. */
static char *
config_reader(char *s, int size, void *arg)
{
	struct config_state	*st = arg;

	if (fgets(s, size, st->f) == NULL)
		return NULL;
	st->line++;
	return s;
}

static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_state	*st = arg;
	const struct config_key	*k;
	char			*cause = NULL;
	int			 ok = 0;

	for (k = st->keys; k->name != NULL; k++) {
		if (strcmp(k->section, section) == 0 &&
		    strcmp(k->name, name) == 0)
			break;
	}
	if (k->name == NULL)
		xasprintf(&cause, "unknown key [%s] %s", section, name);
	else
		ok = config_set(k, value, &cause) == 0;
	/* inih reads on after an error and reports the first one's line:
	 * keep the first cause (a later one used to overwrite and leak it). */
	if (cause != NULL && st->cause == NULL) {
		st->cause = cause;
		st->cause_line = st->line;
	} else
		free(cause);
	return ok;
}

int
config_load(const struct config_key *keys, const char *path, char **cause)
{
	struct config_state	st = { keys, NULL, 0, NULL, 0 };
	int			line;

	if ((st.f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	line = ini_parse_stream(config_reader, &st, config_handler, &st);
	fclose(st.f);
	if (line != 0) {
		/* The first error may be inih's own, before any bad key. */
		xasprintf(cause, "%s:%d: %s", path, line,
		    st.cause != NULL && st.cause_line == line ? st.cause :
		    "syntax error");
		free(st.cause);
		return -1;
	}
	return 0;
}

void
config_dump(const struct config_key *keys, FILE *f)
{
	const struct config_key	*k;
	const char		*section = NULL;

	for (k = keys; k->name != NULL; k++) {
		if (section == NULL || strcmp(section, k->section) != 0) {
			fprintf(f, "%s[%s]\n", section != NULL ? "\n" : "",
			    k->section);
			section = k->section;
		}
		fprintf(f, "# %s\n%s%s = %s\n", k->doc,
		    k->fallback == NULL ? "#" : "", k->name,
		    k->fallback != NULL ? k->fallback : "");
	}
}

void
config_free(const struct config_key *keys)
{
	const struct config_key	*k;

	for (k = keys; k->name != NULL; k++) {
		if (k->type == CONFIG_STRING) {
			free(*(char **)k->value);
			*(char **)k->value = NULL;
		}
	}
}

void
config_daemon_usage(const struct config_daemon *d, int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: %s [-d] [-c FILE]%s%s\n"
	    "       %s --dump-config | --help | --version\n\n%s"
	    "  -c FILE           configuration (default %s)\n"
	    "  -d                log debug messages to standard error\n"
	    "  --dump-config     print every setting with its default\n",
	    d->name, d->operands != NULL ? " " : "",
	    d->operands != NULL ? d->operands : "", d->name,
	    d->operands_help != NULL ? d->operands_help : "",
	    d->default_path);
	exit(status);
}

int
config_daemon_args(const struct config_daemon *d, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "dump-config", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	const char			*path = NULL;
	char				*cause;
	int				 ch, debug = 0;

	log_init(d->name, LOG_LEVEL_INFO, 0);
	config_defaults(d->keys);
	while ((ch = getopt_long(argc, argv, "c:dh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'h':
			config_daemon_usage(d, 0);
		case 'V':
			printf("%s %s\n", d->name, ECADM_VERSION);
			exit(0);
		case 'D':
			config_dump(d->keys, stdout);
			exit(0);
		default:
			config_daemon_usage(d, 2);
		}
	}
	if (path == NULL && access(d->default_path, F_OK) == 0)
		path = d->default_path;
	if (path != NULL && config_load(d->keys, path, &cause) == -1)
		fatalx("%s", cause);
	if (debug)
		*d->debug = 1;
	log_init(d->name, *d->debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
	    d->syslog != NULL && *d->syslog && !debug);
	return optind;
}
