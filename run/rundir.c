/* rundir.c - run ids, the run dir's marker and the swap of a prepared run dir into place (rundir.h). */
#include "rundir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/fsutil.h"
#include "store/checkout.h"

void rundir_new_id(char out[RUNDIR_ID_LEN + 1])
{
        unsigned char b[RUNDIR_ID_LEN / 2];

        if (getrandom(b, sizeof b, 0) != sizeof b)
                for (size_t i = 0; i < sizeof b; i++)
                        b[i] = (unsigned char)(rand() >> 3);
        for (size_t i = 0; i < sizeof b; i++)
                sprintf(out + 2 * i, "%02x", b[i]);
}

int rundir_path(struct store *s, const char *slug, const char *kind, const char *suffix, char *buf, size_t size)
{
        if (!kind)
                return fs_path(buf, size, "%s/runs/%s", store_home(s), slug);
        return fs_path(buf, size, "%s/runs/.%s.%s-%s", store_home(s), slug, kind, suffix);
}

bool rundir_marker_ok(const char *dir, const struct digest *tree)
{
        char path[PATH_MAX], hex[DIGEST_HEX_LEN + 1], *text = NULL;
        bool ok;

        digest_to_hex(tree, hex);
        if (fs_path(path, sizeof path, "%s/" RUNDIR_MARKER, dir) < 0 || fs_read_file(path, 256, &text, NULL) < 0)
                return false;
        ok = strncmp(text, hex, DIGEST_HEX_LEN) == 0;
        free(text);
        return ok;
}

int rundir_checkout(struct store *s, const struct tree *t, const struct digest *tree, const char *dir,
                    struct error *err)
{
        char hex[DIGEST_HEX_LEN + 2], parent[PATH_MAX], marker[PATH_MAX];
        int r;

        r = fs_path(parent, sizeof parent, "%s/runs", store_home(s));
        if (r == 0)
                r = fs_mkdir_p(parent, 0755);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot create %s", parent);
        if (fs_path(marker, sizeof marker, "%s/" RUNDIR_MARKER, dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        r = fs_rm_rf(dir);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot remove %s", dir);
        r = checkout_tree(s, t, dir, err);
        if (r < 0)
                return r;
        digest_to_hex(tree, hex);
        strcat(hex, "\n");
        r = fs_write_atomic(marker, hex, strlen(hex), 0644);
        return r < 0 ? error_errno(err, STACK_ESTORE, r, "cannot write %s", marker) : 0;
}

int rundir_switch(const char *staged, const char *dir, const char *aside, struct error *err)
{
        enum fs_swap_stage stage;
        int r = fs_swap_dir(staged, dir, aside, &stage);

        if (r == 0)
                return 0;
        if (stage == FS_SWAP_ASIDE)
                return error_errno(err, STACK_ESTORE, r, "cannot move the old run dir %s aside", dir);
        if (stage == FS_SWAP_IN)
                return error_errno(err, STACK_ESTORE, r, "cannot move %s to %s", staged, dir);
        return error_errno(err, STACK_ESTORE, r, "cannot remove the old run dir %s", aside);
}
