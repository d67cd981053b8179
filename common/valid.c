/* Validators for identifiers, dates, addresses and passwords. */
#include <ctype.h>
#include <string.h>

#include "valid.h"

static const char uai_letters[] = "ABCDEFGHJKLMNPRSTUVWXYZ";

static int
all_digits(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

static int
is_ascii_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

char
valid_uai_letter(const char *digits7)
{
	unsigned long	n = 0;
	int		i;

	for (i = 0; i < 7; i++)
		n = n * 10 + (unsigned long)(digits7[i] - '0');
	return uai_letters[n % 23];
}

int
valid_uai(const char *s, const char **cause)
{
	if (strlen(s) != 8 || !all_digits(s, 7) || !is_ascii_letter(s[7])) {
		*cause = "UAI mal formé (7 chiffres et une lettre attendus)";
		return -1;
	}
	if (toupper((unsigned char)s[7]) != valid_uai_letter(s)) {
		*cause = "UAI invalide (lettre de contrôle incorrecte)";
		return -1;
	}
	return 0;
}

int
valid_ine(const char *s, const char **cause)
{
	if (strlen(s) == 11 &&
	    ((all_digits(s, 10) && is_ascii_letter(s[10])) ||
	    (all_digits(s, 9) && is_ascii_letter(s[9]) &&
	    is_ascii_letter(s[10]))))
		return 0;
	*cause = "INE mal formé (10 chiffres et 1 lettre, ou 9 chiffres et "
	    "2 lettres)";
	return -1;
}

static int
leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
valid_date(const char *s, int *year, int *month, int *day,
    const char **cause)
{
	static const int	 days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };
	int			 y, m, d, max;

	if (strlen(s) != 10 || !all_digits(s, 2) || s[2] != '/' ||
	    !all_digits(s + 3, 2) || s[5] != '/' || !all_digits(s + 6, 4)) {
		*cause = "date mal formée (JJ/MM/AAAA attendu)";
		return -1;
	}
	d = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	y = (s[6] - '0') * 1000 + (s[7] - '0') * 100 + (s[8] - '0') * 10 +
	    (s[9] - '0');
	if (y < 1900 || y > 2199 || m < 1 || m > 12) {
		*cause = "date impossible";
		return -1;
	}
	max = days[m - 1] + (m == 2 && leap_year(y));
	if (d < 1 || d > max) {
		*cause = "date impossible";
		return -1;
	}
	if (year != NULL)
		*year = y;
	if (month != NULL)
		*month = m;
	if (day != NULL)
		*day = d;
	return 0;
}

/* Characters allowed unquoted in the local part (RFC 5322 atext). */
static int
email_atext(char c)
{
	return isalnum((unsigned char)c) || strchr("!#$%&'*+-/=?^_`{|}~", c)
	    != NULL;
}

int
valid_email(const char *s, const char **cause)
{
	const char	*at, *p, *label;
	size_t		 len = strlen(s), n;
	int		 dots = 0;

	*cause = "adresse électronique invalide";
	if (len < 3 || len > 254 || (at = strchr(s, '@')) == NULL ||
	    strchr(at + 1, '@') != NULL)
		return -1;
	n = (size_t)(at - s);
	if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
		return -1;
	for (p = s; p < at; p++) {
		if (*p == '.' ? p[1] == '.' : !email_atext(*p))
			return -1;
	}
	/* Domain: dot-separated labels of letters, digits and inner hyphens,
	 * the last one (the TLD) made of at least two letters. */
	label = at + 1;
	for (p = label;; p++) {
		if (*p == '.' || *p == '\0') {
			n = (size_t)(p - label);
			if (n == 0 || n > 63 || label[0] == '-' ||
			    p[-1] == '-')
				return -1;
			if (*p == '\0')
				break;
			dots++;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			return -1;
	}
	if (dots == 0 || p - label < 2)
		return -1;
	for (p = label; *p != '\0'; p++) {
		if (!is_ascii_letter(*p))
			return -1;
	}
	return 0;
}

int
valid_password(const char *s, const char **cause)
{
	size_t	len = strlen(s), i;
	int	letters = 0, digits = 0;

	if (len < 8 || len > 14) {
		*cause = "le mot de passe doit compter de 8 à 14 caractères";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (is_ascii_letter(s[i]))
			letters++;
		else if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] <= ' ' || s[i] > '~') {
			*cause = "le mot de passe ne peut contenir que des "
			    "lettres sans accent, des chiffres et des signes "
			    "de ponctuation";
			return -1;
		}
	}
	if (letters == 0 || digits == 0) {
		*cause = "le mot de passe doit contenir des lettres et des "
		    "chiffres";
		return -1;
	}
	return 0;
}

int
valid_utf8_text(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*end = p + len;
	unsigned int		 c;
	int			 n, i;

	while (p < end) {
		c = *p;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, c &= 0x07;
		else
			return 0;
		if (end - p <= n)
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return 0;
		/* C1 controls. */
		if (c >= 0x80 && c <= 0x9f)
			return 0;
		p += n + 1;
	}
	return 1;
}
