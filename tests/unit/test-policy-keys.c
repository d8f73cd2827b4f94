/* test-policy-keys.c - what the policy does not understand is refused (run/policy-keys.c, run/policy-tags.c,
 * base/yamltree.c): merge keys in every spelling compose reads, YAML tags, compose keys at every level, `x-`
 * extensions; and the effective file carries no tags, anchors, aliases or merge keys. */
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

/* The scalar at "services/web/image" in text ("<none>" when absent; "<list>"/"<map>" for collections), and
 * whether it was written quoted. */
static char *yget(const char *text, const char *path, bool *quoted)
{
        yaml_parser_t p;
        yaml_document_t d;
        yaml_node_t *n;
        char buf[512], *save = NULL, *tok, *out;

        assert_true(yaml_parser_initialize(&p));
        yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
        assert_true(yaml_parser_load(&p, &d));
        n = yaml_document_get_root_node(&d);
        snprintf(buf, sizeof buf, "%s", path);
        for (tok = strtok_r(buf, "/", &save); n && tok; tok = strtok_r(NULL, "/", &save)) {
                yaml_node_t *next = NULL;

                if (n->type == YAML_MAPPING_NODE) {
                        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top; q++) {
                                yaml_node_t *k = yaml_document_get_node(&d, q->key);

                                if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, tok) == 0)
                                        next = yaml_document_get_node(&d, q->value);
                        }
                } else if (n->type == YAML_SEQUENCE_NODE) {
                        long i = strtol(tok, NULL, 10);

                        if (i >= 0 && i < n->data.sequence.items.top - n->data.sequence.items.start)
                                next = yaml_document_get_node(&d, n->data.sequence.items.start[i]);
                }
                n = next;
        }
        if (quoted)
                *quoted = n && n->type == YAML_SCALAR_NODE && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        out = strdup(!n                              ? "<none>"
                     : n->type == YAML_SCALAR_NODE   ? (char *)n->data.scalar.value
                     : n->type == YAML_SEQUENCE_NODE ? "<list>"
                                                     : "<map>");
        yaml_document_delete(&d);
        yaml_parser_delete(&p);
        return out;
}

#define assert_yaml(text, path, want)                                                    \
        do {                                                                             \
                char *got_ = yget(text, path, NULL);                                     \
                if (strcmp(got_, want) != 0)                                             \
                        fail_msg("%s: got '%s', want '%s'\n%s", path, got_, want, text); \
                free(got_);                                                              \
        } while (0)

/* yaml refused (STACK_EREJECT) with a message holding want. */
static void refused(const char *yaml, const char *want)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        if (fx_apply(&f, yaml, 0) != -STACK_EREJECT)
                fail_msg("accepted:\n%s\neffective:\n%s", yaml, f.text ? f.text : "");
        assert_int_equal(f.err.code, STACK_EREJECT);
        if (!strstr(f.err.msg, want))
                fail_msg("message '%s' does not say '%s'", f.err.msg, want);
        fx_release(&f);
}

/* yaml accepted (compose v2 and v1; with check, docker-compose 1.29 validates the v1 file when it is installed):
 * returns the effective file of the v2 run (the caller frees it). */
static char *accepted_check(const char *yaml, bool check)
{
        struct fx f;
        char *text;

        fx_init(&f, NULL, NULL);
        f.v1 = true;
        if (fx_apply(&f, yaml, 0) != 0)
                fail_msg("refused (v1): %s\n%s", f.err.msg, yaml);
        if (check && access("/usr/bin/docker-compose", X_OK) == 0) { /* compose v1 reads the effective file */
                char cmd[1400];

                snprintf(cmd, sizeof cmd, "cd / && docker-compose -f '%s' config -q", f.out);
                if (system(cmd) != 0)
                        fail_msg("docker-compose config refused:\n%s", f.text);
        }
        f.v1 = false;
        if (fx_apply(&f, yaml, 0) != 0)
                fail_msg("refused: %s\n%s", f.err.msg, yaml);
        text = f.text;
        f.text = NULL;
        fx_release(&f);
        return text;
}

static char *accepted(const char *yaml)
{
        return accepted_check(yaml, true);
}

/* ---- merge keys ---- */

#define POWER "x-p: &p {privileged: true, network_mode: host}\n"

static void every_merge_spelling_is_merged_and_judged(void **state)
{
        static const char *const spellings[] = {"<<",
                                                "!!merge innocent",
                                                "!!merge \"<<\"",
                                                "!!merge '<<'",
                                                "! <<",
                                                "!<tag:yaml.org,2002:merge> innocent",
                                                "!!merge x-y"};
        char yaml[512];
        size_t i;

        for (i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
                snprintf(yaml, sizeof yaml, POWER WEB "    %s: *p\n", spellings[i]);
                refused(yaml, "service 'web': privileged: true is not allowed");
        }
}

static void a_merge_spelling_merges_what_compose_merges(void **state)
{
        char *text = accepted("x-b: &b {image: busybox, environment: {A: \"1\"}, command: [sleep, \"9\"]}\n"
                              "services:\n  web:\n    !!merge innocent: *b\n    command: [sleep, \"10\"]\n");

        assert_yaml(text, "services/web/image", "busybox");
        assert_yaml(text, "services/web/environment/A", "1");
        assert_yaml(text, "services/web/command/1", "10");
        assert_yaml(text, "services/web/innocent", "<none>");
        assert_null(strstr(text, "x-b"));
        free(text);
}

static void a_list_of_merged_mappings_earlier_wins(void **state)
{
        char *text = accepted("x-a: &a {image: a}\nx-b: &b {image: b, user: \"1000\"}\n"
                              "services:\n  web:\n    !!merge \"<<\": [*a, *b]\n");

        assert_yaml(text, "services/web/image", "a");
        assert_yaml(text, "services/web/user", "1000");
        free(text);
}

static void a_quoted_merge_key_is_a_plain_key(void **state)
{
        /* "<<" quoted is a string for PyYAML and go-yaml: not a merge, and not a compose key */
        refused(POWER WEB "    \"<<\": *p\n", "service 'web': unknown compose key '<<'");
}

static void the_merge_tag_elsewhere_is_refused(void **state)
{
        refused(WEB "    user: !!merge x\n", "merge tag (!!merge) is only allowed on a mapping key");
        refused(WEB "    cap_drop: [!!merge ALL]\n", "merge tag (!!merge) is only allowed on a mapping key");
        refused(WEB "    <<: !!merge {user: x}\n", "merge tag (!!merge) is only allowed on a mapping key");
        refused(WEB "    !!merge x: a\n", "merges a scalar, not a mapping");
        refused(WEB "    !!merge x: [a]\n", "merges a scalar, not a mapping");
        refused(POWER "x-q: &q {user: x}\n" WEB "    <<: *q\n    !!merge x: *p\n", "more than one merge key");
}

/* ---- tags ---- */

static void tags_beyond_the_core_schema_are_refused_with_the_path(void **state)
{
        refused(WEB "    cap_add: !foo [SYS_ADMIN]\n",
                "compose.yaml: service 'web': cap_add: YAML tag '!foo' is not allowed (line 4)");
        refused(WEB "    cap_drop: [!foo ALL]\n", "service 'web': cap_drop[0]: YAML tag '!foo' is not allowed");
        refused(WEB "    user: !!binary YWJj\n", "service 'web': user: YAML tag '!!binary' is not allowed");
        refused(WEB "    user: !!timestamp 2001-12-14\n", "YAML tag '!!timestamp' is not allowed");
        refused(WEB "    user: !!python/object:os.system x\n", "YAML tag '!!python/object:os.system' is not allowed");
        refused(WEB "    user: ! x\n", "YAML tag '!' is not allowed");
        refused(WEB "    labels: !!omap [{a: b}]\n", "YAML tag '!!omap' is not allowed");
        refused(WEB "    labels: !!set {a: null}\n", "YAML tag '!!set' is not allowed");
        refused(WEB "    !foo user: x\n", "service 'web': user: YAML tag '!foo' is not allowed on a key");
        refused("!foo\n" WEB, "YAML tag '!foo' is not allowed");
        refused(WEB "    deploy: {resources: {limits: {memory: !custom 1g}}}\n",
                "service 'web': deploy.resources.limits.memory: YAML tag '!custom' is not allowed");
        refused(WEB "volumes:\n  v: {driver_opts: {type: !x tmpfs}}\n",
                "volume 'v': driver_opts.type: YAML tag '!x' is not allowed");
        refused("!reset\n" WEB, "YAML tag '!reset' is not allowed on the document");
}

static void core_tags_on_text_that_does_not_match_are_refused(void **state)
{
        static const char *const bad[] = {"!!int 0777", "!!int 0x1F",  "!!int 1_000",  "!!int 1:30",    "!!int abc",
                                          "!!int ''",   "!!float 1e5", "!!float .inf", "!!float 1.5e5", "!!float 1",
                                          "!!bool yes", "!!bool on",   "!!bool 1",     "!!null x",      "!!null 'a'",
                                          "!!map x",    "!!seq x",     "!!map [a]",    "!!seq {a: b}"};
        char yaml[256];
        size_t i;

        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                snprintf(yaml, sizeof yaml, WEB "    stop_grace_period: %s\n", bad[i]);
                refused(yaml, "service 'web': stop_grace_period: YAML tag");
        }
}

static void core_tags_are_resolved_into_plain_yaml_typed_alike(void **state)
{
        bool quoted;
        char *text =
                accepted_check(WEB "    user: !!str 1000\n    tty: !!bool True\n    stdin_open: !!bool FALSE\n"
                                   "    cpu_shares: !!int 512\n    mem_swappiness: !!int +5\n    cpus: !!float 0.5\n"
                                   "    hostname: !!null ~\n    environment: !!map {NO: !!str no, ON: !!str 'on'}\n"
                                   "    dns: !!seq [!!str 1.1.1.1]\n    working_dir: !override /app\n"
                                   "    domainname: !!str\n",
                               false); /* hostname: null is not a string for docker-compose: typing only */
        char *v;

        v = yget(text, "services/web/user", &quoted);
        assert_string_equal(v, "1000");
        assert_true(quoted); /* a string for both: 1000 plain would be an int */
        free(v);
        v = yget(text, "services/web/environment/NO", &quoted);
        assert_string_equal(v, "no");
        assert_true(quoted); /* PyYAML reads a plain no as false */
        free(v);
        v = yget(text, "services/web/domainname", &quoted);
        assert_string_equal(v, "");
        assert_true(quoted); /* "" and not a null */
        free(v);
        v = yget(text, "services/web/tty", &quoted);
        assert_string_equal(v, "true");
        assert_false(quoted);
        free(v);
        assert_yaml(text, "services/web/stdin_open", "false");
        assert_yaml(text, "services/web/cpu_shares", "512");
        assert_yaml(text, "services/web/mem_swappiness", "+5");
        assert_yaml(text, "services/web/cpus", "0.5");
        assert_yaml(text, "services/web/hostname", "null");
        assert_yaml(text, "services/web/dns/0", "1.1.1.1");
        assert_yaml(text, "services/web/working_dir", "/app");
        free(text);
}

/* Untagged scalars keep their style: a plain one is typed by each compose version as it was written, a quoted one
 * stays a string. */
static void untagged_scalars_keep_their_style(void **state)
{
        static const struct {
                const char *text;
                bool quoted;
        } items[] = {{"yes", false}, {"0777", true},  {"1_000", false}, {"12:30", true},
                     {"on", false},  {"0x1F", false}, {"~", true},      {"1e5", false}};
        /* not checked by docker-compose: it wants strings in command; the point is how YAML types them */
        char *text = accepted_check(WEB "    command: [yes, '0777', 1_000, \"12:30\", on, 0x1F, '~', 1e5]\n", false);
        char path[64];
        size_t i;

        for (i = 0; i < sizeof items / sizeof items[0]; i++) {
                bool quoted;
                char *v;

                snprintf(path, sizeof path, "services/web/command/%zu", i);
                v = yget(text, path, &quoted);
                assert_string_equal(v, items[i].text);
                if (quoted != items[i].quoted)
                        fail_msg("%s: written %s\n%s", items[i].text, quoted ? "quoted" : "plain", text);
                free(v);
        }
        free(text);
}

static void reset_removes_the_key_or_item_and_override_is_dropped(void **state)
{
        char *text = accepted(WEB "    cap_add: !reset [SYS_ADMIN]\n    privileged: !reset true\n"
                                  "    cap_drop: [ALL, !reset NET_RAW, CHOWN]\n"
                                  "    security_opt: !reset [\"seccomp:unconfined\"]\n"
                                  "    command: !override [sleep, \"1\"]\n");

        assert_yaml(text, "services/web/cap_add", "<none>");
        assert_yaml(text, "services/web/privileged", "<none>");
        assert_yaml(text, "services/web/cap_drop/1", "CHOWN");
        assert_yaml(text, "services/web/cap_drop/2", "<none>");
        assert_yaml(text, "services/web/security_opt/0", "no-new-privileges:true");
        assert_yaml(text, "services/web/security_opt/1", "<none>");
        assert_yaml(text, "services/web/command/1", "1");
        free(text);
}

static void an_override_file_keeps_its_reset_meaning_and_its_tags_are_checked(void **state)
{
        struct fx f;
        char path[1300];

        fx_init(&f, NULL, (const char *const[]){"compose.override.yaml", NULL});
        snprintf(path, sizeof path, "%s/compose.override.yaml", f.run);
        write_file(path, "services:\n  web:\n    cap_drop: !reset []\n    dns: !override [9.9.9.9]\n"
                         "  new:\n    image: b\n    labels: !reset {a: b}\n    user: !!str 0\n");
        assert_int_equal(fx_apply(&f, WEB "    cap_drop: [ALL]\n    dns: [1.1.1.1]\n", 0), 0);
        assert_yaml(f.text, "services/web/cap_drop", "<none>");
        assert_yaml(f.text, "services/web/dns/0", "9.9.9.9");
        assert_yaml(f.text, "services/web/dns/1", "<none>");
        assert_yaml(f.text, "services/new/labels/a", "<none>");
        assert_yaml(f.text, "services/new/user", "0");
        write_file(path, "services:\n  web:\n    cap_add: !evil [SYS_ADMIN]\n");
        assert_int_equal(fx_apply(&f, WEB, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "compose.override.yaml: service 'web': cap_add: YAML tag '!evil'"));
        write_file(path, "services:\n  web:\n    !!merge innocent: {privileged: true}\n");
        assert_int_equal(fx_apply(&f, WEB, 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "privileged: true is not allowed"));
        fx_release(&f);
}

/* ---- keys ---- */

static void unknown_keys_are_refused_at_every_level(void **state)
{
        static const struct {
                const char *yaml, *want;
        } cases[] = {
                {WEB "foo: 1\n", "compose.yaml: unknown compose key 'foo'"},
                {WEB "    foo: 1\n", "service 'web': unknown compose key 'foo' (stack refuses what it does not know"},
                {WEB "    volume_drivers: x\n", "service 'web': unknown compose key 'volume_drivers'"},
                {WEB "    deploy: {resources: {limits: {memory: 1g, foo: 1}}}\n",
                 "service 'web': unknown compose key 'deploy.resources.limits.foo'"},
                {WEB "    deploy: {restart_policy: {foo: 1}}\n", "unknown compose key 'deploy.restart_policy.foo'"},
                {WEB "    healthcheck: {test: [CMD, x], foo: 1}\n", "unknown compose key 'healthcheck.foo'"},
                {WEB "    build: {context: ., foo: 1}\n", "unknown compose key 'build.foo'"},
                {WEB "    logging: {driver: json-file, foo: 1}\n", "unknown compose key 'logging.foo'"},
                {WEB "    ports: [{target: 80, foo: 1}]\n", "unknown compose key 'ports[0].foo'"},
                {WEB "    volumes: [{type: bind, source: ./a, target: /a, bind: {foo: 1}}]\n",
                 "unknown compose key 'volumes[0].bind.foo'"},
                {WEB "    volumes: [{type: volume, source: v, target: /a, volume: {nocopy: true, foo: 1}}]\n",
                 "unknown compose key 'volumes[0].volume.foo'"},
                {WEB "    ulimits: {nofile: {soft: 1, hard: 2, foo: 3}}\n", "unknown compose key 'ulimits.nofile.foo'"},
                {WEB "    depends_on: {db: {condition: service_started, foo: 1}}\n  db: {image: x}\n",
                 "unknown compose key 'depends_on.db.foo'"},
                {WEB "    networks: {n: {aliases: [a], foo: 1}}\nnetworks:\n  n: {}\n",
                 "unknown compose key 'networks.n.foo'"},
                {WEB "    secrets: [{source: s, foo: 1}]\nsecrets:\n  s: {file: ./s}\n",
                 "unknown compose key 'secrets[0].foo'"},
                {WEB "    blkio_config: {weight: 10, foo: 1}\n", "unknown compose key 'blkio_config.foo'"},
                {WEB "    post_start: [{command: x, foo: 1}]\n", "unknown compose key 'post_start[0].foo'"},
                {WEB "volumes:\n  v: {driver: local, foo: 1}\n", "volume 'v': unknown compose key 'foo'"},
                {WEB "networks:\n  n: {ipam: {config: [{subnet: 10.9.0.0/24, foo: 1}]}}\n",
                 "network 'n': unknown compose key 'ipam.config[0].foo'"},
                {WEB "secrets:\n  s: {file: ./s, foo: 1}\n", "secret 's': unknown compose key 'foo'"},
                {WEB "configs:\n  c: {file: ./c, foo: 1}\n", "config 'c': unknown compose key 'foo'"},
                {"include: [{path: a.yaml, foo: 1}]\n", "unknown compose key 'include[0].foo'"},
                {WEB "    x-ok: 1\n    deploy: {x-ok: 1, bar: 2}\n", "unknown compose key 'deploy.bar'"},
        };
        size_t i;

        for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
                refused(cases[i].yaml, cases[i].want);
}

static void known_keys_not_run_by_stack_are_refused_or_need_a_permission(void **state)
{
        struct fx f;

        refused(WEB "    provider: {type: model, options: {model: x}}\n",
                "service 'web': provider: not supported by stack");
        refused(WEB "models:\n  m: {model: x}\n", "models: not supported by stack");
        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, WEB "    use_api_socket: true\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "service 'web': use_api_socket: the Docker socket is not allowed (needs "
                                          "permission 'docker-socket')"));
        assert_int_equal(fx_apply(&f, WEB "    use_api_socket: true\n", PERM_DOCKER_SOCKET), 0);
        assert_int_equal(fx_apply(&f, WEB "    use_api_socket: false\n", 0), 0);
        assert_int_equal(fx_apply(&f, WEB "    post_start: [{command: id, privileged: true}]\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "service 'web': post_start[0].privileged: a privileged command is not "
                                          "allowed (needs permission 'privileged')"));
        assert_int_equal(fx_apply(&f, WEB "    pre_stop: [{command: id, privileged: false}]\n", 0), 0);
        assert_int_equal(fx_apply(&f, WEB "    label_file: /etc/passwd\n", 0), -STACK_EREJECT);
        assert_non_null(strstr(f.err.msg, "label_file"));
        assert_true(f.res.needed & PERM_HOST_BIND);
        fx_release(&f);
}

static void extensions_are_dropped_free_maps_are_not_checked(void **state)
{
        char *text = accepted("x-top: {privileged: true}\nname: demo\n" WEB "    x-svc: {anything: 1}\n"
                              "    environment: {ANY_NAME: x, x-keep: y}\n    labels: {x-label: z}\n"
                              "    sysctls: {net.core.somaxconn: 1024}\n"
                              "    build: {context: ., args: {FOO: bar}, x-b: 1}\n"
                              "    healthcheck: {test: [CMD, \"true\"], x-h: 1}\n"
                              "    deploy: {resources: {limits: {memory: 100m, x-l: 1}}}\n"
                              "    volumes: [{type: volume, source: v, target: /v, x-v: 1, volume: {nocopy: true}}]\n"
                              "volumes:\n  v: {driver: local, x-v: 1, labels: {x-kept: a}}\n"
                              "networks:\n  default: {x-n: 1, ipam: {config: [{x-c: 1}]}}\n");

        assert_yaml(text, "x-top", "<none>");
        assert_yaml(text, "services/web/x-svc", "<none>");
        assert_yaml(text, "services/web/build/x-b", "<none>");
        assert_yaml(text, "services/web/healthcheck/x-h", "<none>");
        assert_yaml(text, "services/web/volumes/0/x-v", "<none>");
        assert_yaml(text, "volumes/v/x-v", "<none>");
        assert_yaml(text, "networks/default/x-n", "<none>");
        assert_yaml(text, "networks/default/ipam/config/0/x-c", "<none>");
        assert_yaml(text, "services/web/environment/x-keep", "y");
        assert_yaml(text, "services/web/environment/ANY_NAME", "x");
        assert_yaml(text, "services/web/labels/x-label", "z");
        assert_yaml(text, "volumes/v/labels/x-kept", "a");
        assert_yaml(text, "services/web/build/args/FOO", "bar");
        free(text);
}

static void the_specification_keys_of_a_full_service_pass(void **state)
{
        char *text = accepted(
                WEB
                "    container_name: c\n    hostname: h\n    restart: unless-stopped\n    init: true\n"
                "    read_only: true\n    stop_signal: SIGTERM\n    stop_grace_period: 10s\n    tmpfs: [/tmp]\n"
                "    expose: [\"80\"]\n    ports: [{target: 80, published: \"8080\", protocol: tcp, mode: host}]\n"
                "    healthcheck: {test: [CMD, \"true\"], interval: 10s, timeout: 5s, retries: 3, start_period: 1s}\n"
                "    depends_on: {db: {condition: service_healthy, restart: true}}\n"
                "    logging: {driver: json-file, options: {max-size: 10m}}\n"
                "    deploy: {replicas: 1, resources: {limits: {cpus: \"0.5\", memory: 100m},"
                " reservations: {memory: 10m}}, restart_policy: {condition: on-failure, max_attempts: 3}}\n"
                "    networks: {back: {aliases: [w], ipv4_address: 10.78.0.5}}\n"
                "    volumes: [\"data:/data\", {type: tmpfs, target: /t, tmpfs: {size: 1000}}]\n"
                "    env_file: [{path: .env.x, required: false}]\n"
                "  db: {image: postgres, volumes: [{type: volume, source: data, target: /d,"
                " volume: {nocopy: true}}]}\n"
                "volumes:\n  data: {labels: {a: b}}\n"
                "networks:\n  back: {driver: bridge, ipam: {driver: default, config: []}}\n");

        assert_yaml(text, "services/web/depends_on/db/condition", "service_healthy");
        assert_yaml(text, "networks/back/ipam/driver", "default");
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_merge_spelling_is_merged_and_judged),
                cmocka_unit_test(a_merge_spelling_merges_what_compose_merges),
                cmocka_unit_test(a_list_of_merged_mappings_earlier_wins),
                cmocka_unit_test(a_quoted_merge_key_is_a_plain_key),
                cmocka_unit_test(the_merge_tag_elsewhere_is_refused),
                cmocka_unit_test(tags_beyond_the_core_schema_are_refused_with_the_path),
                cmocka_unit_test(core_tags_on_text_that_does_not_match_are_refused),
                cmocka_unit_test(core_tags_are_resolved_into_plain_yaml_typed_alike),
                cmocka_unit_test(untagged_scalars_keep_their_style),
                cmocka_unit_test(reset_removes_the_key_or_item_and_override_is_dropped),
                cmocka_unit_test(an_override_file_keeps_its_reset_meaning_and_its_tags_are_checked),
                cmocka_unit_test(unknown_keys_are_refused_at_every_level),
                cmocka_unit_test(known_keys_not_run_by_stack_are_refused_or_need_a_permission),
                cmocka_unit_test(extensions_are_dropped_free_maps_are_not_checked),
                cmocka_unit_test(the_specification_keys_of_a_full_service_pass),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
