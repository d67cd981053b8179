/*
 * Addresses written host:port, the way every configuration file and
 * command line of the project gives them, and listening sockets.
 */
#ifndef NET_H
#define NET_H

/* Split "host:port", "[v6]:port" or ":port" (host "": every address).
 * Both parts are allocated. -1 and *cause (English) when there is no
 * port. */
int	net_hostport(const char *spec, char **host, char **port, char **cause);
/* A socket listening on spec (non-blocking, close-on-exec, SO_REUSEADDR),
 * or -1 and *cause. */
int	net_listen(const char *spec, int backlog, char **cause);
/* Whether every address spec resolves to (as net_listen() would bind it)
 * is a loopback one: 0, or -1 and *cause (a wildcard host is not). */
int	net_check_loopback(const char *spec, char **cause);

#endif
