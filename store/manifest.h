/* manifest.h - stack.yaml: parse and validate a bundle's metadata (spec/manifest.md).
 *
 * Calling sequence: manifest_parse() a buffer (the bytes of stack.yaml, at most MANIFEST_MAX_SIZE) into a
 * struct manifest allocated by the parser; read its fields; manifest_free() it (NULL is fine). The parser
 * never reads files: the caller hands it the bytes, and checks the paths it names against the bundle
 * (manifest_compose_candidates() says which names to look for when `compose` is not set).
 *
 * Failures are STACK_EREJECT with one line naming the key (for example "stack.yaml: slug 'Bad Slug' does not
 * match [a-z0-9][a-z0-9._-]{0,62}"). Unknown keys are kept (names in `unknown`) and reported through `warn`.
 */
#ifndef STACK_MANIFEST_H
#define STACK_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define MANIFEST_MAX_SIZE    (1024 * 1024) /* stack.yaml larger than this is refused */
#define MANIFEST_MAX_ALIASES 64            /* YAML alias references allowed in one document */
#define MANIFEST_MAX_NODES   100000        /* scalars + sequence/mapping items in one document */

enum manifest_flavor {
        FLAVOR_DOCKER_COMPOSE = 0,
        FLAVOR_DOCKER_SERVICE,
        FLAVOR_STATIC_WEBSITE,
};

struct manifest_port {
        char *service; /* required, non-empty */
        unsigned port; /* 1..65535 */
        char *label;   /* optional, NULL when absent */
};

struct manifest_resources {
        double cpus;     /* 0 = unset; else > 0 */
        uint64_t memory; /* bytes, 0 = unset; accepts 512m, 1g, 1024k, 1048576, 512MiB ... */
        unsigned pids;   /* 0 = unset */
};

struct manifest {
        /* required (published Stack Desktop schema) */
        char *slug, *name, *version, *description, *author, *license;
        enum manifest_flavor flavor;
        /* optional, ours */
        char *compose; /* NULL = default candidates */
        char **images; /* NULL-terminated; NULL when absent */
        size_t n_images;
        struct manifest_port *ports;
        size_t n_ports;
        struct manifest_resources resources;
        char *permissions_yaml; /* the `permissions` mapping re-emitted as flow YAML, NULL when absent */
        int settle_s;           /* `settle:` seconds stack upgrade waits with every container running; -1: absent */
        /* optional, Stack Desktop schema (kept as scalars when they are scalars) */
        char *status, *type, *icon, *updated_at, *homepage, *repository;
        /* top-level keys neither schema knows, in document order */
        char **unknown;
        size_t n_unknown;
};

/* warn(ctx, line) is called once per warning (unknown key ...); may be NULL. */
typedef void (*manifest_warn_fn)(void *ctx, const char *line);

int manifest_parse(const void *data, size_t len, struct manifest **ret, manifest_warn_fn warn, void *warn_ctx,
                   struct error *err);
void manifest_free(struct manifest *m);
/* stack.yaml's bytes as a tree, loaded exactly as manifest_parse() loads them (its limits; aliases kept as
 * YAMLTREE_ALIAS nodes), for a caller that edits it and writes it back (store/export.c); yamltree_free() it. */
struct yamltree_node;
int manifest_load_yaml(const void *data, size_t len, struct yamltree_node **ret, struct error *err);

/* The compose file names tried in order when `compose` is not set. NULL-terminated, static. */
const char *const *manifest_compose_candidates(void);
const char *manifest_flavor_name(enum manifest_flavor f);
/* true when slug matches [a-z0-9][a-z0-9._-]{0,62} */
int manifest_slug_valid(const char *slug);

#endif
