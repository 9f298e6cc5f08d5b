/* The FUSE operations of sparsefs.
 *
 * Thread model: libfuse calls these from several threads at once.  Paths
 * are resolved afresh on each call (namespace.c); an open holds a
 * reference to one version of one engine image (image-table.c), and reads
 * go straight to the engine, which is thread-safe.  Handlers return
 * -errno; every error reply to a read is EIO, after the engine has logged
 * its message once (log.c).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "error.h"
#include "image-table.h"
#include "namespace.h"
#include "page-cache.h"
#include "raw-view.h"
#include "readahead.h"
#include "rounding.h"
#include "shown-size.h"
#include "sparsefs.h"
#include "xattr.h"

/* st_blksize of the raw files: tools size their buffers by it, and FUSE
 * carries reads of up to 1 MiB.
 */
#define PREFERRED_IO_SIZE (1024 * 1024)

/* One open of a folder or a raw file.  With nullpath_ok, libfuse passes
 * no path to calls on an open file (fstat included): the handle keeps it.
 */
struct handle {
  char *path;
  /* folders only */
  struct open_folder *folder;
  bool listed;                  /* readdir has listed it once */
  /* raw files only */
  struct open_image *open_image;
  struct stat source_st;        /* of the image file, when opened */
  uint64_t path_hash;
  enum page_cache_use page_cache_use;
};

static struct handle *
handle_of (const struct fuse_file_info *fi)
{
  return (struct handle *) (uintptr_t) fi->fh;
}

static struct handle *
new_handle (const char *path)
{
  struct handle *handle = calloc (1, sizeof *handle);

  if (handle && (handle->path = strdup (path)) == NULL) {
    free (handle);
    handle = NULL;
  }
  return handle;
}

static void
free_handle (struct handle *handle)
{
  free (handle->path);
  free (handle);
}

/* The reply for a failure: errors that say something to the caller pass
 * through, everything else (a damaged image) is EIO.
 */
static int
reply_errno (int err)
{
  switch (err) {
  case ENOENT: case ENOMEM: case EMFILE: case ENFILE: case ENXIO:
    return -err;
  default:
    return -EIO;
  }
}

static void *
sparsefs_init (struct fuse_conn_info *conn, struct fuse_config *cfg)
{
  /* The paths of open files are never needed: the handle has the image. */
  cfg->nullpath_ok = 1;
  /* Whether to keep the page cache is decided at each open. */
  cfg->kernel_cache = 0;
  cfg->auto_cache = 0;
  /* Attributes with every chunk of a listing, not only the first: `ls
   * -l` then makes no lookup per entry.
   */
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  /* Up to 1 MiB per read (libfuse asks the kernel for max_pages from it). */
  conn->max_write = 1024 * 1024;
  return NULL;
}

/* What a raw file shows of its image file SOURCE_ST, sizes apart. */
static void
fill_raw_file_stat (const struct stat *source_st, struct stat *st)
{
  *st = *source_st;
  st->st_mode = S_IFREG | (source_st->st_mode & 0444);
  st->st_nlink = 1;
  st->st_blksize = PREFERRED_IO_SIZE;
}

/* A damaged image still shows (as an empty file): opening it fails. */
static void
fill_image_stat (const struct node *node, struct stat *st)
{
  fill_raw_file_stat (&node->st, st);
  st->st_size = node->size.virtual_size;
  /* A damaged map: the image file's own footprint is the best guess. */
  st->st_blocks = node->size.data_bytes_known
    ? div_round_up (node->size.data_bytes, 512) : (uint64_t) node->st.st_blocks;
}

/* The kernel now shows PATH with ST's size (see shown-size.h). */
static void
remember_shown_size (const char *path, const struct node *node,
                     const struct stat *st)
{
  if (node->kind == NODE_IMAGE)
    shown_size_set (page_cache_path_hash (path), st->st_size);
}

/* The stat of NODE (measured, if an image). */
static void
fill_node_stat (const struct node *node, struct stat *st)
{
  if (node->kind == NODE_IMAGE)
    fill_image_stat (node, st);
  else {
    *st = node->st;
    st->st_mode &= ~0222;
  }
  /* An OVA archive shows as a folder: whoever may read it may list it. */
  if (node->archive) {
    st->st_mode = S_IFDIR | (st->st_mode & 0444) | (st->st_mode & 0444) >> 2;
    st->st_nlink = 2;
    st->st_size = 0;            /* its disks count the bytes, not the folder */
    st->st_blocks = 0;
  }
}

static int
sparsefs_getattr (const char *path, struct stat *st, struct fuse_file_info *fi)
{
  struct handle *handle = fi ? handle_of (fi) : NULL;
  struct node node;
  int r;

  r = namespace_resolve_measured (path ? path : handle->path, &node);
  /* An open raw file whose image file was deleted: the open still reads
   * it (the kernel asks for its size before reading near the end).
   */
  if (r == -ENOENT && handle && handle->open_image) {
    fill_raw_file_stat (&handle->source_st, st);
    st->st_size = image_size (handle->open_image->image);
    return 0;
  }
  if (r < 0)
    return r;
  fill_node_stat (&node, st);
  remember_shown_size (path ? path : handle->path, &node, st);
  return 0;
}

struct readdir_state {
  void *buf;
  fuse_fill_dir_t filler;
  const char *folder_path;      /* FUSE path of the folder listed */
};

/* Offsets of the entries of a folder: "." is 1, ".." 2, then each entry
 * of the listing after its number.  Nonzero offsets make libfuse pass
 * each chunk of readdirplus on with its attributes.
 */
enum { DOT_OFFSET = 1, DOTDOT_OFFSET = 2, FIRST_ENTRY_OFFSET = 3 };

/* With NODE (readdirplus), the kernel gets each entry's attributes with
 * its name, and `ls -l` needs no lookup per entry.
 */
static int
emit_entry (void *opaque, const char *name, size_t number, const struct node *node)
{
  struct readdir_state *state = opaque;
  off_t next = FIRST_ENTRY_OFFSET + number;
  char path[PATH_MAX];
  struct stat st;

  if (node == NULL)
    return state->filler (state->buf, name, NULL, next, 0);
  fill_node_stat (node, &st);
  if (snprintf (path, sizeof path, "%s/%s",
                strcmp (state->folder_path, "/") == 0 ? "" : state->folder_path,
                name) < (int) sizeof path)
    remember_shown_size (path, node, &st);
  return state->filler (state->buf, name, &st, next, FUSE_FILL_DIR_PLUS);
}

static int
sparsefs_opendir (const char *path, struct fuse_file_info *fi)
{
  struct handle *handle = new_handle (path);
  int r;

  if (handle == NULL)
    return -ENOMEM;
  r = namespace_open_folder (path, &handle->folder);
  if (r < 0) {
    free_handle (handle);
    return r;
  }
  fi->fh = (uintptr_t) handle;
  return 0;
}

/* The listing read at opendir serves every chunk of a pass; rewinding
 * (offset 0) lists the folder afresh.
 */
static int
sparsefs_readdir (const char *path, void *buf, fuse_fill_dir_t filler,
                  off_t offset, struct fuse_file_info *fi,
                  enum fuse_readdir_flags flags)
{
  struct handle *handle = handle_of (fi);
  struct readdir_state state = { .buf = buf, .filler = filler,
                                 .folder_path = handle->path };
  struct open_folder *folder;
  int r;

  if (offset == 0 && handle->listed) {
    r = namespace_open_folder (handle->path, &folder);
    if (r < 0)
      return r;
    namespace_close_folder (handle->folder);
    handle->folder = folder;
  }
  handle->listed = true;
  if (offset < DOT_OFFSET && filler (buf, ".", NULL, DOT_OFFSET, 0))
    return 0;
  if (offset < DOTDOT_OFFSET && filler (buf, "..", NULL, DOTDOT_OFFSET, 0))
    return 0;
  namespace_list (handle->folder,
                  offset < FIRST_ENTRY_OFFSET ? 0 : offset - FIRST_ENTRY_OFFSET + 1,
                  flags & FUSE_READDIR_PLUS, emit_entry, &state);
  return 0;
}

static int
sparsefs_releasedir (const char *path, struct fuse_file_info *fi)
{
  struct handle *handle = handle_of (fi);

  namespace_close_folder (handle->folder);
  free_handle (handle);
  return 0;
}

static int
sparsefs_open (const char *path, struct fuse_file_info *fi)
{
  struct view_choice choice;
  struct handle *handle;
  struct node node;
  int r;

  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
    return -EROFS;
  r = namespace_resolve (path, &node);
  if (r < 0)
    return r;
  if (node.kind != NODE_IMAGE)
    return -EISDIR;
  readahead_apply ();
  handle = new_handle (path);
  if (handle == NULL)
    return -ENOMEM;
  choice = node_choice (&node);
  handle->open_image = image_table_acquire (node.source, &choice);
  if (handle->open_image == NULL) {
    r = reply_errno (errno);
    free_handle (handle);
    return r;
  }
  handle->source_st = node.st;
  handle->path_hash = page_cache_path_hash (path);
  handle->page_cache_use = page_cache_open (handle->path_hash,
                                            &handle->open_image->version);
  fi->keep_cache = handle->page_cache_use == PAGE_CACHE_KEEP;
  fi->direct_io = handle->page_cache_use == PAGE_CACHE_BYPASS;
  fi->fh = (uintptr_t) handle;
  return 0;
}

/* Whether the kernel now shows HANDLE's path with another size than its
 * image's (see shown-size.h).
 */
static bool
replaced_by_other_size (const struct handle *handle)
{
  uint64_t size = image_size (handle->open_image->image);

  if (!shown_size_differs (handle->path_hash, size))
    return false;
  report_error ("%s: replaced by an image of another size while open: earlier "
                "opens read EIO, new opens read the new image", handle->path);
  return true;
}

/* Whether HANDLE's file changed before or during an answer just made from
 * its image: the engine may then have read part of the new file, so the
 * answer is neither the old image's nor the new one's.  Checked after the
 * answer, so that a change while it was made shows.
 */
static bool
changed_under (const struct handle *handle)
{
  return image_table_changed (handle->open_image)
    || replaced_by_other_size (handle);
}

static int
sparsefs_read (const char *path, char *buf, size_t size, off_t offset,
               struct fuse_file_info *fi)
{
  struct handle *handle = handle_of (fi);
  ssize_t r;

  r = raw_view_read (handle->open_image->image, buf, size, offset);
  if (r == -1)
    return reply_errno (errno);
  return changed_under (handle) ? -EIO : r;
}

static off_t
sparsefs_lseek (const char *path, off_t offset, int whence,
                struct fuse_file_info *fi)
{
  struct handle *handle = handle_of (fi);
  int64_t r;

  if (offset < 0)
    return -ENXIO;
  r = raw_view_seek (handle->open_image->image, offset, whence);
  if (changed_under (handle))
    return -EIO;
  return r == -1 ? reply_errno (errno) : r;
}

static int
sparsefs_release (const char *path, struct fuse_file_info *fi)
{
  struct handle *handle = handle_of (fi);

  page_cache_release (handle->path_hash, handle->page_cache_use);
  image_table_release (handle->open_image);
  free_handle (handle);
  return 0;
}

static int
sparsefs_statfs (const char *path, struct statvfs *st)
{
  if (statvfs (settings.source, st) == -1)
    return -errno;
  st->f_flag |= ST_RDONLY;
  return 0;
}

static int
sparsefs_listxattr (const char *path, char *buf, size_t size)
{
  struct node node;
  int r = namespace_resolve (path, &node);

  return r < 0 ? r : xattr_list (&node, buf, size);
}

static int
sparsefs_getxattr (const char *path, const char *name, char *buf, size_t size)
{
  struct node node;
  int r;

  /* ls -l asks each file for security.selinux and
   * system.posix_acl_access.  Other namespaces than user.* are not
   * supported at all: ls then stops asking for the rest of the mount,
   * where ENODATA would cost a request per file.
   */
  if (strncmp (name, "user.", strlen ("user.")) != 0)
    return -EOPNOTSUPP;
  if (!xattr_is_ours (name))
    return -ENODATA;
  r = namespace_resolve (path, &node);
  return r < 0 ? r : xattr_get (&node, name, buf, size);
}

const struct fuse_operations sparsefs_operations = {
  .init = sparsefs_init,
  .getattr = sparsefs_getattr,
  .opendir = sparsefs_opendir,
  .readdir = sparsefs_readdir,
  .releasedir = sparsefs_releasedir,
  .open = sparsefs_open,
  .read = sparsefs_read,
  .lseek = sparsefs_lseek,
  .release = sparsefs_release,
  .statfs = sparsefs_statfs,
  .listxattr = sparsefs_listxattr,
  .getxattr = sparsefs_getxattr,
};
