/* cmd-pin.c - `stack pin|unpin SLUG@VER`: a pinned version is a gc root. */
#include "cli.h"
#include "store/index.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int pin_or_unpin(int argc, char **argv, bool pin)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
        const char *cmd = pin ? "pin" : "unpin";
        struct error err = ERROR_INIT;
        struct version_info v = {0};
        struct store *s = NULL;
        bool changed = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h') {
                        printf("usage: stack %s SLUG[@VER]\n%s\n", cmd,
                               pin ? "Pins a version: gc keeps it until stack unpin."
                                   : "Lets gc collect a version again.");
                        return 0;
                }
                return cli_usage(cmd, "unknown option");
        }
        if (argc - optind != 1)
                return cli_usage(cmd, "expects one SLUG@VER");
        r = cli_open_store(&s, &err);
        /* A pin waits for a running gc (which could otherwise collect the version it is about to pin). */
        if (r == 0 && pin)
                r = store_lock_shared(s, &err);
        if (r == 0)
                r = index_resolve_ref(store_index(s), argv[optind], &v, &err);
        if (r == 0)
                r = index_set_pin(store_index(s), v.id, pin, &changed, &err);
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        printf("%s@%s %s\n", v.slug, v.version,
               pin ? (changed ? "pinned" : "was already pinned") : (changed ? "unpinned" : "was not pinned"));
done:
        version_info_release(&v);
        store_free(s);
        return r;
}

int cmd_pin(int argc, char **argv)
{
        return pin_or_unpin(argc, argv, true);
}

int cmd_unpin(int argc, char **argv)
{
        return pin_or_unpin(argc, argv, false);
}
