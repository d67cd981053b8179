/*
 * host:port parsing and listening sockets, shared by ecadmd, the guichet
 * and the SSH gateway so that the three read an address the same way.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "xmalloc.h"

int
net_hostport(const char *spec, char **host, char **port, char **cause)
{
	char	*h, *p;

	h = xstrdup(spec);
	if ((p = strrchr(h, ':')) == NULL || p[1] == '\0') {
		xasprintf(cause, "%s: expected host:port", spec);
		free(h);
		return -1;
	}
	*p++ = '\0';
	*port = xstrdup(p);
	/* [::1]:7443 */
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		memmove(h, h + 1, strlen(h));
	}
	*host = h;
	return 0;
}

int
net_listen(const char *spec, int backlog, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	char		*host, *port;
	int		 fd = -1, one = 1, error, saved = 0;

	if (net_hostport(spec, &host, &port, cause) == -1)
		return -1;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((error = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints,
	    &res)) != 0) {
		xasprintf(cause, "listen %s: %s", spec, gai_strerror(error));
		free(host);
		free(port);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	free(host);
	free(port);
	if (fd == -1)
		xasprintf(cause, "listen %s: %s", spec, strerror(saved));
	return fd;
}
