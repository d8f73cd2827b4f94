/* fuzz-tree.c - a bundle's entries into a tree (store/bundle.h, store/tree.h): what an archive's headers say
 * (path, type and mode, link target), added, finalized (implicit dirs, duplicates, entries below files or
 * symlinks, links that leave the tree), serialized and checked against stack.yaml. Input: one entry per line,
 * "<type> <path>" or "l <path>\t<target>"; type f (file 0644), x (file 0755), d (dir), l (symlink), s (setuid
 * file), p (fifo). The first line starting with '#' ends the entries; what follows is the bundle's stack.yaml
 * (a built-in one when absent). A finalized tree serializes to one line per entry, and finds each entry. */
#include "fuzz.h"

#include <sys/stat.h>

#include "store/bundle.h"
#include "base/digest.h"
#include "store/manifest.h"
#include "store/tree.h"

#define MAX_ENTRIES 512

static const char default_manifest[] =
        "slug: demo\nname: Demo\nflavor: DockerCompose\nversion: \"1\"\ndescription: d\nauthor: a\nlicense: MIT\n"
        "images: [images/app.tar]\n";

static mode_t mode_of(char type)
{
        switch (type) {
        case 'f': return S_IFREG | 0644;
        case 'x': return S_IFREG | 0755;
        case 'd': return S_IFDIR | 0755;
        case 'l': return S_IFLNK | 0777;
        case 's': return S_IFREG | 04755;
        case 'p': return S_IFIFO | 0644;
        default: return 0;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = ERROR_INIT;
        struct manifest *m = NULL;
        struct tree t;
        char *text = fuzz_strndup(data, size), *line, *next, *yaml = NULL;
        size_t entries = 0, lines = 0, len;
        const char *compose = NULL;
        struct digest d;
        char *ser;
        int r = 0;

        tree_init(&t);
        for (line = text; line && *line && r == 0 && entries < MAX_ENTRIES; line = next) {
                char *tab, *target = NULL;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (line[0] == '#') {
                        yaml = next;
                        break;
                }
                if (strlen(line) < 2)
                        continue;
                tab = strchr(line + 2, '\t');
                if (tab) {
                        *tab = '\0';
                        target = tab + 1;
                }
                digest_buffer(line, strlen(line), &d);
                r = bundle_add_entry(&t, line + 2, mode_of(line[0]), strlen(line), &d, target, &err);
                entries++;
        }
        if (r == 0)
                r = tree_finalize(&t, &err);
        fuzz_check_verdict(r, &err);
        if (r == 0) {
                if (tree_serialize(&t, &ser, &len) != 0 || tree_digest(&t, &d) != 0)
                        abort();
                for (size_t i = 0; i < len; i++)
                        lines += ser[i] == '\n';
                if (lines != t.n + 1 || memchr(ser, '\0', len))
                        abort(); /* one line per entry: no path or target can break the canonical text */
                free(ser);
                for (size_t i = 0; i < t.n; i++)
                        if (tree_find(&t, t.v[i].path) != &t.v[i])
                                abort();
                if (yaml)
                        r = manifest_parse(yaml, strlen(yaml), &m, NULL, NULL, &err);
                else
                        r = manifest_parse(default_manifest, sizeof default_manifest - 1, &m, NULL, NULL, &err);
                if (r == 0) {
                        r = bundle_check_content(&t, m, &compose, &err);
                        fuzz_check_verdict(r, &err);
                        (void)bundle_flavor(&t, compose);
                }
                manifest_free(m);
        }
        tree_release(&t);
        free(text);
        return 0;
}
