/* policy.h - what a stack's compose file may ask for, and the effective compose file stack runs
 * (spec/run.md "Policy").
 *
 * policy_apply() parses the compose file (libyaml, aliases and sizes bounded), resolves every ${VAR} string with
 * the caller's lookup (composevars.h), refuses what the default sandbox does not allow unless `allow` grants it,
 * judging the resolved values, and writes the effective compose file: the same document, each string that had
 * variables replaced by its resolved value (with `$` doubled, so compose runs exactly what was judged), plus
 * no-new-privileges, the stack's resource limits,
 * published ports bound to 127.0.0.1, data mounts redirected to the stack's data dir, and labels tying
 * containers to the run. It is a full file, not an override: compose merges port lists, so an override would
 * add a second binding instead of replacing the first.
 *
 * Refusals are STACK_EREJECT naming the service and the key of the first refusal, then every permission the
 * file needs and is not granted, and the command that grants them ("service 'web': privileged: true is not
 * allowed (needs permission 'privileged'); grant what demo needs with: stack run demo --allow privileged
 * --allow host-bind"). A variable whose value stays unknown (unset, no default) in a path counts as dangerous
 * (host-bind); a malformed or too deeply nested interpolation is a refusal.
 */
#ifndef STACK_POLICY_H
#define STACK_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run/composevars.h"
#include "base/error.h"
#include "store/manifest.h"
#include "store/tree.h"

/* Permission names, as in `stack run --allow NAME` and stack.yaml `permissions`. */
enum policy_perm {
        PERM_PRIVILEGED = 1 << 0,    /* privileged: true */
        PERM_HOST_NETWORK = 1 << 1,  /* network_mode: host */
        PERM_HOST_PID = 1 << 2,      /* pid: host */
        PERM_HOST_IPC = 1 << 3,      /* ipc: host */
        PERM_CAP_ADD = 1 << 4,       /* cap_add */
        PERM_DEVICES = 1 << 5,       /* devices */
        PERM_DOCKER_SOCKET = 1 << 6, /* a bind of /var/run/docker.sock or /run/docker.sock */
        PERM_HOST_BIND = 1 << 7,     /* a bind mount of a path outside the run dir */
        PERM_LISTEN = 1 << 8,        /* published ports on all interfaces instead of 127.0.0.1 */
        PERM_ULIMITS = 1 << 12,      /* ulimits other than nofile <= POLICY_MAX_NOFILE and nproc <= the pids limit */
        PERM_OOM = 1 << 13,          /* oom_score_adj below 0, oom_kill_disable */
        PERM_ROUTE = 1 << 14,        /* a front door host outside <slug>.stack.localhost and names under it */
        /* What reaches outside the stack's own project (bits stored in the allows table: never renumber). */
        PERM_VOLUME_DRIVER = 1 << 16,    /* a volume driver other than local (top-level driver, volume_driver) */
        PERM_EXTERNAL = 1 << 17,         /* volumes and networks named outside the project, external ones */
        PERM_OTHER_CONTAINERS = 1 << 18, /* container:NAME, external_links, container_name "stack-..." */
        PERM_REMOTE_BUILD = 1 << 19,     /* a build context fetched from a URL */
        PERM_LOGGING = 1 << 20,          /* a logging driver other than json-file, local, none */
};
/* "privileged", "host-network", "host-pid", "host-ipc", "cap-add", "devices", "docker-socket", "host-bind",
 * "listen", "ulimits", "oom", "route", "volume-driver", "external", "other-containers", "remote-build",
 * "logging" -> bit; 0 when unknown. */
unsigned policy_perm_from_name(const char *name);
const char *policy_perm_name(unsigned bit);

/* Whether a bundle's `.env` may set KEY (spec/run.md "Variables"). The compose tools read their own settings
 * from the project's `.env` as well as from the environment: DOCKER_HOST (which Engine gets the project and
 * the person's --env values), COMPOSE_CONVERT_WINDOWS_PATHS / COMPOSE_FORCE_WINDOWS_HOST (a bind source
 * `.\..\..\etc` judged as a directory of the run dir becomes `/etc/..`), and more. So these are refused (any
 * case): DOCKER_HOST, _TLS, _TLS_VERIFY, _CERT_PATH, _CONTEXT, _CONFIG, _API_VERSION, _DEFAULT_PLATFORM,
 * _BUILDKIT, and every COMPOSE_* but COMPOSE_PROJECT_NAME (stack's `-p` wins), COMPOSE_PROFILES (judged by the
 * policy as compose sees it), COMPOSE_HTTP_TIMEOUT and COMPOSE_PARALLEL_LIMIT. Other DOCKER_* names are the
 * bundle's own variables (DOCKER_SOCKET_LOCATION). */
bool policy_dotenv_key_allowed(const char *key);

/* The person's limits (spec/run.md "Limits"): every service of every stack gets them; stack.yaml `resources`
 * and the service's own keys may lower them, never raise or remove them. */
#define POLICY_DEFAULT_MEMORY   (4ULL << 30) /* bytes per container */
#define POLICY_DEFAULT_PIDS     4096         /* processes per container */
#define POLICY_DEFAULT_REPLICAS 10           /* scale / deploy.replicas of one service */
#define POLICY_MAX_CPU_SHARES   1024         /* the Engine's default weight: a bundle may not outweigh others */
#define POLICY_MAX_NOFILE       1048576      /* ulimits nofile (soft and hard) that needs no permission */
#define POLICY_MAX_RESERVED     8
#define POLICY_CONFIG_FILE      "config.json" /* in $STACK_HOME */

struct policy_limits {
        double cpus;       /* per container; default: the CPUs online */
        uint64_t memory;   /* bytes per container (memswap_limit is set to the same: no swap) */
        unsigned pids;     /* per container */
        unsigned replicas; /* the most containers one service may ask for */
        /* host ports no bundle may publish on any address: the API's (57404 and config.json "api_port") and
         * the front door's in force (443 and 80, or STACK_PROXY_PORT and STACK_PROXY_HTTP_PORT) */
        unsigned reserved[POLICY_MAX_RESERVED];
        size_t n_reserved;
};

/* The built-in defaults above, with the reserved ports of this environment. */
void policy_limits_default(struct policy_limits *l);
/* The defaults, then $home/config.json's "limits" ({"cpus": 2, "memory": "4g", "pids": 4096, "replicas": 10})
 * and "api_port", when the file exists. A value that is not a positive number of its kind, or an unknown key,
 * is STACK_EUSAGE naming the file and the key. */
int policy_limits_load(const char *home, struct policy_limits *l, struct error *err);

struct policy_input {
        const char *compose_path;  /* the compose file inside the run dir (absolute) */
        const char *run_dir;       /* the run dir (absolute): relative binds resolve against the compose file's dir */
        const char *data_dir;      /* $STACK_HOME/data/<slug> (absolute): created on demand */
        const struct tree *tree;   /* what the bundle ships (paths relative to run_dir) */
        const struct manifest *m;  /* resources, slug */
        unsigned allow;            /* granted enum policy_perm bits */
        const char *const *labels; /* "key=value" added to every service; NULL-terminated, may be NULL */
        bool compose_v1;           /* docker-compose 1.29 runs the file: v2-only syntax rewritten (spec/run.md) */
        interp_lookup_fn lookup;   /* the variables compose will see (run.c: PROJECT/DOMAIN, --env and the
                                    * remembered env, the process environment, the bundle's .env); NULL: none */
        void *lookup_ctx;
        bool dry;            /* stack config: the effective file says where data goes, but no data dir is made */
        const char *project; /* the compose project (run.c project_name()); NULL: "stack-<slug>". Volumes and
                              * networks named "<project>_..." are the stack's own. */
        const struct policy_limits *limits; /* NULL: policy_limits_default() */
        bool swarm; /* the file is deployed on a swarm (policy_swarm_file()): its swarm-only deploy keys are kept;
                     * otherwise they are removed with a warning, as compose ignores them */
};

/* A host the front door routes to a service's container port (spec/proxy.md "Routes from runs"). */
struct policy_route {
        char service[128];
        char host[254];
        int port;
};

struct policy_result {
        char **services;      /* service names in document order, NULL-terminated */
        char **required_vars; /* ${VAR:?msg} / ${VAR?msg} names the lookup leaves unset, NULL-terminated */
        char **redirected;    /* "service: ./data -> <data_dir>/data" lines, NULL-terminated */
        unsigned needed;      /* enum policy_perm bits the file asks for (granted or not) */
        char **warnings;      /* router labels it cannot use ("service 'web': ..."), NULL-terminated */
        /* Routes: from traefik router labels under .stack.localhost (the routed port is published on an
         * ephemeral loopback port, 127.0.0.1::PORT, when the file does not publish it); without any, the one
         * published port of a stack that has exactly one becomes https://<slug>.stack.localhost. */
        struct policy_route *routes;
        size_t n_routes;
};

/* Check and write the effective file to out_path (atomically). On refusal nothing is written. */
int policy_apply(const struct policy_input *in, const char *out_path, struct policy_result *ret, struct error *err);
void policy_result_release(struct policy_result *r);

/* ---- the swarm file (run/policy-swarm.c; spec/run.md "Swarm file") ----
 *
 * Calling sequence: policy_apply() with policy_input.swarm set writes the effective file; the images it runs are
 * pushed to the registry every node pulls from; then policy_swarm_file() reads that effective file and writes
 * the file `docker stack deploy -c` reads (the compose 3.x form, version "3.8", what docker CLI 20.10
 * accepts): images by digest, every service at deploy.replicas 0 with its desired count in the service label
 * io.stack.replicas, endpoint_mode dnsrr, limits as deploy.resources, only the routed ports published (host
 * mode, the node picks the port), services that keep data constrained to the data node, the swarm-only keys
 * bounded. What swarm cannot do is refused (STACK_EREJECT "service 'web': privileged is not supported on
 * swarm"); what it drops is said in the notes. Nothing is written on refusal. */
struct policy_swarm_options {
        const char *project;       /* the stack's project as docker stack deploy gets it (which prefixes the
                                    * names it creates with it: not written into the file) */
        const char *data_node;     /* node id stateful services are constrained to (node.id==X) */
        const char *const *images; /* pairs "REF", "HOST/REPO@sha256:...", NULL-terminated: image: REF becomes the
                                     * second; an image with no entry is refused ("image X was not pushed") */
        const struct policy_route *routes; /* policy_result.routes: these service ports are published (host mode) */
        size_t n_routes;
        const char *data_dir;      /* $STACK_HOME/data/<slug>: binds under it keep data (so does every other bind:
                                    * the run dir is on this node only; and every volume) */
        unsigned max_replicas;     /* the most replicas a service may ask for (0: 8) */
        const char *run_dir;       /* configs' and secrets' files must be inside it (NULL: the effective file's dir) */
        const char *data_hostname; /* the data node's hostname, for node.hostname== constraints (NULL: unknown, so
                                    * a stateful service constrained by hostname is refused) */
};

/* Read effective_path (policy_apply()'s output), write out_path atomically (0600). *ret_notes (NULL-terminated,
 * strv_free()) says, one line each, what was dropped or converted that a person should know; set on success
 * only. */
int policy_swarm_file(const char *effective_path, const char *out_path, const struct policy_swarm_options *o,
                      char ***ret_notes, struct error *err);

#endif
