/* policy-vars.c - variables resolved before anything is judged (spec/run.md "Variables").
 *
 * policy_scan_vars() interpolates every value string of a document with the caller's lookup (composevars.h), in
 * place: the checks then judge what compose will use, and the node is marked MARK_RESOLVED (with what the
 * interpolation found: INTERP_UNSET_USED means a variable stayed unknown). A string that needs a variable
 * nothing provides (${NAME:?msg}) is left as written and its name collected, so the run is refused before
 * anything starts with one message. Mapping keys are not interpolated (compose does not either).
 * policy_escape_resolved() doubles every `$` of the marked strings just before the effective file is emitted, so
 * compose reads back exactly the value that was judged (docker-compose 1.29 could not evaluate nested
 * defaults or ${A:+x} itself).
 */
#include "policy-int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

static int resolve_scalar(struct apply *a, struct yamltree_node *n)
{
        const char *rel = a->visiting.n ? a->visiting.v[a->visiting.n - 1] : "compose file";
        struct interp_report rep;
        struct error e = ERROR_INIT;
        char *out = NULL;
        int r;

        if ((n->mark & MARK_RESOLVED) || memchr(n->text, 0, n->len) || !interp_has_vars(n->text))
                return 0;
        r = interp_expand(n->text, a->in->lookup, a->in->lookup_ctx, &out, &rep, &e);
        if (r == -STACK_EREJECT)
                return error_set(a->err, STACK_EREJECT, "%s: line %zu: %s", rel, n->line, e.msg);
        if (r < 0)
                return error_set(a->err, e.code ? e.code : STACK_EFAIL, "%s: %s", rel, e.msg);
        if (rep.flags & INTERP_REQUIRED_MISSING) {
                size_t len = strlen(rep.required_name);

                free(out);
                if (policy_strv_has(&a->vars, rep.required_name, len))
                        return 0;
                if (a->vars.n >= POLICY_MAX_VARS)
                        return error_set(a->err, STACK_EREJECT, "the compose file requires more than %d variables",
                                         POLICY_MAX_VARS);
                return policy_strv_add(&a->vars, rep.required_name, len) < 0 ? policy_oom(a->err) : 0;
        }
        free(n->text);
        n->text = out;
        n->len = strlen(out);
        n->mark = MARK_RESOLVED | rep.flags;
        if (n->len == 0 && n->style == YAML_PLAIN_SCALAR_STYLE)
                n->style = YAML_SINGLE_QUOTED_SCALAR_STYLE; /* "", not a null */
        return 0;
}

int policy_scan_vars(struct apply *a, struct yamltree_node *n)
{
        size_t i;
        int r;

        if (n->kind == YAMLTREE_SCALAR)
                return resolve_scalar(a, n);
        for (i = n->kind == YAMLTREE_MAP ? 1 : 0; i < n->n; i += n->kind == YAMLTREE_MAP ? 2 : 1) {
                r = policy_scan_vars(a, n->items[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_escape_resolved(struct yamltree_node *n, struct error *err)
{
        size_t i;
        char *out;
        int r;

        if (n->kind == YAMLTREE_SCALAR) {
                if (!(n->mark & MARK_RESOLVED) || !memchr(n->text, '$', n->len)) {
                        n->mark = 0;
                        return 0;
                }
                if (interp_escape(n->text, &out) < 0)
                        return policy_oom(err);
                free(n->text);
                n->text = out;
                n->len = strlen(out);
                n->mark = 0;
                return 0;
        }
        for (i = 0; i < n->n; i++) {
                r = policy_escape_resolved(n->items[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool policy_node_unknown(const struct yamltree_node *n)
{
        if (!yamltree_is_scalar(n))
                return false;
        if (n->mark & MARK_RESOLVED)
                return (n->mark & INTERP_UNSET_USED) != 0;
        return policy_has_var(n->text, n->len);
}

bool policy_dotenv_key_allowed(const char *key)
{
        /* what docker-py, docker-compose 1.29 and the docker CLI (compose v2) read; other DOCKER_* names are the
         * bundle's own (DOCKER_SOCKET_LOCATION, judged where the compose file uses it) */
        static const char *const docker[] = {"HOST",   "TLS",         "TLS_VERIFY",       "CERT_PATH", "CONTEXT",
                                             "CONFIG", "API_VERSION", "DEFAULT_PLATFORM", "BUILDKIT"};
        static const char *const compose_ok[] = {"PROJECT_NAME", "PROFILES", "HTTP_TIMEOUT", "PARALLEL_LIMIT"};
        size_t i;

        if (!strncasecmp(key, "DOCKER_", 7)) {
                for (i = 0; i < sizeof docker / sizeof docker[0]; i++)
                        if (!strcasecmp(key + 7, docker[i]))
                                return false;
                return true;
        }
        if (strncasecmp(key, "COMPOSE_", 8))
                return true;
        for (i = 0; i < sizeof compose_ok / sizeof compose_ok[0]; i++)
                if (!strcmp(key + 8, compose_ok[i]))
                        return true;
        return false;
}
