/* swarm-registry.h - the registry every swarm node pulls a version's images from (spec/run.md "The managed
 * registry"): a real one, Debian's docker-registry (distribution 2.8), that stack starts and keeps on the manager,
 * or one the person names and runs. Images go in through the local Engine (a tag, a push) and come out by digest,
 * so every node runs the bytes stack pushed.
 *
 * Calling sequence:
 *   swreg_options_load(home, &o, buf, sizeof buf, err)   config.json "swarm": registry, registry_port,
 *                                                         registry_addr (o's strings live in buf)
 *   swreg_ensure(s, &o, host, sizeof host, err)           the registry answers: started when it is not (again
 *                                                         after a crash or a kill); host "addr:port"
 *   swreg_push(s, e, host, ref, image_id, ret, ..., err)  for each image: ret "<host>/<repo>@sha256:..."
 *   swreg_stop(s, err)                                    stops stack's own registry (nothing else); safe when
 *                                                         none runs
 * swreg_status(s, &o, &st, err) says what runs, for `stack swarm status` and `stack swarm registry status`.
 * Under $STACK_HOME/registry/: config.yml (written by stack at each start), data/ (the registry's storage),
 * registry.pid (the docker-registry process), registry.log (its output, appended), lock (held while starting).
 * The registry runs under a small supervisor in its own session that stops it when registry/ is removed; stack
 * stops a process only when the pid file names a live $STACK_REGISTRY_BIN (else /usr/bin/docker-registry) serving
 * this store's config.yml (/proc/<pid>/exe and cmdline).
 */
#ifndef STACK_SWARM_REGISTRY_H
#define STACK_SWARM_REGISTRY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "store/store.h"

struct engine;

#define SWREG_DEFAULT_PORT  45000
#define SWREG_DEFAULT_ADDR  "127.0.0.1"
#define SWREG_START_WAIT_MS 10000 /* until GET /v2/ answers */
#define SWREG_STOP_WAIT_MS  5000  /* SIGTERM, then SIGKILL */
#define SWREG_DEFAULT_BIN   "/usr/bin/docker-registry"

struct swreg_options {
        const char *listen_addr; /* an IP address of this machine; NULL: SWREG_DEFAULT_ADDR (loopback) */
        unsigned port;           /* 0: SWREG_DEFAULT_PORT */
        const char *named;       /* config swarm.registry: the person's registry "host[:port]": nothing is started */
};

/* $STACK_HOME/config.json "swarm": {"registry": "host:port", "registry_port": N, "registry_addr": "IP"}; o zeroed
 * first (all defaults when there is no file or no "swarm"); the strings copied into buf. A value of the wrong kind
 * is STACK_EUSAGE naming the file and key, worded as the limits' (run/policy.h policy_limits_load()); keys of
 * "swarm" other readers own ("default", "engines") are left to them, any other is refused. */
int swreg_options_load(const char *stack_home, struct swreg_options *o, char *buf, size_t size, struct error *err);

/* With o->named: ret_host is it, nothing else happens. Else the managed registry listening on listen_addr:port
 * (delete enabled, storage $STACK_HOME/registry/data): one that answers GET /v2/ is kept; one of this store that
 * listens elsewhere is stopped and started again; none is started and must answer within SWREG_START_WAIT_MS, else
 * STACK_ERUNTIME with the last line of its log. A port something else holds is STACK_ERUNTIME saying so and how
 * to choose another ("swarm.registry_port"); no docker-registry installed is STACK_ERUNTIME saying how to install
 * it. ret_host "addr:port" ("[addr]:port" for IPv6), written only on success. */
int swreg_ensure(struct store *s, const struct swreg_options *o, char *ret_host, size_t size, struct error *err);

/* The local Engine's image image_id ("sha256:...") pushed to the registry at host under ref's repository and tag
 * (swreg_target()), through the Engine (its credentials for host from the person's Docker config, else none); the
 * local name added for the push is removed again afterwards (unless the image has no other name: removing it
 * would delete the image), or put back on the image it named before. ret "<host>/<repo>@sha256:<manifest
 * digest>", what a service is deployed with. An image the registry has already pushes fast: the Engine sends
 * only the layers the registry lacks. s may be NULL. Errors are STACK_ERUNTIME with the Engine's message. */
int swreg_push(struct store *s, struct engine *e, const char *host, const char *ref, const char *image_id, char *ret,
               size_t size, struct error *err);

/* Stop stack's own registry of this store (SIGTERM, SIGKILL after SWREG_STOP_WAIT_MS) and remove its pid file;
 * its data stays. No registry running is success. */
int swreg_stop(struct store *s, struct error *err);

struct swreg_status {
        bool managed;       /* false: o->named, the person's registry */
        pid_t pid;          /* the managed registry's process, 0 when none runs */
        bool answers;       /* GET /v2/ answered 200 (the managed one only) */
        char host[300];     /* where it listens (or was last told to), or o->named; "" when never started */
        char dir[PATH_MAX]; /* $STACK_HOME/registry */
};
int swreg_status(struct store *s, const struct swreg_options *o, struct swreg_status *ret, struct error *err);

/* Pure parts, for tests.
 * swreg_target(): "<host>/<path>:<tag>": ref's repository without its registry host (engine_ref_domain_len()),
 * its tag, else (a reference by digest alone) "stack-" and the first 12 hex of image_id, else "latest".
 * -ENAMETOOLONG when it does not fit, -EINVAL for a ref without a path.
 * swreg_config_text(): the config.yml of a registry storing under dir/data, listening on host. */
int swreg_target(const char *host, const char *ref, const char *image_id, char *ret, size_t size);
int swreg_config_text(const char *dir, const char *host, char *buf, size_t size);

#endif
