/*
 * Dialogs, as overlays: a confirmation, a message, a choice among items
 * (one, or several with ticks), a line of text to type, and a progress
 * bar. Each calls back once
 * with the answer and closes itself.
 */
#ifndef WIDGET_DIALOG_H
#define WIDGET_DIALOG_H

#include <stddef.h>

struct tui;

typedef void (*dialog_confirm_fn)(struct tui *, int yes, void *arg);
typedef void (*dialog_choice_fn)(struct tui *, int index,
	    const unsigned char *ticked, void *arg);
typedef void (*dialog_input_fn)(struct tui *, const char *text, void *arg);

/*
 * A paragraph of a dialog's text that starts with this is shown as it is,
 * not broken at its spaces (a command to copy, a path): the box widens
 * for it, up to the screen, and only if it still does not fit is it
 * wrapped like any text.
 */
#define DIALOG_VERBATIM	"\t"

/* Ask; text may hold several lines ('\n'), an empty one too. */
void	dialog_confirm(struct tui *, const char *title, const char *text,
	    const char *yes, dialog_confirm_fn, void *arg);
void	dialog_message(struct tui *, const char *title, const char *text);
/* Choose among n items; with multi, ticked (n bytes) gives and takes the
 * ticks. index is -1 when cancelled. */
void	dialog_choice(struct tui *, const char *title,
	    const char *const *items, size_t n, int multi,
	    const unsigned char *ticked, int current, dialog_choice_fn,
	    void *arg);

/* Type one line, starting from initial (NULL: empty); text is NULL when
 * cancelled. */
void	dialog_input(struct tui *, const char *title, const char *text,
	    const char *initial, dialog_input_fn, void *arg);

struct progress;
/* A progress bar over the screen; close it with dialog_progress_done. */
struct progress *dialog_progress(struct tui *, const char *title);
/* fraction in [0, 1], or < 0 while waiting for the server. */
void	dialog_progress_set(struct progress *, double fraction,
	    const char *text);
void	dialog_progress_done(struct tui *, struct progress *);

#endif
