/* Small text helpers shared by the handlers. */
#include <string.h>

#include "server.h"
#include "xmalloc.h"

char *
person_name(const char *last, const char *first)
{
	char	*s;

	if (first == NULL || *first == '\0')
		return xstrdup(last != NULL ? last : "");
	xasprintf(&s, "%s %s", last != NULL ? last : "", first);
	return s;
}
