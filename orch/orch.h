/* orch.h - the one fetch-then-run sequence the CLI (`stack run`) and the HTTPS daemon both call.
 *
 * orch_run(store, "slug[@version]", opts, &info, err): resolve the ref in the store (index.h); when the store
 * lacks it, fetch it from the catalog (fetch.h) unless opts->offline (then STACK_ENETWORK naming what is
 * missing); then run_start() with the resolved version (run.h). Release info with run_info_release(), also
 * after a failure. The parts below (fetch/, run/) never call each other: this is where they meet.
 *
 * The front door (proxy/proxy.h, spec/proxy.md "Routes from runs") is kept here too, so the CLI and the daemon
 * both get it and run/ stays proxy-free: before anything starts, each host the run routes gets the placeholder
 * "starting" (a host another stack holds refuses the start, -STACK_EREJECT naming both; hosts the stack no
 * longer routes are forgotten); once running each host is routed to its published loopback port and its
 * https address leads info->addresses; a failed start leaves "failed". A proxy that cannot start (Caddy not
 * installed) is a warning: the stack runs with its published ports.
 *   orch_stop(store, id_or_slug, remove, purge, warn, ctx, &row, err)   run_stop (placeholder "stopped") or
 *                                                                       run_remove (routes forgotten)
 *   orch_remove(store, id_or_slug, purge, warn, ctx, &row, err)   `stack rm`: run_remove_anyway (completes
 *                                    whatever the Engine answers; what it left is one warn line), routes forgotten,
 *                                    the stack's unfinished upgrades abandoned (with purge: its journal and
 *                                    snapshots forgotten)
 *   orch_waiting(store, slug, warn, ctx)   <slug>.stack.localhost says "waiting for approval" (the daemon)
 *   orch_list(store, &infos, &n, err)       run_list() with each run's front-door addresses (the proxy table:
 *                                           routed or a placeholder) first in info->addresses (label
 *                                           "front door"); `stack ps` and GET /runs show these
 *   orch_gc(store, &gc_options, &report, err)   gc_run() (gc/gc.h) with the roots of the layers above gc: the
 *                                           upgrade journal's (rollback targets, pending upgrades, their
 *                                           snapshots); `stack gc` and POST /gc call this, not gc_run()
 *
 * A run as JSON (orch/runjson.c), one writer for the CLI's --json and the daemon's answers (spec/cli.md "Runs
 * as JSON", spec/api.md "GET /runs"): orch_run_json(row, paths) builds the object (the caller json_decref()s
 * it; NULL when out of memory); then the caller adds what its command shows (addresses, ports, ...).
 */
#ifndef STACK_ORCH_H
#define STACK_ORCH_H

#include <stdbool.h>

#include <jansson.h>

#include "fetch/http.h"
#include "gc/gc.h"
#include "run/run.h"
#include "base/error.h"
#include "store/store.h"

struct orch_options {
        /* fetching a version the store lacks */
        const char *catalog;       /* base URL; NULL: $STACK_CATALOG */
        bool insecure;             /* accept unsigned / untrusted content, recorded on the version */
        bool offline;              /* never fetch */
        http_progress_fn progress; /* download progress, may be NULL */
        void *progress_ctx;
        /* running it; run.warn and run.step also get the fetch's warnings and its "fetch" timing */
        struct run_options run;
};

int orch_run(struct store *s, const char *ref, const struct orch_options *o, struct run_info *ret, struct error *err);
/* The second half of orch_run: a version already resolved (stack upgrade and rollback, orch/upgrade.h). */
int orch_run_version(struct store *s, const struct version_info *v, const struct orch_options *o, struct run_info *ret,
                     struct error *err);
int orch_stop(struct store *s, const char *id_or_slug, bool remove, bool purge, manifest_warn_fn warn, void *warn_ctx,
              struct run_row *ret, struct error *err);
int orch_remove(struct store *s, const char *id_or_slug, bool purge, manifest_warn_fn warn, void *warn_ctx,
                struct run_row *ret, struct error *err);
void orch_waiting(struct store *s, const char *slug, manifest_warn_fn warn, void *warn_ctx);
int orch_list(struct store *s, struct run_info **ret, size_t *ret_n, struct error *err);
/* Only the first half: the resolved (fetched when missing) version in *ret (version_info_release() it);
 * `stack config` then calls run_config(). */
int orch_resolve(struct store *s, const char *ref, const struct orch_options *o, struct version_info *ret,
                 struct error *err);

/* gc_run() with the upgrade journal's roots; o's own providers are replaced. */
int orch_gc(struct store *s, const struct gc_options *o, struct gc_report *ret, struct error *err);
/* id, slug, version, state, [tree, project, run_dir: only with paths, the host's own paths, never in the API],
 * reason, created_at, updated_at, started_at, stopped_at; reason and the times not yet reached are null. */
json_t *orch_run_json(const struct run_row *row, bool paths);
/* info's addresses as [{"service", "label", "url"}] (null where a field is unset). */
json_t *orch_addresses_json(const struct run_info *info);
/* "backend": "swarm" or "compose", and for a run on the swarm what run_list() said of it (run_info.swarm:
 * services, replicas, tasks and their nodes, the node that holds its data), merged into o (stack ps --json,
 * GET /runs). */
void orch_swarm_json(json_t *o, const struct run_info *info);
/* A NULL-terminated string vector (NULL: none) as a JSON array of strings. */
json_t *orch_strv_json(char **v);

#endif
