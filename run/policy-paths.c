/* policy-paths.c - paths in a compose file: normalised lexically as compose does, classified (a variable, a
 * host path, outside the run dir, inside it; always the value resolved by policy_scan_vars()), whether the
 * bundle ships them, and the files compose reads from the host on the stack's behalf (env_file, build
 * context, secret files), which must stay in the run dir.
 */
#include "policy-int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"

/* Add the components of path to out (a normalised relative path, "" = the root), resolving "." and ".."
 * lexically, as compose does (os.path.abspath, filepath.Join) before the Engine sees the path. 1 when ".."
 * climbs above the root (unless clamp: then it stays at the root, as "/.." does), -ENAMETOOLONG. */
int policy_path_add(char *out, size_t size, const char *path, size_t len, bool clamp)
{
        size_t o = strlen(out), i = 0;

        while (i < len) {
                const char *comp = path + i;
                size_t n = 0;

                while (i + n < len && comp[n] != '/')
                        n++;
                i += n + (i + n < len);
                if (n == 0 || (n == 1 && comp[0] == '.'))
                        continue;
                if (n == 2 && comp[0] == '.' && comp[1] == '.') {
                        if (o == 0) {
                                if (clamp)
                                        continue;
                                return 1;
                        }
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                        out[o] = 0;
                        continue;
                }
                if (o + (o > 0) + n + 1 > size)
                        return -ENAMETOOLONG;
                if (o)
                        out[o++] = '/';
                memcpy(out + o, comp, n);
                o += n;
                out[o] = 0;
        }
        return 0;
}

void policy_path_dirname(const char *path, char *out, size_t size)
{
        const char *slash = strrchr(path, '/');

        snprintf(out, size, "%.*s", slash ? (int)(slash - path) : 0, path);
}

/* "a/b/compose.yaml" -> "a/b/.stack-effective-compose.yaml" (also for the text as written: "./x.yaml"). */
char *policy_effective_name(const char *path, size_t len)
{
        const char *slash = memrchr(path, '/', len);
        size_t head = slash ? (size_t)(slash - path) + 1 : 0;
        char *out = malloc(len + sizeof EFFECTIVE_PREFIX);

        if (!out)
                return NULL;
        memcpy(out, path, head);
        memcpy(out + head, EFFECTIVE_PREFIX, sizeof EFFECTIVE_PREFIX - 1);
        memcpy(out + head + sizeof EFFECTIVE_PREFIX - 1, path + head, len - head);
        out[len + sizeof EFFECTIVE_PREFIX - 1] = 0;
        return out;
}

/* A directory the bundle ships only to have it exist (nothing in it but .gitkeep-like files) is state. */
static bool placeholder_dir(const struct tree *t, const char *rel)
{
        static const char *const placeholders[] = {".gitkeep", ".keep", ".gitignore", ".placeholder", ".empty"};
        size_t i, k, len = strlen(rel);

        for (i = 0; i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                const char *base;

                if (strncmp(e->path, rel, len) != 0 || e->path[len] != '/' || e->type == ENTRY_DIR)
                        continue;
                base = strrchr(e->path, '/') + 1;
                for (k = 0; k < COUNT(placeholders) && strcmp(base, placeholders[k]); k++)
                        ;
                if (e->type != ENTRY_FILE || k == COUNT(placeholders))
                        return false;
        }
        return true;
}

bool policy_shipped(const struct apply *a, const char *rel)
{
        const struct tree_entry *e;

        if (!*rel)
                return true; /* the run dir itself */
        e = tree_find(a->in->tree, rel);
        return e && !(e->type == ENTRY_DIR && placeholder_dir(a->in->tree, rel));
}

/* Where rel (inside the run dir) leads on disk now; false when it leads outside (a symlink put there since
 * checkout). A path that does not exist yet cannot lead anywhere. */
static bool stays_inside(const struct apply *a, const char *rel)
{
        char path[PATH_MAX], real[PATH_MAX];
        size_t n = strlen(a->run_real);

        if (!n || !*rel || fs_path(path, sizeof path, "%s/%s", a->in->run_dir, rel) < 0 || !realpath(path, real))
                return true;
        return strncmp(real, a->run_real, n) == 0 && (real[n] == '/' || real[n] == 0 || n == 1);
}

int policy_classify_path(struct file *f, const char *who, const struct yamltree_node *n, char *rel, size_t size,
                         enum path_kind *ret)
{
        int r;

        if (memchr(n->text, 0, n->len))
                return error_set(f->a->err, STACK_EREJECT, "%s: a path contains a NUL (line %zu)", who, n->line);
        if (policy_node_unknown(n)) {
                *ret = PATH_VAR;
                return 0;
        }
        if (n->text[0] == '/' || n->text[0] == '~') {
                *ret = PATH_HOST;
                return 0;
        }
        snprintf(rel, size, "%s", f->base);
        r = policy_path_add(rel, size, n->text, n->len, false);
        if (r < 0)
                return error_set(f->a->err, STACK_EREJECT, "%s: path too long (line %zu)", who, n->line);
        *ret = r == 1 || !stays_inside(f->a, rel) ? PATH_ESCAPE : PATH_INSIDE;
        return 0;
}

/* A file compose reads from the host on the stack's behalf (env_file, build context, secret file ...): it
 * must stay in the run dir unless host-bind is granted. */
int policy_check_host_path(struct file *f, const char *who, const char *key, const struct yamltree_node *n)
{
        char rel[PATH_MAX], buf[80];
        enum path_kind kind = PATH_VAR;
        int r;

        if (policy_is_null(n))
                return 0;
        if (n->kind != YAMLTREE_SCALAR)
                return error_set(f->a->err, STACK_EREJECT, "%s: %s must be a path, not a %s (line %zu)", who, key,
                                 yamltree_kind_name(n), n->line);
        r = policy_classify_path(f, who, n, rel, sizeof rel, &kind);
        if (r < 0)
                return r;
        yamltree_show(n->text, n->len, buf, sizeof buf);
        if (kind == PATH_VAR)
                policy_need(f, PERM_HOST_BIND, who, "%s '%s' (%s)", key, buf, policy_unknown_why(n));
        else if (kind == PATH_HOST)
                policy_need(f, PERM_HOST_BIND, who, "%s '%s' (a host path)", key, buf);
        else if (kind == PATH_ESCAPE)
                policy_need(f, PERM_HOST_BIND, who, "%s '%s' (outside the run dir)", key, buf);
        return 0;
}

const char *policy_unknown_why(const struct yamltree_node *n)
{
        return n->mark & MARK_RESOLVED ? "a variable in it is unset" : "set by a variable";
}

bool policy_is_url(const struct yamltree_node *n)
{
        /* compose-go's isRemoteContext (docker-compose 1.29's is_url lacks ssh://: refused there as a path
         * instead, which is never looser). Anything else, "/etc/://.." included, is a path. */
        static const char *const remote[] = {"https://", "http://", "git://", "ssh://", "github.com/", "git@"};
        size_t i;

        if (!yamltree_is_scalar(n) || policy_node_unknown(n))
                return false;
        for (i = 0; i < COUNT(remote); i++)
                if (strncmp(n->text, remote[i], strlen(remote[i])) == 0)
                        return true;
        return false;
}
