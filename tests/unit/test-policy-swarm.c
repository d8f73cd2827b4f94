/* test-policy-swarm.c - the swarm file (policy_swarm_file(), spec/run.md "Swarm file"): an effective compose file
 * in, the file `docker stack deploy` reads out, or a refusal naming the service and the key; and the swarm-only
 * deploy keys on a compose run (a warning, removed). */
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

#include "run/policy.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "policyfx.h"
#include "testlib.h"

#define NODE "node1abc"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const char *const images[] = {
        "nginx", "127.0.0.1:45000/nginx@" DIGEST_A, "postgres", "127.0.0.1:45000/postgres@" DIGEST_B, NULL, NULL};

/* One effective file and its swarm file in a temporary dir (the run dir). */
struct sx {
        char dir[1024], eff[1100], out[1100];
        char *text;
        char **notes;
        struct error err;
        struct policy_swarm_options o;
        struct policy_route route;
};

static void sx_init(struct sx *x)
{
        memset(x, 0, sizeof *x);
        snprintf(x->dir, sizeof x->dir, "%s", tl_tmpdir());
        snprintf(x->eff, sizeof x->eff, "%s/.stack-effective-compose.yaml", x->dir);
        snprintf(x->out, sizeof x->out, "%s/swarm.yml", x->dir);
        snprintf(x->route.service, sizeof x->route.service, "web");
        snprintf(x->route.host, sizeof x->route.host, "demo.stack.localhost");
        x->route.port = 80;
        x->o = (struct policy_swarm_options){.project = PROJECT,
                                             .data_node = NODE,
                                             .images = images,
                                             .routes = &x->route,
                                             .n_routes = 1,
                                             .data_dir = "/home/stack/data/demo"};
}

static void sx_release(struct sx *x)
{
        free(x->text);
        strv_free(x->notes);
        x->text = NULL;
        x->notes = NULL;
}

/* With STACK_SWARM_FILES=DIR, every swarm file written is kept as DIR/<n>.yml for
 * tests/manual/swarm-file-deploy.sh, which deploys them on the local swarm. */
static void keep(const struct sx *x)
{
        static int n;
        const char *dir = getenv("STACK_SWARM_FILES");
        char path[PATH_MAX];

        if (!dir || !x->text)
                return;
        snprintf(path, sizeof path, "%s/%02d.yml", dir, ++n);
        assert_int_equal(fs_write_atomic(path, x->text, strlen(x->text), 0644), 0);
}

static int sx_convert(struct sx *x, const char *yaml)
{
        size_t len;
        int r;

        sx_release(x);
        error_clear(&x->err);
        assert_int_equal(fs_write_atomic(x->eff, yaml, strlen(yaml), 0600), 0);
        unlink(x->out);
        r = policy_swarm_file(x->eff, x->out, &x->o, &x->notes, &x->err);
        if (r == 0) {
                assert_int_equal(fs_read_file(x->out, 1 << 20, &x->text, &len), 0);
                assert_non_null(x->notes);
                keep(x);
        } else {
                assert_false(fx_exists(x->out)); /* nothing written on refusal */
                assert_null(x->notes);
        }
        return r;
}

static bool says(const struct sx *x, const char *s)
{
        return x->text && strstr(x->text, s);
}

/* The swarm file holds every string of want (NULL-terminated), and none of unwanted (may be NULL). */
static void says_all(const struct sx *x, const char *const *want, const char *const *unwanted)
{
        for (size_t i = 0; want && want[i]; i++)
                if (!says(x, want[i]))
                        fail_msg("the swarm file does not say '%s':\n%s", want[i], x->text);
        for (size_t i = 0; unwanted && unwanted[i]; i++)
                if (says(x, unwanted[i]))
                        fail_msg("the swarm file says '%s':\n%s", unwanted[i], x->text);
}

static bool noted(const struct sx *x, const char *s)
{
        for (size_t i = 0; x->notes && x->notes[i]; i++)
                if (strstr(x->notes[i], s))
                        return true;
        return false;
}

static void refused(const char *yaml, const char *what)
{
        struct sx x;

        sx_init(&x);
        if (sx_convert(&x, yaml) != -STACK_EREJECT)
                fail_msg("accepted on swarm:\n%s\n%s", yaml, x.text);
        if (!strstr(x.err.msg, what))
                fail_msg("message '%s' does not say '%s'", x.err.msg, what);
        sx_release(&x);
}

static size_t count(const char *text, const char *s)
{
        size_t n = 0;

        for (const char *p = text; (p = strstr(p, s)); p++)
                n++;
        return n;
}

static void a_checked_file_becomes_a_swarm_file(void **state)
{
        struct fx f;
        struct sx x;

        fx_init(&f, NULL, NULL);
        f.swarm = true;
        assert_int_equal(
                fx_apply(&f,
                         "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n    depends_on: [db]\n"
                         "    environment: {MODE: y}\n    restart: unless-stopped\n"
                         "  db:\n    image: postgres\n    volumes: [\"./pgdata:/var/lib/postgresql/data\"]\n"
                         "    deploy:\n      replicas: 2\n      update_config: {parallelism: 1}\n",
                         0),
                0);
        assert_int_equal(f.res.n_routes, 1);
        sx_init(&x);
        x.o.routes = f.res.routes;
        x.o.n_routes = f.res.n_routes;
        x.o.run_dir = f.run;
        if (policy_swarm_file(f.out, x.out, &x.o, &x.notes, &x.err) != 0)
                fail_msg("refused: %s\n%s", x.err.msg, f.text);
        assert_int_equal(fs_read_file(x.out, 1 << 20, &x.text, &(size_t){0}), 0);
        keep(&x);
        says_all(&x,
                 (const char *const[]){"version: \"3.8\"", "image: \"127.0.0.1:45000/nginx@" DIGEST_A "\"",
                                       "image: \"127.0.0.1:45000/postgres@" DIGEST_B "\"", "io.stack.replicas: \"1\"",
                                       "io.stack.replicas: \"2\"",
                                       /* the routed port, in host mode, with no published port */
                                       "target: 80\n", "mode: host",
                                       /* limits as deploy.resources; pids in a label */
                                       "limits:\n", "memory: \"", "io.stack.pids: \"",
                                       /* YAML 1.1 would read a plain y as true */
                                       "MODE: \"y\"", "condition: any",
                                       /* the bind of the data dir, absolute */
                                       f.data, "failure_action: rollback", "monitor: 10s", "parallelism: 1", NULL},
                 (const char *const[]){"published", "127.0.0.1:8080", "mem_limit", "memswap_limit", "pids_limit",
                                       "security_opt", "depends_on", NULL});
        assert_int_equal(count(x.text, "replicas: 0"), 2);
        assert_int_equal(count(x.text, "endpoint_mode: dnsrr"), 2);
        /* only the service that binds the data is placed on the data node */
        assert_int_equal(count(x.text, "node.id==" NODE), 1);
        assert_true(noted(&x, "no-new-privileges is not available for swarm services on this Engine"));
        assert_true(noted(&x, "depends_on dropped"));
        assert_true(noted(&x, "pids_limit"));
        assert_true(noted(&x, "memswap_limit"));
        sx_release(&x);
        fx_release(&f);
}

/* What swarm has passes (docker stack deploy takes the file: tests/manual/swarm-file-deploy.sh). */
static void keys_swarm_services_have_are_kept(void **state)
{
        char env[1100];
        struct sx x;

        sx_init(&x);
        snprintf(env, sizeof env, "%s/app.env", x.dir);
        assert_int_equal(fs_write_atomic(env, "A=1\n", 4, 0644), 0);
        assert_int_equal(
                sx_convert(&x,
                           "services:\n  web:\n    image: nginx\n    command: [sh, -c, \"sleep 1\"]\n"
                           "    entrypoint: [\"/bin/sh\"]\n    user: 1000\n    working_dir: /tmp\n"
                           "    cap_add: [NET_ADMIN]\n    cap_drop: [ALL]\n    read_only: true\n    init: true\n"
                           "    hostname: web\n    stop_grace_period: 5s\n    stop_signal: SIGTERM\n"
                           "    ulimits: {nofile: {soft: 1024, hard: 2048}}\n    dns: [1.1.1.1]\n"
                           "    dns_search: [example.org]\n    extra_hosts: [\"db:10.0.0.2\"]\n    tty: true\n"
                           "    stdin_open: true\n    sysctls: {net.core.somaxconn: 1024}\n"
                           "    healthcheck: {test: [CMD, \"true\"], interval: 5s, retries: 3}\n"
                           "    logging: {driver: json-file, options: {max-size: 1m}}\n"
                           "    env_file: [./app.env]\n    environment: [B=2]\n    labels: {on: yes}\n"
                           "    networks: {back: {aliases: [www]}}\n    configs: [{source: c, target: /c}]\n"
                           "    secrets: [s]\n    mem_reservation: 8388608\n    cpus: 0.5\n    mem_limit: 64m\n"
                           "    volumes: [{type: tmpfs, target: /run, tmpfs: {size: 1000}}]\n"
                           "networks:\n  back:\nconfigs:\n  c: {file: ./app.env}\nsecrets:\n  s: {file: ./app.env}\n"),
                0);
        says_all(&x,
                 (const char *const[]){"cap_add: [\"NET_ADMIN\"]", "user: \"1000\"", "hostname: \"web\"",
                                       "ulimits:", "sysctls: {net.core.somaxconn: \"1024\"}",
                                       "healthcheck:", "logging:", env, "aliases: [www]", "\"on\": \"yes\"",
                                       "reservations:\n", "cpus: \"0.5\"", "memory: \"64m\"", NULL},
                 NULL);
        sx_release(&x);
}

static void keys_swarm_services_do_not_have_are_refused(void **state)
{
        static const char *const keys[] = {
                "build: .",          "container_name: web",  "network_mode: host", "pid: host",
                "ipc: host",         "devices: [/dev/fuse]", "privileged: true",   "cgroup_parent: x",
                "shm_size: 64m",     "oom_score_adj: 5",     "made_up_key: 1",     "extends: {service: a}",
                "userns_mode: host", "profiles: [debug]",
        };
        char yaml[512], want[128];

        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                snprintf(yaml, sizeof yaml, "services:\n  web:\n    image: nginx\n    %s\n", keys[i]);
                snprintf(want, sizeof want, "service 'web': %.*s is not supported on swarm", (int)strcspn(keys[i], ":"),
                         keys[i]);
                refused(yaml, want);
        }
        refused("services:\n  web:\n    image: nginx\n    security_opt: [\"apparmor=unconfined\"]\n",
                "security_opt apparmor=unconfined is not supported on swarm");
        refused("services:\n  web:\n    image: nginx\n    deploy: {placement: {preferences: [{spread: x}]}}\n",
                "deploy.placement.preferences is not supported on swarm");
        refused("services:\n  web:\n    image: nginx\n    deploy: {resources: {reservations: {devices: []}}}\n",
                "deploy.resources.reservations.devices is not supported on swarm");
        refused("services:\n  web:\n    image: nginx\n    healthcheck: {test: [CMD, x], start_interval: 1s}\n",
                "healthcheck.start_interval is not supported on swarm");
}

static void images_must_have_been_pushed(void **state)
{
        refused("services:\n  web:\n    image: redis\n", "service 'web': image redis was not pushed");
        refused("services:\n  web:\n    command: x\n", "service 'web': no image");
}

static void the_top_level_is_bounded(void **state)
{
        char leak[1100];
        struct sx x;

        refused("include: [other.yaml]\nservices:\n  web:\n    image: nginx\n", "include: is not supported on swarm");
        refused("services:\n  web:\n    image: nginx\nnetworks:\n  n: {external: true}\n",
                "network 'n': external is not supported on swarm");
        refused("services:\n  web:\n    image: nginx\nnetworks:\n  n: {driver: macvlan}\n",
                "network 'n': driver macvlan is not supported on swarm");
        refused("services:\n  web:\n    image: nginx\nvolumes:\n  v: {driver: nfs}\n",
                "volume 'v': driver nfs is not supported on swarm (local only)");
        refused("services:\n  web:\n    image: nginx\nvolumes:\n  v: {external: true}\n",
                "volume 'v': external is not supported on swarm");
        refused("services:\n  web:\n    image: nginx\nconfigs:\n  c: {file: /etc/passwd}\n",
                "config 'c': file /etc/passwd is outside the run dir");
        refused("services:\n  web:\n    image: nginx\nsecrets:\n  c: {file: ../x}\n",
                "secret 'c': file ../x is outside the run dir");
        sx_init(&x); /* a file in the run dir that leads out of it */
        snprintf(leak, sizeof leak, "%s/leak", x.dir);
        assert_int_equal(symlink("/etc/passwd", leak), 0);
        assert_int_equal(sx_convert(&x, "services:\n  web:\n    image: nginx\nsecrets:\n  s: {file: ./leak}\n"),
                         -STACK_EREJECT);
        assert_non_null(strstr(x.err.msg, "secret 's': file ./leak is outside the run dir"));
        sx_release(&x);
        refused("services:\n  web:\n    image: nginx\nconfigs:\n  c: {content: x}\n",
                "config 'c': content is not supported on swarm");
        refused("services:\n  web:\n    image: nginx\nmodels:\n  m: {model: x}\n", "models is not supported on swarm");

        sx_init(&x);
        assert_int_equal(
                sx_convert(&x,
                           "name: demo\nx-common: {a: 1}\nservices:\n  web:\n    image: nginx\n"
                           "    tmpfs: [\"/run\", \"/cache:size=64m\"]\n    networks: [back]\n    pull_policy: always\n"
                           "networks:\n  back: {driver: bridge, driver_opts: {a: b}, internal: true}\n"
                           "configs:\n  c: {file: ./conf/app.ini}\n"
                           "volumes:\n  pg: {driver: local, driver_opts: {type: none, o: bind, device: ./pgdata}}\n"
                           "  raw: {driver_opts: {o: bind, device: ./raw}}\n"),
                0);
        /* the config's file absolute; tmpfs keeps no data: no placement */
        says_all(&x,
                 (const char *const[]){"driver: overlay", "attachable: false", "internal: true", "type: tmpfs",
                                       "target: \"/cache\"", "size: 67108864", x.dir, NULL},
                 (const char *const[]){"x-common", "name: demo", "node.id==", NULL});
        assert_true(noted(&x, "network 'back': driver_opts dropped"));
        /* compose v2 would have made the first device absolute (the policy judged it in the run dir), not the
         * second (judged as the Engine reads it: from its /) */
        snprintf(leak, sizeof leak, "device: \"%s/pgdata\"", x.dir);
        says_all(&x, (const char *const[]){leak, "device: ./raw", NULL}, NULL);
        assert_true(noted(&x, "pull_policy dropped: every node pulls the pushed image by digest (service web)"));
        sx_release(&x);
}

static void only_routed_ports_are_published(void **state)
{
        struct sx x;

        refused("services:\n  web:\n    image: nginx\n    ports: [\"127.0.0.1:8443:443\"]\n",
                "service 'web': ports: 127.0.0.1:8443:443 is published; on swarm only the front door's routed ports");
        refused("services:\n  web:\n    image: nginx\n    ports: [\"127.0.0.1::80/udp\"]\n", "is published");
        refused("services:\n  db:\n    image: postgres\n    ports: [\"127.0.0.1::80\"]\n", "service 'db': ports");
        sx_init(&x);
        assert_int_equal(sx_convert(&x, "services:\n  web:\n    image: nginx\n    ports:\n      - \"127.0.0.1::80\"\n"
                                        "      - {target: 80, published: 8080, host_ip: 127.0.0.1}\n"),
                         0);
        assert_int_equal(count(x.text, "target: 80"), 1);
        assert_false(says(&x, "published"));
        sx_release(&x);
}

static void replicas_are_kept_in_a_label_and_bounded(void **state)
{
        struct sx x;

        refused("services:\n  web:\n    image: nginx\n    deploy: {mode: global}\n",
                "service 'web': deploy.mode: global is not supported on swarm");
        refused("services:\n  web:\n    image: nginx\n    deploy: {replicas: 9}\n",
                "service 'web': 9 replicas is above the 8 a swarm service may run");
        sx_init(&x);
        assert_int_equal(sx_convert(&x, "services:\n  web:\n    image: nginx\n    scale: 3\n"
                                        "    deploy: {endpoint_mode: vip, labels: [a=b]}\n"),
                         0);
        says_all(&x,
                 (const char *const[]){"replicas: 0", "io.stack.replicas: \"3\"", "a: \"b\"", "endpoint_mode: dnsrr",
                                       NULL},
                 NULL);
        assert_true(noted(&x, "endpoint_mode vip replaced by dnsrr"));
        x.o.max_replicas = 2;
        assert_int_equal(sx_convert(&x, "services:\n  web:\n    image: nginx\n    scale: 3\n"), -STACK_EREJECT);
        sx_release(&x);
}

static void data_stays_on_the_data_node(void **state)
{
        struct sx x;

        refused("services:\n  db:\n    image: postgres\n    volumes: [\"pg:/data\"]\n"
                "    deploy: {placement: {constraints: [\"node.id==other9\"]}}\nvolumes:\n  pg:\n",
                "service 'db' keeps its data on node " NODE "; its placement names node other9");
        refused("services:\n  db:\n    image: postgres\n    volumes: [\"/srv/pg:/data\"]\n"
                "    deploy: {placement: {constraints: [\"node.hostname == nas\"]}}\n",
                "its placement names node nas");
        refused("services:\n  db:\n    image: postgres\n    volumes: [\"/srv/pg:/data\"]\n"
                "    deploy: {placement: {constraints: [\"node.id!=" NODE "\"]}}\n",
                "its placement names node " NODE);
        refused("services:\n  web:\n    image: nginx\n    deploy: {placement: {constraints: [\"engine.labels.a==b\"]}}\n",
                "placement.constraints: engine.labels.a==b is not node.id, node.hostname");
        refused("services:\n  web:\n    image: nginx\n    deploy: {placement: {max_replicas_per_node: 20}}\n",
                "placement.max_replicas_per_node");

        sx_init(&x);
        x.o.data_hostname = "nas";
        assert_int_equal(sx_convert(&x, "services:\n  db:\n    image: postgres\n    volumes: [\"/srv/pg:/data\"]\n"
                                        "    deploy: {placement: {constraints: [\"node.hostname==nas\", "
                                        "\"node.labels.disk==ssd\"]}}\n"
                                        "  web:\n    image: nginx\n"
                                        "    deploy: {placement: {constraints: [\"node.id==other9\"]}}\n"),
                         0);
        assert_true(says(&x, "node.hostname==nas"));
        assert_true(says(&x, "node.labels.disk==ssd"));
        assert_int_equal(count(x.text, "node.id==" NODE), 1);
        assert_true(says(&x, "node.id==other9")); /* a stateless service goes where it says */
        x.o.data_node = NULL;
        assert_int_equal(sx_convert(&x, "services:\n  db:\n    image: postgres\n    volumes: [\"/srv/pg:/data\"]\n"),
                         -STACK_EFAIL);
        sx_release(&x);
}

static void swarm_keys_are_bounded(void **state)
{
        static const struct {
                const char *deploy, *what;
        } bad[] = {
                {"update_config: {parallelism: 99}", "deploy.update_config.parallelism: 99"},
                {"update_config: {delay: 11m}", "deploy.update_config.delay: 11m is not a duration of at most 10m"},
                {"update_config: {monitor: forever}", "deploy.update_config.monitor: forever"},
                {"update_config: {failure_action: explode}", "deploy.update_config.failure_action: explode"},
                {"rollback_config: {failure_action: rollback}", "deploy.rollback_config.failure_action: rollback"},
                {"update_config: {max_failure_ratio: 2}", "deploy.update_config.max_failure_ratio: 2"},
                {"update_config: {order: random}", "deploy.update_config.order: random"},
                {"update_config: {window: 1s}", "deploy.update_config.window is not supported on swarm"},
                {"restart_policy: {condition: always}", "deploy.restart_policy.condition: always"},
                {"restart_policy: {max_attempts: 101}", "deploy.restart_policy.max_attempts: 101"},
                {"restart_policy: {window: 1h}", "deploy.restart_policy.window: 1h"},
                {"rollback_config: {monitor: 1m30s, delay: 700s}", "deploy.rollback_config.delay: 700s"},
                {"resources: {limits: {cpus: '1'}}", "deploy.resources.limits is not supported on swarm"},
        };
        char yaml[512];
        struct sx x;

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                snprintf(yaml, sizeof yaml, "services:\n  web:\n    image: nginx\n    deploy: {%s}\n", bad[i].deploy);
                refused(yaml, bad[i].what);
        }
        sx_init(&x);
        refused("services:\n  web:\n    image: nginx\n    restart: on-failure:200\n",
                "service 'web': restart: on-failure:200: at most 100 attempts");
        refused("services:\n  web:\n    image: nginx\n    restart: sometimes\n",
                "service 'web': restart: sometimes is not a restart policy");
        assert_int_equal(sx_convert(&x, "services:\n  web:\n    image: nginx\n    restart: \"no\"\n"), 0);
        assert_true(says(&x, "condition: none"));
        assert_int_equal(sx_convert(&x, "services:\n  web:\n    image: nginx\n    restart: always\n"
                                        "    deploy: {restart_policy: {condition: on-failure, delay: 5s}}\n"),
                         0);
        /* deploy's restart_policy wins, as with compose v2 */
        says_all(&x, (const char *const[]){"condition: on-failure", "delay: \"5s\"", NULL},
                 (const char *const[]){"condition: any", NULL});
        assert_int_equal(sx_convert(&x, "services:\n  web:\n    image: nginx\n    restart: on-failure:3\n"
                                        "    deploy:\n      update_config: {failure_action: pause, delay: 1m30s, "
                                        "max_failure_ratio: 0.5, order: start-first}\n"
                                        "      rollback_config: {parallelism: 0, monitor: 500ms, delay: 0}\n"),
                         0);
        /* monitor: the default added beside what the file says */
        says_all(&x,
                 (const char *const[]){"failure_action: pause", "monitor: 10s", "monitor: \"500ms\"", "delay: \"0\"",
                                       "condition: on-failure", "max_attempts: 3", NULL},
                 NULL);
        sx_release(&x);
}

/* A compose run: the swarm-only keys are removed with a warning; restart_policy (compose v2 honours it) stays. */
static void swarm_keys_on_a_compose_run_are_ignored_with_a_warning(void **state)
{
        static const char yaml[] = "services:\n  web:\n    image: nginx\n    deploy:\n"
                                   "      placement: {constraints: [\"node.role==manager\"]}\n"
                                   "      update_config: {parallelism: 1}\n      rollback_config: {parallelism: 1}\n"
                                   "      endpoint_mode: dnsrr\n      mode: replicated\n"
                                   "      restart_policy: {condition: on-failure}\n";
        static const char *const keys[] = {"placement", "update_config", "rollback_config", "endpoint_mode", "mode"};
        char want[160];
        struct fx f;

        fx_init(&f, NULL, NULL);
        assert_int_equal(fx_apply(&f, yaml, 0), 0);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                bool found = false;

                snprintf(want, sizeof want, "service 'web': deploy.%s is a swarm key; ignored as compose ignores it",
                         keys[i]);
                for (size_t j = 0; f.res.warnings[j]; j++)
                        found |= !strcmp(f.res.warnings[j], want);
                if (!found)
                        fail_msg("no warning '%s'", want);
        }
        assert_null(strstr(f.text, "placement"));
        assert_null(strstr(f.text, "update_config"));
        assert_null(strstr(f.text, "endpoint_mode"));
        assert_non_null(strstr(f.text, "restart_policy"));
        /* a swarm run keeps them for policy_swarm_file() */
        f.swarm = true;
        assert_int_equal(fx_apply(&f, yaml, 0), 0);
        assert_null(f.res.warnings[0]);
        assert_non_null(strstr(f.text, "placement"));
        assert_non_null(strstr(f.text, "endpoint_mode"));
        /* a deploy with nothing else goes */
        f.swarm = false;
        assert_int_equal(fx_apply(&f, "services:\n  web:\n    image: nginx\n    deploy: {mode: replicated}\n", 0), 0);
        assert_null(strstr(f.text, "deploy"));
        fx_release(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_checked_file_becomes_a_swarm_file),
                cmocka_unit_test(keys_swarm_services_have_are_kept),
                cmocka_unit_test(keys_swarm_services_do_not_have_are_refused),
                cmocka_unit_test(images_must_have_been_pushed),
                cmocka_unit_test(the_top_level_is_bounded),
                cmocka_unit_test(only_routed_ports_are_published),
                cmocka_unit_test(replicas_are_kept_in_a_label_and_bounded),
                cmocka_unit_test(data_stays_on_the_data_node),
                cmocka_unit_test(swarm_keys_are_bounded),
                cmocka_unit_test(swarm_keys_on_a_compose_run_are_ignored_with_a_warning),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
