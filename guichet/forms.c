/*
 * Form bodies and CSRF tokens.
 *
 * A CSRF token is HMAC-SHA256(key, binding) where the binding is the
 * parent's session cookie, or a random pre-session cookie before they log
 * in. Nothing is stored: the key file, shared by every instance, is enough
 * to check a token, and a page from another site cannot read the cookie the
 * token depends on.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "hex.h"
#include "guichet.h"
#include "log.h"
#include "valid.h"
#include "xmalloc.h"

#define CSRF_KEY_LEN	32
#define FORM_FIELDS_MAX	32

static unsigned char	csrf_key[CSRF_KEY_LEN];

/* Decode one percent-encoded part ('+' is a space); NULL if malformed. */
static char *
form_decode(const char *p, size_t len)
{
	char	*out, *o;
	size_t	 i;
	int	 hi, lo;

	o = out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (p[i] == '+')
			*o++ = ' ';
		else if (p[i] == '%') {
			if (i + 2 >= len)
				goto bad;
			if ((hi = hex_value(p[i + 1])) == -1 ||
			    (lo = hex_value(p[i + 2])) == -1)
				goto bad;
			/* A NUL would cut the value short unnoticed. */
			if (hi == 0 && lo == 0)
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else
			*o++ = p[i];
	}
	*o = '\0';
	return out;
bad:
	freezero(out, len + 1);
	return NULL;
}

/* Parse name=value pairs separated by '&'. */
int
form_parse(struct form *f, const char *p, size_t len)
{
	const char	*end = p + len, *amp, *eq;
	char		*name, *value;

	memset(f, 0, sizeof *f);
	while (p < end) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		if (amp == p) {
			p++;
			continue;
		}
		if (f->n == FORM_FIELDS_MAX)
			return -1;
		if ((eq = memchr(p, '=', amp - p)) == NULL)
			eq = amp;
		if ((name = form_decode(p, eq - p)) == NULL)
			return -1;
		value = form_decode(eq < amp ? eq + 1 : eq,
		    eq < amp ? (size_t)(amp - eq - 1) : 0);
		if (value == NULL) {
			free(name);
			return -1;
		}
		/* Everything a page echoes or sends on must be text. */
		if (!valid_utf8_text(name, strlen(name)) ||
		    !valid_utf8_text(value, strlen(value))) {
			free(name);
			freestr_secret(value);
			return -1;
		}
		f->fields = xreallocarray(f->fields, f->n + 1,
		    sizeof *f->fields);
		f->fields[f->n].name = name;
		f->fields[f->n].value = value;
		f->n++;
		p = amp + 1;
	}
	return 0;
}

/* The first value of a field. */
const char *
form_get(const struct form *f, const char *name)
{
	size_t	i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return f->fields[i].value;
	return NULL;
}

void
form_free(struct form *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		free(f->fields[i].name);
		freestr_secret(f->fields[i].value);
	}
	free(f->fields);
	memset(f, 0, sizeof *f);
}

/* Keep the message of a field, or the general one when field is NULL. */
void
form_errors_add(struct form_errors *e, const char *field, const char *text)
{
	if (field == NULL || e->n == FIELD_ERRORS_MAX) {
		if (e->general == NULL)
			e->general = xstrdup(text);
		return;
	}
	e->fields[e->n].field = xstrdup(field);
	e->fields[e->n].text = xstrdup(text);
	e->n++;
}

const char *
form_errors_get(const struct form_errors *e, const char *field)
{
	size_t	i;

	if (e == NULL)
		return NULL;
	for (i = 0; i < e->n; i++)
		if (strcmp(e->fields[i].field, field) == 0)
			return e->fields[i].text;
	return NULL;
}

void
form_errors_free(struct form_errors *e)
{
	size_t	i;

	for (i = 0; i < e->n; i++) {
		free(e->fields[i].field);
		free(e->fields[i].text);
	}
	free(e->general);
	memset(e, 0, sizeof *e);
}

/*
 * Read the key file, or create it with a random key when it does not exist
 * (the first instance; the others get a copy). A key others can read is
 * refused: whoever reads it can forge tokens.
 */
int
csrf_init(const char *path, char **cause)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) == -1 && errno == ENOENT) {
		if (RAND_bytes(csrf_key, sizeof csrf_key) != 1) {
			xasprintf(cause, "%s: no random bytes", path);
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd == -1 || write(fd, csrf_key, sizeof csrf_key) !=
		    (ssize_t)sizeof csrf_key) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (fd == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || (st.st_mode & 077) != 0) {
		xasprintf(cause, "%s: must be readable by its owner only (0600)",
		    path);
		close(fd);
		return -1;
	}
	n = read(fd, csrf_key, sizeof csrf_key);
	close(fd);
	if (n != (ssize_t)sizeof csrf_key) {
		xasprintf(cause, "%s: shorter than %d bytes", path,
		    CSRF_KEY_LEN);
		return -1;
	}
	return 0;
}

void
csrf_free(void)
{
	OPENSSL_cleanse(csrf_key, sizeof csrf_key);
}

char *
csrf_token(const char *binding)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0;
	char		*out;

	if (HMAC(EVP_sha256(), csrf_key, sizeof csrf_key,
	    (const unsigned char *)binding, strlen(binding), mac, &len) == NULL)
		fatalx("no HMAC or random bytes from OpenSSL");
	out = xmalloc(2 * len + 1);
	hex_encode(mac, len, out);
	return out;
}

int
csrf_check(const char *binding, const char *token)
{
	char	*want;
	int	 ok;

	if (binding == NULL || token == NULL)
		return 0;
	want = csrf_token(binding);
	ok = strlen(token) == strlen(want) &&
	    CRYPTO_memcmp(want, token, strlen(want)) == 0;
	free(want);
	return ok;
}

char *
csrf_random_id(void)
{
	unsigned char	 id[16];
	char		*out;

	if (RAND_bytes(id, sizeof id) != 1)
		fatalx("no HMAC or random bytes from OpenSSL");
	out = xmalloc(2 * sizeof id + 1);
	hex_encode(id, sizeof id, out);
	return out;
}
