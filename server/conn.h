/*
 * The connections of the loop thread, between loop.c (the epoll loop: it
 * accepts them, times them out and frees them) and conn.c (what each one
 * does with its bytes). Only the loop thread touches a connection.
 */
#ifndef CONN_H
#define CONN_H

#include <openssl/ssl.h>

#include "server.h"

enum conn_state {
	CONN_HANDSHAKE,
	CONN_OPEN,
	CONN_CLOSING,		/* flush the output, then close */
};

struct conn {
	uint64_t		 id;
	int			 fd;
	SSL			*ssl;
	enum conn_state		 state;
	unsigned		 peer;
	int			 hello;		/* hello done */
	char			 channel[24];
	char			 addr[64];	/* host:port, for logs */
	char			 host[48];	/* host alone: limits by source */
	struct buf		 in;
	struct buf		 out;
	uint32_t		 events;	/* epoll interest */
	int			 want_write;	/* TLS needs the socket writable */
	struct session		*session;
	struct job		*busy;		/* job in flight */
	struct job		*upload;	/* job collecting its payload */
	size_t			 upload_size;
	size_t			 upload_got;
	int			 closed;	/* socket gone, awaits loop_reap */
	struct timespec		 started;
	struct timespec		 active;	/* last byte read */
	struct timespec		 output;	/* last output progress */
	TAILQ_ENTRY(conn)	 entry;
};

TAILQ_HEAD(conn_list, conn);

/* conn.c */
extern struct conn_list	 conns;
/* Closed connections, freed at the end of the event batch. */
extern struct conn_list	 closed_conns;
extern unsigned		 nconns;
/* Jobs handed to the pool and not yet back. */
extern unsigned		 jobs_in_flight;

/* Functions that may close a connection return -1 when they did: the
 * connection may then be freed and must not be touched. */

/* Take an accepted socket and start its TLS handshake. */
void	 conn_new(int fd, const char *host, const char *port, SSL_CTX *);
/* Handle epoll events on the connection. */
void	 conn_io(struct conn *, uint32_t events);
/* Take back a job the pool finished, and move its connection on. */
void	 conn_job_done(struct job *);
/* Send what the output holds; close a closing connection once it is out. */
int	 conn_write(struct conn *);
void	 conn_update_events(struct conn *);
/* Close the socket; the struct waits for loop_reap. */
void	 conn_close(struct conn *, const char *why);
void	 conn_free(struct conn *);
unsigned conn_count_untrusted(const char *host);

/* loop.c */
extern int		 epfd;
/* Shutting down: no new connection, the others close once answered. */
extern int		 draining;

#endif
