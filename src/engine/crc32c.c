/* CRC-32C a byte at a time from a table built once (reflected polynomial
 * 0x82f63b78).  VHDX checksums a few KiB at open and nothing per read, so
 * speed does not matter.
 */
#include <config.h>

#include <pthread.h>

#include "crc32c.h"

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void
make_table (void)
{
  uint32_t i, j, c;

  for (i = 0; i < 256; i++) {
    c = i;
    for (j = 0; j < 8; j++)
      c = (c >> 1) ^ (c & 1 ? 0x82f63b78u : 0);
    table[i] = c;
  }
}

uint32_t
crc32c_update (uint32_t crc, const void *buf, size_t len)
{
  const unsigned char *p = buf;

  pthread_once (&table_once, make_table);
  while (len-- > 0)
    crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}
