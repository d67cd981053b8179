/* UTF-8 text on terminals: columns are counted in display cells (wcwidth),
 * never in bytes, so "Éloïse" and "Nguyễn" line up with "Martin". */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>
#include <wchar.h>

/* Make LC_CTYPE a UTF-8 one (the user's if it is, else C.UTF-8). */
void	 utf8_locale_init(void);
/* Decode one code point at s (at most len bytes); returns the bytes used,
 * with *cp = U+FFFD for an invalid sequence. */
size_t	 utf8_decode(const char *s, size_t len, unsigned int *cp);
/* Characters (code points) of the string, whatever their width. */
size_t	 utf8_chars(const char *);
/* Display width of the string; of its first len bytes. */
int	 utf8_width(const char *);
int	 utf8_width_len(const char *, size_t len);
/* Bytes of the longest head of s (len bytes) that fits in width cells,
 * whole characters only; at least one character when len > 0. */
size_t	 utf8_prefix(const char *, size_t len, int width);
/* Text fields: remove the last character of s; append a typed wide
 * character to s (a buffer of size bytes). utf8_push returns 0 for a key
 * that is not a printable character (it is then not added). */
void	 utf8_pop(char *s);
int	 utf8_push(char *s, size_t size, wint_t ch);
/* A new string of exactly width cells: cut with "…" if longer, padded
 * with spaces if shorter (on the right, or the left if right_align). */
char	*utf8_fit(const char *, int width, int right_align);
/*
 * utf8_fit for a person's name, "SURNAME First names": when it does not
 * fit, the surname (the leading words without a lowercase letter) is cut
 * before the first names, so "LEFÈVRE-ŒUVRARD Éloïse" in 14 cells is
 * "LEFÈV… Éloïse". Other text is cut at its end.
 */
char	*utf8_fit_name(const char *, int width);

#endif
