/*
 * The documents the server sends (notification sheets, lists): ecadm
 * saves them, mode 0600, in $ECADM_DOWNLOAD_DIR or ~/ecadm, and tells the
 * director where.
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

char *
tui_save_document(struct tui *t, const struct rpc_reply *r)
{
	char	*path, *cause;

	if (r->blob == NULL || r->blob_name == NULL ||
	    strchr(r->blob_name, '/') != NULL) {
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
	char	*path, text[1024];

	if ((path = tui_save_document(t, r)) == NULL)
		return;
	snprintf(text, sizeof text, "%s\n\nEnregistré dans :\n%s", what, path);
	dialog_message(t, "Document enregistré", text);
	tui_status(t, 0, "Document enregistré : %s", path);
	free(path);
}
