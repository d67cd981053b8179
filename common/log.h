/* Logging for every program of the project. Each line carries the process
 * name and, when set, the context of the calling thread (a connection or a
 * session id) so one conversation can be grepped out of a busy log. Control
 * bytes are escaped; callers never pass secrets. */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_DEBUG = 2,
};

void	log_init(const char *progname, enum log_level, int to_syslog);
void	log_set_level(enum log_level);
/* Context prefix for this thread's lines ("c12", "c12 s3"), or NULL. */
void	log_context_set(const char *);
/* Called by fatal(); programs with a screen restore the terminal in it. */
void	log_set_fatal_hook(void (*)(void));

void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
