/* The --json summary (see summary.h). */
#include <config.h>

#include <inttypes.h>

#include "summary.h"

/* The "holes" keys, by method. */
static const char *const hole_keys[METHOD_COUNT] = {
  [METHOD_SKIP] = "skipped",
  [METHOD_PUNCH] = "punched",
  [METHOD_DISCARD] = "discarded",
  [METHOD_ZEROOUT] = "zeroed",
  [METHOD_WRITE] = "written",
};

static void
print_json_string (FILE *fp, const char *s)
{
  fputc ('"', fp);
  for (; *s; s++) {
    unsigned char ch = *s;

    if (ch == '"' || ch == '\\')
      fprintf (fp, "\\%c", ch);
    else if (ch < 0x20)
      fprintf (fp, "\\u%04x", ch);
    else
      fputc (ch, fp);
  }
  fputc ('"', fp);
}

static void
print_methods (FILE *fp, const struct copy_result *r)
{
  int m;

  fprintf (fp, "  \"zeroed\": {");
  for (m = 0; m < METHOD_COUNT; m++)
    fprintf (fp, "%s\"%s\": %" PRIu64, m ? ", " : "", method_name (m),
             r->zeroed[m]);
  fprintf (fp, "},\n  \"methods_dropped\": [");
  for (m = 0; m < METHOD_COUNT; m++)
    if (r->disabled & METHOD_BIT (m))
      fprintf (fp, "%s\"%s\"",
               (r->disabled & (METHOD_BIT (m) - 1)) ? ", " : "",
               method_name (m));
  fprintf (fp, "],\n");
}

/* Where the bytes went: data, and holes by how they became zeros. */
static void
print_accounting (FILE *fp, const struct copy_result *r)
{
  uint64_t hole_bytes = 0;
  int m;

  for (m = 0; m < METHOD_COUNT; m++)
    hole_bytes += r->holes[m];
  fprintf (fp, "  \"data_written\": %" PRIu64 ",\n", r->bytes_written);
  fprintf (fp, "  \"holes\": {\"bytes\": %" PRIu64, hole_bytes);
  for (m = 0; m < METHOD_COUNT; m++)
    fprintf (fp, ", \"%s\": %" PRIu64, hole_keys[m], r->holes[m]);
  fprintf (fp, "},\n  \"zeroed_first\": {\"method\": ");
  if (r->first_bytes > 0)
    fprintf (fp, "\"%s\"", method_name (r->first));
  else
    fprintf (fp, "null");
  fprintf (fp, ", \"bytes\": %" PRIu64 "},\n", r->first_bytes);
}

/* Why the planner chose METHOD, from the probe's facts. */
static const char *
method_reason (const struct device_facts *f, const struct plan_policy *p,
               enum hole_method method, unsigned disabled)
{
  if (p->forced == method)
    return "forced with --holes";
  switch (method) {
  case METHOD_SKIP:
    return f->all_zero ? "the target reads as zeros (block status)"
      : "the target reads as zeros (a new file, or --target-is-zero)";
  case METHOD_PUNCH:
    return f->kind == TARGET_REGULAR_FILE ? "holes in a regular file"
      : f->kind != TARGET_BLOCK_DEVICE ? "the target offers write-zeroes"
      : facts_write_zeroes_unmaps (f) ? "the device's write-zeroes unmaps"
      : "the device has write-zeroes (may allocate)";
  case METHOD_DISCARD:
    return p->discard_zeroes ? "discarded blocks read as zeros, as "
      "--discard-zeroes says" : "the driver reads discarded blocks as zeros";
  case METHOD_ZEROOUT:
    return "write-zeroes is offloaded, but does not unmap";
  default:
    return disabled ? "every zeroing operation was refused"
      : "the target has no zeroing operation that guarantees zeros";
  }
}

static const char *
json_bool (bool b)
{
  return b ? "true" : "false";
}

/* The facts the choice was made from. */
static void
print_probe (FILE *fp, const struct device_facts *f,
             const struct plan_policy *p)
{
  fprintf (fp, "  \"probe\": {\"logical_block_size\": %" PRIu32
           ", \"discard_granularity\": %" PRIu64
           ", \"discard_max_bytes\": %" PRIu64
           ", \"write_zeroes_max_bytes\": %" PRIu64
           ", \"write_zeroes_unmaps\": %s, \"discard_reads_zero\": %s"
           ", \"can_write_zeroes\": %s, \"can_fast_zero\": %s"
           ", \"reads_zero\": %s},\n",
           f->logical_block_size, f->discard_granularity, f->discard_max_bytes,
           f->write_zeroes_max_bytes, json_bool (facts_write_zeroes_unmaps (f)),
           json_bool (facts_discard_reads_zero (f)),
           json_bool (f->can_write_zeroes), json_bool (f->can_fast_zero),
           json_bool (p->target_is_zero));
}

void
summary_print_json (FILE *fp, const struct summary *s)
{
  const struct copy_result *r = s->copy;

  fprintf (fp, "{\n  \"source\": ");
  print_json_string (fp, s->source->path);
  fprintf (fp, ",\n  \"source_format\": \"%s\",\n  \"target\": ",
           s->source->format);
  print_json_string (fp, s->target->path);
  fprintf (fp, ",\n  \"target_kind\": \"%s\",\n",
           target_kind_name (s->target->facts.kind));
  fprintf (fp, "  \"size\": %" PRIu64 ",\n", s->source->size);
  fprintf (fp, "  \"bytes_read\": %" PRIu64 ",\n", r->bytes_read);
  fprintf (fp, "  \"bytes_written\": %" PRIu64 ",\n", r->bytes_written);
  print_methods (fp, r);
  fprintf (fp, "  \"skipped\": %" PRIu64 ",\n", r->zeroed[METHOD_SKIP]);
  fprintf (fp, "  \"zero_detected\": %" PRIu64 ",\n", r->zero_detected);
  print_accounting (fp, r);
  fprintf (fp, "  \"method\": \"%s\",\n", method_name (s->method));
  fprintf (fp, "  \"method_reason\": ");
  print_json_string (fp, method_reason (&s->target->facts, s->policy,
                                        s->method, r->disabled));
  fprintf (fp, ",\n");
  print_probe (fp, &s->target->facts, s->policy);
  fprintf (fp, "  \"checksum\": ");
  if (s->checksum)
    print_json_string (fp, s->checksum);
  else
    fprintf (fp, "null");
  fprintf (fp, ",\n");
  fprintf (fp, "  \"seconds\": %.3f,\n", r->seconds);
  fprintf (fp, "  \"verified\": %s,\n",
           !s->verify_requested ? "null" : s->verified ? "true" : "false");
  fprintf (fp, "  \"complete\": %s,\n", r->failure == COPY_OK ? "true" : "false");
  fprintf (fp, "  \"exit_status\": %d\n}\n", s->exit_status);
}
