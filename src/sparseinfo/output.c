/* The fields sparseinfo prints, in either notation (writer.h).  Names
 * follow `qemu-img info --output=json --backing-chain` where qemu has the
 * field; sparseinfo(1) documents each.
 */
#include <config.h>

#include <sys/stat.h>

#include "output.h"
#include "writer.h"

static int
write_snapshot (const struct image_snapshot *s, void *opaque)
{
  struct writer *w = opaque;

  write_begin (w, NULL, '{');
  write_string (w, "id", s->id);
  write_string (w, "name", s->name);
  write_uint (w, "vm-state-size", s->vm_state_size);
  write_uint (w, "date-sec", s->date_sec);
  write_uint (w, "date-nsec", s->date_nsec);
  write_uint (w, "vm-clock-sec", s->vm_clock_nsec / 1000000000);
  write_uint (w, "vm-clock-nsec", s->vm_clock_nsec % 1000000000);
  write_end (w, '{');
  return 0;
}

/* The table was checked when the image was opened; a read error now is
 * reported on stderr and ends the list.
 */
static void
write_snapshots (struct writer *w, const struct image *layer)
{
  if (image_describe (layer)->snapshots == 0)
    return;
  write_begin (w, "snapshots", '[');
  image_snapshots (layer, write_snapshot, w);
  write_end (w, '[');
}

static void
write_format_specific (struct writer *w, const struct image_description *d)
{
  write_begin (w, "format-specific", '{');
  write_string (w, "type", image_format_name (d->format));
  write_begin (w, "data", '{');
  if (d->format == IMAGE_FORMAT_QCOW2) {
    write_string (w, "compat", d->version == 2 ? "0.10" : "1.1");
    write_string (w, "compression-type", d->compression);
    /* A version 2 header has no feature bits: qemu shows none. */
    if (d->version >= 3) {
      write_bool (w, "lazy-refcounts", d->lazy_refcounts);
      write_bool (w, "corrupt", d->corrupt);
      write_bool (w, "extended-l2", d->extended_l2);
    }
  }
  if (d->subformat != NULL)
    write_string (w, "subformat", d->subformat);
  if (d->creator != NULL)
    write_string (w, "creator", d->creator);
  if (d->data_file != NULL) {
    write_string (w, "data-file", d->data_file);
    write_bool (w, "data-file-raw", d->data_file_raw);
  }
  if (d->encryption != NULL) {
    write_begin (w, "encrypt", '{');
    write_string (w, "format", d->encryption);
    write_end (w, '{');
  }
  write_end (w, '{');
  write_end (w, '{');
}

static void
write_layer (struct writer *w, const struct image *layer)
{
  const struct image_description *d = image_describe (layer);
  const struct image *below = image_backing (layer);
  uint64_t allocated;

  write_begin (w, NULL, '{');
  write_string (w, "filename", d->path);
  write_string (w, "format", image_format_name (d->format));
  write_uint (w, "virtual-size", image_size (layer));
  if (image_file_allocated (layer, &allocated) == 0)
    write_uint (w, "actual-size", allocated);
  if (d->cluster_size != 0)
    write_uint (w, "cluster-size", d->cluster_size);
  write_bool (w, "encrypted", d->encryption != NULL);
  write_bool (w, "dirty-flag", d->dirty);
  if (d->backing_name != NULL) {
    write_string (w, "backing-filename", d->backing_name);
    if (below != NULL)
      write_string (w, "full-backing-filename", image_describe (below)->path);
    if (d->backing_format != NULL)
      write_string (w, "backing-filename-format", d->backing_format);
  }
  write_snapshots (w, layer);
  write_format_specific (w, d);
  write_end (w, '{');
}

static void
write_reasons (struct writer *w, const struct inspection *i)
{
  size_t n;

  write_begin (w, "reasons", '[');
  for (n = 0; n < i->n_reasons; n++) {
    write_begin (w, NULL, '{');
    write_string (w, "reason", reason_name (i->reasons[n].kind));
    write_string (w, "filename", i->reasons[n].file);
    write_string (w, "message", i->reasons[n].message
                                ? i->reasons[n].message : "");
    write_end (w, '{');
  }
  write_end (w, '[');
}

static void
write_inspection (struct writer *w, const struct inspection *i)
{
  const struct image *layer;

  write_begin (w, NULL, '{');
  write_string (w, "filename", i->path);
  if (i->disk != NULL) {
    write_string (w, "disk", i->disk->name);
    write_uint (w, "disk-index", i->disk->index);
  }
  write_string (w, "verdict", verdict_name (i->verdict));
  if (i->error != NULL)
    write_string (w, "error", i->error);
  if (i->verdict != VERDICT_UNREADABLE)
    write_reasons (w, i);
  if (i->have_data_bytes)
    write_uint (w, "data-bytes", i->data_bytes);
  if (i->image != NULL) {
    write_begin (w, "backing-chain", '[');
    for (layer = i->image; layer != NULL; layer = image_backing (layer))
      write_layer (w, layer);
    write_end (w, '[');
  }
  write_end (w, '{');
}

void
print_text (FILE *out, const struct inspection *i)
{
  struct writer w;

  writer_init (&w, out, false);
  write_inspection (&w, i);
}

void
print_json (FILE *out, const struct inspection *i)
{
  struct writer w;

  writer_init (&w, out, true);
  write_inspection (&w, i);
}
