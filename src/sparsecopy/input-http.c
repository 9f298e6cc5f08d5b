/* An http:// or https:// URL read as a stream (see input.h), with libcurl:
 * redirects followed, the system's CAs, proxy variables (libcurl reads
 * them), extra headers (a token), a connect timeout and a stall timeout.
 *
 * libcurl pushes bytes to a callback; the stream decoder pulls them.  The
 * multi interface turns one into the other: input_read() runs the transfer
 * until the callback has put bytes in the caller's buffer (what does not
 * fit waits in a small overflow buffer).
 *
 * A transfer that drops (the connection closed early, a stall, a reset) is
 * resumed from the byte it stopped at with a Range request, when the
 * server said it accepts ranges, at most HTTP_MAX_RETRIES times; each
 * retry is logged.  An HTTP error status ends the stream.
 */
#include <config.h>

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "input.h"

#define HTTP_MAX_RETRIES 5
#define HTTP_CONNECT_TIMEOUT 30L        /* seconds */
#define HTTP_STALL_TIMEOUT 60L          /* seconds below 1 byte/s */
/* libcurl receives 16 KiB at a time by default: a recv(), a poll() and an
 * ACK sent back for each, which cost more CPU than the bytes' copy.  Four
 * times that takes a quarter of the calls.  Not more: one transfer step
 * may receive up to 100 of these before input_read() takes them, and what
 * does not fit in the caller's buffer waits in the overflow buffer.
 */
#define HTTP_RECEIVE_BYTES (64L * 1024)

struct http_input {
  struct input input;           /* first: the interface */
  const struct http_options *options;
  CURLM *multi;
  CURL *easy;
  struct curl_slist *headers;
  char error[CURL_ERROR_SIZE];
  bool running;                 /* a transfer is under way */
  bool finished;                /* the whole body came */
  bool accepts_ranges;
  bool resuming;                /* the running transfer asked for a range */
  bool refused_range;           /* ...and the server answered 200 */
  unsigned retries;
  uint64_t received;            /* body bytes delivered so far */
  unsigned char *dst;           /* the caller's buffer in input_read */
  size_t dst_size, dst_len;
  unsigned char *over;          /* bytes that came past the caller's */
  size_t over_len, over_used, over_cap;
};

static size_t
on_header (char *line, size_t size, size_t n, void *opaque)
{
  struct http_input *h = opaque;
  size_t len = size * n;
  static const char name[] = "accept-ranges:";

  if (len > sizeof name && strncasecmp (line, name, sizeof name - 1) == 0)
    h->accepts_ranges = strstr (line + sizeof name - 1, "bytes") != NULL;
  h->input.can_pread = h->accepts_ranges;
  return len;
}

static size_t
on_body (char *data, size_t size, size_t n, void *opaque)
{
  struct http_input *h = opaque;
  size_t len = size * n, fit;
  long status = 0;
  unsigned char *grown;

  if (h->resuming) {
    curl_easy_getinfo (h->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 206) {
      h->refused_range = true;
      return 0;                 /* stops the transfer */
    }
    h->resuming = false;
  }
  fit = len < h->dst_size - h->dst_len ? len : h->dst_size - h->dst_len;
  memcpy (h->dst + h->dst_len, data, fit);
  h->dst_len += fit;
  if (fit < len) {
    if (h->over_len + len - fit > h->over_cap) {
      grown = realloc (h->over, h->over_len + len - fit);
      if (grown == NULL)
        return 0;
      h->over = grown;
      h->over_cap = h->over_len + len - fit;
    }
    memcpy (h->over + h->over_len, data + fit, len - fit);
    h->over_len += len - fit;
  }
  h->received += len;
  return len;
}

static int
start_transfer (struct http_input *h)
{
  curl_easy_setopt (h->easy, CURLOPT_RESUME_FROM_LARGE,
                    (curl_off_t) h->received);
  h->resuming = h->received > 0;
  if (curl_multi_add_handle (h->multi, h->easy) != CURLM_OK) {
    report_error ("%s: cannot start the transfer", h->input.path);
    return -1;
  }
  h->running = true;
  return 0;
}

/* The transfer ended with RESULT: done, resumed, or failed. */
static int
transfer_ended (struct http_input *h, CURLcode result)
{
  const char *why = h->error[0] ? h->error : curl_easy_strerror (result);

  curl_multi_remove_handle (h->multi, h->easy);
  h->running = false;
  if (result == CURLE_OK) {
    h->finished = true;
    return 0;
  }
  if (h->refused_range) {
    report_error ("%s: the transfer dropped after %" PRIu64 " bytes and the "
                  "server ignored the Range request to resume it",
                  h->input.path, h->received);
    errno = EIO;
    return -1;
  }
  if (result == CURLE_HTTP_RETURNED_ERROR || result == CURLE_WRITE_ERROR
      || h->received == 0 || !h->accepts_ranges
      || h->retries == HTTP_MAX_RETRIES) {
    report_error ("%s: %s (after %" PRIu64 " bytes%s)", h->input.path, why,
                  h->received, result == CURLE_HTTP_RETURNED_ERROR
                  || result == CURLE_WRITE_ERROR || h->received == 0 ? ""
                  : !h->accepts_ranges ? "; the server does not accept "
                    "ranges, so the transfer cannot be resumed"
                  : "; no retries left");
    errno = EIO;
    return -1;
  }
  h->retries++;
  fprintf (stderr, "%s: %s: %s after %" PRIu64 " bytes: resuming with a "
           "Range request (retry %u of %d)\n", program_invocation_short_name,
           h->input.path, why, h->received, h->retries, HTTP_MAX_RETRIES);
  h->error[0] = '\0';
  return start_transfer (h);
}

/* Run the transfer until bytes came or it ended. */
static int
pump (struct http_input *h)
{
  CURLMsg *msg;
  int running, left;

  while (h->dst_len == 0 && h->running) {
    if (curl_multi_perform (h->multi, &running) != CURLM_OK
        || (running && curl_multi_poll (h->multi, NULL, 0, 1000, NULL)
            != CURLM_OK)) {
      report_error ("%s: the transfer failed", h->input.path);
      return -1;
    }
    while ((msg = curl_multi_info_read (h->multi, &left)) != NULL)
      if (msg->msg == CURLMSG_DONE
          && transfer_ended (h, msg->data.result) == -1)
        return -1;
  }
  return 0;
}

static ssize_t
http_read (struct input *in, void *buf, size_t count)
{
  struct http_input *h = (struct http_input *) in;
  size_t n;

  if (h->over_used < h->over_len) {
    n = count < h->over_len - h->over_used ? count
                                           : h->over_len - h->over_used;
    memcpy (buf, h->over + h->over_used, n);
    h->over_used += n;
    if (h->over_used == h->over_len)
      h->over_used = h->over_len = 0;
    return n;
  }
  h->dst = buf;
  h->dst_size = count;
  h->dst_len = 0;
  if (pump (h) == -1)
    return -1;
  return h->dst_len;
}

struct range_fetch {
  unsigned char *dst;
  size_t want, got;
};

static size_t
on_range_body (char *data, size_t size, size_t n, void *opaque)
{
  struct range_fetch *f = opaque;
  size_t len = size * n;

  if (len > f->want - f->got)
    return 0;                   /* more than asked: not a range answer */
  memcpy (f->dst + f->got, data, len);
  f->got += len;
  return len;
}

/* One ranged request for [OFFSET, OFFSET + COUNT).  Returns 0, or -1 with
 * the reason in WHY.
 */
static int
fetch_range (struct http_input *h, struct range_fetch *f, uint64_t offset,
             char *why, size_t why_size)
{
  CURL *e = curl_easy_duphandle (h->easy);
  char range[64];
  long status = 0;
  CURLcode r;

  if (e == NULL) {
    snprintf (why, why_size, "cannot set up libcurl");
    return -1;
  }
  snprintf (range, sizeof range, "%" PRIu64 "-%" PRIu64, offset,
            offset + f->want - 1);
  why[0] = '\0';
  f->got = 0;
  curl_easy_setopt (e, CURLOPT_RESUME_FROM_LARGE, (curl_off_t) 0);
  curl_easy_setopt (e, CURLOPT_RANGE, range);
  curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, NULL);
  curl_easy_setopt (e, CURLOPT_HEADERDATA, NULL);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, on_range_body);
  curl_easy_setopt (e, CURLOPT_WRITEDATA, f);
  curl_easy_setopt (e, CURLOPT_ERRORBUFFER, why);
  r = curl_easy_perform (e);
  curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (e);
  if (r == CURLE_OK && status == 206 && f->got == f->want)
    return 0;
  if (why[0] == '\0')
    snprintf (why, why_size, "%s (HTTP status %ld, %zu of %zu bytes)",
              curl_easy_strerror (r), status, f->got, f->want);
  return -1;
}

/* Bytes the stream decoder let go of, fetched again with a Range request;
 * a failed request is retried like a dropped transfer.
 */
static int
http_pread (struct input *in, void *buf, size_t count, uint64_t offset)
{
  struct http_input *h = (struct http_input *) in;
  struct range_fetch f = { buf, count, 0 };
  char why[CURL_ERROR_SIZE + 128];
  unsigned attempt;

  for (attempt = 0; fetch_range (h, &f, offset, why, sizeof why) == -1;
       attempt++) {
    if (attempt == HTTP_MAX_RETRIES) {
      report_error ("%s: fetching %zu bytes at offset %" PRIu64 " again "
                    "failed: %s", in->path, count, offset, why);
      errno = EIO;
      return -1;
    }
    fprintf (stderr, "%s: %s: fetching %zu bytes at offset %" PRIu64
             " again: %s: retry %u of %d\n", program_invocation_short_name,
             in->path, count, offset, why, attempt + 1, HTTP_MAX_RETRIES);
  }
  return 0;
}

static void
http_close (struct input *in)
{
  struct http_input *h = (struct http_input *) in;

  if (h->running)
    curl_multi_remove_handle (h->multi, h->easy);
  curl_easy_cleanup (h->easy);
  curl_multi_cleanup (h->multi);
  curl_slist_free_all (h->headers);
  free (h->over);
  free (h);
}

static const struct input_ops http_ops = {
  .read = http_read, .pread = http_pread, .close = http_close,
};

static int
set_options (struct http_input *h, const char *url,
             const struct http_options *o)
{
  CURL *e = h->easy;
  size_t i;

  for (i = 0; i < o->n_headers; i++) {
    struct curl_slist *l = curl_slist_append (h->headers, o->headers[i]);
    if (l == NULL)
      return -1;
    h->headers = l;
  }
  return curl_easy_setopt (e, CURLOPT_URL, url)
    || curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https")
    || curl_easy_setopt (e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
    || curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 1L)
    || curl_easy_setopt (e, CURLOPT_MAXREDIRS, 10L)
    || curl_easy_setopt (e, CURLOPT_FAILONERROR, 1L)
    || curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT)
    || curl_easy_setopt (e, CURLOPT_LOW_SPEED_LIMIT, 1L)
    || curl_easy_setopt (e, CURLOPT_LOW_SPEED_TIME, HTTP_STALL_TIMEOUT)
    || curl_easy_setopt (e, CURLOPT_BUFFERSIZE, HTTP_RECEIVE_BYTES)
    || curl_easy_setopt (e, CURLOPT_HTTPHEADER, h->headers)
    || curl_easy_setopt (e, CURLOPT_ERRORBUFFER, h->error)
    || curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, on_header)
    || curl_easy_setopt (e, CURLOPT_HEADERDATA, h)
    || curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, on_body)
    || curl_easy_setopt (e, CURLOPT_WRITEDATA, h)
    ? -1 : 0;
}

bool
input_is_url (const char *path)
{
  return strncasecmp (path, "http://", 7) == 0
    || strncasecmp (path, "https://", 8) == 0;
}

struct input *
input_http_open (const char *url, const struct http_options *o)
{
  struct http_input *h = calloc (1, sizeof *h);

  if (h == NULL) {
    report_error ("%s: %m", url);
    return NULL;
  }
  h->input = (struct input) { .ops = &http_ops, .path = url };
  h->options = o;
  if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK
      || (h->multi = curl_multi_init ()) == NULL
      || (h->easy = curl_easy_init ()) == NULL
      || set_options (h, url, o) == -1) {
    report_error ("%s: cannot set up libcurl", url);
    http_close (&h->input);
    return NULL;
  }
  if (start_transfer (h) == -1) {
    http_close (&h->input);
    return NULL;
  }
  return &h->input;
}
