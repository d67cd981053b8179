/*
 * host:port parsing and listening sockets, shared by ecadmd, the guichet
 * and the SSH gateway so that the three read an address the same way; and
 * whether an address is the loopback's, for listeners that must stay on
 * it (ecadmd's metrics).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

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

/* Whether a socket address is on the loopback: 127/8, ::1, or 127/8
 * mapped into IPv6. */
static int
net_sockaddr_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    sin6->sin6_addr.s6_addr[12] == 127);
	}
	return 0;
}

int
net_check_loopback(const char *spec, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	char		*host, *port, text[NI_MAXHOST];
	int		 error, ok = 0;

	if (net_hostport(spec, &host, &port, cause) == -1)
		return -1;
	if (host[0] == '\0') {
		xasprintf(cause, "%s: every address, not the loopback", spec);
		goto out;
	}
	/* As net_listen() resolves it: every address it may bind. */
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		xasprintf(cause, "%s: %s", spec, gai_strerror(error));
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (!net_sockaddr_loopback(ai->ai_addr))
			break;
	}
	if (ai == NULL)
		ok = 1;
	else if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text,
	    NULL, 0, NI_NUMERICHOST) == 0)
		xasprintf(cause, "%s: %s is not a loopback address", spec,
		    text);
	else
		xasprintf(cause, "%s: not a loopback address", spec);
	freeaddrinfo(res);
out:
	free(host);
	free(port);
	return ok ? 0 : -1;
}
