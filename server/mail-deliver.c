/*
 * Handing a composed message over: into a Maildir (the default, and the
 * demo's), or to an SMTP relay with libcurl when [mail] smtp_url is set.
 * The answer says whether to try again: a relay's 5xx is final, anything
 * else (a relay down, a full disk, a 4xx) is worth another attempt.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "log.h"
#include "mail.h"
#include "server.h"
#include "xmalloc.h"

/* The relay's password, read once at start (the file may be unreadable
 * once privileges are dropped). */
static char	*smtp_password;

int
mail_deliver_init(char **cause)
{
	FILE	*f;
	char	 line[512];

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		xasprintf(cause, "curl_global_init failed");
		return -1;
	}
	if (server_cfg.smtp_password_file == NULL)
		return 0;
	if ((f = fopen(server_cfg.smtp_password_file, "r")) == NULL) {
		xasprintf(cause, "%s: %s", server_cfg.smtp_password_file,
		    strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	smtp_password = xstrdup(line);
	explicit_bzero(line, sizeof line);
	return 0;
}

void
mail_deliver_free(void)
{
	if (smtp_password != NULL)
		freestr_secret(smtp_password);
	smtp_password = NULL;
	curl_global_cleanup();
}

/* Make dir and its tmp/, new/, cur/ if missing. */
static int
maildir_prepare(const char *dir, char **error)
{
	static const char	*subs[] = { "", "/tmp", "/new", "/cur" };
	char			 path[4096];
	size_t			 i;

	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(path, sizeof path, "%s%s", dir, subs[i]);
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			xasprintf(error, "mkdir %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Write into tmp/ then rename into new/, as the Maildir convention asks:
 * a reader never sees half a message. The name is unique per host
 * (time, microseconds, pid, a counter of this process).
 */
static enum mail_result
maildir_deliver(const struct buf *msg, char **error)
{
	static atomic_ulong	 counter;
	struct timespec		 ts;
	char			 host[256], name[512], tmp[4608], dst[4608];
	ssize_t			 n;
	size_t			 off = 0;
	int			 fd;

	if (maildir_prepare(server_cfg.maildir, error) == -1)
		return MAIL_RETRY;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "localhost");
	host[strcspn(host, "/:")] = '\0';
	snprintf(name, sizeof name, "%lld.M%ldP%dQ%lu.%s",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (int)getpid(),
	    atomic_fetch_add(&counter, 1) + 1, host);
	snprintf(tmp, sizeof tmp, "%s/tmp/%s", server_cfg.maildir, name);
	snprintf(dst, sizeof dst, "%s/new/%s", server_cfg.maildir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		xasprintf(error, "%s: %s", tmp, strerror(errno));
		return MAIL_RETRY;
	}
	while (off < msg->len) {
		if ((n = write(fd, msg->data + off, msg->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	if (off < msg->len || fsync(fd) == -1 || close(fd) == -1 ||
	    rename(tmp, dst) == -1) {
		xasprintf(error, "%s: %s", tmp, strerror(errno));
		if (off < msg->len)
			close(fd);
		unlink(tmp);
		return MAIL_RETRY;
	}
	return MAIL_SENT;
}

/* What libcurl reads of the message. */
struct smtp_upload {
	const struct buf	*msg;
	size_t			 off;
};

static size_t
smtp_read(char *dst, size_t size, size_t nitems, void *arg)
{
	struct smtp_upload	*u = arg;
	size_t			 n = size * nitems, left = u->msg->len - u->off;

	if (n > left)
		n = left;
	memcpy(dst, u->msg->data + u->off, n);
	u->off += n;
	return n;
}

/* Called by libcurl as it goes: a non-zero answer aborts the transfer,
 * so a stopping ecadmd does not wait for a slow relay. */
static int
smtp_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return mailer_stopping_now();
}

/* Send over SMTP; a 5xx answer is final. */
static enum mail_result
smtp_deliver(const char *from, const char *to, const struct buf *msg,
    char **error)
{
	struct smtp_upload	 u = { msg, 0 };
	struct curl_slist	*rcpt = NULL;
	char			 errbuf[CURL_ERROR_SIZE] = "", *bracketed;
	CURL			*curl;
	CURLcode		 rc;
	long			 code = 0;

	if ((curl = curl_easy_init()) == NULL)
		fatalx("curl_easy_init");
	xasprintf(&bracketed, "<%s>", to);
	rcpt = curl_slist_append(rcpt, bracketed);
	free(bracketed);
	curl_easy_setopt(curl, CURLOPT_URL, server_cfg.smtp_url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);	/* threads */
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, smtp_progress);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, smtp_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
	if (server_cfg.smtp_starttls)
		curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (server_cfg.smtp_ca != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, server_cfg.smtp_ca);
	if (server_cfg.smtp_user != NULL) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, server_cfg.smtp_user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, smtp_password != NULL ?
		    smtp_password : "");
	}
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	if (rc == CURLE_OK)
		return MAIL_SENT;
	xasprintf(error, "smtp: %s%s%s (%ld)", curl_easy_strerror(rc),
	    *errbuf != '\0' ? ": " : "", errbuf, code);
	return code >= 500 && code < 600 ? MAIL_FAILED : MAIL_RETRY;
}

enum mail_result
mail_deliver(const char *from, const char *to, const struct buf *msg,
    char **error)
{
	if (server_cfg.smtp_url != NULL)
		return smtp_deliver(from, to, msg, error);
	return maildir_deliver(msg, error);
}
