/* resolve.h - what POST /run's "slug" names (spec/api.md "POST /run"): a slug, or the full URL of a bundle
 * that lies under the configured catalog, resolved through the catalog's signed index to slug@version.
 *
 * resolve_target(store, catalog, slug_or_url, version, slug, slug_size, ref, ref_size, err) fills slug and
 * ref ("slug@version") or fails with: STACK_EUSAGE (malformed: 400), STACK_EREJECT (a URL outside the
 * catalog, a file: URL, any other scheme, a local path: 403; nothing is fetched), STACK_ENOTFOUND (neither the
 * store nor the catalog has it: 404), STACK_ENETWORK (the catalog cannot be reached and the store lacks it).
 * Only the catalog's index is read here; the bundle is fetched later, by orch_run().
 */
#ifndef STACK_RESOLVE_H
#define STACK_RESOLVE_H

#include <stddef.h>

#include "base/error.h"
#include "store/store.h"

int resolve_target(struct store *s, const char *catalog, const char *slug_or_url, const char *version, char *ret_slug,
                   size_t slug_size, char *ret_ref, size_t ref_size, struct error *err);

#endif
