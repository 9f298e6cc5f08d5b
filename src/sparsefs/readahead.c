/* Raising the mount's readahead window (see readahead.h). */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "readahead.h"

static char read_ahead_kb_path[64];
static size_t window_bytes;
static pthread_once_t applied = PTHREAD_ONCE_INIT;

/* /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo. */
static void
unescape_octal (char *s)
{
  char *out = s;

  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7'
        && s[3] >= '0' && s[3] <= '7') {
      *out++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
      s += 3;
    }
    else
      *out++ = *s;
  }
  *out = '\0';
}

/* The "MAJOR:MINOR" of the topmost mount on MOUNTPOINT, into DEVICE. */
static int
find_mount_device (const char *mountpoint, char *device, size_t size)
{
  char *line = NULL, id[32], point[4096];
  size_t allocated = 0;
  bool found = false;
  FILE *mounts;

  mounts = fopen ("/proc/self/mountinfo", "re");
  if (mounts == NULL)
    return -1;
  while (getline (&line, &allocated, mounts) != -1) {
    /* ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ... */
    if (sscanf (line, "%*s %*s %31s %*s %4095s", id, point) != 2)
      continue;
    unescape_octal (point);
    if (strcmp (point, mountpoint) == 0) {
      snprintf (device, size, "%s", id);
      found = true;             /* keep going: the last one is on top */
    }
  }
  free (line);
  fclose (mounts);
  return found ? 0 : -1;
}

void
readahead_prepare (const char *mountpoint, size_t bytes)
{
  char device[32];

  if (bytes == 0 || find_mount_device (mountpoint, device, sizeof device) == -1)
    return;
  snprintf (read_ahead_kb_path, sizeof read_ahead_kb_path,
            "/sys/class/bdi/%s/read_ahead_kb", device);
  window_bytes = bytes;
}

static void
write_window (void)
{
  FILE *f;
  int r;

  if (read_ahead_kb_path[0] == '\0')
    return;
  f = fopen (read_ahead_kb_path, "we");
  if (f == NULL)
    r = -1;
  else {
    r = fprintf (f, "%zu\n", window_bytes / 1024) < 0 ? -1 : 0;
    if (fclose (f) != 0)
      r = -1;
  }
  if (r == -1)
    log_info ("%s: %m: keeping the kernel's readahead", read_ahead_kb_path);
}

void
readahead_apply (void)
{
  pthread_once (&applied, write_window);
}
