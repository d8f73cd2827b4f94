/* policy-int.h - what the parts of the policy share (run/policy*.c); not an interface outside run/.
 *
 * Calling sequence, as policy_apply() (policy.c) drives it: policy_check_file() reads one compose file and
 * policy_parse_yaml()s it, policy_check_document() (policy-services.c) walks it, handing each key to its
 * check (security, mounts, ports, include/build, required variables), which records what the file asks for
 * with policy_need() and edits the tree in place (base/yamltree.h); policy_emit_yaml() gives the effective
 * text, queued with policy_pending_add() (policy-include.c) and written by policy_apply() once every file
 * passed.
 *
 * Every check takes the struct file being checked (which points at the struct apply of the whole run) and a
 * "who" prefix for its messages ("service 'web'"); it returns 0 (also after a refusal recorded with
 * policy_need()) or a negative stack_code after error_set(). Nodes passed in may be NULL where a key is
 * absent: policy_is_null() and the other predicates take NULL.
 *
 * Every name shared here starts with policy_ (the tree's own helpers with yamltree_).
 */
#ifndef STACK_POLICY_INT_H
#define STACK_POLICY_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy.h"
#include "base/yamltree.h"

#define POLICY_MAX_SIZE       (1024 * 1024)     /* bytes of one compose file */
#define POLICY_MAX_ALIASES    64                /* alias references in one file */
#define POLICY_MAX_NODES      100000            /* nodes in one file, alias copies included */
#define POLICY_MAX_DEPTH      64                /* nesting as written */
#define POLICY_MAX_COPY_DEPTH 128               /* nesting once aliases are expanded */
#define POLICY_MAX_COPY_BYTES (4 * 1024 * 1024) /* scalar bytes copied by aliases in one file */
#define POLICY_MAX_OUTPUT     (16 * 1024 * 1024)
#define POLICY_MAX_FILES      32   /* compose files reached through include / extends.file */
#define POLICY_MAX_NESTING    8    /* include / extends.file chains */
#define POLICY_MAX_VARS       1024 /* distinct required variables */
#define EFFECTIVE_PREFIX      ".stack-effective-"
#define LOOPBACK              "127.0.0.1"
#define MIN_CPUS              0.01             /* the Engine refuses less */
#define WHO_SIZE              (PATH_MAX + 256) /* "<included file>: service '<name>'" */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A growing list of strings, NULL-terminated (services, variables, redirects, data dirs, files being read). */
struct strv {
        char **v;
        size_t n, cap;
};

/* An effective file to write once every file passed. */
struct pending {
        char *path, *data;
        size_t len;
        unsigned mode; /* effective files 0600 (resolved values may hold stack.env secrets); configs 0644 */
};

/* One policy_apply() call: its input, its error sink and what the checks collected. */
struct apply {
        const struct policy_input *in;
        struct error *err;
        char run_real[PATH_MAX]; /* realpath(run_dir), "" when it cannot be resolved */
        unsigned needed;
        unsigned missing; /* needed and not granted */
        bool refused;
        struct strv services, vars, redirected, dirs, visiting;
        struct pending *writes;
        size_t n_writes, cap_writes, n_files;
        const char *main_base; /* the main compose file's dir, relative to the run dir */
        struct flat *flat;     /* compose v1: included documents to merge into the main one */
        size_t n_flat, cap_flat;
        bool configs_dir;       /* compose v1: .stack-configs/ is written */
        struct strv main_names; /* "<section>/<name>" the main file defines itself (not its override) */
        struct strv warnings;   /* policy_result.warnings */
        struct policy_route *routes;
        size_t n_routes, cap_routes;
        size_t port_services; /* services with published ports; the one port of the only one: single_* */
        struct policy_route single;
        size_t dash_services; /* services with a dash.url label and no traefik router; the first one: dash */
        struct policy_route dash;
        struct strv binds;  /* relative bind sources: "<w|r><k|d>:<rel>" (writable or read-only; kept in the run
                            * dir or redirected to the data dir), for policy_finish_binds() */
        struct strv wbinds; /* every writable bind recorded, one entry per bind (not deduplicated): "w<k|d>:<rel>" */
        struct strv pins;   /* one entry per writable bind pinned for a source inside it: "<k|d>:<outer>\t<inner>" */
        const struct policy_limits *limits; /* in->limits or the defaults */
};

/* An included document, checked and rebased, waiting to be merged into the main one (compose v1). */
struct flat {
        struct yamltree_node *root;
        char *rel; /* the included file, for messages */
};

/* A relative bind of a service in the document being checked, for policy_pin_nested_binds(). */
struct doc_bind {
        struct yamltree_node *volumes; /* the service's volumes list (the service, for pins) */
        char *rel;                     /* the source, relative to the run dir */
        char *target;                  /* normalised ("/a/b"); NULL when not known (a variable, not absolute) */
        char where;                    /* 'k' kept in the run dir, 'd' redirected to the data dir */
        bool writable;
};

/* One compose file being checked (the main one or one it includes). */
struct file {
        struct apply *a;
        const char *rel;           /* the compose file, relative to the run dir */
        const char *base;          /* what relative paths in it resolve against, relative to the run dir ("" = root) */
        char prefix[PATH_MAX + 8]; /* "" for the main file, "<rel>: " for included ones */
        bool list_services;
        const struct yamltree_node *services; /* the document's `services` mapping (NULL until known) */
        struct yamltree_node *volumes;        /* the volumes list of the service being checked, and its entry */
        const struct yamltree_node *volume;
        struct doc_bind *doc_binds; /* the document's relative service binds (pin_nested_binds) */
        size_t n_doc_binds, cap_doc_binds;
};

/* What one service's security_opt said, for the no-new-privileges stack adds. */
struct svc_state {
        bool have_nnp;  /* security_opt already says no-new-privileges:true */
        bool nnp_off;   /* security_opt says no-new-privileges:false, and privileged is granted */
        bool nnp_reset; /* security_opt: !reset */
};

/* Where a path in the file leads (classify_path). */
enum path_kind {
        PATH_VAR,    /* set by a variable: anything */
        PATH_HOST,   /* absolute or ~ */
        PATH_ESCAPE, /* relative, climbs out of the run dir */
        PATH_INSIDE, /* relative, inside the run dir: rel */
};

/* ---- policy.c: refusals, one compose file ---- */

/* The file asks for bit: record it; refuse (first refusal wins, checking goes on) unless it is granted. */
void policy_need(struct file *f, unsigned bit, const char *who, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
int policy_malformed(struct file *f, const char *who, const char *what, const struct yamltree_node *n);
/* Read, check and emit one compose file (the main one when nothing is being visited: its override file is
 * merged first, and for compose v1 its includes are flattened and the v1 rewrites applied). With ret_root, the
 * checked tree is handed over instead of being emitted. */
int policy_check_file(struct apply *a, const char *path, const char *rel, const char *base, bool list_services,
                      char **ret, size_t *ret_len, struct yamltree_node **ret_root);

/* ---- policy-yaml.c: the compose document (base/yamltree.h reads and edits the tree) ---- */

int policy_strv_add(struct strv *s, const char *str, size_t len);
bool policy_strv_has(const struct strv *s, const char *str, size_t len);
void policy_strv_release(struct strv *s);
/* The list as a NULL-terminated array (an empty one when nothing was added); the strv is emptied. */
char **policy_strv_steal(struct strv *s);
/* Absent (NULL: the key is not there) or a YAML null (yamltree_is_null). */
bool policy_is_null(const struct yamltree_node *n);
/* Compose interpolates $NAME and ${...}; $$ is a literal '$'. */
bool policy_has_var(const char *s, size_t len);
bool policy_node_has_var(const struct yamltree_node *n);
/* A value compose reads as false, or no value at all. Anything else (true, yes, a variable ...) is not. */
bool policy_is_false(const struct yamltree_node *n);
/* A list or mapping with something in it, or any scalar that is not null (`gpus: all`, a variable ...). */
bool policy_non_empty(const struct yamltree_node *n);
/* A list or mapping we add to: `!reset` (compose v2) would drop what we add, `!override` keeps it. */
int policy_prepare_append(struct yamltree_node *n);
char *policy_concat3(const char *a, const char *b, size_t blen, const char *c);
/* compose interpolates bind sources: a '$' in a path of ours must be written "$$". */
char *policy_escape_dollars(const char *s);
int policy_oom(struct error *err);
/* The bounded load (aliases expanded, merge keys resolved), then policy_tags(): tags checked and resolved. */
int policy_parse_yaml(const char *name, const char *data, size_t len, struct yamltree_node **ret, struct error *err);
/* The same, with the tags only checked when !resolve (an override file: its !reset/!override are the merge's). */
int policy_parse_yaml_tags(const char *name, const char *data, size_t len, bool resolve, struct yamltree_node **ret,
                           struct error *err);
int policy_emit_yaml(const char *name, const struct yamltree_node *root, char **ret, size_t *ret_len,
                     struct error *err);

/* ---- policy-paths.c: paths ---- */

/* Add the components of path to out (a normalised relative path, "" = the root), resolving "." and ".."
 * lexically, as compose does (os.path.abspath, filepath.Join) before the Engine sees the path. 1 when ".."
 * climbs above the root (unless clamp: then it stays at the root, as "/.." does), -ENAMETOOLONG. */
int policy_path_add(char *out, size_t size, const char *path, size_t len, bool clamp);
void policy_path_dirname(const char *path, char *out, size_t size);
/* "a/b/compose.yaml" -> "a/b/.stack-effective-compose.yaml" (also for the text as written: "./x.yaml"). */
char *policy_effective_name(const char *path, size_t len);
bool policy_shipped(const struct apply *a, const char *rel);
int policy_classify_path(struct file *f, const char *who, const struct yamltree_node *n, char *rel, size_t size,
                         enum path_kind *ret);
/* A file compose reads from the host on the stack's behalf (env_file, build context, secret file ...): it
 * must stay in the run dir unless host-bind is granted. */
int policy_check_host_path(struct file *f, const char *who, const char *key, const struct yamltree_node *n);
/* A top-level secret's or config's `file:` inside the run dir: compose binds it into the containers that use it
 * (read-only), so it takes part in policy_finish_binds() like any bind kept in the run dir: under a writable bind, a
 * container could replace it with a symlink to /etc/shadow that dockerd follows at the next start. */
int policy_record_file_bind(struct file *f, const char *who, const struct yamltree_node *file);
/* A build context compose fetches instead of reading a directory: starts with http://, https://, git://,
 * ssh://, github.com/ or git@ (compose-go isRemoteContext; docker-compose 1.29 is_url without ssh://). */
bool policy_is_url(const struct yamltree_node *n);
/* Why a PATH_VAR path is unknown, for messages: "set by a variable" / "a variable in it is unset". */
const char *policy_unknown_why(const struct yamltree_node *n);

/* ---- policy-services.c: one document ---- */

int policy_check_env_file(struct file *f, const char *who, struct yamltree_node *v);
int policy_check_document(struct file *f, struct yamltree_node *root);

/* ---- policy-security.c: the sandbox ---- */

/* privileged, the host's namespaces, capabilities, devices (also deploy's device reservations): keys of a
 * service whose value alone asks for a permission, recorded with policy_need(). false when k is none of them. */
bool policy_check_sandbox_key(struct file *f, const char *who, const struct yamltree_node *k,
                              const struct yamltree_node *v);
int policy_check_security_opt(struct file *f, const char *who, const struct yamltree_node *v, struct svc_state *st);
int policy_apply_security_opt(struct file *f, const char *who, struct yamltree_node *svc, const struct svc_state *st);
int policy_check_networks(struct file *f, struct yamltree_node *v);
/* Keys that reach outside the stack: `container:`/`service:` namespaces (network_mode, pid, ipc),
 * volumes_from, external_links, container_name, logging, runtime, sysctls, isolation, storage_opt,
 * volume_driver. false when k is none of them. svc: the whole service (sysctls look at its network_mode). */
bool policy_check_reach_key(struct file *f, const char *who, const struct yamltree_node *svc,
                            const struct yamltree_node *k, const struct yamltree_node *v);

/* ---- policy-mounts.c: volumes and binds ---- */

int policy_check_volume(struct file *f, const char *who, const char *service, struct yamltree_node *v);
/* A top-level volume definition (a mapping): its driver, driver_opts that mount a host device, its name. */
int policy_check_volume_definition(struct file *f, const char *who, const struct yamltree_node *key,
                                   struct yamltree_node *def);
/* The Engine name of a top-level volume or network (key: its key in the file; def: its definition or NULL):
 * one outside "<project>_" is refused when it is another stack's or external (permission external), and a
 * `name:` of our own choosing is rewritten into the project unless external is granted. */
int policy_check_resource_name(struct file *f, const char *who, const char *what, const struct yamltree_node *key,
                               struct yamltree_node *def);
/* The stack's project ("stack-<slug>" unless policy_input.project says otherwise). */
const char *policy_own_project(const struct apply *a, char *buf, size_t size);
/* Once every file was checked: no relative bind source lies inside another writable one, unless every
 * writable bind of the outer source was pinned for it (pin_nested_binds). */
void policy_finish_binds(struct apply *a);
/* At the end of a document (when ok): every writable service bind of it gets, for each bind source of the same
 * document inside its source, a bind of every directory on the way down at the same place in the container
 * ("./state/sub:/state/sub"): a mount point cannot be renamed or removed, so the container cannot swap a
 * component of the inner source for a symlink. The document's bind records are freed (also when !ok). */
int policy_pin_nested_binds(struct file *f, bool ok);
/* Every writable bind of w's source (a->binds entry) was pinned for b's source. */
bool policy_bind_pinned(const struct apply *a, const char *w, const char *b);

/* ---- policy-ports.c: published ports ---- */

/* Positions of the ':' separators of a port or volume string, outside ${...} and [...] (an IPv6 address).
 * Returns how many there are; the last two positions go to last[0] (second to last) and last[1]; the first
 * to *first. */
size_t policy_split_colons(const char *s, size_t len, size_t *first, size_t last[2]);
int policy_check_port(struct file *f, const char *who, struct yamltree_node *seq, size_t i);

/* ---- policy-limits.c: limits and labels ---- */

/* The stack's limits on every service, unless the service sets tighter ones. The service-level keys are the
 * ones compose v1 and v2 both honour; deploy.resources.limits (v2 only, and v2 refuses the two when they
 * differ) is folded into them and dropped. */
int policy_apply_limits(struct file *f, const char *who, struct yamltree_node *svc);
/* A published host port (or range) that covers a reserved port (policy_limits.reserved): the port, else 0. */
unsigned policy_reserved_port(const struct apply *a, const char *published, size_t len);
int policy_apply_labels(struct file *f, const char *who, struct yamltree_node *svc);

/* ---- policy-routes.c: the front door ---- */

/* The routes svc's traefik labels ask for (labels resolved), its routed ports published on loopback; called
 * after its ports were checked and before stack's labels are added. */
int policy_apply_routes(struct file *f, const char *who, const char *name, struct yamltree_node *svc);
/* Once every file passed: without routes, the single published port of the stack (unambiguous) is routed. */
int policy_finish_routes(struct apply *a);

/* ---- policy-include.c: build, extends, include ---- */

int policy_pending_add(struct apply *a, char *path, char *data, size_t len, unsigned mode);
int policy_check_includes(struct file *f, struct yamltree_node *v);
int policy_check_extends(struct file *f, const char *who, struct yamltree_node *v);
int policy_check_build(struct file *f, const char *who, struct yamltree_node *v);
/* compose v1: merge the included documents collected while checking into root (the main document), refusing a
 * name two files define differently, and drop `include`. */
int policy_flatten_includes(struct file *f, struct yamltree_node *root);

/* ---- policy-override.c: compose.override.yaml ---- */

/* Merge the override file shipped beside the main compose file (rel) into root, as compose merges it. */
int policy_merge_override(struct apply *a, const char *rel, struct yamltree_node *root);
/* over merged onto base (a service's definition when service, else a volume's, network's ...). -ENOMEM. */
int policy_merge_definition(struct yamltree_node *base, const struct yamltree_node *over, bool service);
/* A copy of each item of list src that list dst does not hold yet (yamltree_equal) appended to dst: a list
 * merged as compose merges one (each item once). -ENOMEM. */
int policy_merge_append(struct yamltree_node *dst, const struct yamltree_node *src);

/* ---- policy-tags.c: YAML tags the policy does not understand are refused ---- */

/* Every tag in the document (name: the file, for messages) is one the policy understands: none, the core
 * schema's (!!str, !!int, !!float, !!bool, !!null on text that matches, !!map, !!seq), compose v2's !reset
 * and !override; anything else is STACK_EREJECT with the key's path. With resolve, no tag is left: !reset
 * removes its node (a mapping's key or a list's item), the others become the plain or quoted text both compose
 * versions read as the same type. */
int policy_tags(const char *name, struct yamltree_node *root, bool resolve, struct error *err);

/* ---- policy-keys.c, policy-keytable.c: compose keys the policy does not know are refused ---- */

enum {
        KEY_REFUSE = 1 << 0,        /* known, not supported by stack: refused */
        KEY_DOCKER_SOCKET = 1 << 1, /* anything but false needs docker-socket */
        KEY_PRIVILEGED = 1 << 2,    /* anything but false needs privileged */
};

struct key_shape;

struct key_def {
        const char *name;
        const struct key_shape *shape; /* what the value may hold; NULL: a scalar or a list not walked */
        unsigned flags;                /* KEY_* */
};

/* What a value may hold; one shape describes every form the specification allows (`build: .` or a mapping). */
struct key_shape {
        const struct key_def *keys;    /* a mapping: of these keys only */
        const struct key_shape *names; /* a mapping of names (services, networks, ulimits ...), values of this shape */
        const struct key_shape *items; /* a list: each item of this shape */
        bool free;                     /* a mapping of any keys, not checked (environment, labels, driver_opts ...) */
        bool x;                        /* `x-` keys allowed here: dropped */
};

/* The top level of a compose file (policy-keytable.c). */
extern const struct key_shape policy_key_top;

/* Every key of the document is a key of the compose specification (STACK_EREJECT naming its path otherwise);
 * `x-` extensions are removed. */
int policy_check_keys(struct file *f, struct yamltree_node *root);

/* Where a node is: a head ("service 'web'": a named definition of a top-level section, "" above one) and the
 * keys below it ("deploy.resources", "cap_add[0]"), truncated in a long path. */
#define TAIL_SIZE 256
#define HEAD_SIZE 128 /* "service '<name, at most ~64 bytes as yamltree_show() writes it>'" */
/* The head of a definition named k in the top-level section ("service 'web'"); false when the section names
 * none. */
bool policy_where_named(const char *section, const struct yamltree_node *k, char *head, size_t size);
/* out (TAIL_SIZE bytes) = tail + "." + k, or tail + "[i]" (cut short in a path too deep). */
void policy_where_key(char *out, const char *tail, const struct yamltree_node *k);
void policy_where_item(char *out, const char *tail, size_t i);
/* "<head>: <tail>" (or either alone); "the top level" when both are empty. */
const char *policy_where(const char *head, const char *tail, char *buf, size_t size);

/* ---- policy-swarm.c: swarm-only keys on a compose run ---- */

/* Unless the run is a swarm one (policy_input.swarm): deploy.placement, update_config, rollback_config,
 * endpoint_mode and mode removed from svc, each with a warning (compose ignores them; deploy.restart_policy it
 * honours, so it stays). */
int policy_drop_swarm_keys(struct file *f, const char *who, struct yamltree_node *svc);

/* ---- policy-v1.c: the effective file for docker-compose 1.29 ---- */

/* Rewrite what only compose v2 reads into what v1 runs with the same meaning, or refuse what v1 cannot run. */
int policy_rewrite_v1(struct file *f, struct yamltree_node *root);
/* The queued effective copies of extends files, made to merge into each extending service as compose merges
 * them (both tools): a security_opt entry the extending services have themselves taken out of the base, and with
 * compose v1 the base's depends_on moved into the extending service (spec/run.md "Compose v1 rewrites"). */
int policy_extends_bases(struct file *f, struct yamltree_node *root);

/* ---- policy-vars.c: variables ---- */

/* yamltree_node.mark of a string policy_scan_vars() interpolated, or-ed with its interp_report flags. */
#define MARK_RESOLVED 0x100u

/* Interpolate every value string under n in place with a->in->lookup (marked MARK_RESOLVED); the names of
 * required variables the lookup leaves unset go to a->vars (those strings stay as written). */
int policy_scan_vars(struct apply *a, struct yamltree_node *n);
/* Before emitting: every MARK_RESOLVED string with its `$` doubled, so compose reads it back as it is; marks
 * cleared. */
int policy_escape_resolved(struct yamltree_node *n, struct error *err);
/* A scalar whose value is not known: a variable that stayed unset, or (a string the lookup never saw) any
 * variable at all. */
bool policy_node_unknown(const struct yamltree_node *n);

#endif
