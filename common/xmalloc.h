/* Allocation wrappers that never return NULL: running out of memory is not a
 * condition the daemons can recover from, so it is fatal, once, here. */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Ask for huge pages under a large allocation about to be filled (a
 * 100 MB extraction, the tables that check it): each 4 kB page is
 * otherwise one page fault on first touch, and page faults cost more than
 * the copy itself (10 us each in a virtual machine). Small ones are left
 * alone. */
void	 xmadvise_huge(void *, size_t);
/* Overwrite then free: for buffers that held a secret. */
void	 freezero(void *, size_t);
/* freezero() for a NUL-terminated string. */
void	 freestr_secret(char *);

#endif
