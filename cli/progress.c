/* progress.c - a progress bar on stderr (bytes, rate, ETA) when it is a terminal; plain lines otherwise. */
#include "progress.h"
#include "cli.h"
#include "run/engine.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void progress_init(struct progress *p, const char *label, bool quiet)
{
        memset(p, 0, sizeof *p);
        snprintf(p->label, sizeof p->label, "%s", label);
        p->tty = isatty(2);
        p->quiet = quiet;
        p->start = p->last = now();
}

void progress_update(void *ctx, uint64_t done, uint64_t total)
{
        struct progress *p = ctx;
        double t = now(), rate = (t - p->start) > 0 ? (double)done / (t - p->start) : 0;
        char a[32], b[32], r[32];

        if (p->quiet || t - p->last < (p->tty ? 0.1 : 5.0))
                return;
        if (!p->tty && t - p->start < 5.0)
                return;
        p->last = t;
        cli_human_size(done, a);
        cli_human_size(total, b);
        cli_human_size((uint64_t)rate, r);
        if (p->tty && total) {
                int width = 24, fill = (int)((double)done / (double)total * width);
                char bar[32];
                double eta = rate > 0 ? (double)(total - done) / rate : 0;
                memset(bar, '#', (size_t)fill);
                memset(bar + fill, '-', (size_t)(width - fill));
                bar[width] = 0;
                fprintf(stderr, "\r%s [%s] %3d%% %s / %s  %s/s  ETA %.0fs ", p->label, bar,
                        (int)((double)done * 100 / (double)total), a, b, r, eta);
                p->drawn = true;
        } else if (p->tty) {
                fprintf(stderr, "\r%s %s  %s/s ", p->label, a, r);
                p->drawn = true;
        } else {
                fprintf(stderr, "%s: %s of %s, %s/s\n", p->label, a, total ? b : "?", r);
        }
}

void progress_end(struct progress *p)
{
        if (p->drawn)
                fprintf(stderr, "\r\033[K");
        p->drawn = false;
}

/* A pull's stream (run/engine.h engine_progress): on a terminal, the layer downloading now as a bar; a line per
 * layer done; nothing of the byte counts otherwise but a line every few seconds. */
void progress_pull(void *ctx, const char *ref, const struct engine_progress *ep)
{
        struct progress *p = ctx;
        const char *st = ep->status ? ep->status : "";
        char label[sizeof p->label];

        if (p->quiet)
                return;
        if (!strcmp(st, "Downloading") && ep->total) {
                snprintf(label, sizeof label, "%.80s %.40s", ref, ep->id ? ep->id : "");
                if (strcmp(label, p->label)) { /* another layer: its own bar, its own rate */
                        snprintf(p->label, sizeof p->label, "%s", label);
                        p->start = now();
                        p->last = 0;
                }
                progress_update(p, ep->current, ep->total);
                return;
        }
        if (strcmp(st, "Pull complete") && strcmp(st, "Already exists") && strncmp(st, "Digest:", 7))
                return;
        progress_end(p);
        fprintf(stderr, "  %s%s%s\n", ep->id ? ep->id : "", ep->id ? ": " : "", st);
}

void progress_note(void *ctx, const char *line)
{
        struct progress *p = ctx;

        if (p->quiet)
                return;
        progress_end(p);
        fprintf(stderr, "%s\n", line);
}
