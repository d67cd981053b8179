/*
 * OpenSSH public keys, as a .pub file or a line of authorized_keys writes
 * them: "TYPE BASE64 [COMMENT]". The base64 is the key blob in the SSH wire
 * format (RFC 4253 6.6): a string naming the type, then the type's fields;
 * the SHA-256 of the blob is the fingerprint ssh-keygen -l prints.
 */
#ifndef SSHKEY_H
#define SSHKEY_H

#include <stddef.h>

/* Largest key blob accepted (an RSA key of 16,384 bits is about 2 KiB). */
#define SSHKEY_BLOB_MAX		16384
/* Largest comment, in bytes of UTF-8. */
#define SSHKEY_COMMENT_MAX	200
/* Room for the longest type name accepted, and its NUL. */
#define SSHKEY_TYPE_LEN		40
/* "SHA256:" and 43 characters of unpadded base64, and the NUL. */
#define SSHKEY_FINGERPRINT_LEN	(7 + 43 + 1)

struct sshkey {
	char		 type[SSHKEY_TYPE_LEN];
	unsigned char	*blob;		/* the decoded base64 */
	size_t		 len;
	char		*comment;	/* NULL when the line has none */
	char		 fingerprint[SSHKEY_FINGERPRINT_LEN];
};

/*
 * Parse one public key line, of an accepted type (ssh-ed25519, ecdsa-sha2-
 * nistp256/384/521, ssh-rsa and the two sk- kinds of security keys), whose
 * blob names that same type and has exactly its fields, at most
 * SSHKEY_BLOB_MAX bytes, with a comment of printable UTF-8 of at most
 * SSHKEY_COMMENT_MAX bytes. Blanks around the line and a final newline
 * are allowed. 0, or -1 with *cause (allocated, French, lower case, for
 * "Clé SSH illisible : %s.") and key left empty.
 */
int	 sshkey_parse(const char *line, struct sshkey *key, char **cause);
/* Free what sshkey_parse allocated in key. */
void	 sshkey_clear(struct sshkey *key);

#endif
