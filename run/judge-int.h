/* judge-int.h - what the judge's files share (run/judge.c: containers, run/judge-swarm.c: swarm services); not an
 * interface outside them (judge.h is).
 *
 * Every check takes who ("container NAME", "service NAME") and the field's name as the refusal should say it, and
 * returns 0 or -STACK_EREJECT after error_set() with the message of spec/run.md "What the Engine was asked for":
 * "WHO: FIELD VALUE needs permission 'P' (the Engine was asked for it; nothing was started)", or "... is not
 * allowed ..." when no permission the policy defines grants it.
 */
#ifndef STACK_JUDGE_INT_H
#define STACK_JUDGE_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "run/judge.h"
#include "base/error.h"

/* A string member of o, "" when absent or not a string. */
static inline const char *str(const json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s ? s : "";
}

static inline bool non_empty(const json_t *v)
{
        return (json_is_array(v) && json_array_size(v) > 0) || (json_is_object(v) && json_object_size(v) > 0);
}

/* The refusal: "WHO: WHAT needs permission 'P'" (or "is not allowed" for perm NULL or a name the policy does not
 * define). */
int judge_refuse(struct error *err, const char *who, const char *perm, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* 0 when perm is granted (or privileged is, when alt_privileged), else judge_refuse() naming perm. */
int judge_need(const struct judge_input *in, struct error *err, const char *who, const char *perm, bool alt_privileged,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A bind of host path src: inside the run dir or the data dir once resolved (symlinks of its existing part
 * followed), else `host-bind`; the Docker socket needs `docker-socket`. */
int judge_bind(const struct judge_input *in, const char *who, const char *field, const char *src, struct error *err);
/* Namespaced sysctls only, net.* only in a network namespace of the container's own (own_net), else `privileged`. */
int judge_sysctls(const struct judge_input *in, const char *who, const char *field, const json_t *sysctls, bool own_net,
                  struct error *err);
/* [{Name, Soft, Hard}]: each known, soft <= hard <= stack's own hard limit, else `ulimits`. */
int judge_ulimits(const struct judge_input *in, const char *who, const char *field, const json_t *ulimits,
                  struct error *err);
/* json-file, local, none (or "": the Engine's default), else `logging`. */
int judge_log_driver(const struct judge_input *in, const char *who, const char *field, const char *driver,
                     struct error *err);
/* Options of a local volume that make it a tmpfs (not a host mount). */
bool judge_tmpfs_options(const json_t *opts);

#endif
