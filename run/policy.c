/* policy.c - what a stack's compose file may ask for, and the effective compose file (spec/run.md "Policy and
 * the effective compose file").
 *
 * The compose file is read with the bounded loader (store/yamltree.h, YAMLTREE_ALIAS_COPY): nodes and aliases
 * are counted as they arrive, and an alias is expanded into a copy at the event that names it, with the copy
 * counted against the same node budget, so a billion-laughs file stops at the limit instead of growing. `<<`
 * merge keys are resolved the way PyYAML (compose v1) and go-yaml (compose v2) resolve them.
 * What is checked is therefore exactly what compose will see, and the effective file is emitted without
 * anchors, aliases or merge keys: a change made to one service can never leak into another through a shared
 * anchor.
 *
 * Checks never stop at the first refusal: every permission the file asks for is collected (result->needed),
 * the first refusal in document order is the message. Nothing touches the disk until every file (the compose
 * file and what it includes) passed: then the data dirs are made and the effective files written.
 */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "store/fsutil.h"
#include "store/yamltree.h"

#define POLICY_MAX_SIZE       (1024 * 1024)     /* bytes of one compose file */
#define POLICY_MAX_ALIASES    64                /* alias references in one file */
#define POLICY_MAX_NODES      100000            /* nodes in one file, alias copies included */
#define POLICY_MAX_DEPTH      64                /* nesting as written */
#define POLICY_MAX_COPY_DEPTH 128               /* nesting once aliases are expanded */
#define POLICY_MAX_COPY_BYTES (4 * 1024 * 1024) /* scalar bytes copied by aliases in one file */
#define POLICY_MAX_OUTPUT     (16 * 1024 * 1024)
#define POLICY_MAX_FILES      32                /* compose files reached through include / extends.file */
#define POLICY_MAX_NESTING    8                 /* include / extends.file chains */
#define POLICY_MAX_VARS       1024              /* distinct required variables */
#define EFFECTIVE_PREFIX      ".stack-effective-"
#define LOOPBACK              "127.0.0.1"
#define MIN_CPUS              0.01              /* the Engine refuses less */
#define WHO_SIZE              (PATH_MAX + 256)  /* "<included file>: service '<name>'" */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- permissions ---- */

static const struct {
        unsigned bit;
        const char *name;
} perm_names[] = {
        {PERM_PRIVILEGED, "privileged"}, {PERM_HOST_NETWORK, "host-network"}, {PERM_HOST_PID, "host-pid"},
        {PERM_HOST_IPC, "host-ipc"},     {PERM_CAP_ADD, "cap-add"},           {PERM_DEVICES, "devices"},
        {PERM_DOCKER_SOCKET, "docker-socket"}, {PERM_HOST_BIND, "host-bind"}, {PERM_LISTEN, "listen"},
};

unsigned policy_perm_from_name(const char *name)
{
        size_t i;

        for (i = 0; name && i < COUNT(perm_names); i++)
                if (strcmp(name, perm_names[i].name) == 0)
                        return perm_names[i].bit;
        return 0;
}

const char *policy_perm_name(unsigned bit)
{
        size_t i;

        for (i = 0; i < COUNT(perm_names); i++)
                if (perm_names[i].bit == bit)
                        return perm_names[i].name;
        return NULL;
}

/* ---- string lists ---- */

struct strv {
        char **v;
        size_t n, cap;
};

static int strv_add(struct strv *s, const char *str, size_t len)
{
        char *copy;

        if (s->n + 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                char **v = realloc(s->v, cap * sizeof *v);

                if (!v)
                        return -ENOMEM;
                s->v = v;
                s->cap = cap;
        }
        copy = strndup(str, len);
        if (!copy)
                return -ENOMEM;
        s->v[s->n++] = copy;
        s->v[s->n] = NULL;
        return 0;
}

static bool strv_has(const struct strv *s, const char *str, size_t len)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                if (strlen(s->v[i]) == len && memcmp(s->v[i], str, len) == 0)
                        return true;
        return false;
}

static void strv_release(struct strv *s)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        memset(s, 0, sizeof *s);
}

/* The list as a NULL-terminated array (an empty one when nothing was added); the strv is emptied. */
static char **strv_steal(struct strv *s)
{
        char **v = s->v;

        if (!v)
                v = calloc(1, sizeof *v);
        memset(s, 0, sizeof *s);
        return v;
}

static void strv_free(char **v)
{
        size_t i;

        for (i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

/* A value quoted in a message: at most ~60 bytes, control characters shown as '?'. */
static const char *show(const char *s, size_t len, char *buf, size_t size)
{
        return yamltree_show(s, len, buf, size);
}

/* ---- the tree ---- */

static const char *kind_name(const struct yamltree_node *n)
{
        return n->kind == YAMLTREE_SCALAR ? "scalar" : n->kind == YAMLTREE_SEQ ? "list" : "mapping";
}

static bool is_scalar(const struct yamltree_node *n)
{
        return n && n->kind == YAMLTREE_SCALAR;
}

static bool tag_is(const struct yamltree_node *n, const char *tag)
{
        return n->tag && strcmp(n->tag, tag) == 0;
}

/* A YAML null: plain empty, ~, null, Null, NULL (untagged), or tagged !!null. */
static bool is_null(const struct yamltree_node *n)
{
        if (!n)
                return true;
        if (n->kind != YAMLTREE_SCALAR)
                return false;
        if (tag_is(n, YAML_NULL_TAG))
                return true;
        if (n->tag || n->style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
               strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

static bool text_is(const struct yamltree_node *n, const char *s)
{
        return is_scalar(n) && n->len == strlen(s) && memcmp(n->text, s, n->len) == 0;
}

static bool text_is_ci(const struct yamltree_node *n, const char *s)
{
        return is_scalar(n) && n->len == strlen(s) && strncasecmp(n->text, s, n->len) == 0;
}

/* Compose interpolates $NAME and ${...}; $$ is a literal '$'. */
static bool has_var(const char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++) {
                if (s[i] != '$')
                        continue;
                if (i + 1 < len && s[i + 1] == '$') {
                        i++;
                        continue;
                }
                return true;
        }
        return false;
}

static bool node_has_var(const struct yamltree_node *n)
{
        return is_scalar(n) && has_var(n->text, n->len);
}

/* A value compose reads as false, or no value at all. Anything else (true, yes, a variable ...) is not. */
static bool is_false(const struct yamltree_node *n)
{
        static const char *const falses[] = {"false", "no", "off", "0"};
        size_t i;

        if (is_null(n))
                return true;
        for (i = 0; i < COUNT(falses); i++)
                if (text_is_ci(n, falses[i]))
                        return true;
        return false;
}

/* A list or mapping with something in it, or any scalar that is not null (`gpus: all`, a variable ...). */
static bool non_empty(const struct yamltree_node *n)
{
        if (is_null(n))
                return false;
        return n->kind == YAMLTREE_SCALAR || n->n > 0;
}

static struct yamltree_node *node_new(enum yamltree_kind kind)
{
        struct yamltree_node *n = calloc(1, sizeof *n);

        if (n)
                n->kind = kind;
        return n;
}

static struct yamltree_node *scalar_new(const char *text, size_t len, int style)
{
        struct yamltree_node *n = node_new(YAMLTREE_SCALAR);

        if (!n)
                return NULL;
        n->text = strndup(text, len);
        if (!n->text) {
                free(n);
                return NULL;
        }
        n->len = len;
        n->style = style;
        return n;
}

static void scalar_replace(struct yamltree_node *n, char *text, int style)
{
        free(n->text);
        free(n->tag);
        n->tag = NULL;
        n->text = text;
        n->len = strlen(text);
        n->style = style;
}

static int node_append(struct yamltree_node *parent, struct yamltree_node *n)
{
        if (parent->n == parent->cap) {
                size_t cap = parent->cap ? parent->cap * 2 : 8;
                struct yamltree_node **items = realloc(parent->items, cap * sizeof *items);

                if (!items)
                        return -ENOMEM;
                parent->items = items;
                parent->cap = cap;
        }
        parent->items[parent->n++] = n;
        return 0;
}

static ssize_t map_index(const struct yamltree_node *m, const char *key)
{
        size_t i;

        if (!m || m->kind != YAMLTREE_MAP)
                return -1;
        for (i = 0; i + 1 < m->n; i += 2)
                if (text_is(m->items[i], key))
                        return (ssize_t)i;
        return -1;
}

static struct yamltree_node *map_get(const struct yamltree_node *m, const char *key)
{
        ssize_t i = map_index(m, key);

        return i < 0 ? NULL : m->items[i + 1];
}

/* Set key to v (owned from here on, also on failure), replacing what was there. */
static int map_set(struct yamltree_node *m, const char *key, int key_style, struct yamltree_node *v)
{
        ssize_t i = map_index(m, key);
        struct yamltree_node *k;

        if (!v)
                return -ENOMEM;
        if (i >= 0) {
                yamltree_free(m->items[i + 1]);
                m->items[i + 1] = v;
                return 0;
        }
        k = scalar_new(key, strlen(key), key_style);
        if (!k || node_append(m, k) < 0) {
                yamltree_free(k);
                yamltree_free(v);
                return -ENOMEM;
        }
        if (node_append(m, v) < 0) {
                yamltree_free(m->items[--m->n]);
                yamltree_free(v);
                return -ENOMEM;
        }
        return 0;
}

static int map_set_text(struct yamltree_node *m, const char *key, const char *text, int style)
{
        return map_set(m, key, YAML_PLAIN_SCALAR_STYLE, scalar_new(text, strlen(text), style));
}

/* Remove key (and free its value); returns the value instead when steal is set. */
static struct yamltree_node *map_del(struct yamltree_node *m, const char *key, bool steal)
{
        ssize_t i = map_index(m, key);
        struct yamltree_node *v;

        if (i < 0)
                return NULL;
        v = m->items[i + 1];
        yamltree_free(m->items[i]);
        memmove(m->items + i, m->items + i + 2, (m->n - (size_t)i - 2) * sizeof *m->items);
        m->n -= 2;
        if (steal)
                return v;
        yamltree_free(v);
        return NULL;
}

/* ---- parsing: events -> tree, aliases copied within budget, merge keys resolved (yamltree.h) ---- */

static int oom(struct error *err)
{
        return error_set(err, STACK_EFAIL, "out of memory");
}

static int parse_yaml(const char *name, const char *data, size_t len, struct yamltree_node **ret, struct error *err)
{
        const struct yamltree_opts opts = {
                .name = name,
                .limits = {.max_bytes = POLICY_MAX_SIZE, .max_aliases = POLICY_MAX_ALIASES,
                           .max_nodes = POLICY_MAX_NODES, .max_depth = POLICY_MAX_DEPTH,
                           .max_copy_depth = POLICY_MAX_COPY_DEPTH, .max_copy_bytes = POLICY_MAX_COPY_BYTES},
                .aliases = YAMLTREE_ALIAS_COPY,
                .flags = YAMLTREE_MERGE,
        };

        return yamltree_load(&opts, data, len, ret, err);
}

/* ---- emitting ---- */

struct obuf {
        char *p;
        size_t len, cap;
        bool toobig;
};

static int obuf_write(void *data, unsigned char *buffer, size_t size)
{
        struct obuf *b = data;

        if (size > POLICY_MAX_OUTPUT - b->len) {
                b->toobig = true;
                return 0;
        }
        if (b->len + size + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                char *p;

                while (cap < b->len + size + 1)
                        cap *= 2;
                p = realloc(b->p, cap);
                if (!p)
                        return 0;
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->len, buffer, size);
        b->len += size;
        b->p[b->len] = 0;
        return 1;
}

static int emit_node(yaml_emitter_t *e, const struct yamltree_node *n)
{
        yaml_char_t *tag = (yaml_char_t *)n->tag;
        yaml_event_t ev;
        size_t i;
        int ok;

        if (n->kind == YAMLTREE_SCALAR) {
                const char *text = n->text;
                size_t len = n->len;

                /* an empty plain scalar is a null; in a flow collection libyaml would write '' (a string) */
                if (len == 0 && !n->tag && n->style == YAML_PLAIN_SCALAR_STYLE) {
                        text = "null";
                        len = 4;
                }
                ok = yaml_scalar_event_initialize(&ev, NULL, tag, (yaml_char_t *)text, (int)len, !tag, !tag,
                                                  (yaml_scalar_style_t)n->style);
                return ok && yaml_emitter_emit(e, &ev) ? 0 : -1;
        }
        if (n->kind == YAMLTREE_SEQ)
                ok = yaml_sequence_start_event_initialize(&ev, NULL, tag, !tag, (yaml_sequence_style_t)n->style);
        else
                ok = yaml_mapping_start_event_initialize(&ev, NULL, tag, !tag, (yaml_mapping_style_t)n->style);
        if (!ok || !yaml_emitter_emit(e, &ev))
                return -1;
        for (i = 0; i < n->n; i++)
                if (emit_node(e, n->items[i]) < 0)
                        return -1;
        if (n->kind == YAMLTREE_SEQ)
                ok = yaml_sequence_end_event_initialize(&ev);
        else
                ok = yaml_mapping_end_event_initialize(&ev);
        return ok && yaml_emitter_emit(e, &ev) ? 0 : -1;
}

static int emit_yaml(const char *name, const struct yamltree_node *root, char **ret, size_t *ret_len, struct error *err)
{
        struct obuf b = {0};
        yaml_emitter_t e;
        yaml_event_t ev;
        int r = 0;

        if (!yaml_emitter_initialize(&e))
                return oom(err);
        yaml_emitter_set_output(&e, obuf_write, &b);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_indent(&e, 2);
        yaml_emitter_set_width(&e, -1);
        yaml_emitter_set_break(&e, YAML_LN_BREAK);
        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || !yaml_emitter_emit(&e, &ev) ||
            !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || !yaml_emitter_emit(&e, &ev) ||
            emit_node(&e, root) < 0 || !yaml_document_end_event_initialize(&ev, 1) ||
            !yaml_emitter_emit(&e, &ev) || !yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&e, &ev) ||
            !yaml_emitter_flush(&e)) {
                if (b.toobig)
                        r = error_set(err, STACK_EREJECT, "%s: larger than %d bytes once aliases are expanded", name,
                                      POLICY_MAX_OUTPUT);
                else if (e.error == YAML_MEMORY_ERROR || (e.error == YAML_WRITER_ERROR && !b.toobig))
                        r = oom(err);
                else
                        r = error_set(err, STACK_EFAIL, "%s: cannot write the effective compose file: %s", name,
                                      e.problem ? e.problem : "emitter error");
        }
        yaml_emitter_delete(&e);
        if (r < 0 || !b.p) {
                free(b.p);
                return r < 0 ? r : oom(err);
        }
        *ret = b.p;
        *ret_len = b.len;
        return 0;
}

/* ---- paths ---- */

/* Add the components of path to out (a normalised relative path, "" = the root), resolving "." and ".."
 * lexically, as compose does (os.path.abspath, filepath.Join) before the Engine sees the path. 1 when ".."
 * climbs above the root (unless clamp: then it stays at the root, as "/.." does), -ENAMETOOLONG. */
static int path_add(char *out, size_t size, const char *path, size_t len, bool clamp)
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

static void path_dirname(const char *path, char *out, size_t size)
{
        const char *slash = strrchr(path, '/');

        snprintf(out, size, "%.*s", slash ? (int)(slash - path) : 0, path);
}

/* "a/b/compose.yaml" -> "a/b/.stack-effective-compose.yaml" (also for the text as written: "./x.yaml"). */
static char *effective_name(const char *path, size_t len)
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

/* ---- the policy ---- */

struct pending {
        char *path, *data;
        size_t len;
};

struct apply {
        const struct policy_input *in;
        struct error *err;
        char run_real[PATH_MAX]; /* realpath(run_dir), "" when it cannot be resolved */
        unsigned needed;
        bool refused;
        struct strv services, vars, redirected, dirs, visiting;
        struct pending *writes;
        size_t n_writes, cap_writes, n_files;
};

struct file {
        struct apply *a;
        const char *rel;     /* the compose file, relative to the run dir */
        const char *base;    /* what relative paths in it resolve against, relative to the run dir ("" = root) */
        char prefix[PATH_MAX + 8]; /* "" for the main file, "<rel>: " for included ones */
        bool list_services;
};

struct svc_state {
        bool have_nnp;  /* security_opt already says no-new-privileges:true */
        bool nnp_off;   /* security_opt says no-new-privileges:false, and privileged is granted */
        bool nnp_reset; /* security_opt: !reset */
};

static void need(struct file *f, unsigned bit, const char *who, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* The file asks for bit: record it; refuse (first refusal wins, checking goes on) unless it is granted. */
static void need(struct file *f, unsigned bit, const char *who, const char *fmt, ...)
{
        struct apply *a = f->a;
        const char *name = policy_perm_name(bit);
        char what[512];
        va_list ap;

        a->needed |= bit;
        if (a->in->allow & bit)
                return;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        if (!a->refused)
                error_set(a->err, STACK_EREJECT, "%s: %s is not allowed (needs permission '%s': stack run --allow %s)",
                          who, what, name, name);
        a->refused = true;
}

static int malformed(struct file *f, const char *who, const char *what, const struct yamltree_node *n)
{
        return error_set(f->a->err, STACK_EREJECT, "%s: %s, not a %s (line %zu)", who, what, kind_name(n), n->line);
}

static bool is_loopback(const char *s, size_t len)
{
        size_t i;

        if ((len == 3 && memcmp(s, "::1", 3) == 0) || (len == 5 && memcmp(s, "[::1]", 5) == 0))
                return true;
        if (len < 4 || memcmp(s, "127.", 4) != 0)
                return false;
        for (i = 4; i < len; i++)
                if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

/* Positions of the ':' separators of a port or volume string, outside ${...} and [...] (an IPv6 address).
 * Returns how many there are; the last two positions go to last[0] (second to last) and last[1]; the first
 * to *first. */
static size_t split_colons(const char *s, size_t len, size_t *first, size_t last[2])
{
        size_t i, n = 0, brace = 0;
        bool bracket = false;

        for (i = 0; i < len; i++) {
                if (s[i] == '$' && i + 1 < len && s[i + 1] == '$') {
                        i++;
                } else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
                        brace++;
                        i++;
                } else if (s[i] == '}' && brace) {
                        brace--;
                } else if (s[i] == '[' && !brace) {
                        bracket = true;
                } else if (s[i] == ']' && !brace) {
                        bracket = false;
                } else if (s[i] == ':' && !brace && !bracket) {
                        if (n == 0)
                                *first = i;
                        last[0] = last[1];
                        last[1] = i;
                        n++;
                }
        }
        return n;
}

static char *concat3(const char *a, const char *b, size_t blen, const char *c)
{
        size_t la = strlen(a), lc = strlen(c);
        char *out = malloc(la + blen + lc + 1);

        if (!out)
                return NULL;
        memcpy(out, a, la);
        memcpy(out + la, b, blen);
        memcpy(out + la + blen, c, lc + 1);
        return out;
}

/* Short port syntax bound to 127.0.0.1: "80" -> "127.0.0.1::80", "8080:80" -> "127.0.0.1:8080:80",
 * "0.0.0.0:8080:80" -> "127.0.0.1:8080:80"; ranges, /udp and ${VAR} parts are kept as they are. A variable
 * that turns out to hold more colons makes the string invalid, which compose refuses: it never widens. *ret is
 * NULL when the string already binds to a loopback address. */
static int port_rewrite(const char *s, size_t len, char **ret)
{
        size_t first = 0, last[2] = {0, 0}, n = split_colons(s, len, &first, last);

        *ret = NULL;
        if (n == 0)
                *ret = concat3(LOOPBACK "::", s, len, "");
        else if (n == 1)
                *ret = concat3(LOOPBACK ":", s, len, "");
        else if (is_loopback(s, last[0]))
                return 0;
        else
                *ret = concat3(LOOPBACK ":", s + last[0] + 1, len - last[0] - 1, "");
        return *ret ? 0 : -ENOMEM;
}

static int check_port(struct file *f, const char *who, struct yamltree_node *seq, size_t i)
{
        static const char *const simple[] = {"target", "published", "host_ip", "protocol", "mode"};
        struct yamltree_node *p = seq->items[i], *host_ip, *target, *published, *protocol;
        bool listen = f->a->in->allow & PERM_LISTEN;
        char *text = NULL;
        size_t k, j;

        if (p->kind == YAMLTREE_SCALAR) {
                if (memchr(p->text, 0, p->len))
                        return error_set(f->a->err, STACK_EREJECT, "%s: ports entry contains a NUL (line %zu)", who,
                                         p->line);
                if (port_rewrite(p->text, p->len, &text) < 0)
                        return oom(f->a->err);
                if (!text)
                        return 0;
                f->a->needed |= PERM_LISTEN;
                if (listen)
                        free(text);
                else
                        scalar_replace(p, text, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                return 0;
        }
        if (p->kind != YAMLTREE_MAP)
                return malformed(f, who, "a ports entry must be a string or a mapping", p);
        host_ip = map_get(p, "host_ip");
        if (is_scalar(host_ip) && is_loopback(host_ip->text, host_ip->len))
                return 0;
        f->a->needed |= PERM_LISTEN;
        if (listen)
                return 0;
        for (k = 0; k + 1 < p->n; k += 2) {
                for (j = 0; j < COUNT(simple) && !text_is(p->items[k], simple[j]); j++)
                        ;
                if (j == COUNT(simple)) /* name, app_protocol ...: compose v2 only, and it has host_ip */
                        return map_set_text(p, "host_ip", LOOPBACK, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0
                                       ? oom(f->a->err)
                                       : 0;
        }
        /* compose v1 knows no host_ip: the short syntax says the same to both */
        target = map_get(p, "target");
        published = map_get(p, "published");
        protocol = map_get(p, "protocol");
        if (!is_scalar(target) || is_null(target))
                return error_set(f->a->err, STACK_EREJECT, "%s: ports entry without a target (line %zu)", who,
                                 p->line);
        if ((published && !is_null(published) && !is_scalar(published)) || (protocol && !is_scalar(protocol)))
                return error_set(f->a->err, STACK_EREJECT, "%s: ports entry with a non-scalar value (line %zu)",
                                 who, p->line);
        if (published && is_null(published))
                published = NULL;
        if (protocol && is_null(protocol))
                protocol = NULL;
        if (asprintf(&text, LOOPBACK ":%.*s:%.*s%s%.*s", published ? (int)published->len : 0,
                     published ? published->text : "", (int)target->len, target->text, protocol ? "/" : "",
                     protocol ? (int)protocol->len : 0, protocol ? protocol->text : "") < 0)
                return oom(f->a->err);
        /* the mapping becomes the string, in place */
        for (k = 0; k < p->n; k++)
                yamltree_free(p->items[k]);
        free(p->items);
        p->items = NULL;
        p->n = p->cap = 0;
        p->kind = YAMLTREE_SCALAR;
        scalar_replace(p, text, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return 0;
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

static bool shipped(const struct apply *a, const char *rel)
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

enum path_kind {
        PATH_VAR,    /* set by a variable: anything */
        PATH_HOST,   /* absolute or ~ */
        PATH_ESCAPE, /* relative, climbs out of the run dir */
        PATH_INSIDE, /* relative, inside the run dir: rel */
};

static int classify_path(struct file *f, const char *who, const struct yamltree_node *n, char *rel, size_t size,
                         enum path_kind *ret)
{
        int r;

        if (memchr(n->text, 0, n->len))
                return error_set(f->a->err, STACK_EREJECT, "%s: a path contains a NUL (line %zu)", who, n->line);
        if (has_var(n->text, n->len)) {
                *ret = PATH_VAR;
                return 0;
        }
        if (n->text[0] == '/' || n->text[0] == '~') {
                *ret = PATH_HOST;
                return 0;
        }
        snprintf(rel, size, "%s", f->base);
        r = path_add(rel, size, n->text, n->len, false);
        if (r < 0)
                return error_set(f->a->err, STACK_EREJECT, "%s: path too long (line %zu)", who, n->line);
        *ret = r == 1 || !stays_inside(f->a, rel) ? PATH_ESCAPE : PATH_INSIDE;
        return 0;
}

/* A file compose reads from the host on the stack's behalf (env_file, build context, secret file ...): it
 * must stay in the run dir unless host-bind is granted. */
static int check_host_path(struct file *f, const char *who, const char *key, const struct yamltree_node *n)
{
        char rel[PATH_MAX], buf[80];
        enum path_kind kind = PATH_VAR;
        int r;

        if (is_null(n))
                return 0;
        if (n->kind != YAMLTREE_SCALAR)
                return error_set(f->a->err, STACK_EREJECT, "%s: %s must be a path, not a %s (line %zu)", who, key,
                                 kind_name(n), n->line);
        r = classify_path(f, who, n, rel, sizeof rel, &kind);
        if (r < 0)
                return r;
        show(n->text, n->len, buf, sizeof buf);
        if (kind == PATH_VAR)
                need(f, PERM_HOST_BIND, who, "%s '%s' (set by a variable)", key, buf);
        else if (kind == PATH_HOST)
                need(f, PERM_HOST_BIND, who, "%s '%s' (a host path)", key, buf);
        else if (kind == PATH_ESCAPE)
                need(f, PERM_HOST_BIND, who, "%s '%s' (outside the run dir)", key, buf);
        return 0;
}

static bool is_url(const struct yamltree_node *n)
{
        return is_scalar(n) && (strstr(n->text, "://") || strncmp(n->text, "git@", 4) == 0 ||
                                strncmp(n->text, "github.com/", 11) == 0);
}

/* An absolute bind source: the Docker socket, or a host path. */
static void check_host_bind(struct file *f, const char *who, const char *src, size_t len)
{
        static const char *const sockets[] = {"/var/run/docker.sock", "/run/docker.sock"};
        static const char *const above[] = {"/", "/run", "/var", "/var/run"};
        char norm[PATH_MAX] = "", path[PATH_MAX + 1], buf[80];
        const char *base;
        size_t i;

        show(src, len, buf, sizeof buf);
        if (src[0] == '~') {
                need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path)", buf);
                return;
        }
        if (path_add(norm, sizeof norm, src, len, true) < 0) {
                need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path)", buf);
                return;
        }
        snprintf(path, sizeof path, "/%s", norm);
        for (i = 0; i < COUNT(sockets); i++)
                if (strcmp(path, sockets[i]) == 0) {
                        need(f, PERM_DOCKER_SOCKET, who, "volumes: bind of %s", buf);
                        return;
                }
        base = strrchr(path, '/') + 1;
        for (i = 0; i < COUNT(above); i++)
                if (strcmp(path, above[i]) == 0)
                        base = "docker.sock";
        if (strcmp(base, "docker.sock") == 0 || strcmp(base, "podman.sock") == 0)
                need(f, PERM_DOCKER_SOCKET, who, "volumes: bind of %s (it holds the Docker socket)", buf);
        need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path)", buf);
}

/* compose interpolates bind sources: a '$' in a path of ours must be written "$$". */
static char *escape_dollars(const char *s)
{
        size_t i, o = 0, n = strlen(s);
        char *out = malloc(2 * n + 1);

        if (!out)
                return NULL;
        for (i = 0; i < n; i++) {
                out[o++] = s[i];
                if (s[i] == '$')
                        out[o++] = '$';
        }
        out[o] = 0;
        return out;
}

/* A bind mount's source as written: refused, kept, or (a path the bundle does not ship) redirected into the
 * data dir. *ret_new is then the new source (absolute, '$' doubled). */
static int check_bind_source(struct file *f, const char *who, const char *service, const struct yamltree_node *n,
                             const char *src, size_t len, bool short_syntax, char **ret_new)
{
        struct apply *a = f->a;
        char rel[PATH_MAX], target[PATH_MAX], buf[80], *line = NULL;
        struct yamltree_node tmp = *n;
        enum path_kind kind = PATH_VAR;
        int r;

        *ret_new = NULL;
        tmp.text = (char *)src; /* classify the source part of a short-syntax string */
        tmp.len = len;
        r = classify_path(f, who, &tmp, rel, sizeof rel, &kind);
        if (r < 0)
                return r;
        show(src, len, buf, sizeof buf);
        switch (kind) {
        case PATH_VAR:
                need(f, PERM_HOST_BIND, who, "volumes: bind of '%s' (set by a variable)", buf);
                return 0;
        case PATH_HOST:
                check_host_bind(f, who, src, len);
                return 0;
        case PATH_ESCAPE:
                need(f, PERM_HOST_BIND, who, "volumes: bind of %s (outside the run dir)", buf);
                return 0;
        case PATH_INSIDE:
                break;
        }
        if (shipped(a, rel))
                return 0;
        if (short_syntax && strchr(a->in->data_dir, ':'))
                return error_set(a->err, STACK_EFAIL, "the data dir %s has a ':' in its path: compose cannot bind it",
                                 a->in->data_dir);
        if (fs_path(target, sizeof target, "%s/%s", a->in->data_dir, rel) < 0)
                return error_set(a->err, STACK_EREJECT, "%s: volumes: %s: path too long", who, buf);
        if (asprintf(&line, "%s: %.*s -> %s", service, (int)len, src, target) < 0)
                return oom(a->err);
        r = strv_add(&a->redirected, line, strlen(line));
        free(line);
        if (r == 0)
                r = strv_add(&a->dirs, rel, strlen(rel));
        if (r == 0 && !(*ret_new = escape_dollars(target)))
                r = -ENOMEM;
        return r < 0 ? oom(a->err) : 0;
}

static int check_volume(struct file *f, const char *who, const char *service, struct yamltree_node *v)
{
        static const char *const sourceless[] = {"volume", "tmpfs", "image", "cluster"};
        struct yamltree_node *type, *src;
        size_t first = 0, last[2], i;
        char *new_src = NULL, *text, buf[80];
        int r;

        if (v->kind == YAMLTREE_SCALAR) {
                if (split_colons(v->text, v->len, &first, last) == 0) {
                        /* an anonymous volume, unless a variable makes it "SRC:DST" */
                        if (has_var(v->text, v->len))
                                need(f, PERM_HOST_BIND, who, "volumes: '%s' (set by a variable)",
                                     show(v->text, v->len, buf, sizeof buf));
                        return 0;
                }
                if (first == 0)
                        return 0;
                if (!strchr("/.~", v->text[0]) && !has_var(v->text, first))
                        return 0; /* a named volume */
                r = check_bind_source(f, who, service, v, v->text, first, true, &new_src);
                if (r < 0 || !new_src)
                        return r;
                text = concat3(new_src, v->text + first, v->len - first, ""); /* keep ":DST[:MODE]" */
                free(new_src);
                if (!text)
                        return oom(f->a->err);
                scalar_replace(v, text, v->style);
                return 0;
        }
        if (v->kind != YAMLTREE_MAP)
                return malformed(f, who, "a volumes entry must be a string or a mapping", v);
        type = map_get(v, "type");
        if (is_scalar(type) && !has_var(type->text, type->len))
                for (i = 0; i < COUNT(sourceless); i++)
                        if (text_is(type, sourceless[i]))
                                return 0;
        src = map_get(v, "source");
        if (is_null(src))
                return 0;
        if (src->kind != YAMLTREE_SCALAR)
                return malformed(f, who, "volumes: source must be a path", src);
        r = check_bind_source(f, who, service, src, src->text, src->len, false, &new_src);
        if (r < 0 || !new_src)
                return r;
        scalar_replace(src, new_src, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return 0;
}

static int check_list(struct file *f, const char *who, const char *key, struct yamltree_node *v,
                      int (*each)(struct file *, const char *, const char *, struct yamltree_node *, size_t),
                      const char *service)
{
        char what[96];
        size_t i;
        int r;

        if (is_null(v))
                return 0;
        if (v->kind != YAMLTREE_SEQ) {
                snprintf(what, sizeof what, "%s must be a list", key);
                return malformed(f, who, what, v);
        }
        for (i = 0; i < v->n; i++) {
                r = each(f, who, service, v, i);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int each_volume(struct file *f, const char *who, const char *service, struct yamltree_node *seq, size_t i)
{
        return check_volume(f, who, service, seq->items[i]);
}

static int each_port(struct file *f, const char *who, const char *service, struct yamltree_node *seq, size_t i)
{
        return check_port(f, who, seq, i);
}

static int each_env_file(struct file *f, const char *who, const char *service, struct yamltree_node *seq, size_t i)
{
        const struct yamltree_node *e = seq->items[i];

        return check_host_path(f, who, "env_file", e->kind == YAMLTREE_MAP ? map_get(e, "path") : e);
}

static int check_env_file(struct file *f, const char *who, struct yamltree_node *v)
{
        if (is_scalar(v))
                return check_host_path(f, who, "env_file", v);
        return check_list(f, who, "env_file", v, each_env_file, NULL);
}

static int check_security_opt(struct file *f, const char *who, const struct yamltree_node *v, struct svc_state *st)
{
        char buf[80];
        size_t i;

        if (is_null(v))
                return 0;
        if (v->kind != YAMLTREE_SEQ)
                return malformed(f, who, "security_opt must be a list", v);
        if (tag_is(v, "!reset")) { /* compose ignores what it holds */
                st->nnp_reset = true;
                return 0;
        }
        for (i = 0; i < v->n; i++) {
                const struct yamltree_node *o = v->items[i];
                const char *val;

                if (o->kind != YAMLTREE_SCALAR)
                        return malformed(f, who, "a security_opt entry must be a string", o);
                show(o->text, o->len, buf, sizeof buf);
                if (!has_var(o->text, o->len) && strncmp(o->text, "no-new-privileges", 17) == 0 &&
                    (o->text[17] == 0 || o->text[17] == ':' || o->text[17] == '=')) {
                        val = o->text[17] ? o->text + 18 : "true";
                        if (strcasecmp(val, "true") == 0 || strcmp(val, "1") == 0) {
                                st->have_nnp = true;
                                continue;
                        }
                        need(f, PERM_PRIVILEGED, who, "security_opt: %s", buf);
                        if (f->a->in->allow & PERM_PRIVILEGED)
                                st->nnp_off = true;
                        continue;
                }
                /* seccomp / apparmor / label / systempaths and anything else only ever loosen the sandbox */
                need(f, PERM_PRIVILEGED, who, "security_opt: %s", buf);
        }
        return 0;
}

/* A list or mapping we add to: `!reset` (compose v2) would drop what we add, `!override` keeps it. */
static int prepare_append(struct yamltree_node *n)
{
        size_t i;

        if (!tag_is(n, "!reset"))
                return 0;
        for (i = 0; i < n->n; i++)
                yamltree_free(n->items[i]);
        n->n = 0;
        free(n->tag);
        n->tag = strdup("!override");
        return n->tag ? 0 : -ENOMEM;
}

static int apply_security_opt(struct file *f, const char *who, struct yamltree_node *svc, const struct svc_state *st)
{
        struct yamltree_node *v = map_get(svc, "security_opt"), *item;

        if (st->have_nnp || st->nnp_off)
                return 0;
        if (is_null(v)) {
                if (map_set(svc, "security_opt", YAML_PLAIN_SCALAR_STYLE, node_new(YAMLTREE_SEQ)) < 0)
                        return oom(f->a->err);
                v = map_get(svc, "security_opt");
        }
        if (prepare_append(v) < 0)
                return oom(f->a->err);
        item = scalar_new("no-new-privileges:true", 22, YAML_PLAIN_SCALAR_STYLE);
        if (!item || node_append(v, item) < 0) {
                yamltree_free(item);
                return oom(f->a->err);
        }
        return 0;
}

/* ---- resource limits ---- */


/* A CPU limit > 0 ("0.5", 2). Absent, 0 (no limit), a variable or junk: false. */
static bool parse_cpus(const struct yamltree_node *n, double *ret)
{
        uint64_t whole = 0;
        double frac = 0;

        if (!is_scalar(n) || !n->len || yamltree_parse_decimal(n->text, n->len, &whole, &frac) != n->len || whole + frac <= 0)
                return false;
        *ret = (double)whole + frac;
        return true;
}

/* Bytes > 0 as the Engine's RAMInBytes reads them: 512m, 1g, 1.5GiB, 1048576 (binary units). */
static bool parse_bytes(const struct yamltree_node *n, uint64_t *ret)
{
        static const char units[] = "kmgtp";
        uint64_t whole, mult = 1, bytes;
        double frac;
        const char *u;
        size_t i;

        if (!is_scalar(n) || !(i = yamltree_parse_decimal(n->text, n->len, &whole, &frac)))
                return false;
        if (i < n->len && n->text[i] == ' ')
                i++;
        if (i < n->len && (u = memchr(units, n->text[i] | 0x20, 5))) {
                for (size_t k = 0; k <= (size_t)(u - units); k++)
                        mult *= 1024;
                i++;
        }
        if (i < n->len && (n->text[i] | 0x20) == 'i')
                i++;
        if (i < n->len && (n->text[i] | 0x20) == 'b')
                i++;
        if (i != n->len || whole > UINT64_MAX / mult)
                return false;
        bytes = whole * mult + (uint64_t)(frac * (double)mult);
        if (bytes < whole * mult || bytes == 0)
                return false;
        *ret = bytes;
        return true;
}

/* A count > 0 (pids_limit, cpu_quota). -1 and 0 mean no limit: false. */
static bool parse_count(const struct yamltree_node *n, uint64_t *ret)
{
        uint64_t whole = 0;
        double frac = 0;

        if (!is_scalar(n) || !n->len || yamltree_parse_decimal(n->text, n->len, &whole, &frac) != n->len || whole == 0 ||
            memchr(n->text, '.', n->len))
                return false;
        *ret = whole;
        return true;
}

static int set_number(struct yamltree_node *m, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int set_number(struct yamltree_node *m, const char *key, const char *fmt, ...)
{
        char buf[64];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        return map_set_text(m, key, buf, YAML_PLAIN_SCALAR_STYLE);
}

static void format_cpus(double v, char *buf, size_t size)
{
        size_t n;

        if (v < MIN_CPUS)
                v = MIN_CPUS;
        snprintf(buf, size, "%.6f", v);
        n = strlen(buf);
        while (n > 1 && buf[n - 1] == '0')
                buf[--n] = 0;
        if (n > 1 && buf[n - 1] == '.')
                buf[--n] = 0;
}

/* The stack's limits on every service, unless the service sets tighter ones. The service-level keys are the
 * ones compose v1 and v2 both honour; deploy.resources.limits (v2 only, and v2 refuses the two when they
 * differ) is folded into them and dropped. */
static int apply_limits(struct file *f, struct yamltree_node *svc)
{
        const struct manifest_resources *res = &f->a->in->m->resources;
        struct yamltree_node *deploy, *resources, *limits, *resv, *n;
        char buf[64];
        uint64_t mem = res->memory, pids = res->pids, u, period = 100000;
        double cpus = res->cpus, d;
        int r = 0;

        if (!(cpus > 0) && !mem && !pids)
                return 0;
        deploy = map_get(svc, "deploy");
        resources = deploy && deploy->kind == YAMLTREE_MAP ? map_get(deploy, "resources") : NULL;
        resources = resources && resources->kind == YAMLTREE_MAP ? resources : NULL;
        limits = map_get(resources, "limits");
        limits = limits && limits->kind == YAMLTREE_MAP ? limits : NULL;
        resv = map_get(resources, "reservations");
        resv = resv && resv->kind == YAMLTREE_MAP ? resv : NULL;

        if (cpus > 0) {
                if (parse_cpus(map_get(svc, "cpus"), &d) && d < cpus)
                        cpus = d;
                if (parse_cpus(map_get(limits, "cpus"), &d) && d < cpus)
                        cpus = d;
                /* the Engine refuses a CPU quota next to a CPU count: fold it in */
                n = map_get(svc, "cpu_period");
                if (n && !parse_count(n, &period))
                        period = 0;
                if (period && parse_count(map_get(svc, "cpu_quota"), &u) && (double)u / (double)period < cpus)
                        cpus = (double)u / (double)period;
                map_del(svc, "cpu_quota", false);
                map_del(svc, "cpu_period", false);
                format_cpus(cpus, buf, sizeof buf);
                r = map_set_text(svc, "cpus", buf, YAML_PLAIN_SCALAR_STYLE);
        } else if (limits && map_get(limits, "cpus") && !map_get(svc, "cpus")) {
                r = map_set(svc, "cpus", YAML_PLAIN_SCALAR_STYLE, map_del(limits, "cpus", true));
        }
        if (r == 0 && mem) {
                if (parse_bytes(map_get(svc, "mem_limit"), &u) && u < mem)
                        mem = u;
                if (parse_bytes(map_get(limits, "memory"), &u) && u < mem)
                        mem = u;
                r = set_number(svc, "mem_limit", "%llu", (unsigned long long)mem);
                /* a reservation above the limit makes the Engine refuse the container */
                if (r == 0 && parse_bytes(map_get(svc, "mem_reservation"), &u) && u > mem)
                        r = set_number(svc, "mem_reservation", "%llu", (unsigned long long)mem);
                if (r == 0 && parse_bytes(map_get(resv, "memory"), &u) && u > mem) {
                        snprintf(buf, sizeof buf, "%llu", (unsigned long long)mem);
                        r = map_set_text(resv, "memory", buf, YAML_SINGLE_QUOTED_SCALAR_STYLE);
                }
        } else if (r == 0 && limits && map_get(limits, "memory") && !map_get(svc, "mem_limit")) {
                r = map_set(svc, "mem_limit", YAML_PLAIN_SCALAR_STYLE, map_del(limits, "memory", true));
        }
        if (r == 0 && pids) {
                if (parse_count(map_get(svc, "pids_limit"), &u) && u < pids)
                        pids = u;
                if (parse_count(map_get(limits, "pids"), &u) && u < pids)
                        pids = u;
                r = set_number(svc, "pids_limit", "%llu", (unsigned long long)pids);
        } else if (r == 0 && limits && map_get(limits, "pids") && !map_get(svc, "pids_limit")) {
                r = map_set(svc, "pids_limit", YAML_PLAIN_SCALAR_STYLE, map_del(limits, "pids", true));
        }
        if (r == 0 && limits) {
                map_del(resources, "limits", false);
                if (resources->n == 0)
                        map_del(deploy, "resources", false);
                if (deploy->n == 0)
                        map_del(svc, "deploy", false);
        }
        return r < 0 ? oom(f->a->err) : 0;
}

/* ---- labels ---- */

static int apply_labels(struct file *f, const char *who, struct yamltree_node *svc)
{
        const char *const *l = f->a->in->labels;
        struct yamltree_node *v;
        size_t i, k;
        int r = 0;

        if (!l || !*l)
                return 0;
        v = map_get(svc, "labels");
        if (is_null(v)) {
                if (map_set(svc, "labels", YAML_PLAIN_SCALAR_STYLE, node_new(YAMLTREE_MAP)) < 0)
                        return oom(f->a->err);
                v = map_get(svc, "labels");
        }
        if (v->kind == YAMLTREE_SCALAR)
                return malformed(f, who, "labels must be a mapping or a list", v);
        if (prepare_append(v) < 0)
                return oom(f->a->err);
        for (i = 0; l[i] && r == 0; i++) {
                const char *eq = strchr(l[i], '=');
                size_t klen = eq ? (size_t)(eq - l[i]) : strlen(l[i]);
                char *key = strndup(l[i], klen), *val = escape_dollars(eq ? eq + 1 : ""), *item = NULL;

                if (!key || !val) {
                        r = -ENOMEM;
                } else if (v->kind == YAMLTREE_MAP) {
                        r = map_set(v, key, YAML_DOUBLE_QUOTED_SCALAR_STYLE,
                                    scalar_new(val, strlen(val), YAML_DOUBLE_QUOTED_SCALAR_STYLE));
                } else if (asprintf(&item, "%s=%s", key, val) < 0) {
                        item = NULL;
                        r = -ENOMEM;
                } else {
                        struct yamltree_node *n = NULL;

                        for (k = 0; k < v->n; k++) {
                                struct yamltree_node *e = v->items[k];

                                if (is_scalar(e) && e->len >= klen && memcmp(e->text, key, klen) == 0 &&
                                    (e->len == klen || e->text[klen] == '='))
                                        break;
                        }
                        if (k < v->n) {
                                scalar_replace(v->items[k], item, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                                item = NULL;
                        } else if (!(n = scalar_new(item, strlen(item), YAML_DOUBLE_QUOTED_SCALAR_STYLE)) ||
                                   node_append(v, n) < 0) {
                                yamltree_free(n);
                                r = -ENOMEM;
                        }
                }
                free(item);
                free(key);
                free(val);
        }
        return r < 0 ? oom(f->a->err) : 0;
}

/* ---- build, extends, include: files compose reads on the stack's behalf ---- */

static int check_file(struct apply *a, const char *path, const char *rel, const char *base, bool list_services,
                      char **ret, size_t *ret_len);

static int pending_add(struct apply *a, char *path, char *data, size_t len)
{
        size_t i;

        for (i = 0; i < a->n_writes; i++) {
                if (strcmp(a->writes[i].path, path) != 0)
                        continue;
                if (a->writes[i].len != len || memcmp(a->writes[i].data, data, len) != 0) {
                        error_set(a->err, STACK_EREJECT,
                                  "%s would be written twice with different content (a file included from two "
                                  "project directories)",
                                  path);
                        free(path);
                        free(data);
                        return -STACK_EREJECT;
                }
                free(path);
                free(data);
                return 0;
        }
        if (a->n_writes == a->cap_writes) {
                size_t cap = a->cap_writes ? a->cap_writes * 2 : 4;
                struct pending *w = realloc(a->writes, cap * sizeof *w);

                if (!w) {
                        free(path);
                        free(data);
                        return oom(a->err);
                }
                a->writes = w;
                a->cap_writes = cap;
        }
        a->writes[a->n_writes++] = (struct pending){.path = path, .data = data, .len = len};
        return 0;
}

/* Another compose file named by this one (include, extends.file): it must ship in the bundle; it is checked
 * with the same policy, its effective copy goes next to it, and the reference is rewritten to the copy.
 * project_dir (relative to the run dir, or NULL: the file's own dir) is what its relative paths resolve
 * against. */
static int check_subfile(struct file *f, const char *who, struct yamltree_node *n, const char *project_dir,
                         bool list_services)
{
        struct apply *a = f->a;
        char rel[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], buf[80], *data = NULL, *out = NULL, *text;
        const struct tree_entry *e;
        enum path_kind kind = PATH_VAR;
        size_t len = 0;
        int r;

        if (n->kind != YAMLTREE_SCALAR || is_null(n))
                return malformed(f, who, "a compose file path must be a string", n);
        r = classify_path(f, who, n, rel, sizeof rel, &kind);
        if (r < 0)
                return r;
        show(n->text, n->len, buf, sizeof buf);
        if (kind != PATH_INSIDE)
                return error_set(a->err, STACK_EREJECT,
                                 "%s: compose file '%s' is %s: included compose files must ship in the bundle", who,
                                 buf, kind == PATH_VAR ? "set by a variable" : "outside the run dir");
        e = tree_find(a->in->tree, rel);
        if (!e || e->type == ENTRY_DIR)
                return error_set(a->err, STACK_EREJECT, "%s: compose file '%s' is not a file in the bundle", who, buf);
        if (strv_has(&a->visiting, rel, strlen(rel)))
                return error_set(a->err, STACK_EREJECT, "%s: compose file '%s' includes itself", who, buf);
        if (a->visiting.n >= POLICY_MAX_NESTING || ++a->n_files > POLICY_MAX_FILES)
                return error_set(a->err, STACK_EREJECT, "%s: more than %d compose files, or nested deeper than %d",
                                 who, POLICY_MAX_FILES, POLICY_MAX_NESTING);
        if (project_dir)
                snprintf(dir, sizeof dir, "%s", project_dir);
        else
                path_dirname(rel, dir, sizeof dir);
        if (fs_path(path, sizeof path, "%s/%s", a->in->run_dir, rel) < 0)
                return error_set(a->err, STACK_EREJECT, "%s: compose file '%s': path too long", who, buf);
        r = check_file(a, path, rel, dir, list_services, &data, &len);
        if (r < 0 || a->refused)
                return r;
        out = effective_name(path, strlen(path));
        text = effective_name(n->text, n->len);
        if (!out || !text) {
                free(out);
                free(text);
                free(data);
                return oom(a->err);
        }
        scalar_replace(n, text, n->style);
        return pending_add(a, out, data, len);
}

static int check_includes(struct file *f, struct yamltree_node *v)
{
        char who[WHO_SIZE], rel[PATH_MAX], first_dir[PATH_MAX], buf[80];
        struct yamltree_node *item, *path, *pd, *env;
        enum path_kind kind = PATH_VAR;
        size_t i, j;
        int r = 0;

        snprintf(who, sizeof who, "%sinclude", f->prefix);
        if (is_null(v))
                return 0;
        if (v->kind != YAMLTREE_SEQ)
                return malformed(f, who, "include must be a list", v);
        for (i = 0; i < v->n && r == 0; i++) {
                const char *project = NULL;

                item = v->items[i];
                if (item->kind == YAMLTREE_SCALAR) {
                        r = check_subfile(f, who, item, NULL, true);
                        continue;
                }
                if (item->kind != YAMLTREE_MAP)
                        return malformed(f, who, "an include entry must be a path or a mapping", item);
                path = map_get(item, "path");
                pd = map_get(item, "project_directory");
                env = map_get(item, "env_file");
                if (!path || is_null(path))
                        return error_set(f->a->err, STACK_EREJECT, "%s: entry without a path (line %zu)", who,
                                         item->line);
                if (pd && !is_null(pd)) {
                        if (pd->kind != YAMLTREE_SCALAR)
                                return malformed(f, who, "project_directory must be a path", pd);
                        r = classify_path(f, who, pd, rel, sizeof rel, &kind);
                        if (r < 0)
                                return r;
                        if (kind != PATH_INSIDE)
                                return error_set(f->a->err, STACK_EREJECT,
                                                 "%s: project_directory '%s' is outside the run dir", who,
                                                 show(pd->text, pd->len, buf, sizeof buf));
                        project = rel;
                } else {
                        /* compose: the directory of the first file in path */
                        struct yamltree_node *p0 = path->kind == YAMLTREE_SEQ && path->n ? path->items[0] : path;

                        if (is_scalar(p0) && classify_path(f, who, p0, first_dir, sizeof first_dir, &kind) == 0 &&
                            kind == PATH_INSIDE) {
                                char *slash = strrchr(first_dir, '/');

                                if (slash)
                                        *slash = 0;
                                else
                                        first_dir[0] = 0;
                                project = first_dir;
                        }
                }
                r = check_env_file(f, who, env);
                if (r == 0 && path->kind == YAMLTREE_SEQ)
                        for (j = 0; j < path->n && r == 0; j++)
                                r = check_subfile(f, who, path->items[j], project, true);
                else if (r == 0)
                        r = check_subfile(f, who, path, project, true);
        }
        return r;
}

static int check_extends(struct file *f, const char *who, struct yamltree_node *v)
{
        struct yamltree_node *file;

        if (v->kind != YAMLTREE_MAP)
                return 0; /* a service of this file */
        file = map_get(v, "file");
        if (is_null(file))
                return 0;
        return check_subfile(f, who, file, NULL, false);
}

static int check_build(struct file *f, const char *who, struct yamltree_node *v)
{
        struct yamltree_node *n, *ctx;
        char buf[80];
        size_t i;
        int r;

        if (is_null(v))
                return 0;
        if (v->kind == YAMLTREE_SCALAR)
                return is_url(v) ? 0 : check_host_path(f, who, "build", v);
        if (v->kind != YAMLTREE_MAP)
                return malformed(f, who, "build must be a path or a mapping", v);
        ctx = map_get(v, "context");
        if (!is_url(ctx)) {
                r = check_host_path(f, who, "build.context", ctx);
                if (r < 0)
                        return r;
        }
        n = map_get(v, "privileged");
        if (!is_false(n))
                need(f, PERM_PRIVILEGED, who, "build.privileged: %s",
                     is_scalar(n) ? show(n->text, n->len, buf, sizeof buf) : kind_name(n));
        n = map_get(v, "network");
        if (is_scalar(n) && (text_is_ci(n, "host") || node_has_var(n)))
                need(f, PERM_HOST_NETWORK, who, "build.network: %s", show(n->text, n->len, buf, sizeof buf));
        n = map_get(v, "entitlements");
        for (i = 0; n && n->kind == YAMLTREE_SEQ && i < n->n; i++) {
                const struct yamltree_node *e = n->items[i];

                if (text_is(e, "network.host"))
                        need(f, PERM_HOST_NETWORK, who, "build.entitlements: network.host");
                else
                        need(f, PERM_PRIVILEGED, who, "build.entitlements: %s",
                             is_scalar(e) ? show(e->text, e->len, buf, sizeof buf) : kind_name(e));
        }
        if (n && !is_null(n) && n->kind != YAMLTREE_SEQ)
                need(f, PERM_PRIVILEGED, who, "build.entitlements: %s", kind_name(n));
        n = map_get(v, "ssh");
        if (non_empty(n))
                need(f, PERM_HOST_BIND, who, "build.ssh (the host's SSH agent or keys)");
        n = map_get(v, "additional_contexts");
        for (i = 0; n && n->kind != YAMLTREE_SCALAR && i < n->n; i++) {
                const struct yamltree_node *c = n->kind == YAMLTREE_MAP ? (i % 2 ? n->items[i] : NULL) : n->items[i];
                struct yamltree_node tmp;
                const char *eq;

                if (!is_scalar(c) || is_url(c) || strncmp(c->text, "service:", 8) == 0 ||
                    strncmp(c->text, "target:", 7) == 0)
                        continue;
                tmp = *c;
                if (n->kind == YAMLTREE_SEQ && (eq = memchr(c->text, '=', c->len))) { /* "name=path" */
                        tmp.text = (char *)eq + 1;
                        tmp.len = c->len - (size_t)(eq + 1 - c->text);
                        if (strstr(tmp.text, "://") || strncmp(tmp.text, "service:", 8) == 0)
                                continue;
                }
                r = check_host_path(f, who, "build.additional_contexts", &tmp);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- services ---- */

static void need_if_host(struct file *f, const char *who, const char *key, const struct yamltree_node *v, unsigned bit)
{
        char buf[80];

        if (is_scalar(v) && (text_is_ci(v, "host") || node_has_var(v)))
                need(f, bit, who, "%s: %s", key, show(v->text, v->len, buf, sizeof buf));
}

static void need_if_set(struct file *f, const char *who, const char *key, const struct yamltree_node *v, unsigned bit)
{
        const struct yamltree_node *first =
                v && v->kind != YAMLTREE_SCALAR && v->n ? v->items[v->kind == YAMLTREE_MAP ? 1 : 0] : v;
        char buf[80];

        if (!non_empty(v))
                return;
        if (!is_scalar(first))
                need(f, bit, who, "%s", key);
        else if (v->kind == YAMLTREE_SCALAR)
                need(f, bit, who, "%s: %s", key, show(first->text, first->len, buf, sizeof buf));
        else
                need(f, bit, who, "%s: [%s%s]", key, show(first->text, first->len, buf, sizeof buf),
                     v->n > (v->kind == YAMLTREE_MAP ? 2u : 1u) ? ", ..." : "");
}

static int check_service(struct file *f, const char *name, struct yamltree_node *svc)
{
        char who[WHO_SIZE], buf[80];
        struct svc_state st = {0};
        struct yamltree_node *n;
        size_t i;
        int r = 0;

        snprintf(who, sizeof who, "%sservice '%s'", f->prefix, name);
        for (i = 0; i + 1 < svc->n && r == 0; i += 2) {
                const struct yamltree_node *k = svc->items[i];
                struct yamltree_node *v = svc->items[i + 1];

                if (text_is(k, "privileged")) {
                        if (!is_false(v))
                                need(f, PERM_PRIVILEGED, who, "privileged: %s",
                                     is_scalar(v) ? show(v->text, v->len, buf, sizeof buf) : kind_name(v));
                } else if (text_is(k, "network_mode")) {
                        need_if_host(f, who, "network_mode", v, PERM_HOST_NETWORK);
                } else if (text_is(k, "pid")) {
                        need_if_host(f, who, "pid", v, PERM_HOST_PID);
                } else if (text_is(k, "ipc")) {
                        need_if_host(f, who, "ipc", v, PERM_HOST_IPC);
                } else if (text_is(k, "userns_mode") || text_is(k, "uts") || text_is(k, "cgroup")) {
                        need_if_host(f, who, k->text, v, PERM_PRIVILEGED);
                } else if (text_is(k, "cgroup_parent")) {
                        need_if_set(f, who, "cgroup_parent", v, PERM_PRIVILEGED);
                } else if (text_is(k, "cap_add")) {
                        need_if_set(f, who, "cap_add", v, PERM_CAP_ADD);
                } else if (text_is(k, "devices") || text_is(k, "device_cgroup_rules") || text_is(k, "gpus")) {
                        need_if_set(f, who, k->text, v, PERM_DEVICES);
                } else if (text_is(k, "security_opt")) {
                        r = check_security_opt(f, who, v, &st);
                } else if (text_is(k, "volumes")) {
                        r = check_list(f, who, "volumes", v, each_volume, name);
                } else if (text_is(k, "ports")) {
                        r = check_list(f, who, "ports", v, each_port, name);
                } else if (text_is(k, "env_file")) {
                        r = check_env_file(f, who, v);
                } else if (text_is(k, "build")) {
                        r = check_build(f, who, v);
                } else if (text_is(k, "extends")) {
                        r = check_extends(f, who, v);
                } else if (text_is(k, "deploy") && v->kind == YAMLTREE_MAP) {
                        n = map_get(map_get(map_get(v, "resources"), "reservations"), "devices");
                        need_if_set(f, who, "deploy.resources.reservations.devices", n, PERM_DEVICES);
                }
        }
        if (r == 0)
                r = apply_security_opt(f, who, svc, &st);
        if (r == 0 && f->a->in->m)
                r = apply_limits(f, svc);
        if (r == 0)
                r = apply_labels(f, who, svc);
        return r;
}

static int check_services(struct file *f, struct yamltree_node *v)
{
        char who[WHO_SIZE], name[80];
        size_t i;
        int r;

        snprintf(who, sizeof who, "%sservices", f->prefix);
        if (v->kind != YAMLTREE_MAP)
                return malformed(f, who, "'services' must be a mapping", v);
        for (i = 0; i + 1 < v->n; i += 2) {
                const struct yamltree_node *k = v->items[i];
                struct yamltree_node *svc = v->items[i + 1];

                if (memchr(k->text, 0, k->len) || k->len == 0)
                        return error_set(f->a->err, STACK_EREJECT,
                                         "%s: a service name is empty or holds a NUL (line %zu)", who, k->line);
                show(k->text, k->len, name, sizeof name);
                if (svc->kind != YAMLTREE_MAP) {
                        snprintf(who, sizeof who, "%sservice '%s'", f->prefix, name);
                        return malformed(f, who, "a service must be a mapping", svc);
                }
                if (f->list_services && strv_add(&f->a->services, k->text, k->len) < 0)
                        return oom(f->a->err);
                r = check_service(f, name, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- top-level networks, volumes, secrets, configs ---- */

static int check_networks(struct file *f, const struct yamltree_node *v)
{
        char who[WHO_SIZE], buf[80];
        size_t i;

        if (is_null(v))
                return 0;
        if (v->kind != YAMLTREE_MAP)
        {
                snprintf(who, sizeof who, "%snetworks", f->prefix);
                return malformed(f, who, "'networks' must be a mapping", v);
        }
        for (i = 0; i + 1 < v->n; i += 2) {
                const struct yamltree_node *k = v->items[i], *def = v->items[i + 1], *driver, *name, *ext;
                const struct yamltree_node *eff = NULL;

                snprintf(who, sizeof who, "%snetwork '%s'", f->prefix, show(k->text, k->len, buf, sizeof buf));
                if (def->kind != YAMLTREE_MAP)
                        continue;
                driver = map_get(def, "driver");
                if (text_is_ci(driver, "host") || text_is_ci(driver, "macvlan") || text_is_ci(driver, "ipvlan") ||
                    node_has_var(driver))
                        need(f, PERM_HOST_NETWORK, who, "driver: %s", show(driver->text, driver->len, buf, sizeof buf));
                name = map_get(def, "name");
                ext = map_get(def, "external");
                if (is_scalar(name) && !is_null(name))
                        eff = name;
                else if (ext && ext->kind == YAMLTREE_MAP && is_scalar(map_get(ext, "name")))
                        eff = map_get(ext, "name");
                else if (ext && !is_false(ext))
                        eff = k;
                if (eff && (text_is(eff, "host") || node_has_var(eff)))
                        need(f, PERM_HOST_NETWORK, who, "the network named %s (the host's network)",
                             show(eff->text, eff->len, buf, sizeof buf));
        }
        return 0;
}

static int check_top_volumes(struct file *f, const struct yamltree_node *v)
{
        char who[WHO_SIZE], buf[80];
        size_t i;
        int r;

        if (is_null(v) || v->kind != YAMLTREE_MAP)
                return 0;
        for (i = 0; i + 1 < v->n; i += 2) {
                const struct yamltree_node *k = v->items[i], *def = v->items[i + 1], *opts, *o, *type, *dev;

                opts = def->kind == YAMLTREE_MAP ? map_get(def, "driver_opts") : NULL;
                if (!opts || opts->kind != YAMLTREE_MAP)
                        continue;
                o = map_get(opts, "o");
                type = map_get(opts, "type");
                dev = map_get(opts, "device");
                if (!dev || is_null(dev))
                        continue;
                /* the local driver with o=bind (or type none) is a bind mount of device */
                if ((is_scalar(o) && (strstr(o->text, "bind") || node_has_var(o))) || text_is(type, "none") ||
                    node_has_var(type)) {
                        snprintf(who, sizeof who, "%svolume '%s'", f->prefix, show(k->text, k->len, buf, sizeof buf));
                        r = check_host_path(f, who, "driver_opts.device", dev);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int check_top_files(struct file *f, const struct yamltree_node *v, const char *what)
{
        char who[WHO_SIZE], buf[80];
        size_t i;
        int r;

        if (is_null(v) || v->kind != YAMLTREE_MAP)
                return 0;
        for (i = 0; i + 1 < v->n; i += 2) {
                const struct yamltree_node *k = v->items[i], *def = v->items[i + 1];

                if (def->kind != YAMLTREE_MAP)
                        continue;
                snprintf(who, sizeof who, "%s%s '%s'", f->prefix, what, show(k->text, k->len, buf, sizeof buf));
                r = check_host_path(f, who, "file", map_get(def, "file"));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- required variables ---- */

static bool name_char(char c, bool first)
{
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

/* ${NAME:?msg} and ${NAME?msg}: compose stops when NAME is unset. Only the outermost expressions count: one
 * inside another's default (${A:-${B:?}}) is needed only when A is unset. */
static int scan_text(struct apply *a, const char *s, size_t len)
{
        size_t i = 0, j, depth;

        while (i < len) {
                if (s[i] != '$' || i + 1 >= len) {
                        i++;
                        continue;
                }
                if (s[i + 1] == '$') {
                        i += 2;
                        continue;
                }
                if (s[i + 1] != '{') {
                        i++;
                        continue;
                }
                j = i + 2;
                if (j < len && name_char(s[j], true)) {
                        while (j < len && name_char(s[j], false))
                                j++;
                        if (j < len && (s[j] == '?' || (s[j] == ':' && j + 1 < len && s[j + 1] == '?')) &&
                            !strv_has(&a->vars, s + i + 2, j - i - 2)) {
                                if (a->vars.n >= POLICY_MAX_VARS)
                                        return error_set(a->err, STACK_EREJECT,
                                                         "the compose file requires more than %d variables",
                                                         POLICY_MAX_VARS);
                                if (strv_add(&a->vars, s + i + 2, j - i - 2) < 0)
                                        return oom(a->err);
                        }
                }
                /* skip to the matching brace */
                for (depth = 1, j = i + 2; j < len && depth; j++) {
                        if (s[j] == '$' && j + 1 < len && s[j + 1] == '{') {
                                depth++;
                                j++;
                        } else if (s[j] == '}') {
                                depth--;
                        }
                }
                i = j;
        }
        return 0;
}

static int scan_vars(struct apply *a, const struct yamltree_node *n)
{
        size_t i;
        int r;

        if (n->kind == YAMLTREE_SCALAR)
                return scan_text(a, n->text, n->len);
        for (i = n->kind == YAMLTREE_MAP ? 1 : 0; i < n->n; i += n->kind == YAMLTREE_MAP ? 2 : 1) {
                r = scan_vars(a, n->items[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- one compose file ---- */

static int check_document(struct file *f, struct yamltree_node *root)
{
        bool services = false, include = false;
        size_t i;
        int r;

        if (root->kind != YAMLTREE_MAP)
                return error_set(f->a->err, STACK_EREJECT,
                                 "%s: the top level is a %s, expected a mapping with 'services'", f->rel,
                                 kind_name(root));
        r = scan_vars(f->a, root);
        for (i = 0; i + 1 < root->n && r == 0; i += 2) {
                const struct yamltree_node *k = root->items[i];
                struct yamltree_node *v = root->items[i + 1];

                if (text_is(k, "services")) {
                        services = true;
                        r = check_services(f, v);
                } else if (text_is(k, "include")) {
                        include = true;
                        r = check_includes(f, v);
                } else if (text_is(k, "networks")) {
                        r = check_networks(f, v);
                } else if (text_is(k, "volumes")) {
                        r = check_top_volumes(f, v);
                } else if (text_is(k, "secrets")) {
                        r = check_top_files(f, v, "secret");
                } else if (text_is(k, "configs")) {
                        r = check_top_files(f, v, "config");
                }
        }
        if (r == 0 && !services && !include)
                r = error_set(f->a->err, STACK_EREJECT, "%s: no 'services' mapping", f->rel);
        return r;
}

static int check_file(struct apply *a, const char *path, const char *rel, const char *base, bool list_services,
                      char **ret, size_t *ret_len)
{
        struct file f = {.a = a, .rel = rel, .base = base, .list_services = list_services};
        struct yamltree_node *root = NULL;
        char *data = NULL;
        size_t len = 0;
        int r;

        if (a->visiting.n > 0) /* an included file: say which in every message */
                snprintf(f.prefix, sizeof f.prefix, "%s: ", rel);
        r = fs_read_file(path, POLICY_MAX_SIZE, &data, &len);
        if (r == -EFBIG)
                return error_set(a->err, STACK_EREJECT, "%s: larger than %d bytes", rel, POLICY_MAX_SIZE);
        if (r < 0)
                return error_errno(a->err, STACK_EFAIL, r, "cannot read %s", path);
        r = parse_yaml(rel, data, len, &root, a->err);
        free(data);
        if (r < 0)
                return r;
        r = strv_add(&a->visiting, rel, strlen(rel)) < 0 ? oom(a->err) : 0;
        if (r == 0) {
                r = check_document(&f, root);
                free(a->visiting.v[--a->visiting.n]);
                a->visiting.v[a->visiting.n] = NULL;
        }
        if (r == 0 && !a->refused)
                r = emit_yaml(rel, root, ret, ret_len, a->err);
        yamltree_free(root);
        return r;
}

/* ---- the data dir ---- */

/* data_dir/rel as a directory, one component at a time without following symlinks: a container that
 * replaced a directory of its data with a symlink to / must not get the host bound on the next run. An
 * existing regular file at the end is kept (a file bind). */
static int make_data_dir(struct apply *a, const char *rel)
{
        char comp[NAME_MAX + 1];
        const char *p = rel;
        struct stat st;
        int dfd, fd, r;

        dfd = open(a->in->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return error_errno(a->err, STACK_EFAIL, errno, "cannot open the data dir %s", a->in->data_dir);
        while (*p) {
                size_t n = strcspn(p, "/");
                bool last = p[n] == 0;

                if (n > NAME_MAX) {
                        close(dfd);
                        return error_set(a->err, STACK_EREJECT, "data dir path %s: a name is too long", rel);
                }
                memcpy(comp, p, n);
                comp[n] = 0;
                p += n + !last;
                fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT) {
                        if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST) {
                                r = errno;
                                close(dfd);
                                return error_errno(a->err, STACK_EFAIL, r, "cannot create %s/%s", a->in->data_dir, rel);
                        }
                        fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0) {
                        r = errno;
                        if (last && fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
                                close(dfd);
                                return 0;
                        }
                        close(dfd);
                        if (r == ELOOP || r == ENOTDIR)
                                return error_set(a->err, STACK_EREJECT,
                                                 "%s/%s: '%s' is a symlink or not a directory: refusing to bind it "
                                                 "(remove it to start over)",
                                                 a->in->data_dir, rel, comp);
                        return error_errno(a->err, STACK_EFAIL, r, "cannot open %s/%s", a->in->data_dir, rel);
                }
                close(dfd);
                dfd = fd;
        }
        close(dfd);
        return 0;
}

/* ---- entry points ---- */

void policy_result_release(struct policy_result *r)
{
        if (!r)
                return;
        strv_free(r->services);
        strv_free(r->required_vars);
        strv_free(r->redirected);
        memset(r, 0, sizeof *r);
}

int policy_apply(const struct policy_input *in, const char *out_path, struct policy_result *ret, struct error *err)
{
        struct apply a = {.in = in, .err = err};
        char root[PATH_MAX] = "", rel[PATH_MAX] = "", base[PATH_MAX], *data = NULL, *out = NULL;
        size_t len = 0, i, n;
        int r;

        if (ret)
                memset(ret, 0, sizeof *ret);
        if (!in || !out_path || !ret || !in->compose_path || !in->run_dir || !in->data_dir || !in->tree ||
            in->compose_path[0] != '/' || in->run_dir[0] != '/' || in->data_dir[0] != '/')
                return error_set(err, STACK_EFAIL, "policy_apply: invalid argument");
        /* the compose file relative to the run dir, both normalised lexically */
        if (path_add(root, sizeof root, in->run_dir, strlen(in->run_dir), true) < 0 ||
            path_add(rel, sizeof rel, in->compose_path, strlen(in->compose_path), true) < 0)
                return error_set(err, STACK_EFAIL, "policy_apply: path too long");
        n = strlen(root);
        if (strncmp(rel, root, n) != 0 || (n && rel[n] != '/') || !rel[n ? n + 1 : 0])
                return error_set(err, STACK_EFAIL, "%s is not inside the run dir %s", in->compose_path, in->run_dir);
        memmove(rel, rel + (n ? n + 1 : 0), strlen(rel + (n ? n + 1 : 0)) + 1);
        path_dirname(rel, base, sizeof base);
        if (!realpath(in->run_dir, a.run_real))
                a.run_real[0] = 0;

        r = check_file(&a, in->compose_path, rel, base, true, &data, &len);
        if (r == 0 && a.refused)
                r = -STACK_EREJECT;
        if (r < 0)
                goto fail;
        out = strdup(out_path);
        if (!out) {
                free(data);
                r = oom(err);
                goto fail;
        }
        r = pending_add(&a, out, data, len); /* last: the included files' copies are written first */
        if (r < 0)
                goto fail;
        if (a.dirs.n) {
                r = fs_mkdir_p(in->data_dir, 0755);
                if (r < 0) {
                        r = error_errno(err, STACK_EFAIL, r, "cannot create the data dir %s", in->data_dir);
                        goto fail;
                }
        }
        for (i = 0; i < a.dirs.n; i++) {
                r = make_data_dir(&a, a.dirs.v[i]);
                if (r < 0)
                        goto fail;
        }
        for (i = 0; i < a.n_writes; i++) {
                r = fs_write_atomic(a.writes[i].path, a.writes[i].data, a.writes[i].len, 0644);
                if (r < 0) {
                        r = error_errno(err, STACK_EFAIL, r, "cannot write %s", a.writes[i].path);
                        goto fail;
                }
        }
        ret->services = strv_steal(&a.services);
        ret->required_vars = strv_steal(&a.vars);
        ret->redirected = strv_steal(&a.redirected);
        if (!ret->services || !ret->required_vars || !ret->redirected) {
                policy_result_release(ret);
                r = oom(err);
                goto fail;
        }
        ret->needed = a.needed;
        r = 0;
fail:
        if (r < 0)
                ret->needed = a.needed; /* a refusal still says everything the file asks for */
        strv_release(&a.services);
        strv_release(&a.vars);
        strv_release(&a.redirected);
        strv_release(&a.dirs);
        strv_release(&a.visiting);
        for (i = 0; i < a.n_writes; i++) {
                free(a.writes[i].path);
                free(a.writes[i].data);
        }
        free(a.writes);
        return r;
}
