/* approval.h - what approving a request approves (spec/api.md "GET /requests"), computed from the version in the
 * store, for everything that asks the person: the page's approval card (GET /requests), `stack approve`, the
 * desktop notification; and the stack's icon (GET /stacks/{slug}/icon).
 *
 * Calling sequence:
 *   approval_describe(store, engine, ref, &json, err)   ref "slug[@version]"; engine may be NULL (then an image
 *                                       is "cached" only when the store holds it). *json (json_decref() it):
 *     {"in_store": bool, "version", "name", "signer", "fingerprint", "insecure", "permissions": [{"name",
 *      "granted"}], "images": [{"ref", "size", "cached", "source"}], "ports": [{"service", "port", "label"}],
 *      "addresses": [URL], "limits": {"cpus", "memory", "pids", "requested": {...}}, "size", "image_bytes",
 *      "icon": bool}
 *     A version the store does not hold yet (the daemon fetches it once approved) is {"in_store": false}: the
 *     rest is unknown until then. signer is the key's name, fingerprint "sha256:<16 hex>" (both null: unsigned);
 *     permissions are those stack.yaml asks for beyond the default sandbox, granted when the person granted them
 *     to the stack already (run/runs.h allows_get); images are the images in the bundle's image archives (source
 *     "bundle", size the bytes of their layers, always cached: the store holds them), the registry images
 *     pinned to the version (source "registry", cached when stored or in the Engine) and the compose file's
 *     other images (run/regimages.h regimages_needed: source "compose", cached when the Engine has them,
 *     with the Engine's size, else size null; a compose file that cannot be read adds none, the run says why); limits are what each
 *     container gets: the person's (config.json, run/policy.h) lowered by stack.yaml `resources` (in
 *     "requested", null where unset).
 *   approval_summary(json, buf, size)   one line for a notification: "signed by NAME (sha256:...)" or "unsigned",
 *                                       then the permissions it asks for ("asks for privileged, host-bind") or
 *                                       "no permission beyond the sandbox"
 *   approval_icon(store, slug, &data, &len, &type, err)   the newest version's stack.yaml `icon` (a path inside the
 *                                       bundle; png, svg, jpg/jpeg, webp; at most APPROVAL_ICON_MAX bytes) read from
 *                                       the store into *data (free()); *type its content type. STACK_ENOTFOUND when
 *                                       the stack, the icon or its file is missing, or the icon is not a file of
 *                                       one of these types (a URL is never fetched).
 */
#ifndef STACK_APPROVAL_H
#define STACK_APPROVAL_H

#include <stddef.h>

#include <jansson.h>

#include "base/error.h"
#include "run/engine.h"
#include "store/store.h"

#define APPROVAL_ICON_MAX (1024 * 1024)

int approval_describe(struct store *s, struct engine *e, const char *ref, json_t **ret, struct error *err);
void approval_summary(const json_t *a, char *buf, size_t size);
int approval_icon(struct store *s, const char *slug, char **ret_data, size_t *ret_len, const char **ret_type,
                  struct error *err);

#endif
