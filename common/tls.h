/* TLS 1.3 contexts on OpenSSL 3, and a blocking client connection. */
#ifndef TLS_H
#define TLS_H

#include <openssl/ssl.h>

/* A server context. peer_ca, when set, verifies the optional client
 * certificates of the front-end daemons. NULL and *cause on failure. */
SSL_CTX	*tls_server_ctx(const char *cert, const char *key,
	    const char *peer_ca, char **cause);
/* A client context that verifies the server against ca (NULL: the system
 * store) and presents cert/key when both are given. */
SSL_CTX	*tls_client_ctx(const char *ca, const char *cert, const char *key,
	    char **cause);
/* Connect to host:port and complete the handshake, checking the server's
 * name or address. Returns the SSL, its fd set and non-blocking, or NULL and
 * *cause. */
SSL	*tls_connect(SSL_CTX *, const char *host, const char *port,
	    int timeout_ms, char **cause);
/* The last OpenSSL error as text (static storage, per thread). */
const char *tls_error(void);
/*
 * The kind of front end a verified client certificate was issued to: the
 * "sshd" of a subjectAltName URI urn:ecadm:peer:sshd, in a certificate for
 * client use; NULL for none. Caller frees. The subject's CN is not trusted
 * for this: any certificate may carry any CN.
 */
char	*tls_peer_role(SSL *);

#endif
