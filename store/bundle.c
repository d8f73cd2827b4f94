/* bundle.c - what a bundle may hold: entry types and modes (bundle_add_entry), the files stack.yaml names
 * (bundle_check_content) and the flavor its content makes it (bundle_flavor). Path and symlink rules live in tree.c, which both build on. */
#include "bundle.h"

#include <sys/stat.h>

static const char *type_name(mode_t mode)
{
        if (S_ISFIFO(mode))
                return "a fifo";
        if (S_ISSOCK(mode))
                return "a socket";
        if (S_ISCHR(mode))
                return "a character device";
        if (S_ISBLK(mode))
                return "a block device";
        return "of an unsupported type";
}

int bundle_add_entry(struct tree *t, const char *path, mode_t mode, uint64_t size, const struct digest *digest,
                     const char *target, struct error *err)
{
        uint32_t perm = (uint32_t)mode & 07777;

        if (S_ISREG(mode))
                return tree_add(t, path, ENTRY_FILE, perm, size, digest, NULL, err);
        if (S_ISDIR(mode))
                return tree_add(t, path, ENTRY_DIR, perm, 0, NULL, NULL, err);
        if (S_ISLNK(mode)) /* a link's permission bits mean nothing; set-id bits on it are still refused */
                return tree_add(t, path, ENTRY_SYMLINK, perm & 07000, 0, NULL, target, err);
        return error_set(err, STACK_EREJECT,
                         "bundle entry '%s' is %s: a bundle holds only files, directories and symlinks", path,
                         type_name(mode));
}

static bool is_file(const struct tree *t, const char *path)
{
        const struct tree_entry *e = tree_find(t, path);

        return e && e->type == ENTRY_FILE;
}

int bundle_check_content(const struct tree *t, const struct manifest *m, const char **ret_compose, struct error *err)
{
        const char *compose = NULL;

        if (m->compose) {
                if (!is_file(t, m->compose))
                        return error_set(err, STACK_EREJECT,
                                         "stack.yaml names compose file '%s', which is not a file in the bundle",
                                         m->compose);
                compose = tree_find(t, m->compose)->path;
        } else {
                for (const char *const *c = manifest_compose_candidates(); *c && !compose; c++)
                        if (is_file(t, *c))
                                compose = tree_find(t, *c)->path;
                if (!compose && bundle_flavor(t, NULL) < 0)
                        return error_set(err, STACK_EREJECT,
                                         "bundle has no compose file (compose.yaml, compose.yml, docker-compose.yaml "
                                         "or docker-compose.yml), no Dockerfile and no index.html: nothing to run");
        }
        for (size_t i = 0; i < m->n_images; i++)
                if (!is_file(t, m->images[i]))
                        return error_set(err, STACK_EREJECT,
                                         "stack.yaml names image archive '%s', which is not a file in the bundle",
                                         m->images[i]);
        if (ret_compose)
                *ret_compose = compose;
        return 0;
}

int bundle_flavor(const struct tree *t, const char *compose)
{
        if (compose)
                return FLAVOR_DOCKER_COMPOSE;
        if (is_file(t, "Dockerfile"))
                return FLAVOR_DOCKER_SERVICE;
        if (is_file(t, "index.html"))
                return FLAVOR_STATIC_WEBSITE;
        return -1;
}

int bundle_archive_open(struct archive *a, void *ctx, archive_read_callback *cb)
{
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_format_tar(a);
        return archive_read_open(a, ctx, NULL, cb, NULL);
}

int bundle_archive_next(struct archive *a, bool *first, struct archive_entry **ret_e)
{
        bool was_first = *first;
        int ar = archive_read_next_header(a, ret_e);

        *first = false;
        if (ar == ARCHIVE_EOF)
                return 0;
        if (ar < ARCHIVE_WARN)
                return was_first ? BUNDLE_NOT_ARCHIVE : BUNDLE_CORRUPT;
        if (was_first && archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE)
                return BUNDLE_UNCOMPRESSED;
        return 1;
}
