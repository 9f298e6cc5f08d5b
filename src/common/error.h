/* Error reporting shared by the engine and both programs.
 *
 * The code that meets a failure calls report_error() once, with the context
 * (file, structure, value), then returns -1 with errno set; callers just pass
 * the -1 up.  report_error() keeps errno intact, stores the message for the
 * calling thread (last_error) and hands it to the sink: by default, stderr
 * prefixed with the program's name.  The daemon installs a sink that logs.
 */
#ifndef SPARSEFS_ERROR_H
#define SPARSEFS_ERROR_H

typedef void (*error_sink) (const char *message);

void report_error (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));

/* The calling thread's most recent message, or "" if none. */
const char *last_error (void);

/* Install SINK (NULL restores the default).  Not thread-safe: call it once
 * at start-up, before other threads exist.
 */
void set_error_sink (error_sink sink);

#endif
