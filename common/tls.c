/* TLS helpers. Both sides pin TLS 1.3: there is no old client to keep. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls.h"
#include "xmalloc.h"

const char *
tls_error(void)
{
	static __thread char	msg[256];
	unsigned long		e;

	if ((e = ERR_get_error()) == 0)
		return "no TLS error recorded";
	ERR_error_string_n(e, msg, sizeof msg);
	ERR_clear_error();
	return msg;
}

static char *
tls_cause(const char *what, const char *file)
{
	char	*cause;

	xasprintf(&cause, "%s%s%s: %s", what, file != NULL ? " " : "",
	    file != NULL ? file : "", tls_error());
	return cause;
}

/*
 * Let OpenSSL read all the socket has at once rather than a record header
 * and then its body: a request or a reply then takes one read() instead
 * of three (perf: ecadmd made 4.8 reads a search). Bytes it read ahead
 * wait in its buffer where epoll and poll cannot see them, which is safe
 * because every reader reads until OpenSSL wants more from the socket
 * (conn_read() in ecadmd, after each job too; rpc_io() in the clients).
 */
static void
tls_read_ahead(SSL_CTX *ctx)
{
	SSL_CTX_set_read_ahead(ctx, 1);
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, const char *peer_ca,
    char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*cause = tls_cause("SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	/* No session tickets: a restarted or other instance could not use
	 * them, and they would be state kept outside the database. */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	tls_read_ahead(ctx);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		*cause = tls_cause("certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		*cause = tls_cause("private key", key);
		goto fail;
	}
	if (peer_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, peer_ca, NULL) != 1) {
			*cause = tls_cause("peer CA", peer_ca);
			goto fail;
		}
		/* Ask for a certificate; plain clients send none. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx(const char *ca, const char *cert, const char *key,
    char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		*cause = tls_cause("SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	tls_read_ahead(ctx);
	if (ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
			*cause = tls_cause("CA", ca);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		*cause = tls_cause("system CA store", NULL);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert != NULL && key != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
			*cause = tls_cause("certificate", cert);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key,
		    SSL_FILETYPE_PEM) != 1) {
			*cause = tls_cause("private key", key);
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Map the SSL_get_error() of a failed operation. Codes this program
 * cannot meet (no callbacks, no async engine) count as a lost transport. */
static enum tls_io
tls_io_result(SSL *ssl, int r)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return TLS_IO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_IO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return TLS_IO_EOF;
	case SSL_ERROR_SSL:
		return TLS_IO_ERROR;
	default:
		return TLS_IO_LOST;
	}
}

enum tls_io
tls_handshake(SSL *ssl)
{
	int	r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(ssl)) == 1)
		return TLS_IO_DONE;
	return tls_io_result(ssl, r);
}

enum tls_io
tls_read(SSL *ssl, void *p, size_t len, size_t *done)
{
	int	r;

	*done = 0;
	ERR_clear_error();
	if ((r = SSL_read_ex(ssl, p, len, done)) == 1)
		return TLS_IO_DONE;
	return tls_io_result(ssl, r);
}

enum tls_io
tls_write(SSL *ssl, const void *p, size_t len, size_t *done)
{
	int	r;

	*done = 0;
	ERR_clear_error();
	if ((r = SSL_write_ex(ssl, p, len, done)) == 1)
		return TLS_IO_DONE;
	return tls_io_result(ssl, r);
}

/* Wait until fd is readable or writable, or the deadline passes. */
static int
tls_wait(int fd, int want_write, int timeout_ms)
{
	struct pollfd	pfd = { .fd = fd, .events = want_write ? POLLOUT :
			    POLLIN };
	int		n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n == -1 && errno == EINTR);
	return n > 0 ? 0 : -1;
}

/* A TCP connection to the first address of host:port that answers. */
static int
tls_tcp_connect(const char *host, const char *port, int timeout_ms,
    char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	int		 fd = -1, error, flags;
	socklen_t	 len;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		xasprintf(cause, "%s: %s", host, gai_strerror(error));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && tls_wait(fd, 1, timeout_ms) == 0)) {
			len = sizeof error;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error,
			    &len) == 0 && error == 0)
				break;
			errno = error;
		}
		error = errno;
		close(fd);
		fd = -1;
		errno = error;
	}
	if (fd == -1)
		xasprintf(cause, "%s:%s: %s", host, port, strerror(errno));
	else {
		/* Requests are small and answered at once: without this,
		 * Nagle and delayed ACKs add 40 ms to a round trip. */
		error = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &error, sizeof error);
	}
	freeaddrinfo(res);
	return fd;
}

SSL *
tls_connect(SSL_CTX *ctx, const char *host, const char *port, int timeout_ms,
    char **cause)
{
	struct in6_addr	 addr;
	SSL		*ssl;
	X509_VERIFY_PARAM *param;
	long		 verify;
	enum tls_io	 r;
	int		 fd;

	if ((fd = tls_tcp_connect(host, port, timeout_ms, cause)) == -1)
		return NULL;
	if ((ssl = SSL_new(ctx)) == NULL) {
		*cause = tls_cause("SSL_new", NULL);
		close(fd);
		return NULL;
	}
	SSL_set_fd(ssl, fd);
	SSL_set_connect_state(ssl);
	param = SSL_get0_param(ssl);
	if (inet_pton(AF_INET, host, &addr) == 1 ||
	    inet_pton(AF_INET6, host, &addr) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(param, host);
	else {
		SSL_set_tlsext_host_name(ssl, host);
		SSL_set1_host(ssl, host);
	}
	while ((r = tls_handshake(ssl)) != TLS_IO_DONE) {
		if (r == TLS_IO_WANT_READ || r == TLS_IO_WANT_WRITE) {
			if (tls_wait(fd, r == TLS_IO_WANT_WRITE,
			    timeout_ms) == 0)
				continue;
			xasprintf(cause, "%s:%s: TLS handshake timed out",
			    host, port);
		} else if ((verify = SSL_get_verify_result(ssl)) != X509_V_OK)
			xasprintf(cause, "%s:%s: server certificate: %s", host,
			    port, X509_verify_cert_error_string(verify));
		else if (r == TLS_IO_LOST && ERR_peek_error() == 0)
			xasprintf(cause, "%s:%s: connection closed during the "
			    "TLS handshake", host, port);
		else
			*cause = tls_cause("TLS handshake", NULL);
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	return ssl;
}

char *
tls_peer_role(SSL *ssl)
{
	static const char	 prefix[] = "urn:ecadm:peer:";
	X509			*cert;
	GENERAL_NAMES		*names;
	const GENERAL_NAME	*name;
	const unsigned char	*uri;
	char			*role = NULL;
	int			 i, len;

	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return NULL;
	/* Verified by the front-ends' CA, and made for client use. */
	if (SSL_get_verify_result(ssl) != X509_V_OK ||
	    !(X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT)) {
		X509_free(cert);
		return NULL;
	}
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		name = sk_GENERAL_NAME_value(names, i);
		if (name->type != GEN_URI)
			continue;
		uri = ASN1_STRING_get0_data(name->d.uniformResourceIdentifier);
		len = ASN1_STRING_length(name->d.uniformResourceIdentifier);
		if ((size_t)len <= sizeof prefix - 1 || memchr(uri, '\0',
		    (size_t)len) != NULL ||
		    memcmp(uri, prefix, sizeof prefix - 1) != 0)
			continue;
		role = xstrndup((const char *)uri + sizeof prefix - 1,
		    (size_t)len - (sizeof prefix - 1));
		break;
	}
	GENERAL_NAMES_free(names);
	X509_free(cert);
	return role;
}
