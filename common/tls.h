/* TLS 1.3 contexts on OpenSSL 3, a blocking client connection, and the
 * non-blocking reads and writes of both sides. */
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
/*
 * What one TLS operation on a non-blocking socket came to. The thread's
 * OpenSSL error queue is emptied before each operation (SSL_get_error reads
 * it, and an error left by an earlier failure would be taken for this
 * one's); after TLS_IO_ERROR, and sometimes TLS_IO_LOST, it holds the
 * reason for tls_error().
 */
enum tls_io {
	TLS_IO_DONE,		/* bytes moved, or the handshake is complete */
	TLS_IO_WANT_READ,	/* try again when the socket is readable */
	TLS_IO_WANT_WRITE,	/* try again when the socket is writable */
	TLS_IO_EOF,		/* the peer closed the TLS session */
	TLS_IO_ERROR,		/* a TLS failure (SSL_ERROR_SSL) */
	TLS_IO_LOST,		/* the transport failed (SSL_ERROR_SYSCALL) */
};

/* Advance the handshake of an SSL whose side is set (SSL_set_accept_state
 * or SSL_set_connect_state). */
enum tls_io	 tls_handshake(SSL *);
/* Read at most len bytes into p; *done says how many on TLS_IO_DONE. */
enum tls_io	 tls_read(SSL *, void *p, size_t len, size_t *done);
/* Write at most len bytes from p (partial writes must be enabled on the
 * context); *done says how many on TLS_IO_DONE. */
enum tls_io	 tls_write(SSL *, const void *p, size_t len, size_t *done);
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
