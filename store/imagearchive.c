/* imagearchive.c - image archives split into member objects and a recipe, and assembled again as a stream.
 *
 * Recipe object (text lines, raw bytes inline):
 *   stack-recipe 1\n
 *   size <archive bytes>\n
 *   raw <n>\n<n bytes>\n                     bytes of the archive copied verbatim (headers, padding, trailer)
 *   part <sha256> <size> <member path>\n     a member's content: that object
 *   ...
 *   end\n
 * The chunks tile the archive: their sizes add up to its size, in order. libarchive walks the tar (where each
 * member's content starts); the bytes themselves are copied from the archive, so assembling gives back exactly
 * the bytes that were read, whatever the tar's dialect (ustar, pax, GNU long names).
 * The image references an archive names are read in imagearchive-refs.c.
 */
#include "imagearchive.h"
#include "imagearchive-int.h"

#include "base/buf.h"
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#define IA_HEADER    "stack-recipe 1\n"
#define IA_CHUNK     (256 * 1024)
#define IA_SMALL     (1024 * 1024) /* parts up to this size are hashed in memory first */
#define IA_MAX_JSON  (4 * 1024 * 1024)
#define IA_MAX_PARTS 100000

/* ---- recipe text ---- */

struct chunk {
        bool part;
        const char *raw; /* into the recipe text */
        uint64_t size;
        struct digest digest;
        const char *name; /* into the recipe text, NUL-terminated there */
        uint64_t off;     /* while splitting: where it starts in the archive */
};

struct recipe {
        char *text;
        size_t len;
        uint64_t size;
        struct chunk *c;
        size_t n;
};

static void recipe_release(struct recipe *r)
{
        free(r->text);
        free(r->c);
        memset(r, 0, sizeof *r);
}

static int bad_recipe(struct error *err, const struct digest *d, const char *why)
{
        char hex[DIGEST_HEX_LEN + 1];

        digest_to_hex(d, hex);
        return error_set(err, STACK_ESTORE, "recipe object %s is damaged: %s (run stack verify)", hex, why);
}

static char *next_line(char **p, char *end)
{
        char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));

        if (!nl)
                return NULL;
        *nl = 0;
        *p = nl + 1;
        return line;
}

/* Parse r->text in place (newlines of lines become NULs). */
static int recipe_parse(struct recipe *r, const struct digest *d, struct error *err)
{
        char *p = r->text, *end = r->text + r->len, *line;
        uint64_t sum = 0;
        size_t cap = 0;

        if (r->len < sizeof IA_HEADER - 1 || memcmp(p, IA_HEADER, sizeof IA_HEADER - 1))
                return bad_recipe(err, d, "no stack-recipe header");
        p += sizeof IA_HEADER - 1;
        line = next_line(&p, end);
        if (!line || sscanf(line, "size %" SCNu64, &r->size) != 1)
                return bad_recipe(err, d, "no size line");
        for (;;) {
                struct chunk c = {0};
                char hex[DIGEST_HEX_LEN + 1];
                int off = 0;

                line = next_line(&p, end);
                if (!line)
                        return bad_recipe(err, d, "no end line");
                if (!strcmp(line, "end"))
                        break;
                if (sscanf(line, "raw %" SCNu64 "%n", &c.size, &off) == 1 && !line[off]) {
                        if (c.size > (uint64_t)(end - p) || c.size + 1 > (uint64_t)(end - p) || p[c.size] != '\n')
                                return bad_recipe(err, d, "a raw chunk runs past its end");
                        c.raw = p;
                        p += c.size + 1;
                } else if (sscanf(line, "part %64s %" SCNu64 " %n", hex, &c.size, &off) == 2 && off > 0 &&
                           digest_from_hex(hex, &c.digest) == 0) {
                        c.part = true;
                        c.name = line + off;
                } else {
                        return bad_recipe(err, d, "a line is neither raw, part nor end");
                }
                if (c.size > UINT64_MAX - sum)
                        return bad_recipe(err, d, "its sizes overflow");
                sum += c.size;
                if (r->n == cap) {
                        size_t ncap = cap ? cap * 2 : 32;
                        struct chunk *v;
                        if (ncap > IA_MAX_PARTS * 2 + 2)
                                return bad_recipe(err, d, "too many chunks");
                        v = realloc(r->c, ncap * sizeof *v);
                        if (!v)
                                return error_set(err, STACK_EFAIL, "out of memory");
                        r->c = v;
                        cap = ncap;
                }
                r->c[r->n++] = c;
        }
        if (p != end)
                return bad_recipe(err, d, "bytes after its end line");
        if (sum != r->size)
                return bad_recipe(err, d, "its chunks do not add up to its size");
        return 0;
}

static int recipe_load(struct store *s, const struct digest *d, struct recipe *r, struct error *err)
{
        char hex[DIGEST_HEX_LEN + 1];
        struct stat st;
        int fd;
        ssize_t n;

        memset(r, 0, sizeof *r);
        digest_to_hex(d, hex);
        fd = store_object_open(s, d);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, fd, "recipe object %s is unreadable (run stack verify)", hex);
        if (fstat(fd, &st) < 0 || st.st_size > IA_RECIPE_MAX) {
                close(fd);
                return bad_recipe(err, d, "it is unreadable or too large");
        }
        r->text = malloc((size_t)st.st_size + 1);
        if (!r->text) {
                close(fd);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        n = pread(fd, r->text, (size_t)st.st_size, 0);
        close(fd);
        if (n != st.st_size) {
                recipe_release(r);
                return bad_recipe(err, d, "short read");
        }
        r->len = (size_t)n;
        r->text[r->len] = 0;
        n = recipe_parse(r, d, err);
        if (n < 0)
                recipe_release(r);
        return (int)n;
}

/* ---- writing ---- */

enum sink_mode { SINK_UNDECIDED, SINK_PASS, SINK_TAR };

struct ia_sink {
        struct store *store;
        struct staging *st;
        enum sink_mode mode;
        int fd; /* SINK_TAR: the unnamed temp file */
        uint64_t size;
        struct hasher h;
        unsigned char *buf;
};

int ia_sink_begin(struct store *s, struct staging *st, struct ia_sink **ret, struct error *err)
{
        struct ia_sink *k = calloc(1, sizeof *k);

        if (!k)
                return error_set(err, STACK_EFAIL, "out of memory");
        k->store = s;
        k->st = st;
        k->fd = -1;
        *ret = k;
        return 0;
}

void ia_sink_free(struct ia_sink *k)
{
        if (!k)
                return;
        if (k->fd >= 0)
                close(k->fd);
        free(k->buf);
        free(k);
}

static int open_temp(struct ia_sink *k, struct error *err)
{
        char dir[PATH_MAX], path[PATH_MAX];

        if (fs_path(dir, sizeof dir, "%s/tmp", store_home(k->store)) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        k->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (k->fd >= 0)
                return 0;
        /* No O_TMPFILE on this file system: a named temp file, unlinked at once (gc removes one a crash left). */
        if (fs_path(path, sizeof path, "%s/obj-archiveXXXXXX", dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        k->fd = mkostemp(path, O_CLOEXEC);
        if (k->fd < 0)
                return error_errno(err, STACK_ESTORE, errno, "cannot create a temp file in %s", dir);
        unlink(path);
        return 0;
}

static bool looks_like_tar(const void *data, size_t len)
{
        return len >= 512 && !memcmp((const char *)data + 257, "ustar", 5);
}

int ia_sink_write(struct ia_sink *k, const void *data, size_t len, struct error *err)
{
        int r;

        if (k->mode == SINK_UNDECIDED) {
                if (looks_like_tar(data, len)) {
                        r = open_temp(k, err);
                        if (r < 0)
                                return r;
                        digest_init(&k->h);
                        k->mode = SINK_TAR;
                } else {
                        r = staging_begin(k->st, err);
                        if (r < 0)
                                return r;
                        k->mode = SINK_PASS;
                }
        }
        if (k->mode == SINK_PASS)
                return staging_write(k->st, data, len, err);
        digest_update(&k->h, data, len);
        k->size += len;
        r = fs_write_all(k->fd, data, len);
        return r < 0 ? error_errno(err, STACK_ESTORE, r, "cannot write a temp file in the store") : 0;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
        size_t done = 0;

        while (done < len) {
                ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                done += (size_t)n;
        }
        return 0;
}

/* Stage bytes [off, off + size) of the temp file as one object. */
static int stage_range(struct ia_sink *k, uint64_t off, uint64_t size, struct digest *ret, struct error *err)
{
        int r;

        if (size <= IA_SMALL) {
                r = pread_all(k->fd, k->buf, (size_t)size, off);
                if (r < 0)
                        return error_errno(err, STACK_ESTORE, r, "cannot read a temp file in the store");
                return staging_put_buffer(k->st, k->buf, (size_t)size, ret, err);
        }
        r = staging_begin(k->st, err);
        for (uint64_t done = 0; r == 0 && done < size;) {
                size_t n = size - done > IA_CHUNK ? IA_CHUNK : (size_t)(size - done);
                r = pread_all(k->fd, k->buf, n, off + done);
                if (r < 0)
                        return error_errno(err, STACK_ESTORE, r, "cannot read a temp file in the store");
                r = staging_write(k->st, k->buf, n, err);
                done += n;
        }
        return r < 0 ? r : staging_end(k->st, ret, err);
}

const char *ia_top_name(const char *p)
{
        if (!p)
                return "";
        while (*p == '.' && p[1] == '/')
                p += 2;
        while (*p == '/')
                p++;
        return p;
}

static bool name_ok(const char *p)
{
        if (!*p)
                return false;
        for (; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

static int push_chunk(struct recipe *r, size_t *cap, const struct chunk *c)
{
        if (r->n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 32;
                struct chunk *v = realloc(r->c, ncap * sizeof *v);
                if (!v)
                        return -ENOMEM;
                r->c = v;
                *cap = ncap;
        }
        r->c[r->n++] = *c;
        return 0;
}

/* Walk the temp file as a tar: where each member's content lies. 1 when it is an image archive that can be
 * split (r filled with chunks: raw ones by offset, parts by offset and name), 0 when it is to be stored whole. */
static int plan(struct ia_sink *k, struct recipe *r, char ***names)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        bool manifest = false, index = false, layout = false;
        uint64_t prev = 0;
        size_t cap = 0, n_names = 0;
        int ar, ok = 0;

        *names = NULL;
        if (!a)
                return -ENOMEM;
        archive_read_support_format_tar(a);
        if (lseek(k->fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, k->fd, 64 * 1024) != ARCHIVE_OK)
                goto done;
        while ((ar = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
                const char *name;
                uint64_t size, start;

                if (ar < ARCHIVE_WARN)
                        goto done; /* malformed or truncated: stored whole */
                name = ia_top_name(archive_entry_pathname(e));
                size = archive_entry_size_is_set(e) && archive_entry_size(e) > 0 ? (uint64_t)archive_entry_size(e) : 0;
                if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e)) {
                        manifest |= !strcmp(name, "manifest.json");
                        index |= !strcmp(name, "index.json");
                        layout |= !strcmp(name, "oci-layout");
                }
                if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e) && size > 0) {
                        struct chunk raw = {0}, part = {.part = true};
                        char **nv;

                        if (archive_entry_sparse_count(e) > 0 || !name_ok(name) || r->n >= IA_MAX_PARTS * 2)
                                goto done;
                        /* After the header (and any pax or long-name blocks) libarchive has consumed exactly up to
                         * the member's content. */
                        start = (uint64_t)archive_filter_bytes(a, 0);
                        if (start < prev || start > k->size || size > k->size - start)
                                goto done;
                        raw.off = prev;
                        raw.size = start - prev;
                        part.off = start;
                        part.size = size;
                        nv = realloc(*names, (n_names + 1) * sizeof *nv);
                        if (!nv)
                                goto oom;
                        *names = nv;
                        if (!(nv[n_names] = strdup(name)))
                                goto oom;
                        part.name = nv[n_names++];
                        if ((raw.size && push_chunk(r, &cap, &raw) < 0) || push_chunk(r, &cap, &part) < 0)
                                goto oom;
                        prev = start + size;
                }
                if (archive_read_data_skip(a) < ARCHIVE_WARN)
                        goto done;
        }
        if (prev < k->size) {
                struct chunk raw = {.off = prev, .size = k->size - prev};
                if (push_chunk(r, &cap, &raw) < 0)
                        goto oom;
        }
        r->size = k->size;
        ok = (manifest || (index && layout)) && n_names > 0;
done:
        archive_read_free(a);
        return ok;
oom:
        archive_read_free(a);
        return -ENOMEM;
}

static int split(struct ia_sink *k, struct tree_recipe **ret, struct error *err)
{
        struct recipe plan_r = {0};
        struct buf text = BUF_INIT(IA_RECIPE_MAX);
        struct tree_recipe *tr = NULL;
        char **names = NULL, line[64 + 2 * DIGEST_HEX_LEN + TREE_MAX_PATH * 4];
        size_t n_names = 0;
        int r;

        *ret = NULL;
        r = plan(k, &plan_r, &names);
        for (size_t i = 0; i < plan_r.n; i++)
                n_names += plan_r.c[i].part;
        if (r <= 0) {
                if (r < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        tr = calloc(1, sizeof *tr);
        if (!tr || !(tr->parts = calloc(n_names, sizeof *tr->parts))) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        snprintf(line, sizeof line, "%ssize %" PRIu64 "\n", IA_HEADER, k->size);
        r = buf_add_str(&text, line);
        for (size_t i = 0; r >= 0 && i < plan_r.n; i++) {
                struct chunk *c = &plan_r.c[i];
                if (c->part) {
                        char hex[DIGEST_HEX_LEN + 1];
                        r = stage_range(k, c->off, c->size, &c->digest, err);
                        if (r < 0)
                                goto done;
                        tr->parts[tr->n_parts++] = (struct tree_part){c->digest, c->size};
                        digest_to_hex(&c->digest, hex);
                        if (snprintf(line, sizeof line, "part %s %" PRIu64 " %s\n", hex, c->size, c->name) >=
                            (int)sizeof line) {
                                r = 0; /* cannot happen (names are paths); stored whole */
                                goto whole;
                        }
                        r = buf_add_str(&text, line);
                } else {
                        snprintf(line, sizeof line, "raw %" PRIu64 "\n", c->size);
                        r = buf_add_str(&text, line);
                        for (uint64_t done = 0; r >= 0 && done < c->size;) {
                                size_t n = c->size - done > IA_CHUNK ? IA_CHUNK : (size_t)(c->size - done);
                                r = pread_all(k->fd, k->buf, n, c->off + done);
                                if (r < 0)
                                        r = error_errno(err, STACK_ESTORE, r, "cannot read a temp file in the store");
                                else
                                        r = buf_add(&text, k->buf, n);
                                done += n;
                        }
                        if (r >= 0)
                                r = buf_add_str(&text, "\n");
                }
        }
        if (r >= 0)
                r = buf_add_str(&text, "end\n");
        if (r < 0 && (text.toobig || r == -EFBIG)) {
                r = 0; /* a recipe this large is not worth it: stored whole */
                goto whole;
        }
        if (r < 0) {
                r = err->code ? r : error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        r = staging_put_buffer(k->st, text.p, text.len, &tr->digest, err);
        if (r < 0)
                goto done;
        tr->size = text.len;
        *ret = tr;
        tr = NULL;
        goto done;
whole:
        /* parts staged so far stay as staged objects nothing names: gc removes them if they are published */
        tree_recipe_free(tr);
        tr = NULL;
done:
        tree_recipe_free(tr);
        buf_release(&text);
        for (size_t i = 0; names && i < n_names; i++)
                free(names[i]);
        free(names);
        free(plan_r.c);
        return r < 0 ? r : 0;
}

int ia_sink_end(struct ia_sink *k, struct digest *ret, struct tree_recipe **ret_recipe, struct error *err)
{
        int r;

        *ret_recipe = NULL;
        if (k->mode == SINK_UNDECIDED) {
                r = staging_begin(k->st, err);
                if (r < 0)
                        return r;
                k->mode = SINK_PASS;
        }
        if (k->mode == SINK_PASS)
                return staging_end(k->st, ret, err);
        digest_final(&k->h, ret);
        k->buf = malloc(IA_CHUNK > IA_SMALL ? IA_CHUNK : IA_SMALL);
        if (!k->buf)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = split(k, ret_recipe, err);
        if (r < 0)
                return r;
        if (!*ret_recipe) {
                struct digest d;
                r = stage_range(k, 0, k->size, &d, err);
                if (r < 0)
                        return r;
                if (!digest_equal(&d, ret))
                        return error_set(err, STACK_ESTORE, "a temp file in the store changed while it was written");
        }
        return 0;
}

/* ---- reading ---- */

struct ia_reader {
        struct store *store;
        struct digest digest;
        struct recipe r;
        size_t i;     /* current chunk */
        uint64_t off; /* in it */
        int fd;       /* current part's object */
};

int ia_open(struct store *s, const struct digest *recipe, struct ia_reader **ret, struct error *err)
{
        struct ia_reader *rd = calloc(1, sizeof *rd);
        int r;

        if (!rd)
                return error_set(err, STACK_EFAIL, "out of memory");
        rd->store = s;
        rd->digest = *recipe;
        rd->fd = -1;
        r = recipe_load(s, recipe, &rd->r, err);
        if (r < 0) {
                free(rd);
                return r;
        }
        *ret = rd;
        return 0;
}

uint64_t ia_size(const struct ia_reader *rd)
{
        return rd->r.size;
}

void ia_close(struct ia_reader *rd)
{
        if (!rd)
                return;
        if (rd->fd >= 0)
                close(rd->fd);
        recipe_release(&rd->r);
        free(rd);
}

static int part_error(struct error *err, const struct chunk *c, int errnum, const char *what)
{
        char hex[DIGEST_HEX_LEN + 1];

        digest_to_hex(&c->digest, hex);
        return error_errno(err, STACK_ESTORE, errnum, "image archive part %s (%s) %s (run stack verify)", hex, c->name,
                           what);
}

ssize_t ia_read(struct ia_reader *rd, void *buf, size_t n, struct error *err)
{
        while (rd->i < rd->r.n) {
                const struct chunk *c = &rd->r.c[rd->i];
                uint64_t left = c->size - rd->off;
                size_t want = left < n ? (size_t)left : n;

                if (left == 0 || n == 0) {
                        if (n == 0)
                                return 0;
                        if (rd->fd >= 0)
                                close(rd->fd);
                        rd->fd = -1;
                        rd->i++;
                        rd->off = 0;
                        continue;
                }
                if (!c->part) {
                        memcpy(buf, c->raw + rd->off, want);
                        rd->off += want;
                        return (ssize_t)want;
                }
                if (rd->fd < 0) {
                        struct stat st;
                        rd->fd = store_object_open(rd->store, &c->digest);
                        if (rd->fd < 0)
                                return part_error(err, c, rd->fd, "is unreadable");
                        if (fstat(rd->fd, &st) < 0 || (uint64_t)st.st_size != c->size)
                                return part_error(err, c, 0, "has the wrong size");
                }
                for (;;) {
                        ssize_t k = pread(rd->fd, buf, want, (off_t)rd->off);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return part_error(err, c, errno, "is unreadable");
                        if (k == 0)
                                return part_error(err, c, 0, "is short");
                        rd->off += (uint64_t)k;
                        return k;
                }
        }
        return 0;
}

int64_t ia_skip(struct ia_reader *rd, int64_t n)
{
        int64_t done = 0;

        while (done < n && rd->i < rd->r.n) {
                const struct chunk *c = &rd->r.c[rd->i];
                uint64_t left = c->size - rd->off, want = (uint64_t)(n - done);

                if (want < left) {
                        rd->off += want;
                        return n;
                }
                done += (int64_t)left;
                if (rd->fd >= 0)
                        close(rd->fd);
                rd->fd = -1;
                rd->i++;
                rd->off = 0;
        }
        return done;
}

int ia_recipe_parts(struct store *s, const struct digest *recipe, struct tree_part **ret, size_t *ret_n,
                    struct error *err)
{
        struct recipe r;
        struct tree_part *v;
        size_t n = 0;
        int rc = recipe_load(s, recipe, &r, err);

        if (rc < 0)
                return rc;
        v = calloc(r.n + 1, sizeof *v);
        if (!v) {
                recipe_release(&r);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        for (size_t i = 0; i < r.n; i++)
                if (r.c[i].part)
                        v[n++] = (struct tree_part){r.c[i].digest, r.c[i].size};
        recipe_release(&r);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- describing ---- */

static const struct chunk *find_part(const struct recipe *r, const char *name)
{
        for (size_t i = 0; i < r->n; i++)
                if (r->c[i].part && !strcmp(r->c[i].name, name))
                        return &r->c[i];
        return NULL;
}

static json_t *part_json(const struct chunk *c)
{
        char hex[DIGEST_HEX_LEN + 1];

        digest_to_hex(&c->digest, hex);
        return json_pack("{s:s, s:s, s:I}", "name", c->name, "sha256", hex, "size", (json_int_t)c->size);
}

static json_t *load_json_part(struct store *s, const struct chunk *c)
{
        char *text;
        int fd;
        ssize_t n;
        json_t *j;

        if (!c || c->size > IA_MAX_JSON || (fd = store_object_open(s, &c->digest)) < 0)
                return NULL;
        text = malloc((size_t)c->size + 1);
        n = text ? pread(fd, text, (size_t)c->size, 0) : -1;
        close(fd);
        j = n == (ssize_t)c->size ? json_loadb(text, (size_t)n, 0, NULL) : NULL;
        free(text);
        return j;
}

int ia_describe(struct store *s, const struct digest *recipe, json_t **ret, struct error *err)
{
        struct recipe r;
        json_t *o, *images, *parts, *manifest, *img;
        size_t i, k;
        int rc = recipe_load(s, recipe, &r, err);

        if (rc < 0)
                return rc;
        o = json_object();
        images = json_array();
        parts = json_array();
        for (i = 0; i < r.n; i++)
                if (r.c[i].part)
                        json_array_append_new(parts, part_json(&r.c[i]));
        /* docker save: manifest.json [{"Config", "RepoTags", "Layers"}]; an OCI layout lists its blobs in parts */
        manifest = load_json_part(s, find_part(&r, "manifest.json"));
        json_array_foreach(manifest, i, img)
        {
                json_t *one = json_object(), *tags = json_array(), *layers = json_array(), *v;
                const struct chunk *c = find_part(&r, json_string_value(json_object_get(img, "Config")) ?: "");

                json_array_foreach(json_object_get(img, "RepoTags"), k, v) if (json_is_string(v))
                        json_array_append(tags, v);
                json_array_foreach(json_object_get(img, "Layers"), k, v)
                {
                        const struct chunk *l = find_part(&r, json_string_value(v) ?: "");
                        if (l)
                                json_array_append_new(layers, part_json(l));
                }
                json_object_set_new(one, "tags", tags);
                json_object_set_new(one, "config", c ? part_json(c) : json_null());
                json_object_set_new(one, "layers", layers);
                json_array_append_new(images, one);
        }
        json_decref(manifest);
        json_object_set_new(o, "size", json_integer((json_int_t)r.size));
        json_object_set_new(o, "images", images);
        json_object_set_new(o, "parts", parts);
        recipe_release(&r);
        *ret = o;
        return 0;
}

#define STREAM_BUF (256 * 1024)

int ia_file_stream(struct store *s, const struct tree_entry *e, ia_write_fn write, void *ctx, struct error *err)
{
        struct ia_reader *rd = NULL;
        unsigned char *buf = NULL;
        uint64_t done = 0;
        int fd = store_object_open(s, &e->digest), r = 0;

        if (fd == -ENOENT && e->recipe) {
                fd = -1;
                r = ia_open(s, &e->recipe->digest, &rd, err);
                if (r == 0 && ia_size(rd) != e->size)
                        r = error_set(err, STACK_ESTORE, "the recipe for '%s' has the wrong size (run stack verify)",
                                      e->path);
        } else if (fd < 0) {
                return error_errno(err, STACK_ESTORE, fd, "the store's copy of '%s' is unreadable (run stack verify)",
                                   e->path);
        }
        if (r == 0 && !(buf = malloc(STREAM_BUF)))
                r = error_set(err, STACK_EFAIL, "out of memory");
        while (r == 0) {
                ssize_t n = rd ? ia_read(rd, buf, STREAM_BUF, err) : read(fd, buf, STREAM_BUF);

                if (n < 0 && !rd && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = rd ? (int)n
                               : error_errno(err, STACK_ESTORE, errno, "cannot read the store's copy of '%s'", e->path);
                        break;
                }
                if (n == 0)
                        break;
                if ((uint64_t)n > e->size - done) {
                        done = e->size + 1;
                        break;
                }
                r = write(ctx, buf, (size_t)n, err);
                done += (uint64_t)n;
        }
        if (r == 0 && done != e->size)
                r = error_set(err, STACK_ESTORE, "the store's copy of '%s' has the wrong size (run stack verify)",
                              e->path);
        free(buf);
        ia_close(rd);
        if (fd >= 0)
                close(fd);
        return r;
}
