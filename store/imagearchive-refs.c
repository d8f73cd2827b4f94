/* imagearchive-refs.c - the image references an image archive names (docker save's manifest.json, an OCI
 * layout's index.json), read with libarchive from a file or a stream, without the Engine: run/ asks the Engine
 * whether it has them before loading (spec/run.md "Image archives").
 */
#include "imagearchive.h"
#include "imagearchive-int.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#define IA_REFS_MAX_JSON (1u << 20) /* manifest.json / index.json read for the references */

/* The entry's data, at most IA_REFS_MAX_JSON bytes. Heap buffer in *ret, NUL-terminated. */
static int read_entry(struct archive *a, const char *name, char **ret, size_t *ret_len, struct error *err)
{
        char *buf = malloc(IA_REFS_MAX_JSON + 1);
        size_t len = 0;
        la_ssize_t k;

        if (!buf)
                return error_set(err, STACK_EFAIL, "out of memory");
        while ((k = archive_read_data(a, buf + len, IA_REFS_MAX_JSON + 1 - len)) > 0) {
                len += (size_t)k;
                if (len > IA_REFS_MAX_JSON) {
                        free(buf);
                        return error_set(err, STACK_EREJECT, "image archive: %s is larger than %u bytes: refused", name,
                                         IA_REFS_MAX_JSON);
                }
        }
        if (k < 0) {
                int r = error_set(err, STACK_EREJECT, "image archive: reading %s: %s", name, archive_error_string(a));
                free(buf);
                return r;
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}

static int parse_json(const char *name, const char *buf, size_t len, json_t **ret, struct error *err)
{
        json_error_t je;
        json_t *j = json_loadb(buf, len, 0, &je);

        if (!j)
                return error_set(err, STACK_EREJECT, "image archive: %s is not valid JSON (line %d: %s)", name, je.line,
                                 je.text);
        *ret = j;
        return 0;
}

/* Add ref to the array of strings refs unless it is there already (the order stays the file's). */
static int ref_add(json_t *refs, const char *ref, struct error *err)
{
        size_t i;
        json_t *v;

        json_array_foreach(refs, i, v) if (!strcmp(json_string_value(v), ref)) return 0;
        return json_array_append_new(refs, json_string(ref)) < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

/* docker save: [{"Config": ..., "RepoTags": ["name:tag", ...], "Layers": [...]}, ...] */
static int refs_from_manifest(json_t *j, json_t *out, struct error *err)
{
        size_t i, k;
        json_t *img, *tag;
        int r = 0;

        if (!json_is_array(j))
                return error_set(err, STACK_EREJECT, "image archive: manifest.json is not a list of images");
        json_array_foreach(j, i, img)
        {
                if (!json_is_object(img))
                        return error_set(err, STACK_EREJECT, "image archive: manifest.json entry %zu is not an object",
                                         i);
                json_array_foreach(json_object_get(img, "RepoTags"), k, tag)
                {
                        const char *ref = json_string_value(tag);
                        if (ref && *ref && (r = ref_add(out, ref, err)) < 0)
                                return r;
                }
        }
        return 0;
}

/* OCI layout: {"manifests": [{"annotations": {"io.containerd.image.name": "docker.io/x/y:1",
 * "org.opencontainers.image.ref.name": "1"}}, ...]}. The containerd name is a full reference; the OCI one is
 * often only the tag, so it is used only when the other is absent. */
static int refs_from_index(json_t *j, json_t *out, struct error *err)
{
        size_t i;
        json_t *m;
        int r;

        if (!json_is_object(j))
                return error_set(err, STACK_EREJECT, "image archive: index.json is not an object");
        json_array_foreach(json_object_get(j, "manifests"), i, m)
        {
                json_t *ann = json_object_get(m, "annotations");
                const char *ref = json_string_value(json_object_get(ann, "io.containerd.image.name"));
                if (!ref || !*ref)
                        ref = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
                if (ref && *ref && (r = ref_add(out, ref, err)) < 0)
                        return r;
        }
        return 0;
}

/* The strings of refs as a NULL-terminated heap array, or NULL when out of memory. */
static char **refs_strv(json_t *refs)
{
        char **v = calloc(json_array_size(refs) + 1, sizeof *v);
        size_t i;
        json_t *s;

        json_array_foreach(refs, i, s) if (v && !(v[i] = strdup(json_string_value(s))))
        {
                strv_free(v);
                v = NULL;
        }
        return v;
}

struct refs_stream {
        ia_read_fn read;
        ia_skip_fn skip;
        void *ctx;
        unsigned char buf[64 * 1024];
};

static la_ssize_t refs_stream_read(struct archive *a, void *ud, const void **buf)
{
        struct refs_stream *rs = ud;
        ssize_t n = rs->read(rs->ctx, rs->buf, sizeof rs->buf);

        if (n < 0) {
                archive_set_error(a, EIO, "%s", strerror((int)-n));
                return -1;
        }
        *buf = rs->buf;
        return n;
}

static la_int64_t refs_stream_skip(struct archive *a, void *ud, la_int64_t n)
{
        struct refs_stream *rs = ud;

        (void)a;
        return rs->skip(rs->ctx, n);
}

static int refs_stream_open(struct archive *a, struct refs_stream *rs)
{
        archive_read_set_read_callback(a, refs_stream_read);
        if (rs->skip)
                archive_read_set_skip_callback(a, refs_stream_skip);
        archive_read_set_callback_data(a, rs);
        return archive_read_open1(a);
}

/* From fd, or from rs when fd is -1. */
static int archive_refs(int fd, struct refs_stream *rs, char ***ret, struct error *err)
{
        struct archive *a = NULL;
        struct archive_entry *ent;
        json_t *manifest = NULL, *index = NULL, *out = NULL;
        char *buf = NULL, **v;
        size_t len = 0;
        int r = 0, k;

        if ((fd < 0 && !rs) || !ret)
                return error_set(err, STACK_EFAIL, "ia_archive_refs: missing argument");
        a = archive_read_new();
        if (!a)
                return error_set(err, STACK_EFAIL, "out of memory");
        archive_read_support_format_tar(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        if ((rs ? refs_stream_open(a, rs) : archive_read_open_fd(a, fd, 64 * 1024)) != ARCHIVE_OK) {
                r = error_set(err, STACK_EREJECT, "the file is not a docker save or OCI image archive: %s",
                              archive_error_string(a));
                goto fail;
        }
        /* docker save writes manifest.json after the layers; an OCI layout's index.json can be anywhere. */
        while (!manifest && (k = archive_read_next_header(a, &ent)) != ARCHIVE_EOF) {
                const char *name;
                if (k < ARCHIVE_WARN) {
                        r = archive_errno(a) == EIO
                                    ? error_set(err, STACK_ESTORE, "reading an image archive: %s",
                                                archive_error_string(a))
                                    : error_set(err, STACK_EREJECT,
                                                "the file is not a docker save or OCI image archive: %s",
                                                archive_error_string(a));
                        goto fail;
                }
                name = ia_top_name(archive_entry_pathname(ent));
                if (archive_entry_filetype(ent) != AE_IFREG)
                        continue;
                if (!strcmp(name, "manifest.json") || (!strcmp(name, "index.json") && !index)) {
                        json_t **slot = name[0] == 'm' ? &manifest : &index;
                        r = read_entry(a, name, &buf, &len, err);
                        if (r < 0)
                                goto fail;
                        r = parse_json(name, buf, len, slot, err);
                        free(buf);
                        buf = NULL;
                        if (r < 0)
                                goto fail;
                }
        }
        if (!manifest && !index) {
                r = error_set(err, STACK_EREJECT,
                              "the file is not a docker save or OCI image archive (it has no manifest.json or "
                              "index.json)");
                goto fail;
        }
        out = json_array();
        if (!out) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        /* An archive from a newer docker save has both; manifest.json is what this Engine's loader reads. */
        r = manifest ? refs_from_manifest(manifest, out, err) : refs_from_index(index, out, err);
        if (r < 0)
                goto fail;
        v = refs_strv(out);
        if (!v)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else
                *ret = v;
fail:
        json_decref(out);
        json_decref(manifest);
        json_decref(index);
        archive_read_free(a);
        return r;
}

int ia_archive_refs(int fd, char ***ret, struct error *err)
{
        return archive_refs(fd, NULL, ret, err);
}

int ia_archive_refs_stream(ia_read_fn read, ia_skip_fn skip, void *ctx, char ***ret, struct error *err)
{
        struct refs_stream *rs = malloc(sizeof *rs);
        int r;

        if (!rs)
                return error_set(err, STACK_EFAIL, "out of memory");
        rs->read = read;
        rs->skip = skip;
        rs->ctx = ctx;
        r = archive_refs(-1, rs, ret, err);
        free(rs);
        return r;
}
