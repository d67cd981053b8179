/*
 * Validators for what crosses the edge: school and pupil identifiers, dates,
 * email addresses, the password policy. Each returns 0 when the value is
 * acceptable, or -1 and points *cause at a French sentence for the user.
 */
#ifndef VALID_H
#define VALID_H

#include <stddef.h>

/* The check letter of a UAI's seven digits. */
char	valid_uai_letter(const char *digits7);
/* UAI: 7 digits and their check letter (case-insensitive). */
int	valid_uai(const char *, const char **cause);
/* INE: 10 digits + 1 letter, or 9 digits + 2 letters (case-insensitive). */
int	valid_ine(const char *, const char **cause);
/* JJ/MM/AAAA, a real calendar date of the years 1900 to 2199. */
int	valid_date(const char *, int *year, int *month, int *day,
	    const char **cause);
/* An ordinary email address (ASCII, one @, a dotted domain). */
int	valid_email(const char *, const char **cause);
/* A guardian's chosen password: 8 to 14 characters, letters and digits. */
int	valid_password(const char *, const char **cause);
/* Whether the bytes are well-formed UTF-8 without control characters. */
int	valid_utf8_text(const char *, size_t);

#endif
