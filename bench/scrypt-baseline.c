/*
 * scrypt-baseline: the floor under a guardian's first connection at the
 * guichet, for make bench. Activation costs one scrypt hash of the chosen
 * password with the server's parameters (server/password.c, linked here
 * as is); this hashes as fast as THREADS threads can for some seconds.
 * No HTTP, no protocol, no database.
 *
 *	scrypt-baseline THREADS SECONDS
 * prints: hashes seconds cpu_seconds (user + system, all threads)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "password.h"

static double		 deadline;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static long		 hashes;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
hasher(void *arg)
{
	long	 n = 0;
	char	*phc;

	(void)arg;
	while (now() < deadline) {
		if ((phc = password_hash("Parent2024x")) == NULL) {
			fprintf(stderr, "scrypt failed\n");
			exit(1);
		}
		free(phc);
		n++;
	}
	pthread_mutex_lock(&lock);
	hashes += n;
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t	*t;
	struct rusage	 ru;
	double		 t0, secs;
	int		 n, i;

	if (argc != 3 || (n = atoi(argv[1])) < 1 || atof(argv[2]) <= 0) {
		fprintf(stderr, "usage: scrypt-baseline THREADS SECONDS\n");
		return 2;
	}
	if ((t = calloc((size_t)n, sizeof *t)) == NULL)
		return 1;
	t0 = now();
	deadline = t0 + atof(argv[2]);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, hasher, NULL) != 0)
			return 1;
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	/* The last hashes end past the deadline: count the time they took. */
	secs = now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("%ld %.4f %.3f\n", hashes, secs, (double)ru.ru_utime.tv_sec +
	    (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	    (double)ru.ru_stime.tv_usec / 1e6);
	free(t);
	return 0;
}
