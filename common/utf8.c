/* Display width of UTF-8 text, for tables on terminals. */
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "buf.h"
#include "utf8.h"
#include "xmalloc.h"

void
utf8_locale_init(void)
{
	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
}

size_t
utf8_decode(const char *s, size_t len, unsigned int *cp)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned int		 c = p[0];
	size_t			 n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, c &= 0x07;
	else {
		*cp = 0xfffd;
		return 1;
	}
	if (len <= n) {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		c = 0xfffd;
	*cp = c;
	return n + 1;
}

/* Cells of one code point: controls are shown as one replacement cell. */
static int
cp_width(unsigned int cp)
{
	int	w = wcwidth((wchar_t)cp);

	return w < 0 ? 1 : w;
}

int
utf8_width(const char *s)
{
	return utf8_width_len(s, strlen(s));
}

int
utf8_width_len(const char *s, size_t len)
{
	size_t		n;
	unsigned int	cp;
	int		w = 0;

	while (len > 0) {
		n = utf8_decode(s, len, &cp);
		w += cp_width(cp);
		s += n;
		len -= n;
	}
	return w;
}

size_t
utf8_prefix(const char *s, size_t len, int width)
{
	size_t		n, used = 0;
	unsigned int	cp;
	int		w = 0;

	while (used < len) {
		n = utf8_decode(s + used, len - used, &cp);
		w += cp_width(cp);
		/* The first character goes even if it is wider: whoever cuts
		 * a text into lines always moves on. */
		if (w > width && used > 0)
			break;
		used += n;
	}
	return used;
}

/* Append the code point's bytes, or "?" for a control character or an
 * invalid byte (text from the network must not drive the terminal). */
static void
fit_add(struct buf *b, const char *s, size_t n, unsigned int cp)
{
	/* A lone invalid byte decodes to U+FFFD in one byte: never copy it. */
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	    (cp == 0xfffd && n == 1))
		buf_add(b, "?", 1);
	else
		buf_add(b, s, n);
}

char *
utf8_fit(const char *s, int width, int right_align)
{
	struct buf	 b;
	size_t		 len = strlen(s), n;
	unsigned int	 cp;
	int		 w, used = 0, total = utf8_width(s), room;

	buf_init(&b);
	/* Past the width, keep width - 1 cells for the text and one for
	 * the ellipsis. */
	room = total <= width ? width : width - 1;
	if (right_align && total < width)
		for (used = 0; used < width - total; used++)
			buf_add(&b, " ", 1);
	while (len > 0) {
		n = utf8_decode(s, len, &cp);
		w = cp_width(cp);
		if (used + w > (right_align && total < width ? width : room))
			break;
		fit_add(&b, s, n, cp);
		used += w;
		s += n;
		len -= n;
	}
	if (len > 0 && width > 0) {
		buf_add_str(&b, "\xe2\x80\xa6");
		used++;
	}
	while (used++ < width)
		buf_add(&b, " ", 1);
	buf_add(&b, "", 1);
	return (char *)b.data;
}

/* Bytes of the surname at the head of a name: the words before the first
 * one holding a lowercase letter; 0 when there is no such split. */
static size_t
name_surname_len(const char *s)
{
	const char	*word = s, *p;
	size_t		 n;
	unsigned int	 cp;

	for (;;) {
		while (*word == ' ')
			word++;
		if (*word == '\0')
			return 0;
		for (p = word; *p != '\0' && *p != ' '; p += n) {
			n = utf8_decode(p, strlen(p), &cp);
			/* ß is lowercase but has no capital in use:
			 * "HAßLER" is a surname. */
			if (iswlower((wint_t)cp) && cp != 0xdf)
				goto first_names;
		}
		word = p;
	}
first_names:
	/* The surname ends before the spaces ahead of this word. */
	p = word;
	while (p > s && p[-1] == ' ')
		p--;
	return (size_t)(p - s);
}

char *
utf8_fit_name(const char *s, int width)
{
	size_t	 cut = name_surname_len(s);
	char	*surname, *fitted, *out;
	int	 rest, sw;

	if (utf8_width(s) <= width || cut == 0)
		return utf8_fit(s, width, 0);
	/* The first names, with the space before them; at least two cells
	 * of surname ("D…") must stay for the cut to read as one. */
	rest = utf8_width(s + cut);
	if ((sw = width - rest) < 2)
		return utf8_fit(s, width, 0);
	surname = xstrndup(s, cut);
	fitted = utf8_fit(surname, sw, 0);
	xasprintf(&out, "%s%s", fitted, s + cut);
	free(surname);
	free(fitted);
	return out;
}

void
utf8_pop(char *s)
{
	size_t	n = strlen(s);

	while (n > 0) {
		n--;
		if (((unsigned char)s[n] & 0xc0) != 0x80)
			break;
	}
	s[n] = '\0';
}

int
utf8_push(char *s, size_t size, wint_t ch)
{
	char		mb[MB_LEN_MAX];
	mbstate_t	st;
	size_t		n, len = strlen(s);

	if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch < 0xa0))
		return 0;
	memset(&st, 0, sizeof st);
	if ((n = wcrtomb(mb, (wchar_t)ch, &st)) == (size_t)-1)
		return 0;
	/* A full field keeps the key (it is typed text) but not the char. */
	if (len + n < size) {
		memcpy(s + len, mb, n);
		s[len + n] = '\0';
	}
	return 1;
}

size_t
utf8_chars(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}
