/* The --json summary (see summary.h). */
#include <config.h>

#include <inttypes.h>

#include "summary.h"

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
  fprintf (fp, "  \"method\": \"%s\",\n", method_name (s->method));
  fprintf (fp, "  \"seconds\": %.3f,\n", r->seconds);
  fprintf (fp, "  \"verified\": %s,\n",
           !s->verify_requested ? "null" : s->verified ? "true" : "false");
  fprintf (fp, "  \"complete\": %s,\n", r->failure == COPY_OK ? "true" : "false");
  fprintf (fp, "  \"exit_status\": %d\n}\n", s->exit_status);
}
