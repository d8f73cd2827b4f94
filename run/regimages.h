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
 *   ... with o.background: the containers created, judged, started and waited for, then always (whatever the
 *   run came to, once ensure succeeded):
 *   regimages_finish(s, e, &res, err)                              the saves waited for, the pins recorded
 *   strv_free(res.pinned)
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
        /* A pulled image is saved into the store on a thread of its own (with its own Engine connection) while the
         * caller goes on to start the run; its pin is recorded by regimages_finish(). Without it each image is
         * saved, and the pins recorded, before ensure returns. */
        bool background;
};

struct regimages_saving;

struct regimages_result {
        unsigned pulled, stored, loaded; /* images pulled, saved into the store, loaded from it */
        bool changed;                    /* the version's pins changed */
        char **pinned; /* "REF", "sha256:ID" pairs for the judge (judge.h), NULL-terminated: strv_free() */
        struct regimages_saving *saving; /* background saves under way: regimages_finish() */
};

/* The image of every service of the compose file at path that has no `build:`, is not in bundle_refs (the
 * references the bundle's archives name) and holds no variable; each once, in file order. */
int regimages_needed(const char *compose_path, char *const *bundle_refs, char ***ret, struct error *err);
int regimages_ensure(struct store *s, struct engine *e, const struct version_info *v, char *const *refs,
                     const struct regimages_options *o, struct regimages_result *ret, struct error *err);
/* Waits for the background saves of res->saving (none: 0) and records them: each image's tree, then the version's
 * pins, as ensure does without o.background (the tag moved while it was saved: the saved image is pinned). A save
 * that failed (the disk full: STACK_ESTORE) records none of them: its error. res->saving is NULL afterwards. */
int regimages_finish(struct store *s, struct engine *e, struct regimages_result *res, struct error *err);
bool regimages_keep(const char *home, const char *slug);
/* The X-Registry-Auth value for ref's registry (engine_ref_domain_len(); none: Docker Hub) from the person's Docker
 * config, $DOCKER_CONFIG/config.json (else ~/.docker/config.json) "auths" {"host": {"auth":
 * base64("user:password")}}; NULL when it has none. A heap string. */
char *regimages_auth(const char *ref);

#endif
