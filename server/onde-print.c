/*
 * The fingerprint of each school's lines in an extraction, so that the
 * merge can leave out the schools whose lines are those of their last
 * import (sql/011_import_prints.sql): the nightly file of an academy is
 * almost all unchanged.
 *
 * A school's print is the sum, in four 64-bit words, of the SHA-256 of
 * each of its staged lines, from the UAI to the end: without the line
 * number and the first-line flags, which a line added to another school
 * would shift. A sum rather than a digest of the lines in their order: a
 * file whose lines come in another order merges to the same rows. The
 * reader refuses a line given twice, so no two equal lines can cancel
 * out, and whoever could craft a collision writes the extraction anyway.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "log.h"
#include "onde.h"
#include "xmalloc.h"

struct onde_school_print {
	char		uai[ONDE_UAI_MAX + 1];	/* "" for a free slot */
	uint64_t	sum[4];
};

void
onde_prints_init(struct onde_prints *p)
{
	memset(p, 0, sizeof *p);
}

void
onde_prints_free(struct onde_prints *p)
{
	free(p->slots);
	EVP_MD_CTX_free(p->ctx);
	EVP_MD_free(p->sha256);
	memset(p, 0, sizeof *p);
}

/* SHA-256 of one line. OpenSSL 3's one-shot SHA256() looks the algorithm
 * up at every call: 0.26 s for an academy's 520,000 lines, 0.10 s with
 * the digest fetched once. */
static void
print_digest(struct onde_prints *p, const void *data, size_t len,
    unsigned char md[SHA256_DIGEST_LENGTH])
{
	if (p->ctx == NULL) {
		if ((p->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
		    (p->ctx = EVP_MD_CTX_new()) == NULL)
			fatalx("onde_prints: SHA-256 unavailable");
	}
	if (EVP_DigestInit_ex2(p->ctx, p->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(p->ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(p->ctx, md, NULL) != 1)
		fatalx("onde_prints: SHA-256 failed");
}

static size_t
print_slot(const struct onde_prints *p, const char *uai, size_t len)
{
	uint64_t	h = 14695981039346656037ULL;	/* FNV-1a */
	size_t		i, mask = p->size - 1;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)uai[i]) * 1099511628211ULL;
	for (i = h & mask;; i = (i + 1) & mask) {
		if (p->slots[i].uai[0] == '\0' ||
		    (strncmp(p->slots[i].uai, uai, len) == 0 &&
		    p->slots[i].uai[len] == '\0'))
			return i;
	}
}

/* Open addressing, at most half full. */
static void
print_grow(struct onde_prints *p)
{
	struct onde_school_print	*old = p->slots;
	size_t				 i, n = p->size, j;

	p->size = n == 0 ? 64 : n * 2;
	p->slots = xcalloc(p->size, sizeof *p->slots);
	for (i = 0; i < n; i++) {
		if (old[i].uai[0] == '\0')
			continue;
		j = print_slot(p, old[i].uai, strlen(old[i].uai));
		p->slots[j] = old[i];
	}
	free(old);
}

int
onde_prints_add(struct onde_prints *p, const char *line, size_t len)
{
	struct onde_school_print	*s;
	unsigned char			 md[SHA256_DIGEST_LENGTH];
	const char			*uai, *end = line + len, *tab;
	uint64_t			 w;
	size_t				 i, ulen;
	int				 field;

	/* line TAB pupil_first TAB guardian_first TAB uai TAB ... */
	uai = line;
	for (field = 0; field < 3; field++) {
		if ((tab = memchr(uai, '\t', (size_t)(end - uai))) == NULL)
			return -1;
		uai = tab + 1;
	}
	if ((tab = memchr(uai, '\t', (size_t)(end - uai))) == NULL)
		return -1;
	ulen = (size_t)(tab - uai);
	if (ulen == 0 || ulen > ONDE_UAI_MAX)
		return -1;

	if (2 * (p->count + 1) > p->size)
		print_grow(p);
	s = &p->slots[print_slot(p, uai, ulen)];
	if (s->uai[0] == '\0') {
		memcpy(s->uai, uai, ulen);
		s->uai[ulen] = '\0';
		p->count++;
	}
	print_digest(p, uai, (size_t)(end - uai), md);
	for (i = 0; i < 4; i++) {
		memcpy(&w, md + 8 * i, sizeof w);
		s->sum[i] += w;
	}
	return 0;
}

void
onde_prints_foreach(const struct onde_prints *p,
    void (*fn)(void *, const char *, const unsigned char *, size_t),
    void *arg)
{
	unsigned char	print[32];
	size_t		i, k;

	for (i = 0; i < p->size; i++) {
		if (p->slots[i].uai[0] == '\0')
			continue;
		/* Little-endian words, whatever the host: the same bytes
		 * on every machine that imports into this database. */
		for (k = 0; k < 32; k++)
			print[k] = (unsigned char)(p->slots[i].sum[k / 8] >>
			    (8 * (k % 8)));
		fn(arg, p->slots[i].uai, print, sizeof print);
	}
}
