/* cmd-gc.c - `stack gc [--dry-run] [--keep N] [--images] [--json]`: remove what no root reaches. */
#include "cli.h"
#include "gc/gc.h"
#include "orch/orch.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static int print_report(const struct gc_report *r, bool json)
{
        char objects[32], temp[32];

        if (json)
                return cli_print_json(json_pack(
                        "{s:b, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:o}",
                        "dry_run", r->dry_run, "roots", "kept_versions", (json_int_t)r->kept_versions, "runs",
                        (json_int_t)r->root_runs, "pins", (json_int_t)r->root_pins, "newest",
                        (json_int_t)r->root_newest, r->dry_run ? "would_remove" : "removed", "versions",
                        (json_int_t)r->versions, "stacks", (json_int_t)r->stacks, "trees", (json_int_t)r->trees,
                        "entries", (json_int_t)r->entries, "objects", (json_int_t)r->objects, "object_bytes",
                        (json_int_t)r->object_bytes, "temp_files", (json_int_t)r->temp_files, "temp_bytes",
                        (json_int_t)r->temp_bytes, "run_dirs", (json_int_t)r->run_dirs, "images",
                        orch_strv_json(r->images), "images_kept", orch_strv_json(r->images_kept)));
        printf("%s %llu versions, %llu trees, %llu objects (%s), %llu temp files (%s), %llu run dirs",
               r->dry_run ? "gc --dry-run: would remove" : "gc: removed", (unsigned long long)r->versions,
               (unsigned long long)r->trees, (unsigned long long)r->objects, cli_human_size(r->object_bytes, objects),
               (unsigned long long)r->temp_files, cli_human_size(r->temp_bytes, temp), (unsigned long long)r->run_dirs);
        printf("; kept %llu versions (roots: %llu of runs, %llu pinned, %llu newest)\n",
               (unsigned long long)r->kept_versions, (unsigned long long)r->root_runs, (unsigned long long)r->root_pins,
               (unsigned long long)r->root_newest);
        for (size_t i = 0; r->images && r->images[i]; i++)
                printf("image %s %s\n", r->images[i], r->dry_run ? "would be removed" : "removed");
        for (size_t i = 0; r->images_kept && r->images_kept[i]; i++)
                printf("image kept %s\n", r->images_kept[i]);
        return 0;
}

/* --keep N: at least 1 (the newest version of each stack always stays); --keep-snapshots N: at least 0. */
static int count_arg(const char *arg, long min, unsigned *ret)
{
        char *end;
        long keep = strtol(arg, &end, 10);

        if (*end || end == arg || keep < min || keep > 1000000)
                return -1;
        *ret = (unsigned)keep;
        return 0;
}

static int keep_arg(void *ret, const char *cmd, const char *arg)
{
        if (count_arg(arg, 1, ret) < 0)
                return cli_usage(cmd, "--keep takes a number from 1 (the newest version of each stack always stays)");
        return 0;
}

static int keep_snapshots_arg(void *ret, const char *cmd, const char *arg)
{
        if (count_arg(arg, 0, ret) < 0)
                return cli_usage(cmd, "--keep-snapshots takes a number from 0");
        return 0;
}

static const char help[] =
        "usage: stack gc [--dry-run] [--keep N] [--keep-snapshots N] [--images] [--json]\n"
        "Removes versions, trees and objects no root reaches, temp files a crash left and orphan\n"
        "run dirs. Roots: versions of runs not removed, pinned versions (stack pin), the newest N\n"
        "versions of each stack (default 2), each stack's rollback target and its newest N data\n"
        "snapshots (--keep-snapshots N, default 3). --images also removes from the Engine the images\n"
        "stack loaded for removed versions that no container uses. --dry-run changes nothing.\n";

int cmd_gc(int argc, char **argv)
{
        struct gc_options o = GC_OPTIONS_INIT;
        bool json = false;
        const struct cli_option opts[] = {{"dry-run", 'n', .flag = &o.dry_run},
                                          {"keep", 'k', .parse = keep_arg, .ctx = &o.keep},
                                          {"images", 0, .flag = &o.images},
                                          {"keep-snapshots", 0, .parse = keep_snapshots_arg, .ctx = &o.keep_snapshots},
                                          {0}};
        struct store *s = NULL;
        const struct cli_command c = {"gc", help, opts, &json, .args = {0, 0, "takes no arguments"}, .store = &s};
        struct gc_report rep = {0};
        struct error err = ERROR_INIT;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        r = orch_gc(s, &o, &rep, &err);
        if (r < 0)
                r = cli_fail(&err);
        else
                r = print_report(&rep, json);
        gc_report_release(&rep);
        store_free(s);
        return r;
}
