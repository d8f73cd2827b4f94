/* policyfx.h - the policy_apply() fixture of the policy unit tests (tests/unit/test-policy*.c): one temporary
 * run dir with a compose file, a data dir, a bundle tree and a manifest, applied as a run applies it (project
 * PROJECT, the run's labels).
 *
 * Calling sequence: fx_init(&f, resources, shipped); set f.v1 or f.limits when the test needs them;
 * fx_apply(&f, yaml, allow) as often as needed (f.text holds the effective file after a success, checked to be
 * plain YAML: no tag, anchor, alias or merge key; f.err the refusal, and no file written); fx_release(&f).
 * fx_refused() and fx_accepted() are whole checks built on them. Failures are cmocka assertions. */
#ifndef STACK_TEST_POLICYFX_H
#define STACK_TEST_POLICYFX_H

#include <stdbool.h>

#include "run/policy.h"
#include "base/error.h"
#include "store/manifest.h"
#include "store/tree.h"

#define MANIFEST \
        "slug: demo\nname: Demo\nflavor: DockerCompose\nversion: \"1\"\ndescription: d\nauthor: a\nlicense: MIT\n"
#define PROJECT "stack-demo"
#define WEB     "services:\n  web:\n    image: nginx\n"

/* One run dir with a compose file, a data dir, a bundle tree and a manifest. */
struct fx {
        char dir[1024], run[1100], data[1100], compose[1200], out[1200];
        struct tree tree;
        struct manifest *m;
        struct policy_result res;
        struct error err;
        char *text;                         /* the effective file after a successful apply */
        bool v1;                            /* written for docker-compose 1.29 */
        bool swarm;                         /* policy_input.swarm */
        const struct policy_limits *limits; /* NULL: the defaults */
        interp_lookup_fn lookup;            /* the variables compose will see (NULL: none) */
        void *lookup_ctx;
};

/* resources: stack.yaml lines appended to the manifest (NULL: none); shipped: NULL-terminated paths the bundle
 * ships besides compose.yaml, a trailing '/' making a directory (NULL: none). */
void fx_init(struct fx *f, const char *resources, const char *const *shipped);
void fx_release(struct fx *f);
bool fx_exists(const char *path);
int fx_apply(struct fx *f, const char *yaml, unsigned allow);
/* Refused without bit (STACK_EREJECT whose message holds `what` and names the permission and the command,
 * no data dir made), accepted with it (and bit still counted as needed). */
void fx_refused(const char *yaml, unsigned bit, const char *what, bool v1);
void fx_accepted(const char *yaml);

#endif
