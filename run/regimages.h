/* regimages.h - registry images of a version (spec/run.md "Registry images"): pulled through the Engine, kept in
 * the store as their layers, pinned to the version, and given back to the Engine from the store.
 *
 * An image a version's compose file names that no bundle archive provides and no service builds is a registry
 * image. The first run (or `stack fetch --images`) pins it: the image the Engine has for the reference, pulled
 * first when it has none, recorded on the version (index.h "version_images": repository digest, image id) and,
 * unless keeping is off, saved into the store (GET /images/{ref}/get, an image archive stored as its parts, so
 * layers shared with other images are stored once). From then on the version runs that image: before each
 * start the Engine's image for the reference must have the pinned id; when it does not (removed, or the tag
 * moved), the pinned image is loaded from the store, else pulled by its digest and tagged.
 *
 * Calling sequence (under the store's shared lock, as run_start holds it):
 *   regimages_needed(effective_compose, bundle_refs, &refs, err)   the registry images, NULL-terminated
 *   regimages_ensure(s, e, v, refs, &o, &res, err)                 the Engine has each pinned image
 *   strv_free(refs)
 * regimages_keep(home, slug) reads the setting: $STACK_HOME/config.json {"images": {"keep": false,
 * "stacks": {"SLUG": true}}}: a stack's own value wins, then the global one, then true.
 */
#ifndef STACK_REGIMAGES_H
#define STACK_REGIMAGES_H

#include <stdbool.h>

#include "base/error.h"
#include "store/index.h"
#include "store/store.h"

struct engine;
struct engine_progress;

struct regimages_options {
        bool offline; /* never pull: what the Engine lacks comes from the store, or the run fails (STACK_ENETWORK) */
        bool pull;    /* re-resolve every tag (stack upgrade --pull): pull, and pin what comes */
        /* a pull's progress, one call per status line of the Engine's stream (may be NULL) */
        void (*progress)(void *ctx, const char *ref, const struct engine_progress *p);
        void *progress_ctx;
        void (*say)(void *ctx, const char *line); /* "pulling REF", "REF: loaded from the store" (may be NULL) */
        void *say_ctx;
};

struct regimages_result {
        unsigned pulled, stored, loaded; /* images pulled, saved into the store, loaded from it */
        bool changed;                    /* the version's pins changed */
        char **pinned; /* "REF", "sha256:ID" pairs for the judge (judge.h), NULL-terminated: strv_free() */
};

/* The image of every service of the compose file at path that has no `build:`, is not in bundle_refs (the
 * references the bundle's archives name) and holds no variable; each once, in file order. */
int regimages_needed(const char *compose_path, char *const *bundle_refs, char ***ret, struct error *err);
int regimages_ensure(struct store *s, struct engine *e, const struct version_info *v, char *const *refs,
                     const struct regimages_options *o, struct regimages_result *ret, struct error *err);
bool regimages_keep(const char *home, const char *slug);
/* The X-Registry-Auth value for ref's registry (engine_ref_domain_len(); none: Docker Hub) from the person's Docker
 * config, $DOCKER_CONFIG/config.json (else ~/.docker/config.json) "auths" {"host": {"auth":
 * base64("user:password")}}; NULL when it has none. A heap string. */
char *regimages_auth(const char *ref);

#endif
