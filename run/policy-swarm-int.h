/* policy-swarm-int.h - what the parts of the swarm file share (run/policy-swarm*.c); not an interface outside
 * run/. The public entry point is policy_swarm_file() (run/policy.h).
 *
 * Calling sequence, as policy_swarm_file() (policy-swarm.c) drives it: the effective file is parsed, its top
 * level converted (networks, volumes, configs, secrets), then each service with swarm_convert_service()
 * (policy-swarm-service.c: a service's keys, one by one), which ends with swarm_convert_deploy()
 * (policy-swarm-deploy.c: the deploy section, built from the service's limits, restart and deploy keys). Each
 * step adds to an output tree of its own, so a key nobody looked at never reaches it; each returns 0 or a
 * negative stack_code after swarm_refuse() / error_set() (out of memory: policy_oom()).
 *
 * The tree helpers (swarm_add ...) free what they were given when they fail (-ENOMEM).
 */
#ifndef STACK_POLICY_SWARM_INT_H
#define STACK_POLICY_SWARM_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy-int.h"

#define SWARM_MAX_DEFAULT 8 /* policy_swarm_options.max_replicas 0 */

/* What every service of a file may lose, said once with the services' names. */
enum swarm_agg {
        AGG_NNP,
        AGG_MEMSWAP,
        AGG_PIDS,
        AGG_DEPENDS,
        AGG_EXPOSE,
        AGG_SHARES,
        AGG_PULL,
        AGG_DEVELOP,
        AGG_COUNT,
};

/* One policy_swarm_file() call. */
struct sw {
        const struct policy_swarm_options *o;
        struct error *err;
        struct strv notes;
        struct strv agg[AGG_COUNT]; /* service names */
        char base[PATH_MAX];        /* the effective file's dir: relative paths resolve against it */
        char run_dir[PATH_MAX];     /* normalised */
        char run_real[PATH_MAX];    /* realpath() of the run dir ("" when it cannot be resolved) */
        unsigned max;               /* the replicas bound */
};

/* One service being converted: what goes into its deploy section. */
struct svc {
        char who[HEAD_SIZE]; /* "service 'web'" */
        const char *name;
        const struct yamltree_node *cpus, *mem, *memres, *pids, *restart, *scale, *deploy;
        bool stateful; /* a bind or a volume: constrained to the data node */
};

/* ---- policy-swarm.c: messages, the output tree, values, paths ---- */

/* A refusal (STACK_EREJECT, the first one wins) or a note for the person (policy_swarm_file()'s notes). */
int swarm_say(struct sw *s, bool refusal, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define swarm_refuse(s, ...) swarm_say(s, true, __VA_ARGS__)
#define swarm_note(s, ...)   swarm_say(s, false, __VA_ARGS__)
/* Said once for all the services it applies to (swarm_agg_notes()). */
int swarm_agg(struct sw *s, enum swarm_agg kind, const struct svc *v);
/* A node quoted into a message: its text (yamltree_show()) or its kind. */
const char *swarm_show(const struct yamltree_node *n, char *buf, size_t size);

int swarm_add(struct yamltree_node *parent, struct yamltree_node *n);
int swarm_add_text(struct yamltree_node *seq, const char *text, int style);
int swarm_set_copy(struct yamltree_node *m, const char *key, const struct yamltree_node *v);
/* The value of key in m, created empty of that kind when absent. NULL: out of memory. */
struct yamltree_node *swarm_child(struct yamltree_node *m, const char *key, enum yamltree_kind kind);
/* A copy of a mapping whose plain scalar values are written quoted: docker CLI 20.10 reads YAML 1.1, where a
 * plain `y`, `on` or `no` is a boolean and a label or environment value must be a string. */
struct yamltree_node *swarm_copy_quoted(const struct yamltree_node *n);

/* Every plain scalar value under n (not the keys: quote_keys() in policy-swarm.c) written quoted, where the 3.x
 * schema wants a string that YAML 1.1 would read as a number or a boolean (`user: 1000`, `command: [x, yes]`,
 * `delay: 0`). */
void swarm_quote_all(struct yamltree_node *n);

/* A whole number <= max, as written (no sign, no fraction). */
bool swarm_uint(const struct yamltree_node *n, uint64_t max, uint64_t *ret);
/* n is a scalar whose text is one of set (NULL-terminated). */
bool swarm_text_in(const struct yamltree_node *n, const char *const *set);
/* A host path of the file as an absolute one: relative ones resolve against the effective file's dir (docker
 * CLI would resolve them against the swarm file's, which may be elsewhere). A new string ('$' of ours doubled)
 * or NULL. */
char *swarm_absolute(struct sw *s, const char *path);

/* ---- policy-swarm-service.c: a service's keys ---- */

/* The service key: in (its definition in the effective file) converted into services[key]. */
int swarm_convert_service(struct sw *s, const struct yamltree_node *key, const struct yamltree_node *in,
                          struct yamltree_node *services);

/* Once every service was converted: one note for each enum swarm_agg that applies, with the services' names. */
int swarm_agg_notes(struct sw *s);

/* ---- policy-swarm-deploy.c: the deploy section ---- */

/* svc_out's deploy: replicas 0 and io.stack.replicas, dnsrr, resources, restart policy, placement (the data
 * node for a stateful service), update and rollback configs, each swarm key bounded. */
int swarm_convert_deploy(struct sw *s, struct svc *v, struct yamltree_node *svc_out);

#endif
