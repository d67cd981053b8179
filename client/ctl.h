/*
 * What the files of ecadmctl share: the connection, the command table
 * (ecadmctl.c) and the helpers every command uses to call ecadmd and print
 * its answer. The commands live by family in ctl-school.c, ctl-accounts.c
 * and ctl-staff.c; each parses its own options, makes its call and prints
 * a table, or JSON with --json.
 */
#ifndef CTL_H
#define CTL_H

#include <getopt.h>

#include <jansson.h>

#include "rpc.h"
#include "settings.h"

struct ctl {
	struct settings	 s;
	struct rpc	*rpc;
	unsigned	 role;	/* enum proto_role of the login, 0 if unknown */
};

/*
 * One command: the words that name it, its usage and what it does (both
 * for the help text, which is generated from the table), the operation it
 * calls (enum proto_op, or -1 for a command that stays on this machine),
 * whose roles decide who may run it, and its handler.
 */
struct ctl_command {
	const char	*name;
	const char	*sub;		/* second word, or NULL */
	const char	*usage;
	const char	*help;		/* French, lower case, no full stop */
	int		 op;
	int		(*run)(struct ctl *, int, char **);
};

/* Print the usage of the command being run and exit (status 2). */
void	 ctl_usage_command(void) __attribute__((noreturn));

/* Make a call (with an upload when data is set); on refusal print the
 * code, the message and the details, and return NULL. The reply is kept
 * in *rp when rp is set (for its document). Exits if the connection is
 * lost. */
json_t	*ctl_call_upload(struct ctl *, enum proto_op, json_t *args,
	    const void *data, size_t len, struct rpc_reply **rp);
json_t	*ctl_call(struct ctl *, enum proto_op, json_t *args,
	    struct rpc_reply **rp);

/* Parse the options of a command, before or after its operands. */
int	 ctl_getopt(int argc, char **argv, const struct option *);
void	 ctl_print_json(json_t *);
/* The end of a command that prints one sentence: EXIT_REFUSED if res (a
 * reply, freed here) is NULL, else res with --json, or the printf-like
 * sentence, and 0. */
int	 ctl_say(struct ctl *, json_t *res, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Columns of the terminal, or 0 when output is not one. */
int	 ctl_terminal_width(void);
/* A string member of an object, or NULL. */
const char *jstr(const json_t *, const char *key);
/* An integer member of an object, as a new string. */
char	*jint(const json_t *, const char *key);

/* The commands, by family. */
int	 cmd_classes(struct ctl *, int, char **);
int	 cmd_search(struct ctl *, int, char **);
int	 cmd_stats(struct ctl *, int, char **);
int	 cmd_journal(struct ctl *, int, char **);
int	 cmd_import(struct ctl *, int, char **);
int	 cmd_notify(struct ctl *, int, char **);
int	 cmd_list(struct ctl *, int, char **);
int	 cmd_reset(struct ctl *, int, char **);
int	 cmd_show(struct ctl *, int, char **);
int	 cmd_set_email(struct ctl *, int, char **);
int	 cmd_resend_activation(struct ctl *, int, char **);
int	 cmd_staff_add(struct ctl *, int, char **);
int	 cmd_staff_list(struct ctl *, int, char **);
int	 cmd_staff_disable(struct ctl *, int, char **);
int	 cmd_staff_set_key(struct ctl *, int, char **);
int	 cmd_staff_keys(struct ctl *, int, char **);
int	 cmd_staff_remove_key(struct ctl *, int, char **);
int	 cmd_staff_totp(struct ctl *, int, char **);

#endif
