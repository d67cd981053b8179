/*
 * libFuzzer target: the INI reader (common/config.c on inih) with a key
 * table shaped like ecadmd's: strings, integers and booleans in several
 * sections, some with defaults and some without. config_load() reads a
 * path, so the input is written to a memory file and read back through
 * /proc/self/fd.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct {
	char	*listen;
	int	 workers;
	int	 max_connections;
	char	*tls_cert;
	char	*peer_ca;
	char	*database;
	int	 session_idle;
	char	*guichet_url;
	int	 debug;
	int	 syslog;
} cfg;

static const struct config_key fuzz_keys[] = {
	{ "server", "listen", CONFIG_STRING, &cfg.listen, "127.0.0.1:7443",
	    "address and port to listen on" },
	{ "server", "workers", CONFIG_INT, &cfg.workers, "8", "workers" },
	{ "server", "max_connections", CONFIG_INT, &cfg.max_connections,
	    "4096", "connections" },
	{ "tls", "certificate", CONFIG_STRING, &cfg.tls_cert,
	    "/etc/ecadm/server.crt", "certificate" },
	{ "tls", "peer_ca", CONFIG_STRING, &cfg.peer_ca, NULL, "peer CA" },
	{ "database", "url", CONFIG_STRING, &cfg.database,
	    "postgresql:///ecadm", "database" },
	{ "security", "session_idle", CONFIG_INT, &cfg.session_idle, "30",
	    "minutes" },
	{ "documents", "guichet_url", CONFIG_STRING, &cfg.guichet_url,
	    "https://guichet.example.fr/", "guichet" },
	{ "log", "debug", CONFIG_BOOL, &cfg.debug, "no", "debug" },
	{ "log", "syslog", CONFIG_BOOL, &cfg.syslog, "no", "syslog" },
	{ NULL, NULL, CONFIG_STRING, NULL, NULL, NULL },
};

static int	 fuzz_fd = -1;
static char	 fuzz_path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*cause = NULL;
	int	 rc;

	if (fuzz_fd == -1) {
		if ((fuzz_fd = memfd_create("fuzz-ini", 0)) == -1)
			abort();
		snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d",
		    fuzz_fd);
	}
	if (ftruncate(fuzz_fd, 0) == -1 ||
	    pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
		abort();
	config_defaults(fuzz_keys);
	rc = config_load(fuzz_keys, fuzz_path, &cause);
	if ((rc == 0) != (cause == NULL))
		abort();
	if ((cfg.debug != 0 && cfg.debug != 1) ||
	    (cfg.syslog != 0 && cfg.syslog != 1))
		abort();
	free(cause);
	config_free(fuzz_keys);
	return 0;
}
