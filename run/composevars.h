/* composevars.h - compose's variables: the dotenv syntax of `.env` / `env_file`, and `${VAR}` interpolation.
 *
 * Pure text in, text out: no files, no Docker, no YAML. The policy reads the bundle's `.env` (and the
 * `env_file`s a service names) with dotenv_parse(), layers the values compose will see on top (remembered and
 * `--env` values, PROJECT/DOMAIN: the environment of the compose process wins over `.env`, as in compose),
 * and resolves every compose string with interp_expand() before judging it. What the effective file must
 * carry literally (a resolved value, a label with a `$` that is no variable) goes through interp_escape().
 *
 * Calling sequence:
 *   dotenv_parse(text, len, "bundle/.env", lookup, lookup_ctx, on_value, ctx, &err);
 *       on_value(ctx, key, value) is called once per binding, in file order, with the value resolved; a later
 *       binding of the same key overrides an earlier one (the caller's store decides, as compose does).
 *   interp_expand(s, lookup, ctx, &out, &report, &err);   ... free(out);
 *   interp_escape(s, &out);  ... free(out);               interp_has_vars(s)
 * A lookup returns the variable's value, or NULL when it is unset ("" is set and empty: `${A-x}` keeps it,
 * `${A:-x}` does not). Values a lookup returns are used as they are, never interpolated again.
 *
 * Interpolation (compose v2 semantics, see spec/run.md "Variables" for where docker-compose 1.29 differs):
 *   $$ -> $        $NAME, ${NAME}        NAME is [A-Za-z_][A-Za-z0-9_]*
 *   ${NAME:-w} w when NAME is unset or empty     ${NAME-w} w when NAME is unset
 *   ${NAME:+w} w when NAME is set and non-empty  ${NAME+w} w when NAME is set, else ""
 *   ${NAME:?w} NAME, or "" with INTERP_REQUIRED_MISSING when unset or empty   ${NAME?w} ... when unset
 *   w is itself interpolated, to any nesting up to INTERP_MAX_DEPTH, and only when it is used.
 *   A `$` followed by anything else (a digit, a space, the end) stays a literal `$` (INTERP_LITERAL_DOLLAR).
 * Failures are negative enum stack_code with one line in err: STACK_EREJECT for malformed text (`${`, `${}`,
 * `${A:x}`, `${1}`), nesting deeper than INTERP_MAX_DEPTH or output over INTERP_MAX_OUTPUT, each message
 * naming the text; dotenv errors are "<path>:<line>: not valid dotenv: <why>". STACK_EFAIL: out of memory.
 */
#ifndef STACK_COMPOSEVARS_H
#define STACK_COMPOSEVARS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define INTERP_MAX_DEPTH    32                /* nesting of ${...} inside defaults/alternatives */
#define INTERP_MAX_OUTPUT   (256 * 1024)      /* bytes one interp_expand() may produce */
#define INTERP_NAME_MAX     255               /* longest variable name */
#define DOTENV_MAX_BINDINGS 4096              /* KEY=VALUE lines in one file */
#define DOTENV_MAX_TOTAL    (4 * 1024 * 1024) /* resolved value bytes of one file */

/* The value of name, or NULL when it is unset. */
typedef const char *(*interp_lookup_fn)(void *ctx, const char *name);

/* report.flags */
#define INTERP_UNSET_USED       0x1u /* an unset variable with no default became "" ($A, ${A}) */
#define INTERP_REQUIRED_MISSING 0x2u /* ${A:?msg} / ${A?msg} found A missing: compose would refuse to start */
#define INTERP_LITERAL_DOLLAR   0x4u /* a `$` that is no variable was kept (docker-compose 1.29 refuses it) */

struct interp_report {
        unsigned flags;
        char unset_name[INTERP_NAME_MAX + 1];    /* the first INTERP_UNSET_USED variable */
        char required_name[INTERP_NAME_MAX + 1]; /* the first INTERP_REQUIRED_MISSING variable */
        char required_msg[256];                  /* its message, interpolated and truncated ("" when none) */
};

/* Interpolate s. On success *ret is a new string (free() it) and *ret_report, when not NULL, says what was
 * unset or missing; on failure neither is written. lookup may be NULL (every variable unset). */
int interp_expand(const char *s, interp_lookup_fn lookup, void *ctx, char **ret, struct interp_report *ret_report,
                  struct error *err);

/* s with every `$` doubled, so compose reads it back as exactly s. 0, or -ENOMEM. */
int interp_escape(const char *s, char **ret);

/* Whether s holds an interpolation ($NAME or ${...}, well formed or not); `$$` and a lone `$` do not count. */
bool interp_has_vars(const char *s);

/* Called with each binding; a negative return stops the parse and is returned (fill err yourself). */
typedef int (*dotenv_fn)(void *ctx, const char *key, const char *value);

/* Parse len bytes of dotenv text (need not be NUL-terminated). path names the file in messages. Unquoted and
 * double-quoted values are interpolated against lookup first, then the keys of earlier lines; single-quoted
 * values are literal. Refused as compose would silently read them as unset: a use of a variable that only a
 * later line sets (a forward reference, or a cycle such as A=${B} / B=${A}), a bare use of the line's own
 * key (A=${A}x; A=${A:-x} is accepted: "the environment's A, else x"); refused too: a missing ${A:?msg}. */
int dotenv_parse(const char *text, size_t len, const char *path, interp_lookup_fn lookup, void *lookup_ctx,
                 dotenv_fn fn, void *ctx, struct error *err);

#endif
