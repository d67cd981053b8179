/*
 * libFuzzer target: the OpenSSH public key lines ecadmd accepts
 * (server/sshkey.c), which an administrator's file and the SSH gateway's
 * questions bring in. A line that parses must give a fingerprint of the
 * documented shape and a blob within its bound; one that does not must
 * say why and leave nothing allocated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshkey.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshkey	 key;
	char		*line, *cause = NULL;

	line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	memset(&key, 0, sizeof key);
	if (sshkey_parse(line, &key, &cause) == 0) {
		if (strncmp(key.fingerprint, "SHA256:", 7) != 0 ||
		    strlen(key.fingerprint) != SSHKEY_FINGERPRINT_LEN - 1 ||
		    key.blob == NULL || key.len == 0 ||
		    key.len > SSHKEY_BLOB_MAX || cause != NULL)
			abort();
		sshkey_clear(&key);
	} else {
		if (cause == NULL || key.blob != NULL || key.comment != NULL)
			abort();
		free(cause);
	}
	free(line);
	return 0;
}
