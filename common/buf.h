/* A growable byte buffer with a read offset: appended at the end, consumed
 * from the front. Used for socket input/output and for building text. */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	unsigned char	*data;
	size_t		 off;	/* first unread byte */
	size_t		 len;	/* end of the data */
	size_t		 size;	/* allocated */
	size_t		 dirty;	/* bytes before it may hold data (wipes) */
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
/* Like buf_free(), wiping the bytes first: for buffers that held secrets. */
void	 buf_free_secret(struct buf *);
void	 buf_reset(struct buf *);
/* Empty the buffer, wiping what it held; the allocation is kept. */
void	 buf_wipe(struct buf *);
/* Make room for at least n more bytes; returns the write position. */
unsigned char *buf_reserve(struct buf *, size_t n);
void	 buf_commit(struct buf *, size_t n);
void	 buf_add_grow(struct buf *, const void *, size_t);
/* Append n bytes. Inline while they fit: JSON is dumped here a quote, a
 * key, a comma at a time (proto_frame_json). */
static inline void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n > 0 && b->size - b->len >= n) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
	} else
		buf_add_grow(b, p, n);
}
void	 buf_add_str(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_add_u32be(struct buf *, uint32_t);
/* Unread bytes. */
static inline size_t
buf_left(const struct buf *b)
{
	return b->len - b->off;
}
/* The first unread byte (NULL for a buffer never allocated). */
static inline unsigned char *
buf_head(const struct buf *b)
{
	/* A buffer never allocated has data NULL and off 0, and NULL + 0 is
	 * undefined behaviour in C (UBSan's pointer-overflow check stops on
	 * it): an empty input buffer is peeked at. */
	return b->off == 0 ? b->data : b->data + b->off;
}
void	 buf_consume(struct buf *, size_t);
/* NUL-terminate the unread bytes (not counted) and return them. */
char	*buf_cstr(struct buf *);

#endif
