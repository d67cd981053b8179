/* Schema migrations: the files of sql/, embedded at build time. */
#ifndef MIGRATE_H
#define MIGRATE_H

struct migration {
	int		 version;
	const char	*name;
	const char	*sql;
};

/* Every migration, in order, ending with a NULL name (generated). */
extern const struct migration migrations[];

/* Apply the migrations not yet recorded, each in its own transaction.
 * Returns how many ran, or -1 and *cause. */
int	migrate_run(const char *conninfo, char **cause);
/* 1 if every migration is recorded, 0 if not, -1 and *cause on error. */
int	migrate_is_current(const char *conninfo, char **cause);

#endif
