/* test-manifest.c - stack.yaml: what is accepted, what is refused, and that hostile YAML stays cheap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cmocka.h>

#include "store/manifest.h"

#define BASE                          \
        "slug: wordpress\n"           \
        "name: WordPress\n"           \
        "flavor: DockerCompose\n"     \
        "version: \"6.4\"\n"          \
        "description: Blog and CMS\n" \
        "author: WordPress.org\n"     \
        "license: GPL-2.0\n"

/* The required keys with the four that have rules of their own filled in: DOC("a", "A", "DockerCompose", "'1'") */
#define DOC(slug, name, flavor, version)                                        \
        "slug: " slug "\nname: " name "\nflavor: " flavor "\nversion: " version \
        "\ndescription: d\nauthor: x\nlicense: MIT\n"

struct warnings {
        char *line[128];
        size_t n;
};

static void collect(void *ctx, const char *line)
{
        struct warnings *w = ctx;

        assert_true(w->n < 128);
        w->line[w->n] = strdup(line);
        assert_non_null(w->line[w->n]);
        w->n++;
}

static void warnings_release(struct warnings *w)
{
        for (size_t i = 0; i < w->n; i++)
                free(w->line[i]);
        w->n = 0;
}

static struct manifest *parse_ok(const char *yaml, struct warnings *w)
{
        struct error err = ERROR_INIT;
        struct manifest *m = NULL;
        int r;

        r = manifest_parse(yaml, strlen(yaml), &m, w ? collect : NULL, w, &err);
        if (r != 0)
                fail_msg("manifest_parse failed: %d %s", r, err.msg);
        assert_int_equal(err.code, 0);
        assert_non_null(m);
        return m;
}

/* Refused with STACK_EREJECT, a message containing `want`, and *ret untouched. */
static void parse_refused_len(const char *yaml, size_t len, const char *want)
{
        struct error err = ERROR_INIT;
        struct manifest *sentinel = (struct manifest *)&err, *m = sentinel;
        struct warnings w = {0};
        int r;

        r = manifest_parse(yaml, len, &m, collect, &w, &err);
        assert_int_equal(r, -STACK_EREJECT);
        assert_int_equal(err.code, STACK_EREJECT);
        assert_ptr_equal(m, sentinel);
        if (!strstr(err.msg, want))
                fail_msg("message '%s' does not contain '%s'", err.msg, want);
        assert_null(strchr(err.msg, '\n'));
        /* a refused manifest gets its one error, not warnings too */
        assert_int_equal(w.n, 0);
}

static void parse_refused(const char *yaml, const char *want)
{
        parse_refused_len(yaml, strlen(yaml), want);
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kib(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
}

/* The classic: lol1 is ten lol0s, lol2 ten lol1s ... expanded, `levels` levels give 10^levels strings. */
static char *alias_bomb(const char *key, int levels)
{
        size_t cap = 4096, len = 0;
        char *s = malloc(cap);

        assert_non_null(s);
        len += (size_t)snprintf(s + len, cap - len, "%s%s:\n  l0: &lol0 \"lol\"\n", BASE, key);
        for (int i = 1; i <= levels; i++) {
                len += (size_t)snprintf(s + len, cap - len, "  l%d: &lol%d [", i, i);
                for (int k = 0; k < 10; k++)
                        len += (size_t)snprintf(s + len, cap - len, "%s*lol%d", k ? ", " : "", i - 1);
                len += (size_t)snprintf(s + len, cap - len, "]\n");
                assert_true(len < cap);
        }
        return s;
}

/* ---- hostile inputs first, so the peak memory measured is theirs ---- */

static void refuses_alias_bomb(void **state)
{
        long rss = max_rss_kib();
        double t = now();
        char *yaml = alias_bomb("tags", 9); /* 90 aliases, 10^9 strings if anything expanded them */

        (void)state;
        parse_refused(yaml, "too many YAML aliases");
        assert_true(now() - t < 2.0);
        assert_true(max_rss_kib() - rss < 64 * 1024);
        free(yaml);
}

static void refuses_alias_bomb_expanded_in_permissions(void **state)
{
        long rss = max_rss_kib();
        double t = now();
        char *yaml = alias_bomb("permissions", 6); /* 60 aliases: under the count, but 10^6 strings written out */

        (void)state;
        parse_refused(yaml, "'permissions' is larger than");
        assert_true(now() - t < 2.0);
        assert_true(max_rss_kib() - rss < 64 * 1024);
        free(yaml);
}

static void ignores_bounded_aliases_in_ignored_keys(void **state)
{
        double t = now();
        char *yaml = alias_bomb("i18n", 6);
        struct manifest *m;

        (void)state;
        m = parse_ok(yaml, NULL);
        assert_true(now() - t < 2.0);
        assert_string_equal(m->slug, "wordpress");
        manifest_free(m);
        free(yaml);
}

static void refuses_recursive_alias(void **state)
{
        (void)state;
        parse_refused(BASE "tags: &a [x, *a]\n", "refers to a node that contains it");
}

static void refuses_undefined_alias(void **state)
{
        (void)state;
        parse_refused(BASE "tags: [*nowhere]\n", "alias '*nowhere' names no anchor");
}

static void refuses_too_many_nodes(void **state)
{
        size_t n = MANIFEST_MAX_NODES + 10, len = strlen(BASE) + 7;
        char *yaml = malloc(len + 3 * n + 2);

        (void)state;
        assert_non_null(yaml);
        memcpy(yaml, BASE "tags: [", len);
        for (size_t i = 0; i < n; i++) {
                memcpy(yaml + len, "x, ", 3);
                len += 3;
        }
        memcpy(yaml + len, "]", 2);
        parse_refused(yaml, "too many YAML nodes");
        free(yaml);
}

static void refuses_deep_nesting(void **state)
{
        size_t depth = 100000, len = strlen(BASE) + 6;
        char *yaml = malloc(len + 2 * depth + 1);

        (void)state;
        assert_non_null(yaml);
        memcpy(yaml, BASE "tags: ", len);
        memset(yaml + len, '[', depth);
        memset(yaml + len + depth, ']', depth);
        yaml[len + 2 * depth] = 0;
        parse_refused(yaml, "nested deeper than");
        free(yaml);
}

static void refuses_oversized_input(void **state)
{
        size_t len = MANIFEST_MAX_SIZE + 1;
        char *yaml = malloc(len);

        (void)state;
        assert_non_null(yaml);
        memset(yaml, '#', len);
        memcpy(yaml, BASE, strlen(BASE));
        parse_refused_len(yaml, len, "larger than");
        free(yaml);
}

/* ---- what a bundle normally carries ---- */

static void parses_minimal_valid_manifest(void **state)
{
        struct warnings w = {0};
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE, &w);
        assert_string_equal(m->slug, "wordpress");
        assert_string_equal(m->name, "WordPress");
        assert_int_equal(m->flavor, FLAVOR_DOCKER_COMPOSE);
        assert_string_equal(m->version, "6.4");
        assert_string_equal(m->description, "Blog and CMS");
        assert_string_equal(m->author, "WordPress.org");
        assert_string_equal(m->license, "GPL-2.0");
        assert_null(m->compose);
        assert_null(m->images);
        assert_int_equal(m->n_images, 0);
        assert_null(m->ports);
        assert_int_equal(m->n_ports, 0);
        assert_true(m->resources.cpus == 0);
        assert_int_equal(m->resources.memory, 0);
        assert_int_equal(m->resources.pids, 0);
        assert_null(m->permissions_yaml);
        assert_null(m->status);
        assert_null(m->unknown);
        assert_int_equal(m->n_unknown, 0);
        assert_int_equal(w.n, 0);
        manifest_free(m);
}

static void parses_full_manifest_with_our_keys(void **state)
{
        struct warnings w = {0};
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE "compose: ./deploy/compose.yaml\n"
                          "images: [images/wordpress.tar, ./images//db.tar]\n"
                          "ports:\n"
                          "  - {service: web, port: 80, label: Web UI}\n"
                          "  - service: admin\n"
                          "    port: \"8443\"\n"
                          "resources: {cpus: 1.5, memory: 512m, pids: 256}\n"
                          "permissions: {}\n",
                     &w);
        assert_string_equal(m->compose, "deploy/compose.yaml");
        assert_int_equal(m->n_images, 2);
        assert_string_equal(m->images[0], "images/wordpress.tar");
        assert_string_equal(m->images[1], "images/db.tar");
        assert_null(m->images[2]);
        assert_int_equal(m->n_ports, 2);
        assert_string_equal(m->ports[0].service, "web");
        assert_int_equal(m->ports[0].port, 80);
        assert_string_equal(m->ports[0].label, "Web UI");
        assert_string_equal(m->ports[1].service, "admin");
        assert_int_equal(m->ports[1].port, 8443);
        assert_null(m->ports[1].label);
        assert_true(m->resources.cpus == 1.5);
        assert_int_equal(m->resources.memory, 512ull << 20);
        assert_int_equal(m->resources.pids, 256);
        assert_string_equal(m->permissions_yaml, "{}");
        assert_int_equal(w.n, 0);
        manifest_free(m);
}

static void accepts_numeric_version(void **state)
{
        struct manifest *m;

        (void)state;
        m = parse_ok(DOC("a", "A", "StaticWebsite", "6.40"), NULL);
        assert_string_equal(m->version, "6.40"); /* the text, not a float's rendering */
        assert_int_equal(m->flavor, FLAVOR_STATIC_WEBSITE);
        manifest_free(m);
        m = parse_ok(DOC("a", "A", "DockerService", "2"), NULL);
        assert_string_equal(m->version, "2");
        assert_int_equal(m->flavor, FLAVOR_DOCKER_SERVICE);
        manifest_free(m);
}

static void accepts_quoted_latest_version(void **state)
{
        struct manifest *m;

        (void)state;
        m = parse_ok(DOC("a", "A", "DockerCompose", "'latest'"), NULL);
        assert_string_equal(m->version, "latest");
        manifest_free(m);
}

static void keeps_desktop_keys_of_any_shape(void **state)
{
        struct warnings w = {0};
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE "status: published\n"
                          "type: app\n"
                          "icon: https://example.org/icon.png\n"
                          "updated_at: 2024-01-31\n"
                          "homepage: https://wordpress.org\n"
                          "repository: https://github.com/WordPress/WordPress\n"
                          "stars: 42\n"
                          "tags: [blog, cms]\n"
                          "alternativeTo: {name: Ghost}\n"
                          "dependencies: []\n"
                          "readme: |\n  # WordPress\n  text\n"
                          "i18n: {fr: {description: Blogue}}\n",
                     &w);
        assert_string_equal(m->status, "published");
        assert_string_equal(m->type, "app");
        assert_string_equal(m->icon, "https://example.org/icon.png");
        assert_string_equal(m->updated_at, "2024-01-31");
        assert_string_equal(m->homepage, "https://wordpress.org");
        assert_string_equal(m->repository, "https://github.com/WordPress/WordPress");
        assert_int_equal(m->n_unknown, 0);
        assert_int_equal(w.n, 0);
        manifest_free(m);
}

static void warns_about_non_scalar_desktop_field(void **state)
{
        struct warnings w = {0};
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE "icon: [a, b]\n", &w);
        assert_null(m->icon);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.line[0], "'icon'"));
        warnings_release(&w);
        manifest_free(m);
}

static void treats_null_optional_keys_as_absent(void **state)
{
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE "compose:\nimages: ~\nports: null\nresources: {memory: ~}\npermissions:\nstatus:\n", NULL);
        assert_null(m->compose);
        assert_null(m->images);
        assert_null(m->ports);
        assert_int_equal(m->resources.memory, 0);
        assert_null(m->permissions_yaml);
        assert_null(m->status);
        manifest_free(m);
}

static void accepts_empty_description(void **state)
{
        struct manifest *m;

        (void)state;
        m = parse_ok("slug: a\nname: A\nflavor: DockerCompose\nversion: '1'\ndescription:\nauthor: ''\nlicense: MIT\n",
                     NULL);
        assert_string_equal(m->description, "");
        assert_string_equal(m->author, "");
        manifest_free(m);
}

static void keeps_and_warns_unknown_keys(void **state)
{
        struct warnings w = {0};
        struct manifest *m;

        (void)state;
        m = parse_ok("zeta: 1\n" BASE "foo: [1, 2]\nx-extra: {a: b}\n", &w);
        assert_int_equal(m->n_unknown, 3);
        assert_string_equal(m->unknown[0], "zeta");
        assert_string_equal(m->unknown[1], "foo");
        assert_string_equal(m->unknown[2], "x-extra");
        assert_null(m->unknown[3]);
        assert_int_equal(w.n, 3);
        assert_string_equal(w.line[0], "stack.yaml: unknown key 'zeta' (kept, ignored)");
        assert_string_equal(w.line[1], "stack.yaml: unknown key 'foo' (kept, ignored)");
        assert_string_equal(w.line[2], "stack.yaml: unknown key 'x-extra' (kept, ignored)");
        warnings_release(&w);
        manifest_free(m);
}

static void caps_the_number_of_warnings(void **state)
{
        struct warnings w = {0};
        struct manifest *m;
        char yaml[8192];
        size_t len = (size_t)snprintf(yaml, sizeof yaml, "%s", BASE);

        (void)state;
        for (int i = 0; i < 100; i++)
                len += (size_t)snprintf(yaml + len, sizeof yaml - len, "k%d: v\n", i);
        m = parse_ok(yaml, &w);
        assert_int_equal(m->n_unknown, 100);
        assert_int_equal(w.n, 65);
        assert_string_equal(w.line[64], "stack.yaml: 36 more warnings not shown");
        warnings_release(&w);
        manifest_free(m);
}

static void warns_unknown_keys_inside_ports_and_resources(void **state)
{
        struct warnings w = {0};
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE "ports: [{service: web, port: 80, protocol: tcp}]\nresources: {cpus: 2, gpus: 1}\n", &w);
        assert_int_equal(m->n_ports, 1);
        assert_true(m->resources.cpus == 2);
        assert_int_equal(m->n_unknown, 0);
        assert_int_equal(w.n, 2);
        assert_string_equal(w.line[0], "stack.yaml: ports[0]: unknown key 'protocol' (ignored)");
        assert_string_equal(w.line[1], "stack.yaml: resources: unknown key 'gpus' (ignored)");
        warnings_release(&w);
        manifest_free(m);
}

static void resolves_small_aliases_in_read_keys(void **state)
{
        struct warnings w = {0};
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE "x-limits: &limits {cpus: 0.5, memory: 1g}\n"
                          "x-web: &web web\n"
                          "resources: *limits\n"
                          "ports: [{service: *web, port: 80}, {service: *web, port: 443}]\n",
                     &w);
        assert_true(m->resources.cpus == 0.5);
        assert_int_equal(m->resources.memory, 1ull << 30);
        assert_string_equal(m->ports[0].service, "web");
        assert_string_equal(m->ports[1].service, "web");
        assert_int_equal(m->n_unknown, 2);
        warnings_release(&w);
        manifest_free(m);
}

static void refuses_alias_to_collection_where_scalar_expected(void **state)
{
        (void)state;
        parse_refused("x: &list [a, b]\nslug: a\nname: *list\nflavor: DockerCompose\nversion: '1'\n"
                      "description: d\nauthor: x\nlicense: MIT\n",
                      "'name' must be a scalar, not a list");
}

/* ---- required keys ---- */

static void refuses_missing_author(void **state)
{
        (void)state;
        parse_refused("slug: a\nname: A\nflavor: DockerCompose\nversion: '1'\ndescription: d\nlicense: MIT\n",
                      "stack.yaml: missing required key 'author'");
}

static void refuses_each_missing_required_key(void **state)
{
        static const char *const keys[] = {"slug", "name", "flavor", "version", "description", "author", "license"};
        char yaml[512], want[64], line[32];

        (void)state;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                const char *p = BASE;
                size_t len = 0;

                /* BASE without the line that starts with "<key>:" */
                snprintf(line, sizeof line, "%s:", keys[k]);
                while (*p) {
                        const char *eol = strchr(p, '\n') + 1;

                        if (strncmp(p, line, strlen(line)) != 0) {
                                memcpy(yaml + len, p, (size_t)(eol - p));
                                len += (size_t)(eol - p);
                        }
                        p = eol;
                }
                yaml[len] = 0;
                snprintf(want, sizeof want, "missing required key '%s'", keys[k]);
                parse_refused(yaml, want);
        }
}

static void refuses_empty_slug_name_or_version(void **state)
{
        (void)state;
        parse_refused(DOC("''", "A", "DockerCompose", "'1'"), "'slug' is empty");
        parse_refused("slug: a\nname:\nflavor: DockerCompose\nversion: '1'\ndescription: d\nauthor: x\nlicense: MIT\n",
                      "'name' is empty");
        parse_refused(DOC("a", "A", "DockerCompose", "\"\""), "'version' is empty");
}

static void refuses_non_scalar_required_value(void **state)
{
        (void)state;
        parse_refused(
                "slug: a\nname: A\nflavor: DockerCompose\nversion: '1'\ndescription: d\nauthor: {n: x}\nlicense: MIT\n",
                "'author' must be a scalar, not a mapping");
}

static void refuses_nul_character_in_text(void **state)
{
        (void)state;
        parse_refused(DOC("a", "\"A\\0B\"", "DockerCompose", "'1'"), "'name' contains a NUL character");
}

static void refuses_invalid_slug(void **state)
{
        (void)state;
        parse_refused(DOC("Bad Slug", "A", "DockerCompose", "'1'"),
                      "slug 'Bad Slug' does not match [a-z0-9][a-z0-9._-]{0,62}");
        parse_refused(DOC("-a", "A", "DockerCompose", "'1'"), "slug '-a' does not match");
        parse_refused(DOC("../etc", "A", "DockerCompose", "'1'"), "slug '../etc' does not match");
}

static void slug_valid_follows_the_pattern(void **state)
{
        char s[70];

        (void)state;
        assert_true(manifest_slug_valid("wordpress"));
        assert_true(manifest_slug_valid("0ad"));
        assert_true(manifest_slug_valid("a.b_c-d"));
        assert_false(manifest_slug_valid(NULL));
        assert_false(manifest_slug_valid(""));
        assert_false(manifest_slug_valid("WordPress"));
        assert_false(manifest_slug_valid(".hidden"));
        assert_false(manifest_slug_valid("_a"));
        assert_false(manifest_slug_valid("a/b"));
        assert_false(manifest_slug_valid("a b"));
        memset(s, 'a', 63);
        s[63] = 0;
        assert_true(manifest_slug_valid(s));
        s[63] = 'a';
        s[64] = 0;
        assert_false(manifest_slug_valid(s));
}

static void refuses_unknown_flavor(void **state)
{
        (void)state;
        parse_refused(DOC("a", "A", "dockercompose", "'1'"),
                      "flavor 'dockercompose' is not one of DockerCompose, DockerService, StaticWebsite");
        parse_refused(DOC("a", "A", "[DockerCompose]", "'1'"), "'flavor' must be a scalar");
}

/* ---- our keys ---- */

static void parses_memory_suffixes(void **state)
{
        static const struct {
                const char *text;
                uint64_t bytes;
        } cases[] = {
                {"1048576", 1048576},    {"100k", 100 * 1024}, {"512m", 512ull << 20},
                {"512M", 512ull << 20},  {"1g", 1ull << 30},   {"256MiB", 256ull << 20},
                {"256mb", 256ull << 20}, {"2Gi", 2ull << 30},  {"1t", 1ull << 40},
                {"512b", 512},           {"1.5g", 3ull << 29}, {"\"512 MiB\"", 512ull << 20},
        };
        char yaml[512];
        struct manifest *m;

        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                snprintf(yaml, sizeof yaml, BASE "resources: {memory: %s}\n", cases[i].text);
                m = parse_ok(yaml, NULL);
                if (m->resources.memory != cases[i].bytes)
                        fail_msg("%s gave %llu", cases[i].text, (unsigned long long)m->resources.memory);
                manifest_free(m);
        }
}

static void refuses_bad_memory_sizes(void **state)
{
        static const char *const cases[] = {
                "0",    "0m",       "-1g",  "1x", "1gbb", "g", "1e9", "18446744073709551616", "20000000000000p",
                "[1g]", "\"512 \"", "1..5g"};
        char yaml[512];

        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                snprintf(yaml, sizeof yaml, BASE "resources: {memory: %s}\n", cases[i]);
                parse_refused(yaml, "resources.memory");
        }
}

static void refuses_bad_cpus_and_pids(void **state)
{
        (void)state;
        parse_refused(BASE "resources: {cpus: 0}\n", "resources.cpus '0' is not a positive number");
        parse_refused(BASE "resources: {cpus: -1}\n", "resources.cpus");
        parse_refused(BASE "resources: {cpus: .nan}\n", "resources.cpus");
        parse_refused(BASE "resources: {cpus: 1e3}\n", "resources.cpus");
        parse_refused(BASE "resources: {cpus: ''}\n", "resources.cpus '' is not a positive number");
        parse_refused(BASE "resources: {pids: 0}\n", "resources.pids '0' is not a positive integer");
        parse_refused(BASE "resources: {pids: 1.5}\n", "resources.pids");
        parse_refused(BASE "resources: {pids: 99999999999}\n", "resources.pids");
        parse_refused(BASE "resources: [1, 2]\n", "'resources' must be a mapping");
}

static void refuses_port_out_of_range(void **state)
{
        (void)state;
        parse_refused(BASE "ports: [{service: web, port: 0}]\n", "ports[0].port '0' is not a port number 1..65535");
        parse_refused(BASE "ports: [{service: web, port: 65536}]\n", "ports[0].port '65536'");
        parse_refused(BASE "ports: [{service: web, port: -80}]\n", "ports[0].port '-80'");
        parse_refused(BASE "ports: [{service: web, port: 80}, {service: db, port: 80/tcp}]\n",
                      "ports[1].port '80/tcp'");
}

static void refuses_port_entry_without_service_or_port(void **state)
{
        (void)state;
        parse_refused(BASE "ports: [{port: 80}]\n", "ports[0] has no 'service'");
        parse_refused(BASE "ports: [{service: web}]\n", "ports[0] has no 'port'");
        parse_refused(BASE "ports: [{service: '', port: 80}]\n", "'ports[0].service' is empty");
        parse_refused(BASE "ports: [80]\n", "ports[0] must be a mapping");
        parse_refused(BASE "ports: {service: web, port: 80}\n", "'ports' must be a list");
}

static void refuses_duplicate_key_inside_port_entry(void **state)
{
        (void)state;
        parse_refused(BASE "ports: [{service: web, port: 80, port: 81}]\n",
                      "stack.yaml: ports[0]: duplicate key 'port' (line 8)");
}

static void normalises_paths(void **state)
{
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE "compose: .//stacks/./app//compose.yml\nimages: [./a.tar, b//c.tar/]\n", NULL);
        assert_string_equal(m->compose, "stacks/app/compose.yml");
        assert_string_equal(m->images[0], "a.tar");
        assert_string_equal(m->images[1], "b/c.tar");
        manifest_free(m);
}

static void refuses_path_traversal_in_images(void **state)
{
        (void)state;
        parse_refused(BASE "images: [ok.tar, ../../etc/passwd]\n", "images[1] '../../etc/passwd' has a '..' component");
        parse_refused(BASE "images: [a/../../b.tar]\n", "'..' component");
        parse_refused(BASE "images: [./..]\n", "'..' component");
}

static void refuses_unsafe_compose_paths(void **state)
{
        (void)state;
        parse_refused(BASE "compose: /etc/compose.yaml\n", "compose '/etc/compose.yaml' is an absolute path");
        parse_refused(BASE "compose: ..\\compose.yaml\n", "contains a backslash");
        parse_refused(BASE "compose: \"a\\tb.yaml\"\n", "contains a control character");
        parse_refused(BASE "compose: \"a\\0b\"\n", "contains a control character");
        parse_refused(BASE "compose: ''\n", "compose is empty");
        parse_refused(BASE "compose: ./\n", "names no file");
        parse_refused(BASE "compose: [a.yaml]\n", "compose must be a path, not a list");
        parse_refused(BASE "images: images/a.tar\n", "'images' must be a list of paths");
        parse_refused(BASE "images: [~]\n", "images[0] is empty");
}

static void serialises_permissions_deterministically(void **state)
{
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE "permissions:\n"
                          "  privileged: true\n"
                          "  network: host\n"
                          "  caps: [NET_ADMIN, 'SYS_TIME']\n"
                          "  devices:\n"
                          "    - /dev/fuse\n"
                          "  mounts: {\"/var/run/docker.sock\": ro}\n"
                          "  max: 1.5e3\n"
                          "  octal: 0777\n"
                          "  yes-no: yes\n"
                          "  quoted: \"true\"\n"
                          "  nothing: ~\n"
                          "  text: \"say \\\"hi\\\"\\n\"\n",
                     NULL);
        assert_string_equal(m->permissions_yaml,
                            "{\"privileged\": true, \"network\": \"host\", \"caps\": [\"NET_ADMIN\", \"SYS_TIME\"], "
                            "\"devices\": [\"/dev/fuse\"], \"mounts\": {\"/var/run/docker.sock\": \"ro\"}, "
                            "\"max\": 1.5e3, \"octal\": \"0777\", \"yes-no\": \"yes\", \"quoted\": \"true\", "
                            "\"nothing\": null, \"text\": \"say \\\"hi\\\"\\n\"}");
        manifest_free(m);
}

static void refuses_bad_permissions(void **state)
{
        (void)state;
        parse_refused(BASE "permissions: [privileged]\n", "'permissions' must be a mapping, not a list");
        parse_refused(BASE "permissions: {a: {b: 1, b: 2}}\n", "permissions: duplicate key 'b'");
        parse_refused(BASE "permissions: {[a]: 1}\n", "permissions: keys must be strings");
}

/* ---- the document as a whole ---- */

static void refuses_duplicate_key(void **state)
{
        (void)state;
        parse_refused(BASE "slug: other\n", "stack.yaml: duplicate key 'slug' (lines 1 and 8)");
        parse_refused(BASE "foo: 1\nfoo: 2\n", "duplicate key 'foo'");
}

static void refuses_non_mapping_document(void **state)
{
        (void)state;
        parse_refused("- slug: a\n- name: A\n", "the document is a list, expected a mapping");
        parse_refused("just some text\n", "the document is a scalar, expected a mapping");
        parse_refused("---\n", "the document is a scalar");
}

static void refuses_empty_document(void **state)
{
        (void)state;
        parse_refused("", "the document is empty");
        parse_refused("# only a comment\n", "the document is empty");
        parse_refused_len(NULL, 0, "the document is empty");
}

static void refuses_invalid_yaml_with_line_number(void **state)
{
        (void)state;
        parse_refused(BASE "ports: [unclosed\n", "not valid YAML at line 9");
        parse_refused("slug: a\nname: A\n  bad: indent\n", "line 3");
        parse_refused("slug: a\n\tname: tab\n", "line 2");
        parse_refused_len("slug: \xff\xfe\x00\x01", 10, "not valid YAML");
}

static void refuses_multiple_documents(void **state)
{
        (void)state;
        parse_refused(BASE "---\nslug: b\n", "more than one YAML document (line 8)");
}

static void refuses_complex_top_level_key(void **state)
{
        (void)state;
        parse_refused(BASE "? [a, b]\n: c\n", "keys must be strings");
}

/* ---- the interface ---- */

static void leaves_ret_untouched_and_checks_arguments(void **state)
{
        struct error err = ERROR_INIT;
        struct manifest *m = NULL;

        (void)state;
        assert_int_equal(manifest_parse(BASE, strlen(BASE), NULL, NULL, NULL, &err), -STACK_EFAIL);
        error_clear(&err);
        assert_int_equal(manifest_parse(NULL, 5, &m, NULL, NULL, &err), -STACK_EFAIL);
        assert_null(m);
        /* no error sink and no warn callback is fine */
        assert_int_equal(manifest_parse(BASE "x: 1\n", strlen(BASE) + 5, &m, NULL, NULL, NULL), 0);
        manifest_free(m);
        m = NULL;
        assert_int_equal(manifest_parse("x", 1, &m, NULL, NULL, NULL), -STACK_EREJECT);
        assert_null(m);
}

static void manifest_free_accepts_null(void **state)
{
        (void)state;
        manifest_free(NULL);
}

static void names_compose_candidates_and_flavors(void **state)
{
        const char *const *c = manifest_compose_candidates();

        (void)state;
        assert_string_equal(c[0], "compose.yaml");
        assert_string_equal(c[1], "compose.yml");
        assert_string_equal(c[2], "docker-compose.yaml");
        assert_string_equal(c[3], "docker-compose.yml");
        assert_null(c[4]);
        assert_string_equal(manifest_flavor_name(FLAVOR_DOCKER_COMPOSE), "DockerCompose");
        assert_string_equal(manifest_flavor_name(FLAVOR_DOCKER_SERVICE), "DockerService");
        assert_string_equal(manifest_flavor_name(FLAVOR_STATIC_WEBSITE), "StaticWebsite");
        assert_string_equal(manifest_flavor_name((enum manifest_flavor)42), "unknown");
}

/* settle: (stack upgrade's wait, spec/manifest.md): whole seconds 0..3600; absent is -1. */
static void settle_seconds(void **state)
{
        struct manifest *m;

        (void)state;
        m = parse_ok(BASE, NULL);
        assert_int_equal(m->settle_s, -1);
        manifest_free(m);
        m = parse_ok(BASE "settle: 7\n", NULL);
        assert_int_equal(m->settle_s, 7);
        manifest_free(m);
        m = parse_ok(BASE "settle: \"0\"\n", NULL);
        assert_int_equal(m->settle_s, 0);
        manifest_free(m);
        m = parse_ok(BASE "settle: ~\n", NULL);
        assert_int_equal(m->settle_s, -1);
        manifest_free(m);
        parse_refused(BASE "settle: 3601\n", "settle must be whole seconds from 0 to 3600 (line 8)");
        parse_refused(BASE "settle: -1\n", "settle must be whole seconds");
        parse_refused(BASE "settle: 1.5\n", "settle must be whole seconds");
        parse_refused(BASE "settle: 5s\n", "settle must be whole seconds");
        parse_refused(BASE "settle: [1]\n", "settle must be whole seconds");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(settle_seconds),
                cmocka_unit_test(refuses_alias_bomb),
                cmocka_unit_test(refuses_alias_bomb_expanded_in_permissions),
                cmocka_unit_test(ignores_bounded_aliases_in_ignored_keys),
                cmocka_unit_test(refuses_recursive_alias),
                cmocka_unit_test(refuses_undefined_alias),
                cmocka_unit_test(refuses_too_many_nodes),
                cmocka_unit_test(refuses_deep_nesting),
                cmocka_unit_test(refuses_oversized_input),
                cmocka_unit_test(parses_minimal_valid_manifest),
                cmocka_unit_test(parses_full_manifest_with_our_keys),
                cmocka_unit_test(accepts_numeric_version),
                cmocka_unit_test(accepts_quoted_latest_version),
                cmocka_unit_test(keeps_desktop_keys_of_any_shape),
                cmocka_unit_test(warns_about_non_scalar_desktop_field),
                cmocka_unit_test(treats_null_optional_keys_as_absent),
                cmocka_unit_test(accepts_empty_description),
                cmocka_unit_test(keeps_and_warns_unknown_keys),
                cmocka_unit_test(caps_the_number_of_warnings),
                cmocka_unit_test(warns_unknown_keys_inside_ports_and_resources),
                cmocka_unit_test(resolves_small_aliases_in_read_keys),
                cmocka_unit_test(refuses_alias_to_collection_where_scalar_expected),
                cmocka_unit_test(refuses_missing_author),
                cmocka_unit_test(refuses_each_missing_required_key),
                cmocka_unit_test(refuses_empty_slug_name_or_version),
                cmocka_unit_test(refuses_non_scalar_required_value),
                cmocka_unit_test(refuses_nul_character_in_text),
                cmocka_unit_test(refuses_invalid_slug),
                cmocka_unit_test(slug_valid_follows_the_pattern),
                cmocka_unit_test(refuses_unknown_flavor),
                cmocka_unit_test(parses_memory_suffixes),
                cmocka_unit_test(refuses_bad_memory_sizes),
                cmocka_unit_test(refuses_bad_cpus_and_pids),
                cmocka_unit_test(refuses_port_out_of_range),
                cmocka_unit_test(refuses_port_entry_without_service_or_port),
                cmocka_unit_test(refuses_duplicate_key_inside_port_entry),
                cmocka_unit_test(normalises_paths),
                cmocka_unit_test(refuses_path_traversal_in_images),
                cmocka_unit_test(refuses_unsafe_compose_paths),
                cmocka_unit_test(serialises_permissions_deterministically),
                cmocka_unit_test(refuses_bad_permissions),
                cmocka_unit_test(refuses_duplicate_key),
                cmocka_unit_test(refuses_non_mapping_document),
                cmocka_unit_test(refuses_empty_document),
                cmocka_unit_test(refuses_invalid_yaml_with_line_number),
                cmocka_unit_test(refuses_multiple_documents),
                cmocka_unit_test(refuses_complex_top_level_key),
                cmocka_unit_test(leaves_ret_untouched_and_checks_arguments),
                cmocka_unit_test(manifest_free_accepts_null),
                cmocka_unit_test(names_compose_candidates_and_flavors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
