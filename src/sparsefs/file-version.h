/* One version of a source file: a file replaced, rewritten or grown gets a
 * new version, so nothing cached for the old one is ever served for it.
 */
#ifndef SPARSEFS_FILE_VERSION_H
#define SPARSEFS_FILE_VERSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

struct file_version {
  dev_t dev;
  ino_t ino;
  struct timespec mtime;
  off_t size;
};

static inline struct file_version
file_version_of (const struct stat *st)
{
  return (struct file_version) {
    .dev = st->st_dev, .ino = st->st_ino, .mtime = st->st_mtim, .size = st->st_size,
  };
}

static inline bool
file_version_equal (const struct file_version *a, const struct file_version *b)
{
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size
    && a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* A well-mixed hash (splitmix64 finaliser over the fields). */
static inline uint64_t
file_version_hash (const struct file_version *v)
{
  uint64_t h = (uint64_t) v->dev * 0x9e3779b97f4a7c15ULL;

  h ^= (uint64_t) v->ino + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2);
  h ^= (uint64_t) v->mtime.tv_sec + (h << 6) + (h >> 2);
  h ^= (uint64_t) v->mtime.tv_nsec + (h << 6) + (h >> 2);
  h ^= (uint64_t) v->size + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

#endif
