/* runner-compose-env.c - a compose run's paths, the compose tool's environment (the remembered env file, --env,
 * PROJECT and DOMAIN, the bundle's .env) and its calls, logs among them (runner-compose-int.h). */
#include "runner-compose-int.h"
#include "rundir.h"
#include "runner.h"
#include "runs.h"
#include "composevars.h"
#include "base/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EFFECTIVE_NAME ".stack-compose.yaml"
#define STACK_DOMAIN   "stack.localhost"

int compose_make_paths(struct store *s, const char *slug, const char *compose_rel, const char *run_dir,
                       struct compose_paths *p)
{
        const char *home = store_home(s);
        char *slash;
        int r = 0;

        run_project_name(slug, p->project, sizeof p->project);
        if (run_dir)
                r |= fs_path(p->run_dir, sizeof p->run_dir, "%s", run_dir);
        else
                r |= rundir_path(s, slug, NULL, NULL, p->run_dir, sizeof p->run_dir);
        r |= fs_path(p->data_dir, sizeof p->data_dir, "%s/data/%s", home, slug);
        r |= fs_path(p->env_file, sizeof p->env_file, "%s/data/%s/stack.env", home, slug);
        r |= fs_path(p->compose, sizeof p->compose, "%s/%s", p->run_dir, compose_rel ? compose_rel : "compose.yaml");
        r |= fs_path(p->compose_dir, sizeof p->compose_dir, "%s", p->compose);
        slash = strrchr(p->compose_dir, '/');
        if (slash)
                *slash = 0;
        r |= fs_path(p->effective, sizeof p->effective, "%s/" EFFECTIVE_NAME, p->compose_dir);
        return r ? -ENAMETOOLONG : 0;
}

int compose_row_paths(struct store *s, const struct run_row *row, struct compose_paths *p)
{
        struct version_info v = {0};
        int r;

        if (index_get_version(store_index(s), row->version_id, &v, NULL) < 0)
                r = compose_make_paths(s, row->slug, NULL, NULL, p);
        else
                r = compose_make_paths(s, row->slug, v.compose, NULL, p);
        version_info_release(&v);
        if (r == 0 && row->project && row->project[0]) /* the project it was created under, kept */
                snprintf(p->project, sizeof p->project, "%s", row->project);
        return r;
}

void envlist_release(struct envlist *e)
{
        for (size_t i = 0; i < e->n; i++)
                free(e->v[i]);
        free(e->v);
        memset(e, 0, sizeof *e);
}

static const char *envlist_find(const struct envlist *e, const char *key, size_t klen)
{
        for (size_t i = 0; i < e->n; i++)
                if (!strncmp(e->v[i], key, klen) && e->v[i][klen] == '=')
                        return e->v[i] + klen + 1;
        return NULL;
}

int envlist_set(struct envlist *e, const char *kv)
{
        size_t klen = strcspn(kv, "=");

        if (!kv[klen] || klen == 0)
                return -EINVAL;
        for (size_t i = 0; i < e->n; i++)
                if (!strncmp(e->v[i], kv, klen) && e->v[i][klen] == '=') {
                        char *d = strdup(kv);
                        if (!d)
                                return -ENOMEM;
                        free(e->v[i]);
                        e->v[i] = d;
                        return 0;
                }
        if (e->n + 1 >= e->cap) {
                size_t ncap = e->cap ? 2 * e->cap : 32;
                char **nv = realloc(e->v, ncap * sizeof *nv);
                if (!nv)
                        return -ENOMEM;
                e->v = nv;
                e->cap = ncap;
        }
        e->v[e->n] = strdup(kv);
        if (!e->v[e->n])
                return -ENOMEM;
        e->v[++e->n] = NULL;
        return 0;
}

/* KEY=VALUE lines; blank lines, comments and a leading "export " ignored; surrounding quotes dropped. */
static void envlist_read_file(const char *path, struct envlist *e)
{
        char *text = NULL, *line, *save = NULL;

        if (fs_read_file(path, 1 << 20, &text, NULL) < 0)
                return;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *p = line, *eq;
                size_t vlen;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!strncmp(p, "export ", 7))
                        p += 7;
                if (*p == '#' || !(eq = strchr(p, '=')) || eq == p)
                        continue;
                vlen = strlen(eq + 1);
                while (vlen && (eq[vlen] == '\r' || eq[vlen] == ' '))
                        eq[vlen--] = 0;
                if (vlen >= 2 && (eq[1] == '"' || eq[1] == '\'') && eq[vlen] == eq[1]) {
                        memmove(eq + 1, eq + 2, vlen - 2);
                        eq[vlen - 1] = 0;
                }
                envlist_set(e, p);
        }
        free(text);
}

static int envlist_write_file(const char *path, const struct envlist *e)
{
        size_t len = 0;
        char *buf;
        int r;

        for (size_t i = 0; i < e->n; i++)
                len += strlen(e->v[i]) + 1;
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        len = 0;
        for (size_t i = 0; i < e->n; i++)
                len += (size_t)sprintf(buf + len, "%s\n", e->v[i]);
        r = fs_write_atomic(path, buf, len, 0600); /* may hold secrets */
        free(buf);
        return r;
}

int compose_call(const struct backend *b, const struct compose_paths *p, const struct envlist *env,
                 const char *const *args, bool inherit, int *ret_status, char **ret_out, struct error *err)
{
        struct backend_call c = {
                .project = p->project,
                .compose_file = p->effective,
                .project_dir = p->compose_dir,
                .env = (const char *const *)env->v,
                .args = args,
                .inherit_output = inherit,
        };

        return backend_compose(b, &c, ret_status, ret_out, err);
}

const char *compose_vars_lookup(void *ctx, const char *name)
{
        const struct compose_vars *v = ctx;
        const char *val;

        if (!strcmp(name, "PROJECT"))
                return v->slug;
        if (!strcmp(name, "DOMAIN"))
                return STACK_DOMAIN;
        if ((val = envlist_find(v->env, name, strlen(name))) || (val = getenv(name)))
                return val;
        return v->dotenv ? envlist_find(v->dotenv, name, strlen(name)) : NULL;
}

struct dotenv_ctx {
        const struct run_options *o;
        const char *slug, *rel;
        struct envlist *dotenv;
        struct error *err;
};

static int dotenv_value(void *ctx, const char *key, const char *value)
{
        struct dotenv_ctx *d = ctx;
        const char *ours = !strcmp(key, "PROJECT") ? d->slug : !strcmp(key, "DOMAIN") ? STACK_DOMAIN : NULL;
        char *kv;
        int r;

        if (!policy_dotenv_key_allowed(key))
                return error_set(d->err, STACK_EREJECT,
                                 "%s sets %s: a bundle's .env may not set DOCKER_* or COMPOSE_* variables (they "
                                 "choose the Engine and how compose reads the file)",
                                 d->rel, key);
        if (ours && strcmp(value, ours))
                compose_warn(d->o, "%s sets %s=%s: stack sets %s=%s (the stack answers at https://%s." STACK_DOMAIN ")",
                             d->rel, key, value, key, ours, d->slug);
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return error_set(d->err, STACK_EFAIL, "out of memory");
        r = envlist_set(d->dotenv, kv);
        free(kv);
        return r < 0 ? error_set(d->err, STACK_EFAIL, "out of memory") : 0;
}

/* The bundle's .env beside the compose file, parsed as compose parses it; not valid: STACK_EREJECT naming
 * the file and line. */
static int read_dotenv(const struct run_options *o, const char *slug, const struct compose_paths *p,
                       struct envlist *env, struct envlist *dotenv, struct error *err)
{
        struct compose_vars vars = {.slug = slug, .env = env};
        char path[PATH_MAX], rel[PATH_MAX], *text = NULL;
        size_t len = 0, n = strlen(p->run_dir);
        struct dotenv_ctx d = {.o = o, .slug = slug, .rel = rel, .dotenv = dotenv, .err = err};
        int r;

        if (fs_path(path, sizeof path, "%s/.env", p->compose_dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        snprintf(rel, sizeof rel, "%s", path + (strncmp(path, p->run_dir, n) == 0 && path[n] == '/' ? n + 1 : 0));
        r = fs_read_file(path, DOTENV_MAX_TOTAL, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_errno(err, STACK_EREJECT, r, "cannot read %s", rel);
        r = dotenv_parse(text, len, rel, compose_vars_lookup, &vars, dotenv_value, &d, err);
        free(text);
        return r;
}

int compose_build_env(const struct run_options *o, const char *slug, const struct compose_paths *p, bool dry,
                      struct envlist *env, struct envlist *dotenv, struct error *err)
{
        char kv[256];
        bool changed = false;
        int r;

        envlist_read_file(p->env_file, env);
        for (size_t i = 0; o && o->env && o->env[i]; i++) {
                r = envlist_set(env, o->env[i]);
                if (r < 0)
                        return error_set(err, STACK_EUSAGE, "--env '%s': expected KEY=VALUE", o->env[i]);
                changed = true;
        }
        if (changed && !dry) {
                r = fs_mkdir_p(p->data_dir, 0755);
                if (r == 0)
                        r = envlist_write_file(p->env_file, env);
                if (r < 0)
                        return error_errno(err, STACK_ESTORE, r, "cannot write %s", p->env_file);
        }
        snprintf(kv, sizeof kv, "PROJECT=%s", slug);
        if (envlist_set(env, kv) < 0 || envlist_set(env, "DOMAIN=" STACK_DOMAIN) < 0)
                return error_set(err, STACK_EFAIL, "out of memory");
        return read_dotenv(o, slug, p, env, dotenv, err);
}

char *compose_tail_lines(const char *text, int lines)
{
        const char *p;
        int n = 0;

        if (!text)
                return strdup("");
        for (p = text + strlen(text); p > text; p--)
                if (p[-1] == '\n' && p[0] && ++n > lines)
                        break;
        return strdup(p);
}

int compose_simple(const char *slug, const struct compose_paths *p, const struct backend *b, const char *const *args,
                   struct error *err)
{
        struct envlist env = {0}, dotenv = {0};
        char *out = NULL;
        int status = 0, r;

        r = compose_build_env(NULL, slug, p, true, &env, &dotenv, err);
        if (r == 0)
                r = compose_call(b, p, &env, args, false, &status, &out, err);
        if (r == 0 && status != 0) {
                char *tail = compose_tail_lines(out, 3);
                r = error_set(err, STACK_ERUNTIME, "%s %s failed (exit %d): %s", backend_name(b), args[0], status,
                              tail ? tail : "");
                free(tail);
        }
        free(out);
        envlist_release(&env);
        envlist_release(&dotenv);
        return r;
}

int run_logs_to(struct store *s, const char *id_or_slug, bool follow, int fd, volatile int *ret_pid, struct error *err)
{
        const char *args[] = {"logs", "--no-color", follow ? "-f" : NULL, NULL};
        struct backend *b = NULL;
        struct run_row row = {0};
        struct compose_paths p;
        struct envlist env = {0}, dotenv = {0};
        int r, status = 0;

        if (runs_get(s, id_or_slug, &row, NULL) == 0) { /* a StaticWebsite has no logs (run/flavor.h) */
                bool is_static = !runner_of_row(s, &row)->containers;
                run_row_release(&row);
                memset(&row, 0, sizeof row);
                if (is_static)
                        return error_set(err, STACK_EFAIL,
                                         "%s is a StaticWebsite: it has no container and no logs "
                                         "(the proxy serves its files)",
                                         id_or_slug);
        }
        r = runs_get(s, id_or_slug, &row, err);
        if (r == 0 && swarm_is_run_dir(row.run_dir)) { /* runner-swarm.c */
                r = swarm_logs(row.project, follow, fd, ret_pid, err);
                run_row_release(&row);
                return r;
        }
        if (r == 0 && compose_row_paths(s, &row, &p) < 0)
                r = error_set(err, STACK_ESTORE, "store path too long");
        if (r == 0)
                r = backend_detect(s, &b, err);
        if (r == 0)
                r = compose_build_env(NULL, row.slug, &p, true, &env, &dotenv, err);
        if (r == 0) {
                /* into a pipe, docker-compose v1 (Python) would hold lines back in its buffer */
                if (fd > 0 && envlist_set(&env, "PYTHONUNBUFFERED=1") < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
                struct backend_call c = {.project = p.project,
                                         .compose_file = p.effective,
                                         .project_dir = p.compose_dir,
                                         .env = (const char *const *)env.v,
                                         .args = args,
                                         .inherit_output = true,
                                         .output_fd = fd,
                                         .ret_pid = ret_pid};
                if (r == 0)
                        r = backend_compose(b, &c, &status, NULL, err);
        }
        if (r == 0 && status != 0)
                r = error_set(err, STACK_ERUNTIME, "%s logs exited %d", backend_name(b), status);
        envlist_release(&env);
        envlist_release(&dotenv);
        run_row_release(&row);
        backend_free(b);
        return r;
}

int run_logs(struct store *s, const char *id_or_slug, bool follow, struct error *err)
{
        return run_logs_to(s, id_or_slug, follow, -1, NULL, err);
}
