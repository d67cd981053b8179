/* Bytes as lowercase hex, and back, for tokens, digests and keys. */
#ifndef HEX_H
#define HEX_H

#include <stddef.h>

/* len bytes into out: 2 * len hex digits and a NUL. */
void	 hex_encode(const void *, size_t len, char *out);
/* The value of a hex digit (either case), or -1. */
int	 hex_value(int c);

#endif
