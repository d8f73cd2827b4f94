/* progress.h - download progress for the CLI: a bar on a terminal, a plain line every few seconds otherwise. */
#ifndef STACK_PROGRESS_H
#define STACK_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
        char label[128];
        bool tty, quiet, drawn;
        double start, last;
};

void progress_init(struct progress *p, const char *label, bool quiet);
/* An http_progress_fn. */
void progress_update(void *ctx, uint64_t done, uint64_t total);
/* A registry image's pull, for run_options.pull_progress (ctx: the struct progress): the layer downloading as
 * the bar, a line per layer done. progress_note() is run_options.note: one line, the bar ended first. */
struct engine_progress;
void progress_pull(void *ctx, const char *ref, const struct engine_progress *ep);
void progress_note(void *ctx, const char *line);
/* Ends the bar's line, if one was drawn. */
void progress_end(struct progress *p);

#endif
