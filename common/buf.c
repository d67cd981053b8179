/* Growable byte buffer. Consumed space at the front is reclaimed lazily, when
 * a reservation would otherwise grow the allocation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof *b);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* The bytes that may hold data: up to the end of the data, or further if
 * the buffer was emptied or compacted since its last wipe. Wiping only
 * those, rather than the whole allocation, keeps a wipe of a 64 kB reply
 * buffer that held 15 kB at 15 kB. */
static size_t
buf_extent(const struct buf *b)
{
	return b->len > b->dirty ? b->len : b->dirty;
}

void
buf_free_secret(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, buf_extent(b));
	buf_free(b);
}

void
buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, buf_extent(b));
	b->off = b->len = b->dirty = 0;
}

void
buf_reset(struct buf *b)
{
	b->dirty = buf_extent(b);
	b->off = b->len = 0;
}

unsigned char *
buf_reserve(struct buf *b, size_t n)
{
	size_t	need, size;

	if (b->off > 0 && b->size - b->len < n) {
		b->dirty = buf_extent(b);
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->size - b->len < n) {
		if (n > SIZE_MAX / 2 - b->len)
			fatalx("buf_reserve: %zu bytes", n);
		need = b->len + n;
		size = b->size == 0 ? 256 : b->size;
		while (size < need)
			size *= 2;
		b->data = xreallocarray(b->data, 1, size);
		b->size = size;
		xmadvise_huge(b->data + b->len, size - b->len);
	}
	return b->data + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	if (n > b->size - b->len)
		fatalx("buf_commit: %zu bytes past the end", n);
	b->len += n;
}

/* buf_add() when the bytes do not fit yet. */
void
buf_add_grow(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(buf_reserve(b, n), p, n);
	b->len += n;
}

void
buf_add_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("buf_printf: bad format");
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_add_u32be(struct buf *b, uint32_t v)
{
	unsigned char	p[4];

	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	buf_add(b, p, 4);
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n > b->len - b->off)
		fatalx("buf_consume: %zu bytes, %zu left", n, b->len - b->off);
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

char *
buf_cstr(struct buf *b)
{
	buf_reserve(b, 1);
	b->data[b->len] = '\0';
	return (char *)b->data + b->off;
}
