/* Logging: one formatted line per call, to stderr or syslog. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_progname = "ecadm";
static enum log_level	 log_level = LOG_LEVEL_INFO;
static int		 log_syslog;
static void		(*log_fatal_hook)(void);
static __thread char	 log_context[48];

void
log_init(const char *progname, enum log_level level, int to_syslog)
{
	log_progname = progname;
	log_level = level;
	log_syslog = to_syslog;
	if (to_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

void
log_context_set(const char *context)
{
	if (context == NULL)
		log_context[0] = '\0';
	else
		snprintf(log_context, sizeof log_context, "%s", context);
}

void
log_set_fatal_hook(void (*hook)(void))
{
	log_fatal_hook = hook;
}

/* Copy src into dst, replacing control bytes by \xNN so a hostile name
 * cannot forge log lines or drive a terminal. */
static void
log_escape(char *dst, size_t size, const char *src)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 n = 0;
	unsigned char		 c;

	for (; *src != '\0' && n + 5 < size; src++) {
		c = (unsigned char)*src;
		if (c < 0x20 || c == 0x7f) {
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 0xf];
		} else
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
}

static void
log_vwrite(int priority, const char *fmt, va_list ap, const char *suffix)
{
	char		 raw[2048], line[4096], stamp[32];
	struct timespec	 ts;
	struct tm	 tm;

	vsnprintf(raw, sizeof raw, fmt, ap);
	log_escape(line, sizeof line, raw);
	if (log_syslog) {
		syslog(priority, "%s%s%s%s%s", log_context,
		    log_context[0] != '\0' ? ": " : "", line,
		    suffix != NULL ? ": " : "", suffix != NULL ? suffix : "");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%d]: %s%s%s%s%s\n", stamp,
	    ts.tv_nsec / 1000000, log_progname, (int)getpid(),
	    log_context, log_context[0] != '\0' ? ": " : "", line,
	    suffix != NULL ? ": " : "", suffix != NULL ? suffix : "");
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	if (log_fatal_hook != NULL)
		log_fatal_hook();
	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	if (log_fatal_hook != NULL)
		log_fatal_hook();
	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
