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

#endif
