/* composevars.c - compose's variables: interpolation of `${VAR}` strings and the dotenv syntax of `.env`.
 *
 * One recursive-descent expander serves both: a word is text up to the end (or, inside ${NAME:-word}, up to
 * the `}` that closes the expression); a word that is not used is still parsed, with evaluation off, so that
 * a malformed branch is refused whichever branch is taken and no variable is looked up for nothing. Depth and
 * output size are bounded, so no input can make it recurse or grow without limit.
 */
#include "composevars.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the expander ---- */

/* How an unset variable was met: used bare ($A, ${A}), required (${A?m}, ${A:?m}), or tested by an operator
 * that has an answer for unset (${A-w}, ${A:-w}, ${A+w}, ${A:+w}). */
enum unset_use { UNSET_BARE, UNSET_REQUIRED, UNSET_TESTED };

/* Told of each variable found unset; may refuse. */
typedef int (*unset_hook_fn)(void *ctx, const char *name, enum unset_use use, struct error *err);

struct expander {
        const char *src; /* the whole text, for messages */
        interp_lookup_fn lookup;
        void *ctx;
        unset_hook_fn hook;
        void *hook_ctx;
        char *buf;
        size_t len, cap;
        struct interp_report report;
        struct error *err;
};

static bool name_start(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
        return name_start(c) || (c >= '0' && c <= '9');
}

static int refuse(struct expander *x, const char *why)
{
        size_t n = strlen(x->src);

        if (n > 200)
                return error_set(x->err, STACK_EREJECT, "invalid interpolation in \"%.200s...\": %s", x->src, why);
        return error_set(x->err, STACK_EREJECT, "invalid interpolation in \"%s\": %s", x->src, why);
}

static int emit(struct expander *x, const char *s, size_t n)
{
        if (n > INTERP_MAX_OUTPUT - x->len) {
                char why[96];
                snprintf(why, sizeof why, "expands to more than %d bytes", INTERP_MAX_OUTPUT);
                return refuse(x, why);
        }
        if (x->len + n + 1 > x->cap) {
                size_t cap = x->cap ? x->cap : 64;
                char *b;
                while (cap < x->len + n + 1)
                        cap *= 2;
                b = realloc(x->buf, cap);
                if (!b)
                        return error_set(x->err, STACK_EFAIL, "out of memory interpolating a variable");
                x->buf = b;
                x->cap = cap;
        }
        memcpy(x->buf + x->len, s, n);
        x->len += n;
        x->buf[x->len] = 0;
        return 0;
}

static const char *look(struct expander *x, const char *name)
{
        return x->lookup ? x->lookup(x->ctx, name) : NULL;
}

static int note_unset(struct expander *x, const char *name, enum unset_use use)
{
        struct interp_report *r = &x->report;

        if (use == UNSET_REQUIRED && !(r->flags & INTERP_REQUIRED_MISSING)) {
                r->flags |= INTERP_REQUIRED_MISSING;
                snprintf(r->required_name, sizeof r->required_name, "%s", name);
        } else if (use == UNSET_BARE && !(r->flags & INTERP_UNSET_USED)) {
                r->flags |= INTERP_UNSET_USED;
                snprintf(r->unset_name, sizeof r->unset_name, "%s", name);
        }
        return x->hook ? x->hook(x->hook_ctx, name, use, x->err) : 0;
}

/* The name at p (which starts one) into name[]; returns its length, or refuses one too long. */
static int read_name(struct expander *x, const char *p, char name[INTERP_NAME_MAX + 1], size_t *ret_n)
{
        size_t n = 0;

        while (name_char(p[n]))
                n++;
        if (n > INTERP_NAME_MAX) {
                char why[96];
                snprintf(why, sizeof why, "a variable name longer than %d characters", INTERP_NAME_MAX);
                return refuse(x, why);
        }
        memcpy(name, p, n);
        name[n] = 0;
        *ret_n = n;
        return 0;
}

static int expand_word(struct expander *x, const char **pp, bool inner, bool eval, unsigned depth);

/* *pp at "${"; leaves *pp after the closing '}'. */
static int expand_braced(struct expander *x, const char **pp, bool eval, unsigned depth)
{
        const char *p = *pp + 2, *v = NULL;
        char name[INTERP_NAME_MAX + 1], op = 0, why[INTERP_NAME_MAX + 64];
        bool colon = false, cond, use_word = false;
        size_t n = 0, mark;
        int r = 0;

        if (depth > INTERP_MAX_DEPTH) {
                snprintf(why, sizeof why, "nested deeper than %d levels", INTERP_MAX_DEPTH);
                return refuse(x, why);
        }
        if (!*p)
                return refuse(x, "'${' without a closing '}'");
        if (*p == '}')
                return refuse(x, "'${}' names no variable");
        if (!name_start(*p)) {
                snprintf(why, sizeof why, "'%c' cannot start a variable name", *p);
                return refuse(x, why);
        }
        r = read_name(x, p, name, &n);
        if (r < 0)
                return r;
        p += n;
        if (*p == ':' && (p[1] == '-' || p[1] == '+' || p[1] == '?')) {
                colon = true;
                op = p[1];
                p += 2;
        } else if (*p == '-' || *p == '+' || *p == '?') {
                op = *p++;
        } else if (!*p) {
                return refuse(x, "'${' without a closing '}'");
        } else if (*p != '}') {
                snprintf(why, sizeof why, "unexpected '%c' after ${%s", *p, name);
                return refuse(x, why);
        }

        if (eval)
                v = look(x, name);
        cond = colon ? (v && *v) : v != NULL;
        if (!op) {
                p++;
                if (eval && !v)
                        r = note_unset(x, name, UNSET_BARE);
                else if (eval)
                        r = emit(x, v, strlen(v));
                *pp = p;
                return r;
        }
        if (eval && !v && op != '?') {
                r = note_unset(x, name, UNSET_TESTED);
                if (r < 0)
                        return r;
        }
        if (eval) {
                if (op == '-' && cond)
                        r = emit(x, v, strlen(v));
                use_word = (op == '-' && !cond) || (op == '+' && cond) || (op == '?' && !cond);
                if (op == '?' && cond)
                        r = emit(x, v, strlen(v));
                if (r < 0)
                        return r;
        }
        mark = x->len;
        r = expand_word(x, &p, true, use_word, depth);
        if (r < 0)
                return r;
        if (*p != '}')
                return refuse(x, "'${' without a closing '}'");
        p++;
        if (op == '?' && use_word) {
                /* The word is the message, not output. */
                if (!(x->report.flags & INTERP_REQUIRED_MISSING))
                        snprintf(x->report.required_msg, sizeof x->report.required_msg, "%s",
                                 x->buf ? x->buf + mark : "");
                x->len = mark;
                if (x->buf)
                        x->buf[mark] = 0;
                r = note_unset(x, name, UNSET_REQUIRED);
                if (r < 0)
                        return r;
        }
        *pp = p;
        return 0;
}

/* Text from *pp to the end, or (inner) to the '}' that closes the enclosing ${...}, where *pp is left. */
static int expand_word(struct expander *x, const char **pp, bool inner, bool eval, unsigned depth)
{
        const char *p = *pp, *lit;
        char name[INTERP_NAME_MAX + 1];
        size_t n = 0;
        int r;

        while (*p && !(inner && *p == '}')) {
                if (*p != '$') {
                        lit = p;
                        while (*p && *p != '$' && !(inner && *p == '}'))
                                p++;
                        r = eval ? emit(x, lit, (size_t)(p - lit)) : 0;
                } else if (p[1] == '$') {
                        r = eval ? emit(x, "$", 1) : 0;
                        p += 2;
                } else if (p[1] == '{') {
                        r = expand_braced(x, &p, eval, depth + 1);
                } else if (name_start(p[1])) {
                        r = read_name(x, p + 1, name, &n);
                        if (r < 0)
                                return r;
                        p += 1 + n;
                        if (eval) {
                                const char *v = look(x, name);
                                r = v ? emit(x, v, strlen(v)) : note_unset(x, name, UNSET_BARE);
                        }
                } else {
                        if (eval)
                                x->report.flags |= INTERP_LITERAL_DOLLAR;
                        r = eval ? emit(x, "$", 1) : 0;
                        p++;
                }
                if (r < 0)
                        return r;
        }
        *pp = p;
        return 0;
}

static int expand(const char *s, interp_lookup_fn lookup, void *ctx, unset_hook_fn hook, void *hook_ctx, char **ret,
                  struct interp_report *ret_report, struct error *err)
{
        struct expander x = {.src = s, .lookup = lookup, .ctx = ctx, .hook = hook, .hook_ctx = hook_ctx, .err = err};
        const char *p = s;
        int r;

        r = expand_word(&x, &p, false, true, 0);
        if (r == 0 && !x.buf)
                r = emit(&x, "", 0);
        if (r < 0) {
                free(x.buf);
                return r;
        }
        *ret = x.buf;
        if (ret_report)
                *ret_report = x.report;
        return 0;
}

int interp_expand(const char *s, interp_lookup_fn lookup, void *ctx, char **ret, struct interp_report *ret_report,
                  struct error *err)
{
        if (!s || !ret)
                return error_set(err, STACK_EFAIL, "interp_expand: no text");
        return expand(s, lookup, ctx, NULL, NULL, ret, ret_report, err);
}

int interp_escape(const char *s, char **ret)
{
        size_t n = 0, i, j;
        char *out;

        if (!s || !ret)
                return -EINVAL;
        for (i = 0; s[i]; i++)
                n += s[i] == '$' ? 2 : 1;
        out = malloc(n + 1);
        if (!out)
                return -ENOMEM;
        for (i = j = 0; s[i]; i++) {
                out[j++] = s[i];
                if (s[i] == '$')
                        out[j++] = '$';
        }
        out[j] = 0;
        *ret = out;
        return 0;
}

bool interp_has_vars(const char *s)
{
        for (const char *p = s; p && *p; p++) {
                if (*p != '$')
                        continue;
                if (p[1] == '$')
                        p++;
                else if (p[1] == '{' || name_start(p[1]))
                        return true;
        }
        return false;
}

/* ---- dotenv ---- */

struct binding {
        char *key;
        char *raw;   /* the value as written, quotes removed and escapes decoded */
        char *value; /* resolved (NULL until resolved) */
        size_t line;
        bool literal; /* single-quoted: not interpolated */
};

struct dotenv {
        const char *path;
        interp_lookup_fn lookup;
        void *lookup_ctx;
        struct binding *b;
        size_t n, cur; /* cur: the binding being resolved */
        bool refused;  /* dotenv_unset() wrote the whole message */
};

static bool blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool key_start(char c)
{
        return name_start(c);
}

static bool key_char(char c)
{
        return name_char(c) || c == '.' || c == '-';
}

static int bad(struct error *err, const char *path, size_t line, const char *why)
{
        return error_set(err, STACK_EREJECT, "%s:%zu: not valid dotenv: %s", path, line, why);
}

/* Append to a growing string (the decoded value). */
static int sb_add(char **s, size_t *len, size_t *cap, const char *add, size_t n)
{
        if (*len + n + 1 > *cap) {
                size_t c = *cap ? *cap : 32;
                char *b;
                while (c < *len + n + 1)
                        c *= 2;
                b = realloc(*s, c);
                if (!b)
                        return -STACK_EFAIL;
                *s = b;
                *cap = c;
        }
        memcpy(*s + *len, add, n);
        *len += n;
        (*s)[*len] = 0;
        return 0;
}

/* One KEY=VALUE statement starting at text[*pos] (blank lines and comments already skipped); *line counts
 * newlines. Fills b on success. */
static int parse_binding(const char *t, size_t len, size_t *pos, size_t *line, const char *path, struct binding *b,
                         struct error *err)
{
        size_t p = *pos, k0, k1, start_line = *line, vlen = 0, vcap = 0, eol;
        char *v = NULL, why[160];
        int r = 0;

        for (eol = p; eol < len && t[eol] != '\n'; eol++)
                ;
        if (eol - p > 6 && !memcmp(t + p, "export", 6) && (t[p + 6] == ' ' || t[p + 6] == '\t')) {
                p += 6;
                while (p < eol && blank(t[p]))
                        p++;
        }
        k0 = p;
        if (!memchr(t + p, '=', eol - p))
                return bad(err, path, start_line, "a line without '=' (expected KEY=VALUE)");
        while (p < eol && key_char(t[p]))
                p++;
        k1 = p;
        while (p < eol && blank(t[p]))
                p++;
        if (k1 == k0 || !key_start(t[k0]) || t[p] != '=') {
                const char *eq = memchr(t + k0, '=', eol - k0);
                snprintf(why, sizeof why, "bad key '%.*s' (expected [A-Za-z_][A-Za-z0-9_.-]*)",
                         (int)((eq - (t + k0)) > 64 ? 64 : eq - (t + k0)), t + k0);
                return bad(err, path, start_line, why);
        }
        p++; /* '=' */
        while (p < eol && blank(t[p]) && t[p] != '\r')
                p++;

        if (p < len && (t[p] == '"' || t[p] == '\'')) {
                char q = t[p++];
                for (;;) {
                        size_t s0 = p;
                        while (p < len && t[p] != q && !(q == '"' && t[p] == '\\'))
                                p++;
                        if (sb_add(&v, &vlen, &vcap, t + s0, p - s0) < 0)
                                goto oom;
                        for (size_t i = s0; i < p; i++)
                                *line += t[i] == '\n';
                        if (p >= len || (t[p] == '\\' && p + 1 >= len)) {
                                snprintf(why, sizeof why, "unterminated %s-quoted value",
                                         q == '"' ? "double" : "single");
                                r = bad(err, path, start_line, why);
                                goto fail;
                        }
                        if (t[p] == q)
                                break;
                        /* a backslash inside double quotes */
                        {
                                char c = t[p + 1], out[2] = {'\\', c};
                                const char *add = out;
                                size_t an = 2;
                                switch (c) {
                                case 'n': add = "\n", an = 1; break;
                                case 'r': add = "\r", an = 1; break;
                                case 't': add = "\t", an = 1; break;
                                case '\\': add = "\\", an = 1; break;
                                case '"': add = "\"", an = 1; break;
                                case '\'': add = "'", an = 1; break;
                                default: break; /* kept as written, as python-dotenv does */
                                }
                                if (c == '\n')
                                        (*line)++;
                                if (sb_add(&v, &vlen, &vcap, add, an) < 0)
                                        goto oom;
                                p += 2;
                        }
                }
                p++; /* closing quote */
                b->literal = q == '\'';
                while (p < len && t[p] != '\n' && blank(t[p]))
                        p++;
                if (p < len && t[p] == '#')
                        while (p < len && t[p] != '\n')
                                p++;
                if (p < len && t[p] != '\n') {
                        r = bad(err, path, *line, "text after the closing quote");
                        goto fail;
                }
        } else {
                size_t e = eol;
                for (size_t i = p; i < eol; i++)
                        if (t[i] == '#' && i > p && blank(t[i - 1])) {
                                e = i;
                                break;
                        }
                while (e > p && blank(t[e - 1]))
                        e--;
                if (sb_add(&v, &vlen, &vcap, t + p, e - p) < 0)
                        goto oom;
                p = eol;
        }
        b->key = strndup(t + k0, k1 - k0);
        if (!b->key)
                goto oom;
        b->raw = v;
        b->line = start_line;
        *pos = p;
        return 0;
oom:
        r = error_set(err, STACK_EFAIL, "%s: out of memory", path);
fail:
        free(v);
        return r;
}

/* The lookup first (the environment wins, as in compose v2), then the nearest earlier binding. */
static const char *dotenv_lookup(void *ctx, const char *name)
{
        struct dotenv *d = ctx;
        const char *v = d->lookup ? d->lookup(d->lookup_ctx, name) : NULL;

        if (v)
                return v;
        for (size_t i = d->cur; i-- > 0;)
                if (!strcmp(d->b[i].key, name))
                        return d->b[i].value;
        return NULL;
}

/* An unset variable that a later line sets (a forward reference, or a cycle), or that this line sets and
 * uses bare (a self reference; ${A:-w} on A's own line is the idiom "the environment's A, else w"), is
 * refused: compose would take it as unset, which is not what the file says. */
static int dotenv_unset(void *ctx, const char *name, enum unset_use use, struct error *err)
{
        struct dotenv *d = ctx;
        const struct binding *me = &d->b[d->cur];
        char why[2 * INTERP_NAME_MAX + 128];

        for (size_t i = d->cur; i < d->n; i++) {
                if (strcmp(d->b[i].key, name) || (i == d->cur && use == UNSET_TESTED))
                        continue;
                if (i == d->cur)
                        snprintf(why, sizeof why, "%s refers to itself", me->key);
                else
                        snprintf(why, sizeof why,
                                 "%s uses %s, which only line %zu sets (a cycle or a forward reference)", me->key, name,
                                 d->b[i].line);
                d->refused = true;
                return bad(err, d->path, me->line, why);
        }
        if (use == UNSET_REQUIRED) {
                snprintf(why, sizeof why, "%s requires %s, which has no value", me->key, name);
                d->refused = true;
                return bad(err, d->path, me->line, why);
        }
        return 0;
}

int dotenv_parse(const char *text, size_t len, const char *path, interp_lookup_fn lookup, void *lookup_ctx,
                 dotenv_fn fn, void *ctx, struct error *err)
{
        struct dotenv d = {.path = path ? path : ".env", .lookup = lookup, .lookup_ctx = lookup_ctx};
        size_t pos = 0, line = 1, cap = 0, total = 0;
        const char *nul;
        int r = 0;

        if (!text && len)
                return error_set(err, STACK_EFAIL, "dotenv_parse: no text");
        path = d.path;
        if (len && (nul = memchr(text, 0, len))) {
                for (const char *c = text; c < nul; c++)
                        line += *c == '\n';
                return bad(err, path, line, "a NUL byte");
        }
        /* A carriage return that does not end a \r\n line: python-dotenv (docker-compose 1.29) ends a line there,
         * so a binding would hide in what this parser reads as the middle of a value or a comment. */
        for (size_t i = 0; i < len; i++) {
                if (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n'))
                        return bad(err, path, line, "a carriage return that does not end a line (\\r without \\n)");
                line += text[i] == '\n';
        }
        line = 1;
        if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
                pos = 3; /* a UTF-8 byte order mark, which compose skips */

        /* 1. Every binding, as written. */
        while (pos < len) {
                while (pos < len && blank(text[pos]))
                        pos++;
                if (pos >= len)
                        break;
                if (text[pos] == '\n') {
                        pos++, line++;
                        continue;
                }
                if (text[pos] == '#') {
                        while (pos < len && text[pos] != '\n')
                                pos++;
                        continue;
                }
                if (d.n == DOTENV_MAX_BINDINGS) {
                        char why[64];
                        snprintf(why, sizeof why, "more than %d variables", DOTENV_MAX_BINDINGS);
                        r = bad(err, path, line, why);
                        goto out;
                }
                if (d.n == cap) {
                        size_t c = cap ? 2 * cap : 16;
                        struct binding *nb = realloc(d.b, c * sizeof *nb);
                        if (!nb) {
                                r = error_set(err, STACK_EFAIL, "%s: out of memory", path);
                                goto out;
                        }
                        d.b = nb;
                        cap = c;
                }
                memset(&d.b[d.n], 0, sizeof d.b[d.n]);
                r = parse_binding(text, len, &pos, &line, path, &d.b[d.n], err);
                if (r < 0)
                        goto out;
                d.n++;
        }

        /* 2. Resolve in file order, each against the lookup and the lines before it. */
        for (d.cur = 0; d.cur < d.n; d.cur++) {
                struct binding *b = &d.b[d.cur];
                struct error e = ERROR_INIT;

                if (b->literal) {
                        b->value = strdup(b->raw);
                        if (!b->value) {
                                r = error_set(err, STACK_EFAIL, "%s: out of memory", path);
                                goto out;
                        }
                } else {
                        r = expand(b->raw, dotenv_lookup, &d, dotenv_unset, &d, &b->value, NULL, &e);
                        if (r < 0) {
                                if (d.refused || e.code == STACK_EFAIL)
                                        r = error_set(err, e.code, "%s", e.msg);
                                else
                                        r = bad(err, path, b->line, e.msg);
                                goto out;
                        }
                }
                total += strlen(b->value);
                if (total > DOTENV_MAX_TOTAL) {
                        r = bad(err, path, b->line, "values expand to more than 4 MiB in all");
                        goto out;
                }
                if (fn) {
                        r = fn(ctx, b->key, b->value);
                        if (r < 0)
                                goto out;
                }
        }
        r = 0;
out:
        for (size_t i = 0; i < d.n; i++) {
                free(d.b[i].key);
                free(d.b[i].raw);
                free(d.b[i].value);
        }
        free(d.b);
        return r;
}
