/* test-policy.c - the compose-file policy: what is refused, what the effective file says, and that compose
 * itself accepts it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <yaml.h>

#include "run/policy.h"
#include "base/fsutil.h"
#include "store/manifest.h"
#include "store/tree.h"
#include "policyfx.h"
#include "testlib.h"

static void write_file(const char *path, const char *text)
{
        assert_int_equal(fs_write_atomic(path, text, strlen(text), 0644), 0);
}

/* ---- reading the effective file back with libyaml ---- */

/* The node at "services/web/ports/0" ('/'-separated keys, numbers index lists). */
static yaml_node_t *ylook(yaml_document_t *d, const char *path)
{
        yaml_node_t *n = yaml_document_get_root_node(d);
        char buf[512], *save = NULL, *tok;

        snprintf(buf, sizeof buf, "%s", path);
        for (tok = strtok_r(buf, "/", &save); n && tok; tok = strtok_r(NULL, "/", &save)) {
                yaml_node_t *next = NULL;

                if (n->type == YAML_MAPPING_NODE) {
                        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                                yaml_node_t *k = yaml_document_get_node(d, p->key);

                                if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, tok) == 0)
                                        next = yaml_document_get_node(d, p->value);
                        }
                } else if (n->type == YAML_SEQUENCE_NODE) {
                        long i = strtol(tok, NULL, 10);

                        if (i >= 0 && i < n->data.sequence.items.top - n->data.sequence.items.start)
                                next = yaml_document_get_node(d, n->data.sequence.items.start[i]);
                }
                n = next;
        }
        return n;
}

/* The scalar at path (heap), "<none>" when absent, "<list:N>" / "<map:N>" for collections. */
static char *yget(const char *text, const char *path)
{
        yaml_parser_t p;
        yaml_document_t d;
        yaml_node_t *n;
        char *out;

        assert_true(yaml_parser_initialize(&p));
        yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
        assert_true(yaml_parser_load(&p, &d));
        n = ylook(&d, path);
        if (!n)
                out = strdup("<none>");
        else if (n->type == YAML_SCALAR_NODE)
                out = strdup((char *)n->data.scalar.value);
        else if (n->type == YAML_SEQUENCE_NODE)
                assert_true(asprintf(&out, "<list:%d>",
                                     (int)(n->data.sequence.items.top - n->data.sequence.items.start)) > 0);
        else
                assert_true(asprintf(&out, "<map:%d>", (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start)) >
                            0);
        yaml_document_delete(&d);
        yaml_parser_delete(&p);
        return out;
}

#define assert_yaml(text, path, want)                                                    \
        do {                                                                             \
                char *got_ = yget(text, path);                                           \
                if (strcmp(got_, want) != 0)                                             \
                        fail_msg("%s: got '%s', want '%s'\n%s", path, got_, want, text); \
                free(got_);                                                              \
        } while (0)

static size_t count(const char *text, const char *needle)
{
        size_t n = 0;

        for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* ---- refusals ---- */

/* Refused without the bit (STACK_EREJECT naming the service and `key`, nothing written), accepted with it. */
static void refusal(const char *yaml, unsigned bit, const char *key)
{
        fx_refused(yaml, bit, key, false);
        fx_refused(yaml, bit, "service 'web'", false);
}

static void refuses_privileged(void **state)
{
        refusal(WEB "    privileged: true\n", PERM_PRIVILEGED, "privileged: true");
}

static void refuses_privileged_set_by_a_variable(void **state)
{
        refusal(WEB "    privileged: ${PRIV:-true}\n", PERM_PRIVILEGED, "privileged: true");
        refusal(WEB "    privileged: ${PRIV}\n", PERM_PRIVILEGED, "privileged:  (a variable in it is unset)");
}

static void refuses_host_network(void **state)
{
        refusal(WEB "    network_mode: host\n", PERM_HOST_NETWORK, "network_mode: host");
}

static void refuses_host_pid(void **state)
{
        refusal(WEB "    pid: host\n", PERM_HOST_PID, "pid: host");
}

static void refuses_host_ipc(void **state)
{
        refusal(WEB "    ipc: host\n", PERM_HOST_IPC, "ipc: host");
}

static void refuses_cap_add(void **state)
{
        refusal(WEB "    cap_add: [NET_ADMIN, SYS_TIME]\n", PERM_CAP_ADD, "cap_add: [NET_ADMIN, ...]");
}

static void refuses_devices(void **state)
{
        refusal(WEB "    devices: [\"/dev/fuse:/dev/fuse\"]\n", PERM_DEVICES, "devices");
}

static void refuses_docker_socket_short_syntax(void **state)
{
        refusal(WEB "    volumes: [\"/var/run/docker.sock:/var/run/docker.sock:ro\"]\n", PERM_DOCKER_SOCKET,
                "volumes: bind of /var/run/docker.sock");
}

static void refuses_docker_socket_long_syntax(void **state)
{
        refusal(WEB "    volumes:\n      - type: bind\n        source: /run//docker.sock\n        target: /s\n",
                PERM_DOCKER_SOCKET, "volumes: bind of /run//docker.sock");
}

static void refuses_bind_of_etc(void **state)
{
        refusal(WEB "    volumes: [\"/etc:/host-etc:ro\"]\n", PERM_HOST_BIND, "volumes: bind of /etc");
}

static void refuses_bind_of_home(void **state)
{
        refusal(WEB "    volumes: [\"~/.ssh:/root/.ssh\"]\n", PERM_HOST_BIND, "volumes: bind of ~/.ssh");
}

static void refuses_bind_outside_the_run_dir(void **state)
{
        refusal(WEB "    volumes: [\"./sub/../../outside:/x\"]\n", PERM_HOST_BIND,
                "volumes: bind of ./sub/../../outside (outside the run dir)");
}

static void refuses_bind_source_set_by_a_variable(void **state)
{
        refusal(WEB "    volumes: [\"${DATA}/d:/x\"]\n", PERM_HOST_BIND, "(a variable in it is unset)");
}

static void refuses_seccomp_unconfined(void **state)
{
        refusal(WEB "    security_opt: [\"seccomp:unconfined\"]\n", PERM_PRIVILEGED,
                "security_opt: seccomp:unconfined");
}

static void refuses_userns_host(void **state)
{
        refusal(WEB "    userns_mode: host\n", PERM_PRIVILEGED, "userns_mode: host");
}

static void refuses_env_file_outside_the_run_dir(void **state)
{
        refusal(WEB "    env_file: /etc/environment\n", PERM_HOST_BIND, "env_file '/etc/environment'");
}

static void refuses_build_context_outside_the_run_dir(void **state)
{
        refusal(WEB "    build: {context: ../..}\n", PERM_HOST_BIND, "build.context '../..'");
}

static void refuses_privileged_hidden_behind_a_merge_key(void **state)
{
        refusal("x-base: &base\n  privileged: true\n" WEB "    <<: *base\n", PERM_PRIVILEGED, "privileged: true");
}

static void refuses_host_network_by_network_name(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "networks:\n  default:\n    external: true\n    name: host\n", 0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "network 'default'"));
        assert_non_null(strstr(f.err.msg, "'host-network'"));
        fx_release(&f);
}

static void first_violation_wins_and_needed_has_every_bit(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  "services:\n  a:\n    image: x\n    ports: [\"80:80\"]\n    pid: host\n"
                                  "  web:\n    image: y\n    privileged: true\n    cap_add: [ALL]\n",
                                  0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "service 'a': pid: host"));
        assert_int_equal(f.res.needed, PERM_HOST_PID | PERM_PRIVILEGED | PERM_CAP_ADD | PERM_LISTEN);
        assert_null(f.res.services);
        fx_release(&f);
}

static void refuses_an_alias_bomb(void **state)
{
        char yaml[4096];
        size_t o;
        struct fx f;

        /* each level is a list of ten aliases of the one before: 10^9 nodes expanded */
        o = (size_t)snprintf(yaml, sizeof yaml, "x-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int i = 1; i < 10; i++) {
                o += (size_t)snprintf(yaml + o, sizeof yaml - o, "x-%d: &a%d [", i, i);
                for (int k = 0; k < 10; k++)
                        o += (size_t)snprintf(yaml + o, sizeof yaml - o, "%s*a%d", k ? ", " : "", i - 1);
                o += (size_t)snprintf(yaml + o, sizeof yaml - o, "]\n");
        }
        snprintf(yaml + o, sizeof yaml - o, WEB);
        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, yaml, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "too many YAML"));
        fx_release(&f);
}

static void refuses_deep_alias_copies_within_the_node_budget(void **state)
{
        char yaml[8192];
        size_t o;
        struct fx f;

        /* 60 aliases, each doubling the one before: stays under the alias count, not under the node budget */
        o = (size_t)snprintf(yaml, sizeof yaml, "x-0: &a0 [a, b]\n");
        for (int i = 1; i < 30; i++)
                o += (size_t)snprintf(yaml + o, sizeof yaml - o, "x-%d: &a%d [*a%d, *a%d]\n", i, i, i - 1, i - 1);
        snprintf(yaml + o, sizeof yaml - o, WEB);
        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, yaml, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "too many YAML nodes"));
        fx_release(&f);
}

static void refuses_duplicate_keys(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        /* compose v1 would take the last one */
        assert_int_equal(fx_apply(&f, WEB "    privileged: false\n    privileged: true\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "duplicate key 'privileged'"));
        fx_release(&f);
}

static void refuses_two_documents_and_a_file_without_services(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "---\n" WEB, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "more than one YAML document"));
        assert_int_equal(fx_apply(&f, "version: '3'\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "no 'services'"));
        assert_int_equal(fx_apply(&f, "- a\n", 0), -STACK_EREJECT);
        fx_release(&f);
}

/* ---- the effective file ---- */

static void ports_are_bound_to_loopback(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  WEB "    ports:\n"
                                      "      - \"8080:80\"\n"
                                      "      - 80\n"
                                      "      - \"0.0.0.0:8081:81\"\n"
                                      "      - \"8000-8010:8000-8010\"\n"
                                      "      - \"5353:53/udp\"\n"
                                      "      - \"127.0.0.1:9000:90\"\n"
                                      "      - \"${WEB_PORT:-8082}:82\"\n"
                                      "      - \"[::]:8083:83\"\n"
                                      "      - target: 84\n        published: 8084\n        protocol: udp\n"
                                      "      - {target: 85, published: \"8085\", host_ip: 0.0.0.0}\n"
                                      "      - {target: 86, published: 8086, name: web}\n",
                                  0),
                         0);
        assert_yaml(f.text, "services/web/ports/0", "127.0.0.1:8080:80");
        assert_yaml(f.text, "services/web/ports/1", "127.0.0.1::80");
        assert_yaml(f.text, "services/web/ports/2", "127.0.0.1:8081:81");
        assert_yaml(f.text, "services/web/ports/3", "127.0.0.1:8000-8010:8000-8010");
        assert_yaml(f.text, "services/web/ports/4", "127.0.0.1:5353:53/udp");
        assert_yaml(f.text, "services/web/ports/5", "127.0.0.1:9000:90");
        assert_yaml(f.text, "services/web/ports/6", "127.0.0.1:8082:82"); /* resolved */
        assert_yaml(f.text, "services/web/ports/7", "127.0.0.1:8083:83");
        assert_yaml(f.text, "services/web/ports/8", "127.0.0.1:8084:84/udp");
        assert_yaml(f.text, "services/web/ports/9", "127.0.0.1:8085:85");
        assert_yaml(f.text, "services/web/ports/10/host_ip", "127.0.0.1");
        assert_yaml(f.text, "services/web/ports/10/name", "web");
        assert_true(f.res.needed & PERM_LISTEN);
        fx_release(&f);
}

static void ports_are_kept_when_listen_is_granted(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"8080:80\", {target: 81, published: 8081}]\n", PERM_LISTEN), 0);
        assert_yaml(f.text, "services/web/ports/0", "8080:80");
        assert_yaml(f.text, "services/web/ports/1/published", "8081");
        assert_yaml(f.text, "services/web/ports/1/host_ip", "<none>");
        assert_int_equal(f.res.needed, PERM_LISTEN);
        fx_release(&f);
}

static void limits_are_added_and_never_loosened(void **state)
{
        struct fx f;

        fx_init(&f, "resources: {cpus: 1.5, memory: 512m, pids: 256}\n", NULL);
        assert_int_equal(fx_apply(&f,
                                  "services:\n"
                                  "  plain:\n    image: a\n"
                                  "  tight:\n    image: b\n    cpus: 0.25\n    mem_limit: 128m\n    pids_limit: 32\n"
                                  "  loose:\n    image: c\n    cpus: \"4\"\n    mem_limit: 2g\n    pids_limit: -1\n"
                                  "    mem_reservation: 1g\n"
                                  "  swarm:\n    image: d\n    cpu_quota: 50000\n"
                                  "    deploy: {resources: {limits: {cpus: \"2\", memory: 64M}}}\n",
                                  0),
                         0);
        assert_yaml(f.text, "services/plain/cpus", "1.5");
        assert_yaml(f.text, "services/plain/mem_limit", "536870912");
        assert_yaml(f.text, "services/plain/pids_limit", "256");
        assert_yaml(f.text, "services/tight/cpus", "0.25");
        assert_yaml(f.text, "services/tight/mem_limit", "134217728");
        assert_yaml(f.text, "services/tight/pids_limit", "32");
        assert_yaml(f.text, "services/loose/cpus", "1.5");
        assert_yaml(f.text, "services/loose/mem_limit", "536870912");
        assert_yaml(f.text, "services/loose/pids_limit", "256");
        assert_yaml(f.text, "services/loose/mem_reservation", "536870912");
        /* cpu_quota 50000 / period 100000 = 0.5; deploy limits folded into the service keys and dropped */
        assert_yaml(f.text, "services/swarm/cpus", "0.5");
        assert_yaml(f.text, "services/swarm/cpu_quota", "<none>");
        assert_yaml(f.text, "services/swarm/mem_limit", "67108864");
        assert_yaml(f.text, "services/swarm/deploy", "<none>");
        fx_release(&f);
}

static void no_new_privileges_is_added_once(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  "services:\n"
                                  "  a:\n    image: a\n"
                                  "  b:\n    image: b\n    security_opt: [\"no-new-privileges:true\"]\n"
                                  "  c:\n    image: c\n    security_opt: [\"no-new-privileges\"]\n",
                                  0),
                         0);
        assert_yaml(f.text, "services/a/security_opt/0", "no-new-privileges:true");
        assert_yaml(f.text, "services/b/security_opt", "<list:1>");
        assert_yaml(f.text, "services/c/security_opt", "<list:1>");
        assert_yaml(f.text, "services/c/security_opt/0", "no-new-privileges");
        assert_int_equal(count(f.text, "no-new-privileges"), 3);
        /* turning it off loosens the sandbox */
        assert_int_equal(fx_apply(&f, WEB "    security_opt: [\"no-new-privileges=false\"]\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "'privileged'"));
        assert_int_equal(fx_apply(&f, WEB "    security_opt: [\"no-new-privileges=false\"]\n", PERM_PRIVILEGED), 0);
        assert_int_equal(count(f.text, "no-new-privileges"), 1);
        fx_release(&f);
}

static void shipped_bind_is_kept_and_state_is_redirected(void **state)
{
        static const char *const shipped[] = {"site/index.html", "config.ini", "logs/.gitkeep", NULL};
        char path[PATH_MAX], want[PATH_MAX];
        struct fx f;

        fx_init(&f, NULL, shipped);
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes:\n"
                                      "      - ./site:/usr/share/nginx/html:ro\n"
                                      "      - ./config.ini:/etc/app.ini\n"
                                      "      - ./data/db:/var/lib/db\n"
                                      "      - ./logs:/var/log/app\n"
                                      "      - type: bind\n        source: ./uploads\n        target: /u\n"
                                      "      - named:/named\n"
                                      "      - /anonymous\n"
                                      "volumes: {named: }\n",
                                  0),
                         0);
        assert_yaml(f.text, "services/web/volumes/0", "./site:/usr/share/nginx/html:ro");
        assert_yaml(f.text, "services/web/volumes/1", "./config.ini:/etc/app.ini");
        snprintf(want, sizeof want, "%s/data/db:/var/lib/db", f.data);
        assert_yaml(f.text, "services/web/volumes/2", want);
        snprintf(want, sizeof want, "%s/logs:/var/log/app", f.data); /* a .gitkeep-only dir is state */
        assert_yaml(f.text, "services/web/volumes/3", want);
        snprintf(want, sizeof want, "%s/uploads", f.data);
        assert_yaml(f.text, "services/web/volumes/4/source", want);
        assert_yaml(f.text, "services/web/volumes/5", "named:/named");
        assert_yaml(f.text, "services/web/volumes/6", "/anonymous");
        snprintf(path, sizeof path, "%s/data/db", f.data);
        assert_true(fx_exists(path));
        snprintf(path, sizeof path, "%s/uploads", f.data);
        assert_true(fx_exists(path));
        snprintf(want, sizeof want, "web: ./data/db -> %s/data/db", f.data);
        assert_non_null(f.res.redirected);
        assert_string_equal(f.res.redirected[0], want);
        assert_non_null(f.res.redirected[2]);
        assert_null(f.res.redirected[3]);
        assert_int_equal(f.res.needed, 0);
        fx_release(&f);
}

static void refuses_a_data_dir_a_container_turned_into_a_symlink(void **state)
{
        char path[PATH_MAX];
        struct fx f;

        fx_init(&f, NULL, NULL);
        snprintf(path, sizeof path, "%s/data", f.data);
        assert_int_equal(fs_mkdir_p(path, 0755), 0);
        snprintf(path, sizeof path, "%s/data/root", f.data);
        assert_int_equal(symlink("/", path), 0);
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\"./data/root:/host\"]\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "is a symlink"));
        fx_release(&f);
}

static void required_variables_are_collected(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  WEB "    environment:\n"
                                      "      DB_PASSWORD: ${DB_PASSWORD:?set a database password}\n"
                                      "      TOKEN: \"${TOKEN?missing}\"\n"
                                      "      LITERAL: $${NOT_A_VAR:?x}\n"
                                      "      NESTED: ${OPT:-${INNER:?x}}\n"
                                      "      AGAIN: ${DB_PASSWORD:?again}\n"
                                      "      PLAIN: ${PLAIN} $$PLAIN2 ${DEFAULTED:-x}\n"
                                      "  db:\n    image: postgres\n    command: \"--x=${DB_ARG:?}\"\n",
                                  0),
                         0);
        assert_non_null(f.res.required_vars);
        assert_string_equal(f.res.required_vars[0], "DB_PASSWORD");
        assert_string_equal(f.res.required_vars[1], "TOKEN");
        assert_string_equal(f.res.required_vars[2], "INNER"); /* OPT is unset: INNER is needed */
        assert_string_equal(f.res.required_vars[3], "DB_ARG");
        assert_null(f.res.required_vars[4]);
        assert_string_equal(f.res.services[0], "web");
        assert_string_equal(f.res.services[1], "db");
        assert_null(f.res.services[2]);
        /* a string that needs a missing variable stays as written; the others carry their value, `$` doubled */
        assert_yaml(f.text, "services/web/environment/DB_PASSWORD", "${DB_PASSWORD:?set a database password}");
        assert_yaml(f.text, "services/web/environment/LITERAL", "$${NOT_A_VAR:?x}");
        assert_yaml(f.text, "services/web/environment/PLAIN", " $$PLAIN2 x");
        fx_release(&f);
}

/* ---- variables resolved before they are judged ---- */

/* "K=V" pairs, NULL-terminated, as a lookup. */
static const char *pairs_lookup(void *ctx, const char *name)
{
        const char *const *kv = ctx;
        size_t n = strlen(name);

        for (size_t i = 0; kv && kv[i]; i++)
                if (!strncmp(kv[i], name, n) && kv[i][n] == '=')
                        return kv[i] + n + 1;
        return NULL;
}

/* fx_apply() with vars ("K=V" pairs) as the variables compose will see. */
static int fx_apply_vars(struct fx *f, const char *yaml, unsigned allow, const char *const *vars)
{
        int r;

        f->lookup = pairs_lookup;
        f->lookup_ctx = (void *)vars;
        r = fx_apply(f, yaml, allow);
        f->lookup = NULL;
        f->lookup_ctx = NULL;
        return r;
}

static void a_nested_default_resolving_to_a_declared_named_volume_is_a_named_volume(void **state)
{
        static const char *const vars[] = {"VOLUME_PATH=", NULL};
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply_vars(&f,
                                       WEB "    volumes: [\"${VOLUME_HTDOCS:-${VOLUME_PATH}httpd_data}:/htdocs\"]\n"
                                           "volumes:\n  httpd_data:\n",
                                       0, vars),
                         0);
        assert_yaml(f.text, "services/web/volumes/0", "httpd_data:/htdocs");
        /* the same file with nothing set: compose reads it the same way */
        assert_int_equal(fx_apply_vars(&f,
                                       WEB "    volumes: [\"${VOLUME_HTDOCS:-${VOLUME_PATH}httpd_data}:/htdocs\"]\n"
                                           "volumes:\n  httpd_data:\n",
                                       0, NULL),
                         0);
        assert_yaml(f.text, "services/web/volumes/0", "httpd_data:/htdocs");
        fx_release(&f);
}

static void a_variable_naming_a_volume_is_a_named_volume(void **state)
{
        static const char *const vars[] = {"UPLOAD_LOCATION=uploads", NULL};
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply_vars(&f,
                                       WEB "    volumes: [\"${UPLOAD_LOCATION}:/usr/src/app/upload\"]\n"
                                           "volumes:\n  uploads:\n",
                                       0, vars),
                         0);
        assert_yaml(f.text, "services/web/volumes/0", "uploads:/usr/src/app/upload");
        fx_release(&f);
}

static void env_file_with_a_default_is_the_bundles_own_file(void **state)
{
        static const char *const shipped[] = {".env", NULL};
        struct fx f;

        fx_init(&f, NULL, shipped);
        assert_int_equal(fx_apply_vars(&f, WEB "    env_file: ${ENV_FILE:-.env}\n", 0, NULL), 0);
        assert_yaml(f.text, "services/web/env_file", ".env");
        fx_release(&f);
}

static void a_variable_resolving_to_the_docker_socket_needs_docker_socket(void **state)
{
        static const char *const vars[] = {"DOCKER_SOCKET_LOCATION=/var/run/docker.sock", NULL};
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply_vars(&f, WEB "    volumes: [\"${DOCKER_SOCKET_LOCATION}:/var/run/docker.sock\"]\n",
                                       PERM_HOST_BIND, vars),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "needs permission 'docker-socket'"));
        assert_true(f.res.needed & PERM_DOCKER_SOCKET);
        assert_int_equal(fx_apply_vars(&f, WEB "    volumes: [\"${DOCKER_SOCKET_LOCATION}:/var/run/docker.sock\"]\n",
                                       PERM_DOCKER_SOCKET, vars),
                         0);
        assert_yaml(f.text, "services/web/volumes/0", "/var/run/docker.sock:/var/run/docker.sock");
        fx_release(&f);
}

static void a_variable_resolving_outside_the_run_dir_is_a_host_bind_naming_the_value(void **state)
{
        static const char *const vars[] = {"DATA=../../secrets", "HOSTDIR=/srv/x", NULL};
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply_vars(&f, WEB "    volumes: [\"${DATA}:/data\"]\n", 0, vars), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "needs permission 'host-bind'"));
        assert_non_null(strstr(f.err.msg, "../../secrets"));
        assert_int_equal(fx_apply_vars(&f, WEB "    volumes: [\"${HOSTDIR:-./x}:/data\"]\n", 0, vars), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "/srv/x"));
        fx_release(&f);
}

static void a_refusal_names_every_missing_permission_and_the_command(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\"/var/run/docker.sock:/s\", \"/srv:/srv\"]\n", 0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "stack run demo --allow docker-socket --allow host-bind"));
        assert_int_equal(
                fx_apply(&f, WEB "    volumes: [\"/var/run/docker.sock:/s\", \"/srv:/srv\"]\n", PERM_HOST_BIND),
                -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "stack run demo --allow docker-socket"));
        assert_null(strstr(f.err.msg, "--allow host-bind"));
        fx_release(&f);
}

static void malformed_or_runaway_interpolation_is_refused(void **state)
{
        char yaml[4096];
        size_t len;
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply_vars(&f, WEB "    environment: {A: \"${B:x}\"}\n", 0, NULL), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "compose.yaml: line"));
        /* nested defaults deeper than the bound: refused, not followed */
        len = (size_t)snprintf(yaml, sizeof yaml, WEB "    environment: {A: \"");
        for (int i = 0; i < INTERP_MAX_DEPTH + 4; i++)
                len += (size_t)snprintf(yaml + len, sizeof yaml - len, "${A%d:-", i);
        len += (size_t)snprintf(yaml + len, sizeof yaml - len, "x");
        for (int i = 0; i < INTERP_MAX_DEPTH + 4; i++)
                len += (size_t)snprintf(yaml + len, sizeof yaml - len, "}");
        snprintf(yaml + len, sizeof yaml - len, "\"}\n");
        assert_int_equal(fx_apply_vars(&f, yaml, 0, NULL), -STACK_EREJECT);
        fx_release(&f);
}

static void resolved_values_are_written_with_dollars_doubled(void **state)
{
        static const char *const vars[] = {"PASS=a$b", "TAG=1.2", NULL};
        struct stat st;
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply_vars(&f,
                                       "services:\n  web:\n    image: nginx:${TAG:+${TAG}}\n"
                                       "    environment: {P: \"${PASS}\", Q: \"$$HOME\"}\n",
                                       0, vars),
                         0);
        assert_yaml(f.text, "services/web/image", "nginx:1.2");
        assert_yaml(f.text, "services/web/environment/P", "a$$b");
        assert_yaml(f.text, "services/web/environment/Q", "$$HOME");
        assert_int_equal(stat(f.out, &st), 0);
        assert_int_equal(st.st_mode & 077, 0); /* values from stack.env may be secrets */
        fx_release(&f);
}

static void harmless_host_files_are_allowed_read_only(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes:\n      - /etc/localtime:/etc/localtime:ro\n"
                                      "      - /etc/timezone:/etc/timezone:ro,z\n"
                                      "      - /dev/urandom:/dev/random:ro\n"
                                      "      - {type: bind, source: /dev/random, target: /dev/r, read_only: true}\n",
                                  0),
                         0);
        assert_int_equal(f.res.needed, 0);
        fx_release(&f);
}

static void harmless_host_files_written_or_other_paths_need_host_bind(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\"/etc/localtime:/etc/localtime\"]\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "needs permission 'host-bind'"));
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\"/etc/localtime:/etc/localtime:rw\"]\n", 0), -STACK_EREJECT);
        assert_int_equal(
                fx_apply(&f, WEB "    volumes: [{type: bind, source: /dev/urandom, target: /dev/urandom}]\n", 0),
                -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\"/etc/passwd:/etc/passwd:ro\"]\n", 0), -STACK_EREJECT);
        assert_int_equal(fx_apply(&f, WEB "    volumes: [\"/etc/:/host-etc:ro\"]\n", 0), -STACK_EREJECT);
        fx_release(&f);
}

static void labels_are_added_in_mapping_and_list_form(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  "services:\n"
                                  "  map:\n    image: a\n    labels:\n      traefik.enable: \"true\"\n"
                                  "      io.stack.run: forged\n"
                                  "  list:\n    image: b\n    labels: [\"traefik.enable=true\", \"io.stack.slug=x\"]\n"
                                  "  none:\n    image: c\n",
                                  0),
                         0);
        assert_yaml(f.text, "services/map/labels/traefik.enable", "true");
        assert_yaml(f.text, "services/map/labels/io.stack.run", "r1");
        assert_yaml(f.text, "services/map/labels/io.stack.slug", "demo");
        assert_yaml(f.text, "services/list/labels/0", "traefik.enable=true");
        assert_yaml(f.text, "services/list/labels/1", "io.stack.slug=demo");
        assert_yaml(f.text, "services/list/labels/2", "io.stack.run=r1");
        assert_yaml(f.text, "services/list/labels", "<list:3>");
        assert_yaml(f.text, "services/none/labels/io.stack.run", "r1");
        fx_release(&f);
}

static void anchors_are_expanded_per_service(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  "x-common: &common\n  image: a\n  ports: [\"80\"]\n  labels: {k: v}\n"
                                  "services:\n  one:\n    <<: *common\n  two:\n    <<: *common\n    image: b\n",
                                  0),
                         0);
        assert_yaml(f.text, "services/one/image", "a");
        assert_yaml(f.text, "services/two/image", "b");
        assert_yaml(f.text, "services/two/ports/0", "127.0.0.1::80");
        assert_yaml(f.text, "services/two/labels/k", "v");
        assert_null(strstr(f.text, "x-common")); /* extensions are dropped (policy-keys.c) */
        assert_null(strstr(f.text, "<<"));
        assert_null(strstr(f.text, "*common"));
        fx_release(&f);
}

static void included_files_are_checked_and_rewritten(void **state)
{
        static const char *const shipped[] = {"stacks/db/compose.yaml", NULL};
        char path[PATH_MAX], *sub = NULL;
        size_t len;
        struct fx f;

        fx_init(&f, NULL, shipped);
        snprintf(path, sizeof path, "%s/stacks/db", f.run);
        assert_int_equal(fs_mkdir_p(path, 0755), 0);
        snprintf(path, sizeof path, "%s/stacks/db/compose.yaml", f.run);
        write_file(path, "services:\n  db:\n    image: postgres\n    ports: [\"5432:5432\"]\n"
                         "    volumes: [\"./pgdata:/var/lib/postgresql/data\"]\n"
                         "    environment: {P: \"${PG_PASSWORD:?}\"}\n");
        assert_int_equal(fx_apply(&f, "include:\n  - ./stacks/db/compose.yaml\n" WEB, 0), 0);
        assert_yaml(f.text, "include/0", "./stacks/db/.stack-effective-compose.yaml");
        snprintf(path, sizeof path, "%s/stacks/db/.stack-effective-compose.yaml", f.run);
        assert_int_equal(fs_read_file(path, 1 << 20, &sub, &len), 0);
        assert_yaml(sub, "services/db/ports/0", "127.0.0.1:5432:5432");
        snprintf(path, sizeof path, "%s/stacks/db/pgdata:/var/lib/postgresql/data", f.data);
        assert_yaml(sub, "services/db/volumes/0", path);
        assert_string_equal(f.res.services[0], "db");
        assert_string_equal(f.res.services[1], "web");
        assert_string_equal(f.res.required_vars[0], "PG_PASSWORD");
        free(sub);

        /* a refusal inside says which file */
        snprintf(path, sizeof path, "%s/stacks/db/compose.yaml", f.run);
        write_file(path, "services:\n  db:\n    image: postgres\n    privileged: true\n");
        assert_int_equal(fx_apply(&f, "include:\n  - path: stacks/db/compose.yaml\n" WEB, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "stacks/db/compose.yaml: service 'db': privileged: true"));

        /* outside the run dir, or not in the bundle: never */
        assert_int_equal(fx_apply(&f, "include: [../other/compose.yaml]\n" WEB, PERM_HOST_BIND), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "outside the run dir"));
        assert_int_equal(fx_apply(&f, "include: [stacks/db/other.yaml]\n" WEB, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "not a file in the bundle"));
        assert_int_equal(fx_apply(&f, "include: [compose.yaml]\n" WEB, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "includes itself"));
        fx_release(&f);
}

static void extends_file_is_checked_and_rewritten(void **state)
{
        static const char *const shipped[] = {"common.yaml", NULL};
        char path[PATH_MAX];
        struct fx f;

        fx_init(&f, NULL, shipped);
        snprintf(path, sizeof path, "%s/common.yaml", f.run);
        write_file(path, "services:\n  base:\n    image: a\n    ports: [\"80:80\"]\n");
        assert_int_equal(fx_apply(&f, WEB "    extends: {file: common.yaml, service: base}\n", 0), 0);
        assert_yaml(f.text, "services/web/extends/file", ".stack-effective-common.yaml");
        assert_null(f.res.services[1]); /* the extended file's services do not run */
        snprintf(path, sizeof path, "%s/.stack-effective-common.yaml", f.run);
        assert_true(fx_exists(path));
        unlink(path);
        snprintf(path, sizeof path, "%s/common.yaml", f.run);
        write_file(path, "services:\n  base:\n    image: a\n    network_mode: host\n");
        assert_int_equal(fx_apply(&f, WEB "    extends: {file: common.yaml, service: base}\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "common.yaml: service 'base': network_mode: host"));
        snprintf(path, sizeof path, "%s/.stack-effective-common.yaml", f.run);
        assert_false(fx_exists(path));
        fx_release(&f);
}

static void reset_tag_cannot_drop_what_the_policy_adds(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(
                fx_apply(&f, WEB "    security_opt: !reset [\"seccomp:unconfined\"]\n    labels: !reset {}\n", 0), 0);
        assert_null(strstr(f.text, "!")); /* no tags in the effective file: !reset removed the keys */
        assert_yaml(f.text, "services/web/security_opt/0", "no-new-privileges:true");
        assert_yaml(f.text, "services/web/security_opt", "<list:1>");
        assert_yaml(f.text, "services/web/labels/io.stack.run", "r1");
        fx_release(&f);
}

static void refuses_a_named_volume_that_binds_a_host_path(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes: [\"etc:/x\"]\nvolumes:\n  etc:\n    driver: local\n"
                                      "    driver_opts: {type: none, o: bind, device: /etc}\n",
                                  0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "volume 'etc': driver_opts.device '/etc' (a host path)"));
        assert_non_null(strstr(f.err.msg, "'host-bind'"));
        fx_release(&f);
}

static void refuses_a_secret_or_config_file_outside_the_run_dir(void **state)
{
        static const char *const docs[][2] = {
                {WEB "secrets:\n  key:\n    file: /etc/shadow\n", "secret 'key': file '/etc/shadow' (a host path)"},
                {WEB "configs:\n  conf:\n    file: ../../x.conf\n", "config 'conf': file '../../x.conf' (outside"},
        };
        struct fx f;
        size_t i;

        for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
                fx_init(&f, NULL, NULL);
                assert_int_equal(fx_apply(&f, docs[i][0], 0), -STACK_EREJECT);
                if (!strstr(f.err.msg, docs[i][1]) || !strstr(f.err.msg, "'host-bind'"))
                        fail_msg("message '%s' does not say '%s'", f.err.msg, docs[i][1]);
                assert_int_equal(fx_apply(&f, docs[i][0], PERM_HOST_BIND), 0);
                fx_release(&f);
        }
}

/* Every service key whose value alone asks for a permission, each with the permission it needs. */
static void refuses_each_sandbox_key_unless_its_permission_is_granted(void **state)
{
        static const struct {
                const char *yaml, *key;
                unsigned bit;
        } keys[] = {
                {"    network_mode: host\n", "network_mode: host", PERM_HOST_NETWORK},
                {"    pid: host\n", "pid: host", PERM_HOST_PID},
                {"    ipc: host\n", "ipc: host", PERM_HOST_IPC},
                {"    uts: host\n", "uts: host", PERM_PRIVILEGED},
                {"    cgroup: host\n", "cgroup: host", PERM_PRIVILEGED},
                {"    cgroup_parent: /system.slice\n", "cgroup_parent: /system.slice", PERM_PRIVILEGED},
                {"    gpus: all\n", "gpus: all", PERM_DEVICES},
                {"    device_cgroup_rules: [\"c 1:3 mr\"]\n", "device_cgroup_rules: [c 1:3 mr]", PERM_DEVICES},
                {"    deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}\n",
                 "deploy.resources.reservations.devices", PERM_DEVICES},
                {"    privileged: \"${PRIV}\"\n", "privileged:  (a variable in it is unset)", PERM_PRIVILEGED},
        };
        char yaml[512];
        size_t i;

        for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                snprintf(yaml, sizeof yaml, WEB "%s", keys[i].yaml);
                refusal(yaml, keys[i].bit, keys[i].key);
        }
}

static void accepts_sandbox_keys_that_ask_for_nothing(void **state)
{
        static const char doc[] = WEB "    privileged: false\n    network_mode: bridge\n    pid: \"\"\n"
                                      "    cap_add: []\n    devices: ~\n    deploy: {replicas: 1}\n";
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, doc, 0), 0);
        assert_int_equal(f.res.needed, 0);
        fx_release(&f);
}

static void permission_names_round_trip(void **state)
{
        static const char *const names[] = {"privileged", "host-network",  "host-pid",  "host-ipc", "cap-add",
                                            "devices",    "docker-socket", "host-bind", "listen"};
        unsigned all = 0;

        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                unsigned bit = policy_perm_from_name(names[i]);

                assert_int_not_equal(bit, 0);
                assert_string_equal(policy_perm_name(bit), names[i]);
                all |= bit;
        }
        assert_int_equal(all, (PERM_LISTEN << 1) - 1);
        assert_int_equal(policy_perm_from_name("root"), 0);
        assert_null(policy_perm_name(PERM_PRIVILEGED | PERM_LISTEN));
}

static void docker_compose_accepts_the_effective_file(void **state)
{
        static const char *const shipped[] = {"site/index.html", NULL};
        char cmd[PATH_MAX * 2];
        struct fx f;

        if (access("/usr/bin/docker-compose", X_OK) != 0)
                skip();
        fx_init(&f, "resources: {cpus: 0.5, memory: 64m, pids: 64}\n", shipped);
        assert_int_equal(fx_apply(&f,
                                  "x-logging: &logging\n  driver: json-file\n  options: {max-size: 10m}\n"
                                  "services:\n"
                                  "  web:\n"
                                  "    image: nginx:alpine\n"
                                  "    logging: *logging\n"
                                  "    ports: [\"8080:80\", \"443\", \"${PORT:-9000}:9000\",\n"
                                  "            \"5000-5002:5000-5002/udp\"]\n"
                                  "    volumes: [\"./site:/usr/share/nginx/html:ro\", \"./data:/data\"]\n"
                                  "    environment:\n      SECRET: ${SECRET:?set SECRET}\n"
                                  "    labels:\n"
                                  "      traefik.http.routers.web.rule: Host(`${PROJECT}.${DOMAIN}`)\n"
                                  "  db:\n"
                                  "    image: postgres:16\n"
                                  "    mem_limit: 1g\n"
                                  "    security_opt: [\"no-new-privileges:true\"]\n"
                                  "    labels: [\"a=b\"]\n"
                                  "    ports: [{target: 5432, published: 5432}]\n"
                                  "    volumes:\n      - {type: bind, source: ./pg, target: /var/lib/postgresql/data}\n"
                                  "      - {type: volume, source: cache, target: /cache}\n"
                                  "volumes: {cache: }\n",
                                  0),
                         0);
        snprintf(cmd, sizeof cmd,
                 "cd / && PROJECT=demo DOMAIN=stack.localhost SECRET=s docker-compose -f '%s' config -q", f.out);
        assert_int_equal(system(cmd), 0);
        fx_release(&f);
}

/* ---- compose v1 rewrites, include flattening, override files ---- */

static void docker_compose_config_accepts(const struct fx *f)
{
        char cmd[PATH_MAX * 2];

        if (access("/usr/bin/docker-compose", X_OK) != 0)
                return;
        snprintf(cmd, sizeof cmd, "cd / && PROJECT=demo DOMAIN=stack.localhost docker-compose -f '%s' config -q",
                 f->out);
        if (system(cmd) != 0)
                fail_msg("docker-compose config refused:\n%s", f->text);
}

#define V2_ONLY                                                                                   \
        "name: demo\n"                                                                            \
        "services:\n"                                                                             \
        "  web:\n"                                                                                \
        "    image: busybox\n"                                                                    \
        "    restart: no\n"                                                                       \
        "    environment: {DEBUG: true, OFF: False, N: 3, EMPTY: , PRICE: 'a$ b'}\n"              \
        "    labels: {traefik.enable: true, port: 80}\n"                                          \
        "    env_file: [{path: app.env, required: true}, {path: missing.env, required: false}]\n" \
        "    healthcheck: {test: [CMD, 'true'], start_period: 5s, start_interval: 1s}\n"          \
        "    configs: [app]\n"                                                                    \
        "  builder:\n"                                                                            \
        "    build: {dockerfile: Dockerfile}\n"                                                   \
        "    depends_on: {web: {condition: service_started, required: false}}\n"                  \
        "configs:\n"                                                                              \
        "  app:\n"                                                                                \
        "    content: |\n"                                                                        \
        "      listen 80;\n"                                                                      \
        "      # ${UNSET_IN_CONTENT}\n"

static void v1_rewrites_v2_only_syntax_into_what_docker_compose_accepts(void **state)
{
        static const char *const shipped[] = {"app.env", "Dockerfile", NULL};
        char path[PATH_MAX], *content = NULL;
        size_t len;
        struct fx f;

        fx_init(&f, NULL, shipped);
        f.v1 = true;
        snprintf(path, sizeof path, "%s/app.env", f.run);
        write_file(path, "A=1\n");
        snprintf(path, sizeof path, "%s/Dockerfile", f.run);
        write_file(path, "FROM busybox\n");
        assert_int_equal(fx_apply(&f, V2_ONLY, 0), 0);
        assert_yaml(f.text, "name", "<none>");
        assert_yaml(f.text, "services/web/restart", "no");
        assert_non_null(strstr(f.text, "restart: \"no\""));
        assert_non_null(strstr(f.text, "DEBUG: \"true\""));
        assert_non_null(strstr(f.text, "OFF: \"false\""));
        assert_non_null(strstr(f.text, "N: \"3\""));
        assert_non_null(strstr(f.text, "traefik.enable: \"true\""));
        assert_yaml(f.text, "services/web/environment/PRICE", "a$$ b");
        assert_yaml(f.text, "services/web/env_file", "<list:1>");
        assert_yaml(f.text, "services/web/env_file/0", "app.env");
        assert_yaml(f.text, "services/web/healthcheck/start_interval", "<none>");
        assert_yaml(f.text, "services/web/healthcheck/start_period", "5s");
        assert_yaml(f.text, "services/builder/build/context", ".");
        assert_yaml(f.text, "services/builder/depends_on/web/required", "<none>");
        assert_yaml(f.text, "configs", "<none>"); /* v1 ignores configs: mounted as a bind */
        assert_yaml(f.text, "services/web/configs", "<none>");
        assert_yaml(f.text, "services/web/volumes/0/source", "./.stack-configs/app");
        assert_yaml(f.text, "services/web/volumes/0/target", "/app");
        assert_yaml(f.text, "services/web/volumes/0/read_only", "true");
        snprintf(path, sizeof path, "%s/.stack-configs/app", f.run);
        assert_int_equal(fs_read_file(path, 1 << 20, &content, &len), 0);
        assert_string_equal(content, "listen 80;\n# \n"); /* interpolated as compose v2 does: unset is empty */
        free(content);
        docker_compose_config_accepts(&f);

        /* compose v2 reads it as written */
        f.v1 = false;
        assert_int_equal(fx_apply(&f, V2_ONLY, 0), 0);
        assert_yaml(f.text, "configs/app/content", "listen 80;\n# \n"); /* resolved, as judged */
        assert_non_null(strstr(f.text, "start_interval"));
        assert_yaml(f.text, "name", "demo");
        fx_release(&f);
}

static void v1_refuses_volume_subpath_naming_the_service_and_key(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        f.v1 = true;
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes: [{type: volume, source: v, target: /x, volume: {subpath: a}}]\n"
                                      "volumes: {v: }\n",
                                  0),
                         -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "service 'web': volumes: volume.subpath"));
        assert_non_null(strstr(f.err.msg, "compose v2 runs it"));
        f.v1 = false;
        assert_int_equal(fx_apply(&f,
                                  WEB "    volumes: [{type: volume, source: v, target: /x, volume: {subpath: a}}]\n"
                                      "volumes: {v: }\n",
                                  0),
                         0);
        fx_release(&f);
}

static void v1_flattens_include_with_paths_rebased_to_the_included_dir(void **state)
{
        static const char *const shipped[] = {"stacks/db/compose.yaml", "stacks/db/init.sql", "stacks/db/db.env",
                                              "stacks/db/Dockerfile", NULL};
        char path[PATH_MAX];
        struct fx f;

        fx_init(&f, NULL, shipped);
        f.v1 = true;
        snprintf(path, sizeof path, "%s/stacks/db", f.run);
        assert_int_equal(fs_mkdir_p(path, 0755), 0);
        snprintf(path, sizeof path, "%s/stacks/db/db.env", f.run);
        write_file(path, "X=1\n");
        snprintf(path, sizeof path, "%s/stacks/db/init.sql", f.run);
        write_file(path, "select 1;\n");
        snprintf(path, sizeof path, "%s/stacks/db/Dockerfile", f.run);
        write_file(path, "FROM busybox\n");
        snprintf(path, sizeof path, "%s/stacks/db/compose.yaml", f.run);
        write_file(path, "services:\n  db:\n    build: .\n    image: db\n"
                         "    env_file: db.env\n"
                         "    environment: {READY: yes}\n"
                         "    volumes: [\"./init.sql:/init.sql:ro\", \"pgdata:/var/lib/postgresql/data\"]\n"
                         "volumes: {pgdata: }\n");
        assert_int_equal(fx_apply(&f, "include:\n  - stacks/db/compose.yaml\n" WEB "volumes: {pgdata: }\n", 0), 0);
        assert_yaml(f.text, "include", "<none>");
        assert_yaml(f.text, "services/db/build", "./stacks/db");
        assert_yaml(f.text, "services/db/env_file", "./stacks/db/db.env");
        assert_yaml(f.text, "services/db/volumes/0", "./stacks/db/init.sql:/init.sql:ro");
        assert_yaml(f.text, "services/db/volumes/1", "pgdata:/var/lib/postgresql/data");
        assert_yaml(f.text, "services/db/environment/READY", "yes");
        assert_yaml(f.text, "services/web/image", "nginx");
        assert_yaml(f.text, "volumes", "<map:1>");
        assert_string_equal(f.res.services[0], "db");
        snprintf(path, sizeof path, "%s/stacks/db/.stack-effective-compose.yaml", f.run);
        assert_false(fx_exists(path));
        docker_compose_config_accepts(&f);

        /* a name two files define differently: refused, naming both */
        assert_int_equal(
                fx_apply(&f, "include:\n  - stacks/db/compose.yaml\n" WEB "volumes: {pgdata: {labels: {x: y}}}\n", 0),
                -STACK_EREJECT);
        assert_non_null(
                strstr(f.err.msg, "volume 'pgdata' is defined in both compose.yaml and stacks/db/compose.yaml"));
        /* still checked like the main file */
        snprintf(path, sizeof path, "%s/stacks/db/compose.yaml", f.run);
        write_file(path, "services:\n  db:\n    image: postgres\n    privileged: true\n");
        assert_int_equal(fx_apply(&f, "include:\n  - stacks/db/compose.yaml\n" WEB, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "stacks/db/compose.yaml: service 'db': privileged: true"));
        fx_release(&f);
}

static void override_file_is_merged_as_compose_merges_it(void **state)
{
        static const char *const shipped[] = {"compose.override.yaml", NULL};
        char path[PATH_MAX];
        struct fx f;

        fx_init(&f, NULL, shipped);
        snprintf(path, sizeof path, "%s/compose.override.yaml", f.run);
        write_file(path, "services:\n"
                         "  web:\n"
                         "    command: [echo, override]\n"
                         "    environment: [MODE=override, EXTRA=1]\n"
                         "    ports: [\"8081:81\"]\n"
                         "    volumes: [\"./other:/data\", \"./logs:/logs\"]\n"
                         "  extra:\n"
                         "    image: busybox\n");
        assert_int_equal(fx_apply(&f,
                                  WEB "    command: [echo, base]\n"
                                      "    environment: {MODE: base, KEEP: kept}\n"
                                      "    ports: [\"8080:80\"]\n"
                                      "    volumes: [\"./data:/data\"]\n",
                                  0),
                         0);
        assert_yaml(f.text, "services/web/command/1", "override");
        assert_yaml(f.text, "services/web/command", "<list:2>");
        assert_yaml(f.text, "services/web/environment/MODE", "override");
        assert_yaml(f.text, "services/web/environment/KEEP", "kept");
        assert_yaml(f.text, "services/web/environment/EXTRA", "1");
        assert_yaml(f.text, "services/web/ports", "<list:2>");
        assert_yaml(f.text, "services/web/ports/1", "127.0.0.1:8081:81");
        assert_yaml(f.text, "services/web/volumes", "<list:2>");
        snprintf(path, sizeof path, "%s/other:/data", f.data);
        assert_yaml(f.text, "services/web/volumes/0", path);
        assert_yaml(f.text, "services/extra/image", "busybox");
        assert_string_equal(f.res.services[1], "extra");
        docker_compose_config_accepts(&f);
        fx_release(&f);
}

static void override_file_adding_privileged_is_refused(void **state)
{
        static const char *const shipped[] = {"docker-compose.override.yml", NULL};
        char path[PATH_MAX];
        struct fx f;

        fx_init(&f, NULL, shipped);
        snprintf(path, sizeof path, "%s/docker-compose.override.yml", f.run);
        write_file(path, "services:\n  web:\n    privileged: true\n");
        assert_int_equal(fx_apply(&f, WEB, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "service 'web': privileged: true"));
        assert_int_equal(f.res.needed, PERM_PRIVILEGED);
        fx_release(&f);
}

/* ---- the front door ---- */

static void routes_from_traefik_labels_publish_the_port_on_loopback(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  WEB "    labels:\n      traefik.http.routers.w.rule: Host(`demo.stack.localhost`)\n"
                                      "      traefik.http.services.w.loadbalancer.server.port: \"8080\"\n",
                                  0),
                         0);
        assert_int_equal(f.res.n_routes, 1);
        assert_string_equal(f.res.routes[0].service, "web");
        assert_string_equal(f.res.routes[0].host, "demo.stack.localhost");
        assert_int_equal(f.res.routes[0].port, 8080);
        assert_yaml(f.text, "services/web/ports/0", "127.0.0.1::8080");
        fx_release(&f);
}

static void routes_from_a_list_of_labels_keep_a_port_already_published(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  WEB "    ports: [\"9000:80\"]\n    labels:\n"
                                      "      - traefik.http.routers.w.rule=Host(`a.demo.stack.localhost`)\n"
                                      "      - traefik.http.services.w.loadbalancer.server.port=80\n",
                                  0),
                         0);
        assert_int_equal(f.res.n_routes, 1);
        assert_string_equal(f.res.routes[0].host, "a.demo.stack.localhost");
        assert_int_equal(f.res.routes[0].port, 80);
        assert_yaml(f.text, "services/web/ports", "<list:1>");
        fx_release(&f);
}

static void routes_warn_about_a_rule_they_cannot_read(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f,
                                  WEB "    labels:\n      traefik.http.routers.w.rule: PathPrefix(`/x`)\n"
                                      "      traefik.http.services.w.loadbalancer.server.port: \"80\"\n",
                                  0),
                         0);
        assert_int_equal(f.res.n_routes, 0);
        assert_non_null(f.res.warnings[0]);
        assert_non_null(strstr(f.res.warnings[0], "service 'web'"));
        assert_yaml(f.text, "services/web/ports", "<none>");
        fx_release(&f);
}

static void routes_give_the_only_dash_url_service_its_address(void **state)
{
        static const char *const vars[] = {"PROJECT=demo", "DOMAIN=stack.localhost", NULL};
        struct fx f;

        fx_init(&f, NULL, NULL);
        /* dash.url interpolated, no router: the service's single exposed port, published on loopback */
        assert_int_equal(
                fx_apply_vars(&f,
                              WEB "    expose: [\"3000\"]\n    labels:\n      dash.url: https://${PROJECT}.${DOMAIN}\n"
                                  "  db:\n    image: postgres\n    ports: [\"5432:5432\"]\n",
                              0, vars),
                0);
        assert_int_equal(f.res.n_routes, 1);
        assert_string_equal(f.res.routes[0].service, "web");
        assert_string_equal(f.res.routes[0].host, "demo.stack.localhost");
        assert_int_equal(f.res.routes[0].port, 3000);
        assert_yaml(f.text, "services/web/ports/0", "127.0.0.1::3000");
        /* a list of labels, the single published port */
        assert_int_equal(
                fx_apply_vars(
                        &f, WEB "    ports: [\"8081:80\"]\n    labels: [\"dash.url=https://demo.stack.localhost/\"]\n",
                        0, vars),
                0);
        assert_int_equal(f.res.n_routes, 1);
        assert_int_equal(f.res.routes[0].port, 80);
        /* two such services: ambiguous, a warning, no route */
        assert_int_equal(
                fx_apply_vars(&f,
                              WEB "    expose: [\"80\"]\n    labels: {dash.url: \"https://${PROJECT}.${DOMAIN}\"}\n"
                                  "  api:\n    image: nginx\n    expose: [\"81\"]\n"
                                  "    labels: {dash.url: \"https://${PROJECT}.${DOMAIN}\"}\n",
                              0, vars),
                0);
        assert_int_equal(f.res.n_routes, 0);
        assert_non_null(f.res.warnings);
        assert_non_null(strstr(f.res.warnings[0], "ambiguous"));
        /* a router on the service: the router decides */
        assert_int_equal(
                fx_apply_vars(&f,
                              WEB "    expose: [\"80\"]\n    labels:\n      dash.url: https://${PROJECT}.${DOMAIN}\n"
                                  "      traefik.http.routers.w.rule: Host(`other.demo.stack.localhost`)\n",
                              0, vars),
                0);
        assert_int_equal(f.res.n_routes, 1);
        assert_string_equal(f.res.routes[0].host, "other.demo.stack.localhost");
        fx_release(&f);
}

static void routes_give_the_only_published_port_the_slug_address(void **state)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"8080:80\"]\n  db:\n    image: postgres\n", 0), 0);
        assert_int_equal(f.res.n_routes, 1);
        assert_string_equal(f.res.routes[0].host, "demo.stack.localhost");
        assert_string_equal(f.res.routes[0].service, "web");
        assert_int_equal(f.res.routes[0].port, 80);
        assert_int_equal(fx_apply(&f, WEB "    ports: [\"8080:80\", \"8443:443\"]\n", 0), 0);
        assert_int_equal(f.res.n_routes, 0); /* ambiguous: none */
        fx_release(&f);
}

/* ---- issue 19: v1 rewrites that keep v2's meaning, each checked on both tools where they are installed ---- */

/* A compose v2 to check with: $STACK_TEST_COMPOSE_V2 (a compose v2 binary, e.g. Debian 13's docker-compose
 * extracted from its .deb), else `docker compose` when the plugin answers; NULL when there is none. */
static const char *compose_v2(void)
{
        static char cmd[PATH_MAX + 8];
        const char *env = getenv("STACK_TEST_COMPOSE_V2");

        if (env && *env) {
                snprintf(cmd, sizeof cmd, "'%s'", env);
                return cmd;
        }
        if (system("docker compose version 2>/dev/null | grep -q 'Docker Compose version'") == 0)
                return "docker compose";
        return NULL;
}

/* tool: "docker-compose" or compose_v2(); want 0 (accepts) or 1 (refuses); skipped when the tool is absent */
static void tool_config(const struct fx *f, const char *tool, int want_refused)
{
        char cmd[PATH_MAX * 2];
        int r;

        if (!tool || (!strcmp(tool, "docker-compose") && access("/usr/bin/docker-compose", X_OK) != 0))
                return;
        snprintf(cmd, sizeof cmd, "cd / && %s -f '%s' config -q >/dev/null 2>&1", tool, f->out);
        r = system(cmd);
        if ((r != 0) != want_refused)
                fail_msg("%s config %s:\n%s", tool, want_refused ? "accepted" : "refused", f->text);
}

/* yaml as compose v2 reads it (the v2 file: accepted by v2, refused by 1.29 as written), then the v1 file
 * (accepted by 1.29) */
static void both_tools(struct fx *f, const char *yaml, unsigned allow)
{
        f->v1 = false;
        assert_int_equal(fx_apply(f, yaml, allow), 0);
        tool_config(f, compose_v2(), 0);
        tool_config(f, "docker-compose", 1);
        f->v1 = true;
        assert_int_equal(fx_apply(f, yaml, allow), 0);
        tool_config(f, "docker-compose", 0);
}

static void v1_port_protocol_is_lowercase(void **state)
{
        struct fx f;

        (void)state;
        fx_init(&f, NULL, NULL);
        both_tools(&f,
                   "services:\n  torrent:\n    image: busybox\n    ports:\n"
                   "      - {target: 51413, published: 51413, protocol: UDP}\n"
                   "      - \"6881:6881/UDP\"\n",
                   0);
        assert_yaml(f.text, "services/torrent/ports/0", "127.0.0.1:51413:51413/udp");
        assert_yaml(f.text, "services/torrent/ports/1", "127.0.0.1:6881:6881/udp");
        /* with listen granted the long syntax stays a mapping: its protocol lowercased too */
        f.v1 = true;
        assert_int_equal(fx_apply(&f,
                                  "services:\n  torrent:\n    image: busybox\n    ports:\n"
                                  "      - {target: 51413, published: 51413, protocol: UDP}\n",
                                  PERM_LISTEN),
                         0);
        assert_yaml(f.text, "services/torrent/ports/0/protocol", "udp");
        fx_release(&f);
}

static void v1_null_command_is_unset(void **state)
{
        struct fx f;

        (void)state;
        fx_init(&f, NULL, NULL);
        both_tools(&f, "services:\n  web:\n    image: busybox\n    command: null\n    entrypoint: ~\n", 0);
        assert_yaml(f.text, "services/web/command", "<none>");
        assert_yaml(f.text, "services/web/entrypoint", "<none>");
        assert_yaml(f.text, "services/web/image", "busybox");
        fx_release(&f);
}

static void v1_yes_in_a_command_list_stays_a_string(void **state)
{
        struct fx f;

        (void)state;
        fx_init(&f, NULL, NULL);
        both_tools(&f,
                   "services:\n  web:\n    image: busybox\n"
                   "    command: [apt-get, install, -y, --assume, yes, On, OFF, no]\n"
                   "    entrypoint: [sh, -c, 'exec \"$$@\"', Yes]\n"
                   "    healthcheck: {test: [CMD, test, yes], interval: 5s}\n",
                   0);
        assert_non_null(strstr(f.text, "\"yes\""));
        assert_non_null(strstr(f.text, "\"On\""));
        assert_non_null(strstr(f.text, "\"OFF\""));
        assert_non_null(strstr(f.text, "\"no\""));
        assert_non_null(strstr(f.text, "\"Yes\""));
        assert_yaml(f.text, "services/web/command/4", "yes");
        assert_yaml(f.text, "services/web/healthcheck/test/2", "yes");
        fx_release(&f);
}

static void v1_unknown_version_string_is_removed(void **state)
{
        static const char *const removed[] = {"\"3.8-custom\"", "latest", "'4.0'"};
        static const char *const kept[] = {"\"3.8\"", "'2.4'", "\"3\""};
        char yaml[256];
        struct fx f;

        (void)state;
        fx_init(&f, NULL, NULL);
        for (size_t i = 0; i < sizeof removed / sizeof *removed; i++) {
                snprintf(yaml, sizeof yaml, "version: %s\nservices:\n  web:\n    image: busybox\n", removed[i]);
                both_tools(&f, yaml, 0);
                assert_yaml(f.text, "version", "<none>");
        }
        /* a version v1 knows is kept: it selects v1's file format */
        f.v1 = true;
        for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
                snprintf(yaml, sizeof yaml, "version: %s\nservices:\n  web:\n    image: busybox\n", kept[i]);
                assert_int_equal(fx_apply(&f, yaml, 0), 0);
                assert_true(strstr(f.text, "version:") != NULL);
                tool_config(&f, "docker-compose", 0);
        }
        fx_release(&f);
}

static void extends_file_bases_merge_as_compose_merges_them(void **state)
{
        static const char *const shipped[] = {"base.yaml", NULL};
        char path[PATH_MAX];
        struct fx f;

        (void)state;
        fx_init(&f, NULL, shipped);
        snprintf(path, sizeof path, "%s/base.yaml", f.run);
        write_file(path, "services:\n  temporal:\n    image: busybox\n    depends_on:\n"
                         "      db: {condition: service_healthy}\n  plain:\n    image: busybox\n");
        both_tools(&f,
                   "services:\n  db:\n    image: busybox\n"
                   "  temporal:\n    extends: {file: base.yaml, service: temporal}\n    depends_on: [cache]\n"
                   "  web:\n    extends: {file: base.yaml, service: plain}\n"
                   "  cache:\n    image: busybox\n",
                   0);
        /* v1: the base's depends_on moved into the extending service, merged with its own */
        assert_yaml(f.text, "services/temporal/depends_on/db/condition", "service_healthy");
        assert_yaml(f.text, "services/temporal/depends_on/cache/condition", "service_started");
        snprintf(path, sizeof path, "%s/.stack-effective-base.yaml", f.run);
        free(f.text);
        f.text = NULL;
        assert_int_equal(fs_read_file(path, 1 << 20, &f.text, NULL), 0);
        assert_yaml(f.text, "services/temporal/depends_on", "<none>");
        /* the base keeps what the policy adds; the merged service gets it from there, once */
        assert_yaml(f.text, "services/temporal/security_opt/0", "no-new-privileges:true");
        fx_release(&f);
}

static void v1_leaves_out_services_of_inactive_profiles(void **state)
{
        struct fx f;

        (void)state;
        fx_init(&f, NULL, NULL);
        both_tools(&f,
                   "services:\n  web:\n    image: busybox\n"
                   "  couchbase:\n    build: ./couchbase-server\n    profiles: [couchbase]\n"
                   "  admin:\n    image: busybox\n    profiles: [couchbase]\n    depends_on: [ui]\n"
                   "  ui:\n    image: busybox\n    profiles: [couchbase]\n",
                   0);
        assert_yaml(f.text, "services/couchbase", "<none>");
        assert_yaml(f.text, "services/admin", "<none>");
        assert_yaml(f.text, "services/ui", "<none>"); /* named only by a service left out */
        assert_yaml(f.text, "services/web/image", "busybox");
        fx_release(&f);
}

int main(void)
{
        /* the front door on 60443 and no http port, as the e2e tests run it: "80:80" is not a reserved port here
         * (tests/unit/test-policy-limits.c tests the reserved ports) */
        setenv("STACK_PROXY_PORT", "60443", 1);
        unsetenv("STACK_PROXY_HTTP_PORT");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(refuses_privileged),
                cmocka_unit_test(refuses_privileged_set_by_a_variable),
                cmocka_unit_test(refuses_host_network),
                cmocka_unit_test(refuses_host_pid),
                cmocka_unit_test(refuses_host_ipc),
                cmocka_unit_test(refuses_cap_add),
                cmocka_unit_test(refuses_devices),
                cmocka_unit_test(refuses_docker_socket_short_syntax),
                cmocka_unit_test(refuses_docker_socket_long_syntax),
                cmocka_unit_test(refuses_bind_of_etc),
                cmocka_unit_test(refuses_bind_of_home),
                cmocka_unit_test(refuses_bind_outside_the_run_dir),
                cmocka_unit_test(refuses_bind_source_set_by_a_variable),
                cmocka_unit_test(refuses_seccomp_unconfined),
                cmocka_unit_test(refuses_userns_host),
                cmocka_unit_test(refuses_each_sandbox_key_unless_its_permission_is_granted),
                cmocka_unit_test(accepts_sandbox_keys_that_ask_for_nothing),
                cmocka_unit_test(refuses_a_secret_or_config_file_outside_the_run_dir),
                cmocka_unit_test(refuses_env_file_outside_the_run_dir),
                cmocka_unit_test(refuses_build_context_outside_the_run_dir),
                cmocka_unit_test(refuses_privileged_hidden_behind_a_merge_key),
                cmocka_unit_test(refuses_host_network_by_network_name),
                cmocka_unit_test(first_violation_wins_and_needed_has_every_bit),
                cmocka_unit_test(refuses_an_alias_bomb),
                cmocka_unit_test(refuses_deep_alias_copies_within_the_node_budget),
                cmocka_unit_test(refuses_duplicate_keys),
                cmocka_unit_test(refuses_two_documents_and_a_file_without_services),
                cmocka_unit_test(ports_are_bound_to_loopback),
                cmocka_unit_test(ports_are_kept_when_listen_is_granted),
                cmocka_unit_test(limits_are_added_and_never_loosened),
                cmocka_unit_test(no_new_privileges_is_added_once),
                cmocka_unit_test(shipped_bind_is_kept_and_state_is_redirected),
                cmocka_unit_test(refuses_a_data_dir_a_container_turned_into_a_symlink),
                cmocka_unit_test(required_variables_are_collected),
                cmocka_unit_test(a_nested_default_resolving_to_a_declared_named_volume_is_a_named_volume),
                cmocka_unit_test(a_variable_naming_a_volume_is_a_named_volume),
                cmocka_unit_test(env_file_with_a_default_is_the_bundles_own_file),
                cmocka_unit_test(a_variable_resolving_to_the_docker_socket_needs_docker_socket),
                cmocka_unit_test(a_variable_resolving_outside_the_run_dir_is_a_host_bind_naming_the_value),
                cmocka_unit_test(a_refusal_names_every_missing_permission_and_the_command),
                cmocka_unit_test(malformed_or_runaway_interpolation_is_refused),
                cmocka_unit_test(resolved_values_are_written_with_dollars_doubled),
                cmocka_unit_test(harmless_host_files_are_allowed_read_only),
                cmocka_unit_test(harmless_host_files_written_or_other_paths_need_host_bind),
                cmocka_unit_test(labels_are_added_in_mapping_and_list_form),
                cmocka_unit_test(anchors_are_expanded_per_service),
                cmocka_unit_test(included_files_are_checked_and_rewritten),
                cmocka_unit_test(extends_file_is_checked_and_rewritten),
                cmocka_unit_test(reset_tag_cannot_drop_what_the_policy_adds),
                cmocka_unit_test(refuses_a_named_volume_that_binds_a_host_path),
                cmocka_unit_test(permission_names_round_trip),
                cmocka_unit_test(docker_compose_accepts_the_effective_file),
                cmocka_unit_test(v1_rewrites_v2_only_syntax_into_what_docker_compose_accepts),
                cmocka_unit_test(v1_refuses_volume_subpath_naming_the_service_and_key),
                cmocka_unit_test(v1_flattens_include_with_paths_rebased_to_the_included_dir),
                cmocka_unit_test(override_file_is_merged_as_compose_merges_it),
                cmocka_unit_test(override_file_adding_privileged_is_refused),
                cmocka_unit_test(routes_from_traefik_labels_publish_the_port_on_loopback),
                cmocka_unit_test(routes_give_the_only_dash_url_service_its_address),
                cmocka_unit_test(routes_from_a_list_of_labels_keep_a_port_already_published),
                cmocka_unit_test(routes_warn_about_a_rule_they_cannot_read),
                cmocka_unit_test(routes_give_the_only_published_port_the_slug_address),
                /* issue 19: v1 rewrites that keep meaning */
                cmocka_unit_test(v1_port_protocol_is_lowercase),
                cmocka_unit_test(v1_null_command_is_unset),
                cmocka_unit_test(v1_yes_in_a_command_list_stays_a_string),
                cmocka_unit_test(v1_unknown_version_string_is_removed),
                cmocka_unit_test(extends_file_bases_merge_as_compose_merges_them),
                cmocka_unit_test(v1_leaves_out_services_of_inactive_profiles),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
