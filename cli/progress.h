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
/* Ends the bar's line, if one was drawn. */
void progress_end(struct progress *p);

#endif
