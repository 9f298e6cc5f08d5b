/* Where the daemon's messages go: stderr while it runs in the foreground,
 * syslog (facility daemon) once it is a daemon.
 *
 * The engine reports each failure through report_error(); a damaged image
 * read again and again would repeat the same message, so each distinct
 * message (they name the image) is logged once.
 */
#ifndef SPARSEFS_LOG_H
#define SPARSEFS_LOG_H

#include <stdbool.h>

/* Install the error sink.  Call before any other thread exists. */
void log_init (void);

/* Send later messages to syslog instead of stderr. */
void log_to_syslog (void);

/* Log a message of the daemon's own (not deduplicated). */
void log_info (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
