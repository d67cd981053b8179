/*
 * What the load workers of make stress share. stress.c explains the tool
 * and holds main; stress-lib.c: clock, counters and timings, the classes
 * to search, the protocol spoken by hand; stress-staff.c: the legitimate
 * traffic; stress-abuse.c: the abusers.
 */
#ifndef STRESS_H
#define STRESS_H

#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "proto.h"
#include "rpc.h"
#include "tls.h"
#include "xmalloc.h"

/* A request that takes longer has failed, for this tool. */
#define CALL_TIMEOUT_MS		30000
/* Rounds of a staff session before it logs out and in again. */
#define STAFF_ROUNDS		20
/* Requests a reset abuser pipelines before it drops the connection. */
#define RESET_REQUESTS		8
/* Pause of an abuser between two connections, in milliseconds. */
#define RESET_PACE_MS		40
#define GARBAGE_PACE_MS		40
#define FLOOD_PACE_MS		1000
/* Bytes of hello a flood connection sends at most, and for how long: a
 * server without a bound on unread replies holds them all in memory. */
#define FLOOD_MAX_BYTES		(512u << 20)
#define FLOOD_MAX_SECONDS	30
/* A flood whose writes block that long: the server stopped reading (it
 * may take a few seconds to chew through what the socket held). */
#define FLOOD_STALL_SECONDS	10
/* A slow handshake we give up ourselves (the server should close first). */
#define SLOW_MAX_SECONDS	40
/* Time an abuser waits for the server's answer or close. */
#define ANSWER_TIMEOUT_MS	3000
/* The source addresses of the abusers (the staff use 127.0.0.1); idle
 * connections are spread IDLE_PER_SOURCE to an address of 127.0.1.0/24. */
#define RESET_SOURCE		"127.0.0.2"
#define FLOOD_SOURCE		"127.0.0.3"
#define SLOW_SOURCE		"127.0.0.4"
#define GARBAGE_SOURCE		"127.0.0.6"
#define IDLE_PER_SOURCE		50
/* Upper bounds on the loops, whatever SECONDS says. */
#define MAX_ITERATIONS		1000000


/* A class to search: its school and its name. */
struct class_ref {
	char	*uai;
	char	*name;
};

/* The protocol by hand, for the abusers: rpc.c is a well-behaved client
 * and cannot be made to misbehave. */
struct raw {
	SSL		*ssl;
	int		 fd;
	struct buf	 in;
	json_int_t	 next_id;
};

/* The server, set by main. */
extern const char		*server_host, *server_port, *server_addr;
extern const char		*ca_file;
extern SSL_CTX			*tls_ctx;
extern double			 deadline;
extern volatile sig_atomic_t	 stop_flag;

double	now(void);
int	running(void);
void	nap(int ms);
void	on_signal(int sig);
void	count_add(long n, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	timing_add(const char *name, double ms);
void	stats_print(void);
void	classes_load(const char *path);
const struct class_ref	*class_pick(const char *uai, unsigned *seed);
int	raw_write(struct raw *c, const void *data, size_t len, int timeout_ms);
int	raw_read(struct raw *c, int timeout_ms, json_t **msg);
void	raw_request(struct raw *c, struct buf *out, const char *op,
	    json_t *args);
json_t	*raw_call(struct raw *c, const char *op, json_t *args);
const char	*reply_code(json_t *reply);
int	tcp_open(const char *source);
SSL	*tls_over(int fd);
struct raw	*raw_open(const char *what, const char *source, int hello);
void	raw_reset(struct raw *c);
void	raw_close(struct raw *c);
const char	*raw_outcome(struct raw *c, char *out, size_t size);
const char	*tcp_outcome(int fd);

/* The kinds of traffic: argv after HOST:PORT CA SECONDS. */
int	mode_staff(char **);
int	mode_reset(char **);
int	mode_flood(char **);
int	mode_slow(char **);
int	mode_idle(char **);
int	mode_garbage(char **);

#endif
