/* manifest.c - stack.yaml: a bounded YAML tree (yamltree.h) -> struct manifest (spec/manifest.md).
 *
 * The tree is loaded with YAMLTREE_ALIAS_REF: nodes and aliases are counted as the events arrive, and an
 * alias stays a reference to its anchored node (the tree is a DAG, never copied), so memory is bounded by
 * the input; the one place that expands aliases (re-emitting `permissions`, manifest-json.c) has an output cap.
 */
#include "manifest-int.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/yamltree.h"

#define MANIFEST_MAX_PATH     4096 /* bytes in a `compose` / `images` path */
#define MANIFEST_MAX_WARNINGS 64   /* warnings passed to warn(); the rest are summed up in one line */
#define MANIFEST_MAX_CPUS     1000000.0

static const char *const compose_candidates[] = {
        "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml", NULL,
};

static const char *const flavor_names[] = {
        [FLAVOR_DOCKER_COMPOSE] = "DockerCompose",
        [FLAVOR_DOCKER_SERVICE] = "DockerService",
        [FLAVOR_STATIC_WEBSITE] = "StaticWebsite",
};

const char *const *manifest_compose_candidates(void)
{
        return compose_candidates;
}

const char *manifest_flavor_name(enum manifest_flavor f)
{
        if ((unsigned)f >= sizeof flavor_names / sizeof flavor_names[0])
                return "unknown";
        return flavor_names[f];
}

int manifest_slug_valid(const char *slug)
{
        size_t i;

        if (!slug || !((slug[0] >= 'a' && slug[0] <= 'z') || (slug[0] >= '0' && slug[0] <= '9')))
                return 0;
        for (i = 1; slug[i]; i++) {
                char ch = slug[i];

                if (i > 62)
                        return 0;
                if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
                        return 0;
        }
        return 1;
}

void manifest_free(struct manifest *m)
{
        size_t i;

        if (!m)
                return;
        free(m->slug);
        free(m->name);
        free(m->version);
        free(m->description);
        free(m->author);
        free(m->license);
        free(m->compose);
        strv_free_n(m->images, m->n_images);
        for (i = 0; i < m->n_ports; i++) {
                free(m->ports[i].service);
                free(m->ports[i].label);
        }
        free(m->ports);
        free(m->permissions_yaml);
        free(m->status);
        free(m->type);
        free(m->icon);
        free(m->updated_at);
        free(m->homepage);
        free(m->repository);
        strv_free_n(m->unknown, m->n_unknown);
        free(m);
}

/* ---- the tree ---- */

int manifest_oom(struct manifest_ctx *c)
{
        return error_set(c->err, STACK_EFAIL, "stack.yaml: out of memory");
}

/* A scalar unquoted and not tagged !!str (may be a bool/number/null). */
bool manifest_node_plain(const struct yamltree_node *n)
{
        if (n->tag && (strcmp(n->tag, YAML_NULL_TAG) == 0 || strcmp(n->tag, YAML_STR_TAG) == 0))
                return false;
        return n->style == YAML_PLAIN_SCALAR_STYLE;
}

const struct yamltree_node *manifest_deref(const struct yamltree_node *n)
{
        return n && n->kind == YAMLTREE_ALIAS ? n->target : n;
}

static const char *kind_name(const struct yamltree_node *n)
{
        switch (manifest_deref(n)->kind) {
        case YAMLTREE_SCALAR: return yamltree_is_null(manifest_deref(n)) ? "null" : "scalar";
        case YAMLTREE_SEQ: return "list";
        default: return "mapping";
        }
}

/* 0 when v (an alias is followed) is of that kind, else STACK_EREJECT "stack.yaml: <what>, not a <kind> (line N)". */
static int must_be(struct manifest_ctx *c, const struct yamltree_node *v, enum yamltree_kind kind, const char *what)
{
        if (manifest_deref(v)->kind == kind)
                return 0;
        return error_set(c->err, STACK_EREJECT, "stack.yaml: %s, not a %s (line %zu)", what, kind_name(v), v->line);
}

/* A value quoted into a message: at most ~60 bytes, control characters shown as '?', one line. */
static const char *show(const struct yamltree_node *n, char *buf, size_t size)
{
        n = manifest_deref(n);
        if (n->kind != YAMLTREE_SCALAR)
                return kind_name(n);
        return yamltree_show(n->text, n->len, buf, size);
}

bool manifest_scalar_is(const struct yamltree_node *n, const char *s)
{
        return yamltree_text_is(manifest_deref(n), s);
}

/* ---- warnings ---- */

static void warn_add(struct manifest_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Warnings are held until the whole manifest is accepted: a rejected one gets one error, not noise. */
static void warn_add(struct manifest_ctx *c, const char *fmt, ...)
{
        char line[512], *copy;
        va_list ap;

        if (c->n_warnings == MANIFEST_MAX_WARNINGS) {
                c->n_dropped++;
                return;
        }
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        copy = strdup(line);
        if (!copy) {
                c->n_dropped++;
                return;
        }
        c->warnings[c->n_warnings++] = copy;
}

/* ---- values ---- */

static int key_cmp(const void *a, const void *b)
{
        const struct yamltree_node *x = *(const struct yamltree_node *const *)a;
        const struct yamltree_node *y = *(const struct yamltree_node *const *)b;

        if (x->len != y->len)
                return x->len < y->len ? -1 : 1;
        return memcmp(x->text, y->text, x->len);
}

/* Mapping keys must be scalars and unique; `where` names the mapping ("ports[2]", "" for the top level).
 * Sorted, so a mapping of many keys costs n log n. */
int manifest_map_check(struct manifest_ctx *c, const struct yamltree_node *map, const char *where)
{
        const struct yamltree_node **keys;
        size_t i, n = map->n / 2;
        char buf[80];
        int r = 0;

        if (n < 2) {
                if (n == 1 && manifest_deref(map->items[0])->kind != YAMLTREE_SCALAR)
                        return error_set(c->err, STACK_EREJECT, "stack.yaml: %s%skeys must be strings (line %zu)",
                                         where, *where ? ": " : "", map->items[0]->line);
                return 0;
        }
        keys = malloc(n * sizeof *keys);
        if (!keys)
                return manifest_oom(c);
        for (i = 0; i < n; i++) {
                keys[i] = manifest_deref(map->items[2 * i]);
                if (keys[i]->kind != YAMLTREE_SCALAR) {
                        r = error_set(c->err, STACK_EREJECT, "stack.yaml: %s%skeys must be strings (line %zu)", where,
                                      *where ? ": " : "", map->items[2 * i]->line);
                        goto out;
                }
        }
        if (n > 1)
                qsort(keys, n, sizeof *keys, key_cmp);
        for (i = 1; i < n; i++)
                if (key_cmp(&keys[i - 1], &keys[i]) == 0) {
                        size_t a = keys[i - 1]->line, b = keys[i]->line;

                        if (a == b)
                                r = error_set(c->err, STACK_EREJECT, "stack.yaml: %s%sduplicate key '%s' (line %zu)",
                                              where, *where ? ": " : "", show(keys[i], buf, sizeof buf), a);
                        else
                                r = error_set(c->err, STACK_EREJECT,
                                              "stack.yaml: %s%sduplicate key '%s' (lines %zu and %zu)", where,
                                              *where ? ": " : "", show(keys[i], buf, sizeof buf), a < b ? a : b,
                                              a < b ? b : a);
                        goto out;
                }
out:
        free(keys);
        return r;
}

/* A scalar we keep as text. A YAML null gives NULL when allow_null, else it is refused as empty. */
static int take_text(struct manifest_ctx *c, const struct yamltree_node *v, const char *what, bool allow_null,
                     bool allow_empty, char **ret)
{
        const struct yamltree_node *s = manifest_deref(v);
        char *copy;

        if (s->kind != YAMLTREE_SCALAR)
                return error_set(c->err, STACK_EREJECT, "stack.yaml: '%s' must be a scalar, not a %s (line %zu)", what,
                                 kind_name(s), v->line);
        if (yamltree_is_null(s) && allow_null) {
                *ret = NULL;
                return 0;
        }
        if ((yamltree_is_null(s) || s->len == 0) && !allow_empty)
                return error_set(c->err, STACK_EREJECT, "stack.yaml: '%s' is empty (line %zu)", what, v->line);
        if (memchr(s->text, 0, s->len))
                return error_set(c->err, STACK_EREJECT, "stack.yaml: '%s' contains a NUL character (line %zu)", what,
                                 v->line);
        copy = strdup(yamltree_is_null(s) ? "" : s->text);
        if (!copy)
                return manifest_oom(c);
        *ret = copy;
        return 0;
}

/* A path inside the bundle: relative, no "..", no backslash or control character; "./" and "//" dropped. */
static int take_path(struct manifest_ctx *c, const struct yamltree_node *v, const char *what, char **ret)
{
        const struct yamltree_node *s = manifest_deref(v);
        char buf[80], *out;
        size_t i, o = 0;

        if (s->kind != YAMLTREE_SCALAR)
                return error_set(c->err, STACK_EREJECT, "stack.yaml: %s must be a path, not a %s (line %zu)", what,
                                 kind_name(s), v->line);
        if (yamltree_is_null(s) || s->len == 0)
                return error_set(c->err, STACK_EREJECT, "stack.yaml: %s is empty (line %zu)", what, v->line);
        if (s->len > MANIFEST_MAX_PATH)
                return error_set(c->err, STACK_EREJECT, "stack.yaml: %s is longer than %d bytes (line %zu)", what,
                                 MANIFEST_MAX_PATH, v->line);
        if (s->text[0] == '/')
                return error_set(c->err, STACK_EREJECT, "stack.yaml: %s '%s' is an absolute path (line %zu)", what,
                                 show(s, buf, sizeof buf), v->line);
        for (i = 0; i < s->len; i++) {
                unsigned char ch = (unsigned char)s->text[i];

                if (ch < 0x20 || ch == 0x7f)
                        return error_set(c->err, STACK_EREJECT,
                                         "stack.yaml: %s '%s' contains a control character (line %zu)", what,
                                         show(s, buf, sizeof buf), v->line);
                if (ch == '\\')
                        return error_set(c->err, STACK_EREJECT, "stack.yaml: %s '%s' contains a backslash (line %zu)",
                                         what, show(s, buf, sizeof buf), v->line);
        }
        out = malloc(s->len + 1);
        if (!out)
                return manifest_oom(c);
        for (i = 0; i < s->len;) {
                const char *comp = s->text + i;
                size_t n = strcspn(comp, "/");

                i += n + (i + n < s->len);
                if (n == 0 || (n == 1 && comp[0] == '.'))
                        continue;
                if (n == 2 && comp[0] == '.' && comp[1] == '.') {
                        free(out);
                        return error_set(c->err, STACK_EREJECT,
                                         "stack.yaml: %s '%s' has a '..' component, paths must stay inside the bundle "
                                         "(line %zu)",
                                         what, show(s, buf, sizeof buf), v->line);
                }
                if (o)
                        out[o++] = '/';
                memcpy(out + o, comp, n);
                o += n;
        }
        out[o] = 0;
        if (o == 0) {
                free(out);
                return error_set(c->err, STACK_EREJECT, "stack.yaml: %s '%s' names no file (line %zu)", what,
                                 show(s, buf, sizeof buf), v->line);
        }
        *ret = out;
        return 0;
}

/* Decimal digits only (plain or quoted): no sign, no 0x, no exponent. */
static bool parse_uint(const struct yamltree_node *s, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;
        size_t i;

        if (s->kind != YAMLTREE_SCALAR || s->len == 0)
                return false;
        for (i = 0; i < s->len; i++) {
                unsigned d = (unsigned char)s->text[i] - '0';

                if (d > 9 || v > (max - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        *ret = v;
        return true;
}

/* 512m, 1g, 256MiB, 1.5 GB, 1048576, 100k: binary units whatever the spelling, like Docker's RAMInBytes. */
static bool parse_size(const struct yamltree_node *s, uint64_t *ret)
{
        static const char units[] = "bkmgtp";
        uint64_t whole, mult = 1, bytes;
        double frac;
        size_t i;
        const char *u;

        if (s->kind != YAMLTREE_SCALAR)
                return false;
        i = yamltree_parse_decimal(s->text, s->len, &whole, &frac);
        if (i == 0)
                return false;
        if (i < s->len && s->text[i] == ' ' && i + 1 < s->len)
                i++;
        if (i < s->len) {
                u = strchr(units, s->text[i] | 0x20);
                if (!u || !*u)
                        return false;
                for (size_t k = 0; k < (size_t)(u - units); k++)
                        mult *= 1024;
                i++;
                if (u != units && i < s->len && (s->text[i] | 0x20) == 'i')
                        i++;
                if (u != units && i < s->len && (s->text[i] | 0x20) == 'b')
                        i++;
                if (i != s->len)
                        return false;
        }
        if (whole > UINT64_MAX / mult)
                return false;
        bytes = whole * mult;
        if (frac > 0) {
                uint64_t extra = (uint64_t)(frac * (double)mult);

                if (bytes > UINT64_MAX - extra)
                        return false;
                bytes += extra;
        }
        *ret = bytes;
        return true;
}

static bool parse_cpus(const struct yamltree_node *s, double *ret)
{
        uint64_t whole = 0;
        double frac = 0;

        if (s->kind != YAMLTREE_SCALAR || s->len == 0 ||
            yamltree_parse_decimal(s->text, s->len, &whole, &frac) != s->len)
                return false;
        if ((double)whole + frac <= 0 || (double)whole + frac > MANIFEST_MAX_CPUS)
                return false;
        *ret = (double)whole + frac;
        return true;
}

static int parse_ports(struct manifest_ctx *c, const struct yamltree_node *v, struct manifest *m)
{
        const struct yamltree_node *seq = manifest_deref(v);
        char what[64], buf[80];
        size_t i, k;
        int r;

        r = must_be(c, v, YAMLTREE_SEQ, "'ports' must be a list of {service, port}");
        if (r < 0)
                return r;
        if (seq->n == 0)
                return 0;
        m->ports = calloc(seq->n, sizeof *m->ports);
        if (!m->ports)
                return manifest_oom(c);
        for (i = 0; i < seq->n; i++) {
                const struct yamltree_node *e = manifest_deref(seq->items[i]), *service = NULL, *port = NULL,
                                           *label = NULL;
                struct manifest_port *p = &m->ports[m->n_ports++];
                uint64_t num;

                snprintf(what, sizeof what, "ports[%zu]", i);
                if (e->kind != YAMLTREE_MAP)
                        return error_set(c->err, STACK_EREJECT,
                                         "stack.yaml: %s must be a mapping {service, port, label}, not a %s (line %zu)",
                                         what, kind_name(e), seq->items[i]->line);
                r = manifest_map_check(c, e, what);
                if (r < 0)
                        return r;
                for (k = 0; k + 1 < e->n; k += 2) {
                        const struct yamltree_node *key = e->items[k];

                        if (manifest_scalar_is(key, "service"))
                                service = e->items[k + 1];
                        else if (manifest_scalar_is(key, "port"))
                                port = e->items[k + 1];
                        else if (manifest_scalar_is(key, "label"))
                                label = e->items[k + 1];
                        else
                                warn_add(c, "stack.yaml: %s: unknown key '%s' (ignored)", what,
                                         show(key, buf, sizeof buf));
                }
                if (!service || yamltree_is_null(manifest_deref(service)))
                        return error_set(c->err, STACK_EREJECT, "stack.yaml: %s has no 'service' (line %zu)", what,
                                         seq->items[i]->line);
                if (!port || yamltree_is_null(manifest_deref(port)))
                        return error_set(c->err, STACK_EREJECT, "stack.yaml: %s has no 'port' (line %zu)", what,
                                         seq->items[i]->line);
                snprintf(what, sizeof what, "ports[%zu].service", i);
                r = take_text(c, service, what, false, false, &p->service);
                if (r < 0)
                        return r;
                if (!parse_uint(manifest_deref(port), 65535, &num) || num == 0)
                        return error_set(c->err, STACK_EREJECT,
                                         "stack.yaml: ports[%zu].port '%s' is not a port number 1..65535 (line %zu)", i,
                                         show(port, buf, sizeof buf), port->line);
                p->port = (unsigned)num;
                if (label) {
                        snprintf(what, sizeof what, "ports[%zu].label", i);
                        r = take_text(c, label, what, true, true, &p->label);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int parse_resources(struct manifest_ctx *c, const struct yamltree_node *v, struct manifest *m)
{
        const struct yamltree_node *map = manifest_deref(v);
        char buf[80];
        size_t k;
        int r;

        r = must_be(c, v, YAMLTREE_MAP, "'resources' must be a mapping {cpus, memory, pids}");
        if (r == 0)
                r = manifest_map_check(c, map, "resources");
        if (r < 0)
                return r;
        for (k = 0; k + 1 < map->n; k += 2) {
                const struct yamltree_node *key = map->items[k], *val = map->items[k + 1], *s = manifest_deref(val);
                uint64_t num;

                if (manifest_scalar_is(key, "cpus")) {
                        if (yamltree_is_null(s))
                                continue;
                        if (!parse_cpus(s, &m->resources.cpus))
                                return error_set(c->err, STACK_EREJECT,
                                                 "stack.yaml: resources.cpus '%s' is not a positive number (line %zu)",
                                                 show(val, buf, sizeof buf), val->line);
                } else if (manifest_scalar_is(key, "memory")) {
                        if (yamltree_is_null(s))
                                continue;
                        if (!parse_size(s, &m->resources.memory) || m->resources.memory == 0)
                                return error_set(c->err, STACK_EREJECT,
                                                 "stack.yaml: resources.memory '%s' is not a positive size such as "
                                                 "512m, 1g or 256MiB (line %zu)",
                                                 show(val, buf, sizeof buf), val->line);
                } else if (manifest_scalar_is(key, "pids")) {
                        if (yamltree_is_null(s))
                                continue;
                        if (!parse_uint(s, UINT_MAX, &num) || num == 0)
                                return error_set(c->err, STACK_EREJECT,
                                                 "stack.yaml: resources.pids '%s' is not a positive integer (line %zu)",
                                                 show(val, buf, sizeof buf), val->line);
                        m->resources.pids = (unsigned)num;
                } else {
                        warn_add(c, "stack.yaml: resources: unknown key '%s' (ignored)", show(key, buf, sizeof buf));
                }
        }
        return 0;
}

static int parse_images(struct manifest_ctx *c, const struct yamltree_node *v, struct manifest *m)
{
        const struct yamltree_node *seq = manifest_deref(v);
        char what[32];
        size_t i;
        int r;

        r = must_be(c, v, YAMLTREE_SEQ, "'images' must be a list of paths");
        if (r < 0)
                return r;
        if (seq->n == 0)
                return 0;
        m->images = calloc(seq->n + 1, sizeof *m->images);
        if (!m->images)
                return manifest_oom(c);
        for (i = 0; i < seq->n; i++) {
                snprintf(what, sizeof what, "images[%zu]", i);
                r = take_path(c, seq->items[i], what, &m->images[i]);
                if (r < 0)
                        return r;
                m->n_images++;
        }
        return 0;
}

/* ---- permissions ---- */

static int parse_permissions(struct manifest_ctx *c, const struct yamltree_node *v, struct manifest *m)
{
        int r = must_be(c, v, YAMLTREE_MAP, "'permissions' must be a mapping");

        return r < 0 ? r : manifest_permissions_json(c, v, &m->permissions_yaml);
}

/* ---- the top level ---- */

static const char *const required_keys[] = {"slug", "name", "flavor", "version", "description", "author", "license"};

static const struct {
        const char *name;
        size_t offset;
} desktop_scalars[] = {
        {"status", offsetof(struct manifest, status)},     {"type", offsetof(struct manifest, type)},
        {"icon", offsetof(struct manifest, icon)},         {"updated_at", offsetof(struct manifest, updated_at)},
        {"homepage", offsetof(struct manifest, homepage)}, {"repository", offsetof(struct manifest, repository)},
};

/* In the published schema; accepted in any shape, not kept. */
static const char *const desktop_ignored[] = {"stars", "tags", "alternativeTo", "dependencies", "readme", "i18n"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int parse_required(struct manifest_ctx *c, const char *key, const struct yamltree_node *v, struct manifest *m)
{
        char buf[80];
        size_t i;
        int r;

        if (strcmp(key, "slug") == 0) {
                r = take_text(c, v, key, false, false, &m->slug);
                if (r == 0 && !manifest_slug_valid(m->slug))
                        r = error_set(c->err, STACK_EREJECT,
                                      "stack.yaml: slug '%s' does not match [a-z0-9][a-z0-9._-]{0,62} (line %zu)",
                                      show(v, buf, sizeof buf), v->line);
                return r;
        }
        if (strcmp(key, "name") == 0)
                return take_text(c, v, key, false, false, &m->name);
        if (strcmp(key, "version") == 0)
                return take_text(c, v, key, false, false, &m->version);
        if (strcmp(key, "description") == 0)
                return take_text(c, v, key, false, true, &m->description);
        if (strcmp(key, "author") == 0)
                return take_text(c, v, key, false, true, &m->author);
        if (strcmp(key, "license") == 0)
                return take_text(c, v, key, false, true, &m->license);
        /* flavor */
        if (manifest_deref(v)->kind != YAMLTREE_SCALAR ||
            yamltree_is_null(manifest_deref(v))) /* take_text() refuses these, naming the key */
                return take_text(c, v, key, false, false, NULL);
        for (i = 0; i < COUNT(flavor_names); i++)
                if (manifest_scalar_is(v, flavor_names[i])) {
                        m->flavor = (enum manifest_flavor)i;
                        return 0;
                }
        return error_set(c->err, STACK_EREJECT,
                         "stack.yaml: flavor '%s' is not one of DockerCompose, DockerService, StaticWebsite (line %zu)",
                         show(v, buf, sizeof buf), v->line);
}

static int add_unknown(struct manifest_ctx *c, const struct yamltree_node *key, struct manifest *m)
{
        const struct yamltree_node *k = manifest_deref(key);
        char buf[80];

        m->unknown[m->n_unknown] = strndup(k->text, k->len);
        if (!m->unknown[m->n_unknown])
                return manifest_oom(c);
        m->n_unknown++;
        warn_add(c, "stack.yaml: unknown key '%s' (kept, ignored)", show(k, buf, sizeof buf));
        return 0;
}

/* settle: whole seconds, 0 to 3600 (spec/manifest.md). */
static int parse_settle(struct manifest_ctx *c, const struct yamltree_node *v, struct manifest *m)
{
        const struct yamltree_node *n = manifest_deref(v);
        char buf[16], *end = NULL;
        long x = -1;

        if (n->kind == YAMLTREE_SCALAR && n->len > 0 && n->len < sizeof buf) {
                memcpy(buf, n->text, n->len);
                buf[n->len] = 0;
                x = buf[0] >= '0' && buf[0] <= '9' ? strtol(buf, &end, 10) : -1;
        }
        if (x < 0 || x > 3600 || !end || *end)
                return error_set(c->err, STACK_EREJECT,
                                 "stack.yaml: settle must be whole seconds from 0 to 3600 (line %zu)", v->line);
        m->settle_s = (int)x;
        return 0;
}

static int parse_top(struct manifest_ctx *c, const struct yamltree_node *root, struct manifest *m)
{
        bool seen[COUNT(required_keys)] = {false};
        size_t i, k;
        int r;

        r = manifest_map_check(c, root, "");
        if (r < 0)
                return r;
        m->unknown = calloc(root->n / 2 + 1, sizeof *m->unknown);
        if (!m->unknown)
                return manifest_oom(c);
        for (i = 0; i + 1 < root->n; i += 2) {
                const struct yamltree_node *key = manifest_deref(root->items[i]), *v = root->items[i + 1];
                bool null = yamltree_is_null(manifest_deref(v)), known = false;

                for (k = 0; k < COUNT(required_keys) && !known; k++)
                        if (manifest_scalar_is(key, required_keys[k])) {
                                known = seen[k] = true;
                                r = parse_required(c, required_keys[k], v, m);
                        }
                for (k = 0; k < COUNT(desktop_scalars) && !known; k++)
                        if (manifest_scalar_is(key, desktop_scalars[k].name)) {
                                known = true;
                                if (manifest_deref(v)->kind == YAMLTREE_SCALAR)
                                        r = take_text(c, v, desktop_scalars[k].name, true, true,
                                                      (char **)((char *)m + desktop_scalars[k].offset));
                                else
                                        warn_add(c, "stack.yaml: '%s' is a %s, not a scalar (ignored)",
                                                 desktop_scalars[k].name, kind_name(v));
                        }
                for (k = 0; k < COUNT(desktop_ignored) && !known; k++)
                        known = manifest_scalar_is(key, desktop_ignored[k]);
                if (known) {
                        /* done above */
                } else if (manifest_scalar_is(key, "compose")) {
                        if (!null)
                                r = take_path(c, v, "compose", &m->compose);
                } else if (manifest_scalar_is(key, "images")) {
                        if (!null)
                                r = parse_images(c, v, m);
                } else if (manifest_scalar_is(key, "ports")) {
                        if (!null)
                                r = parse_ports(c, v, m);
                } else if (manifest_scalar_is(key, "resources")) {
                        if (!null)
                                r = parse_resources(c, v, m);
                } else if (manifest_scalar_is(key, "permissions")) {
                        if (!null)
                                r = parse_permissions(c, v, m);
                } else if (manifest_scalar_is(key, "settle")) {
                        if (!null)
                                r = parse_settle(c, v, m);
                } else {
                        r = add_unknown(c, key, m);
                }
                if (r < 0)
                        return r;
        }
        for (k = 0; k < COUNT(required_keys); k++)
                if (!seen[k])
                        return error_set(c->err, STACK_EREJECT, "stack.yaml: missing required key '%s'",
                                         required_keys[k]);
        if (m->n_unknown == 0) {
                free(m->unknown);
                m->unknown = NULL;
        }
        return 0;
}

static const struct yamltree_opts manifest_yaml = {
        .name = "stack.yaml",
        .limits = {.max_bytes = MANIFEST_MAX_SIZE,
                   .max_aliases = MANIFEST_MAX_ALIASES,
                   .max_nodes = MANIFEST_MAX_NODES,
                   .max_depth = MANIFEST_MAX_DEPTH},
        .aliases = YAMLTREE_ALIAS_REF,
        .flags = YAMLTREE_ROOT_MAPPING | YAMLTREE_ERROR_CONTEXT | YAMLTREE_OOM_NAMED,
};

int manifest_load_yaml(const void *data, size_t len, struct yamltree_node **ret, struct error *err)
{
        return yamltree_load(&manifest_yaml, data, len, ret, err);
}

int manifest_parse(const void *data, size_t len, struct manifest **ret, manifest_warn_fn warn, void *warn_ctx,
                   struct error *err)
{
        struct manifest_ctx c = {.err = err};
        struct manifest *m = NULL;
        struct yamltree_node *root = NULL;
        char *warnings[MANIFEST_MAX_WARNINGS];
        char line[128];
        size_t i;
        int r;

        if (!ret || (!data && len))
                return error_set(err, STACK_EFAIL, "manifest_parse: invalid argument");
        c.warnings = warnings;
        r = manifest_load_yaml(data, len, &root, err);
        if (r < 0)
                goto fail;
        m = calloc(1, sizeof *m);
        if (!m) {
                r = manifest_oom(&c);
                goto fail;
        }
        m->settle_s = -1;
        r = parse_top(&c, root, m);
        if (r < 0)
                goto fail;

        for (i = 0; warn && i < c.n_warnings; i++)
                warn(warn_ctx, c.warnings[i]);
        if (warn && c.n_dropped) {
                snprintf(line, sizeof line, "stack.yaml: %zu more warnings not shown", c.n_dropped);
                warn(warn_ctx, line);
        }
        *ret = m;
        m = NULL;
        r = 0;
fail:
        manifest_free(m);
        yamltree_free(root);
        for (i = 0; i < c.n_warnings; i++)
                free(c.warnings[i]);
        return r;
}
