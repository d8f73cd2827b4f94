/* tree.c - a version's file list: path rules, implicit directories, symlink containment, canonical text.
 *
 * The tree is what makes a version's identity independent of how its bundle was packed: same files, modes
 * and links give the same digest whether the bundle was zstd or gzip, sorted or not, with or without
 * directory entries.
 */
#include "tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TREE_HEADER "stack-tree 1\n"

void tree_init(struct tree *t)
{
        memset(t, 0, sizeof *t);
}

void tree_release(struct tree *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].path);
                free(t->v[i].target);
                tree_recipe_free(t->v[i].recipe);
        }
        free(t->v);
        tree_init(t);
}

void tree_recipe_free(struct tree_recipe *r)
{
        if (!r)
                return;
        free(r->parts);
        free(r);
}

int tree_set_last_recipe(struct tree *t, struct tree_recipe *r)
{
        if (!t->n || t->v[t->n - 1].type != ENTRY_FILE || t->v[t->n - 1].recipe) {
                tree_recipe_free(r);
                return -EINVAL;
        }
        t->v[t->n - 1].recipe = r;
        return 0;
}

static bool has_bad_char(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f || *p == '\\')
                        return true;
        return false;
}

int tree_path_normalize(const char *raw, char *out, struct error *err)
{
        size_t o = 0;
        const char *p = raw;

        if (!raw || !*raw)
                return error_set(err, STACK_EREJECT, "bundle entry with an empty path"), -EINVAL;
        if (has_bad_char(raw))
                return error_set(err, STACK_EREJECT,
                                 "bundle entry '%.200s' has a control character or backslash in its path", raw),
                       -EINVAL;
        if (raw[0] == '/')
                return error_set(err, STACK_EREJECT, "bundle entry '%.200s' has an absolute path", raw), -EINVAL;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);

                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return error_set(err, STACK_EREJECT,
                                         "bundle entry '%.200s' has a '..' component (path traversal)", raw),
                               -EINVAL;
                if (len > 0 && !(len == 1 && p[0] == '.')) {
                        if (o + (o > 0) + len > TREE_MAX_PATH)
                                return error_set(err, STACK_EREJECT,
                                                 "bundle entry '%.200s...' has a path longer than %d bytes", raw,
                                                 TREE_MAX_PATH),
                                       -EINVAL;
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, p, len);
                        o += len;
                }
                p += len;
                if (*p == '/')
                        p++;
        }
        if (o == 0)
                return error_set(err, STACK_EREJECT, "bundle entry '%.200s' names the bundle's root", raw), -EINVAL;
        out[o] = 0;
        return 0;
}

static int tree_push(struct tree *t, struct tree_entry *e)
{
        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 64;
                struct tree_entry *v = realloc(t->v, cap * sizeof *v);
                if (!v)
                        return -ENOMEM;
                t->v = v;
                t->cap = cap;
        }
        t->v[t->n++] = *e;
        return 0;
}

int tree_add(struct tree *t, const char *path, char type, uint32_t mode, uint64_t size, const struct digest *digest,
             const char *target, struct error *err)
{
        char norm[TREE_MAX_PATH + 1];
        struct tree_entry e = {0};
        int r;

        r = tree_path_normalize(path, norm, err);
        if (r < 0)
                return -STACK_EREJECT;
        if (mode & 07000)
                return error_set(err, STACK_EREJECT, "bundle entry '%s' has a setuid, setgid or sticky bit (mode %04o)",
                                 norm, mode & 07777);
        switch (type) {
        case ENTRY_FILE:
                e.mode = (mode & 0111) ? 0755 : 0644;
                e.size = size;
                if (digest)
                        e.digest = *digest;
                break;
        case ENTRY_DIR: e.mode = 0755; break;
        case ENTRY_SYMLINK:
                if (!target || !*target)
                        return error_set(err, STACK_EREJECT, "bundle symlink '%s' has an empty target", norm);
                if (strlen(target) > TREE_MAX_PATH || has_bad_char(target))
                        return error_set(err, STACK_EREJECT, "bundle symlink '%s' has an unacceptable target", norm);
                if (target[0] == '/')
                        return error_set(err, STACK_EREJECT, "bundle symlink '%s' points to an absolute path '%.200s'",
                                         norm, target);
                e.mode = 0777;
                break;
        default: return error_set(err, STACK_EREJECT, "bundle entry '%s' has an unsupported type", norm);
        }
        e.type = type;
        e.path = strdup(norm);
        e.target = target && type == ENTRY_SYMLINK ? strdup(target) : NULL;
        if (!e.path || (type == ENTRY_SYMLINK && !e.target)) {
                free(e.path);
                free(e.target);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        r = tree_push(t, &e);
        if (r < 0) {
                free(e.path);
                free(e.target);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        t->finalized = false;
        return 0;
}

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const struct tree_entry *)a)->path, ((const struct tree_entry *)b)->path);
}

const struct tree_entry *tree_find(const struct tree *t, const char *path)
{
        struct tree_entry key = {.path = (char *)path};

        if (!t->n)
                return NULL;
        return bsearch(&key, t->v, t->n, sizeof *t->v, entry_cmp);
}

/* Walk `target` from the directory `cur` (cur holds a normalised path, "" for the root), following symlinks
 * the tree holds. Fails when a ".." would leave the root or the hops run out. */
static int resolve_within(const struct tree *t, char *cur, const char *target, int *hops)
{
        const char *p = target;

        if (target[0] == '/')
                return -EXDEV;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p), n = strlen(cur);

                if (len == 0 || (len == 1 && p[0] == '.')) {
                        /* nothing */
                } else if (len == 2 && p[0] == '.' && p[1] == '.') {
                        char *last;
                        if (n == 0)
                                return -EXDEV;
                        last = strrchr(cur, '/');
                        if (last)
                                *last = 0;
                        else
                                cur[0] = 0;
                } else {
                        const struct tree_entry *e;
                        if (n + 1 + len > TREE_MAX_PATH)
                                return -ENAMETOOLONG;
                        if (n > 0)
                                cur[n++] = '/';
                        memcpy(cur + n, p, len);
                        cur[n + len] = 0;
                        e = tree_find(t, cur);
                        if (e && e->type == ENTRY_SYMLINK) {
                                int r;
                                if (++*hops > TREE_MAX_SYMLINK_HOPS)
                                        return -ELOOP;
                                /* A link resolves relative to its own directory. */
                                cur[n > 0 ? n - 1 : 0] = 0;
                                r = resolve_within(t, cur, e->target, hops);
                                if (r < 0)
                                        return r;
                        }
                }
                p += len;
                if (*p == '/')
                        p++;
        }
        return 0;
}

static int add_implicit_dirs(struct tree *t, struct error *err)
{
        size_t n = t->n;

        for (size_t i = 0; i < n; i++) {
                char parent[TREE_MAX_PATH + 1];
                char *slash;

                snprintf(parent, sizeof parent, "%s", t->v[i].path);
                while ((slash = strrchr(parent, '/'))) {
                        struct tree_entry key = {.path = parent}, e = {0};
                        bool found = false;

                        *slash = 0;
                        /* The explicit entries are sorted; the implicit ones added so far are few and checked linearly. */
                        if (bsearch(&key, t->v, n, sizeof *t->v, entry_cmp))
                                found = true;
                        for (size_t j = n; !found && j < t->n; j++)
                                found = !strcmp(t->v[j].path, parent);
                        if (found)
                                break; /* its own parents were handled when it was added */
                        e.path = strdup(parent);
                        e.type = ENTRY_DIR;
                        e.mode = 0755;
                        if (!e.path || tree_push(t, &e) < 0) {
                                free(e.path);
                                return error_set(err, STACK_EFAIL, "out of memory");
                        }
                }
        }
        return 0;
}

int tree_finalize(struct tree *t, struct error *err)
{
        int r;

        if (t->n)
                qsort(t->v, t->n, sizeof *t->v, entry_cmp);
        for (size_t i = 1; i < t->n; i++)
                if (!strcmp(t->v[i - 1].path, t->v[i].path))
                        return error_set(err, STACK_EREJECT, "bundle has a duplicate path '%s'", t->v[i].path);
        r = add_implicit_dirs(t, err);
        if (r < 0)
                return r;
        if (t->n)
                qsort(t->v, t->n, sizeof *t->v, entry_cmp);
        for (size_t i = 0; i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                char parent[TREE_MAX_PATH + 1];
                char *slash;

                snprintf(parent, sizeof parent, "%s", e->path);
                slash = strrchr(parent, '/');
                if (slash) {
                        const struct tree_entry *pe;
                        *slash = 0;
                        pe = tree_find(t, parent);
                        if (pe && pe->type == ENTRY_SYMLINK)
                                return error_set(err, STACK_EREJECT, "bundle entry '%s' lies below the symlink '%s'",
                                                 e->path, parent);
                        if (pe && pe->type != ENTRY_DIR)
                                return error_set(err, STACK_EREJECT, "bundle entry '%s' lies below the file '%s'",
                                                 e->path, parent);
                }
        }
        for (size_t i = 0; i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                char cur[TREE_MAX_PATH + 1];
                char *slash;
                int hops = 0;

                if (e->type != ENTRY_SYMLINK)
                        continue;
                snprintf(cur, sizeof cur, "%s", e->path);
                slash = strrchr(cur, '/');
                if (slash)
                        *slash = 0;
                else
                        cur[0] = 0;
                r = resolve_within(t, cur, e->target, &hops);
                if (r == -ELOOP)
                        return error_set(err, STACK_EREJECT, "bundle symlink '%s' is part of a symlink loop", e->path);
                if (r < 0)
                        return error_set(err, STACK_EREJECT, "bundle symlink '%s' -> '%s' points outside the bundle",
                                         e->path, e->target);
        }
        t->finalized = true;
        return 0;
}

int tree_serialize(const struct tree *t, char **ret, size_t *ret_len)
{
        size_t cap = sizeof TREE_HEADER, len;
        char *buf, *p;

        if (!t->finalized)
                return -EINVAL;
        for (size_t i = 0; i < t->n; i++)
                cap += strlen(t->v[i].path) + (t->v[i].target ? strlen(t->v[i].target) : 0) + 128;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        p = buf;
        p += sprintf(p, "%s", TREE_HEADER);
        for (size_t i = 0; i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                char hex[DIGEST_HEX_LEN + 1];

                if (e->type == ENTRY_FILE) {
                        digest_to_hex(&e->digest, hex);
                        p += sprintf(p, "f %04o %llu %s\t%s\n", e->mode, (unsigned long long)e->size, hex, e->path);
                } else if (e->type == ENTRY_DIR) {
                        p += sprintf(p, "d %04o 0 -\t%s\n", e->mode, e->path);
                } else {
                        p += sprintf(p, "l %04o 0 -\t%s\t%s\n", e->mode, e->path, e->target);
                }
        }
        len = (size_t)(p - buf);
        *ret = buf;
        *ret_len = len;
        return 0;
}

int tree_digest(const struct tree *t, struct digest *ret)
{
        char *text;
        size_t len;
        int r = tree_serialize(t, &text, &len);

        if (r < 0)
                return r;
        digest_buffer(text, len, ret);
        free(text);
        return 0;
}
