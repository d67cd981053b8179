/*
 * The documents the server sends (notification sheets, lists): ecadm
 * saves them, mode 0600, in $ECADM_DOWNLOAD_DIR or ~/ecadm, and tells the
 * director where: that folder on this machine, or, under ecadm-sshd
 * (ECADM_DOWNLOAD_HINT), the command that fetches the file from the
 * gateway to the director's own computer.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "widget-dialog.h"
#include "xmalloc.h"

char *
tui_download_path(const char *name)
{
	const char	*dir = getenv("ECADM_DOWNLOAD_DIR"), *home;
	char		*path, *base = NULL;
	struct stat	 st;

	errno = 0;
	if (dir == NULL || *dir == '\0') {
		home = getenv("HOME");
		xasprintf(&base, "%s/ecadm", home != NULL ? home : ".");
		dir = base;
	}
	/* Documents carry passwords: the folder is the user's alone. */
	if ((mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		if (errno == 0 || errno == EEXIST)
			errno = ENOTDIR;
		free(base);
		return NULL;
	}
	xasprintf(&path, "%s/%s", dir, name);
	free(base);
	return path;
}

/* A document's name as the server gives it ("Educonnect-….pdf"): ASCII
 * letters, digits, '.', '_' and '-', neither '.' nor '-' first. Nothing
 * else reaches the folder, nor the command a director pastes in a shell
 * (tui_download_fetch). */
static int
tui_document_name_ok(const char *name)
{
	size_t	len = strlen(name);

	return len > 0 && len < 256 && name[0] != '.' && name[0] != '-' &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == len;
}

int
tui_download_fetch(const char *name, char **command, char **note)
{
	const char	*hint = getenv("ECADM_DOWNLOAD_HINT");
	const char	*days = getenv("ECADM_DOWNLOAD_DAYS");
	char		*end;
	long		 n = 0;

	if (hint == NULL || *hint == '\0')
		return 0;
	if (days != NULL) {
		errno = 0;
		n = strtol(days, &end, 10);
		if (errno != 0 || end == days || *end != '\0' || n < 1 ||
		    n > 36500)
			n = 0;
	}
	xasprintf(command, "%s%s .", hint, name);
	if (n > 0)
		xasprintf(note, "(ou sftp ; le fichier est gardé %ld jour%s)",
		    n, n > 1 ? "s" : "");
	else
		*note = xstrdup("(ou sftp)");
	return 1;
}

char *
tui_save_document(struct tui *t, const struct rpc_reply *r)
{
	char	*path, *cause;

	if (r->blob == NULL || r->blob_name == NULL ||
	    !tui_document_name_ok(r->blob_name)) {
		tui_status(t, 1, "Le serveur n'a pas envoyé de document.");
		return NULL;
	}
	if ((path = tui_download_path(r->blob_name)) == NULL) {
		tui_status(t, 1, "Dossier de téléchargement inutilisable : %s",
		    strerror(errno));
		return NULL;
	}
	if (settings_write_document(path, r->blob, r->blob_len,
	    &cause) == -1) {
		tui_status(t, 1, "%s", cause);
		free(cause);
		free(path);
		return NULL;
	}
	return path;
}

void
tui_document_saved(struct tui *t, const struct rpc_reply *r, const char *what)
{
	char	*path, *text, *command, *note;

	if ((path = tui_save_document(t, r)) == NULL)
		return;
	if (tui_download_fetch(r->blob_name, &command, &note)) {
		/* Saved on the gateway: where it lies there is of no use to
		 * the director, the way to their own computer is. */
		xasprintf(&text, "%s\n\nPour le récupérer sur votre poste :\n"
		    DIALOG_VERBATIM "%s\n%s", what, command, note);
		tui_status(t, 0, "Document enregistré : %s", r->blob_name);
		free(command);
		free(note);
	} else {
		xasprintf(&text, "%s\n\nEnregistré dans :\n" DIALOG_VERBATIM
		    "%s", what, path);
		tui_status(t, 0, "Document enregistré : %s", path);
	}
	dialog_message(t, "Document enregistré", text);
	free(text);
	free(path);
}
