/* cmd-pin.c - `stack pin|unpin SLUG@VER`: a pinned version is a gc root. */
#include "cli.h"
#include "store/index.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_pin(int argc, char **argv)
{
        bool pin = strcmp(argv[0], "unpin") != 0; /* stack unpin: the same with pin false */
        struct store *s = NULL;
        const struct cli_command c = {
                pin ? "pin" : "unpin",
                pin ? "usage: stack pin SLUG[@VER]\nPins a version: gc keeps it until stack unpin.\n"
                    : "usage: stack unpin SLUG[@VER]\nLets gc collect a version again.\n",
                .args = {1, 1, "expects one SLUG@VER"}, .store = &s};
        struct error err = ERROR_INIT;
        struct version_info v = {0};
        bool changed = false;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        /* A pin waits for a running gc (which could otherwise collect the version it is about to pin). */
        r = pin ? store_lock_shared(s, &err) : 0;
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
