/* Error messages of worker threads.
 *
 * report_error() stores a message for the calling thread and hands it to
 * the sink.  While a thread holds its messages (a worker of the copy, or
 * source.c around an engine call whose message it folds into its own), the
 * sink drops them: they stay readable through last_error().  The copy then
 * prints only the first failure, not one per worker that ran into the same
 * full disk.
 */
#ifndef SPARSECOPY_MESSAGES_H
#define SPARSECOPY_MESSAGES_H

/* Install the sink (once, before threads start). */
void messages_install (void);

/* Hold back / stop holding back this thread's messages (nestable). */
void messages_hold (void);
void messages_release (void);

/* Print this thread's last message, held or not. */
void messages_print_last (void);

#endif
