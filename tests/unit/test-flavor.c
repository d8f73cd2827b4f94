/* test-flavor.c - the flavor a bundle runs as is decided by its content (bundle_flavor(), spec/bundle.md
 * "Flavors"): a compose file, else a root Dockerfile, else a root index.html; a stack.yaml that says otherwise
 * is one warning naming both, and the index records the flavor the content makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "run/flavor.h"
#include "store/bundle.h"
#include "store/index.h"
#include "store/ingest.h"
#include "store/store.h"
#include "testlib.h"

static void add_file(struct tree *t, const char *path)
{
        struct digest d = {0};
        struct error err = ERROR_INIT;

        if (tree_add(t, path, ENTRY_FILE, 0644, 1, &d, NULL, &err) < 0)
                fail_msg("tree_add %s: %s", path, err.msg);
}

static void add_dir(struct tree *t, const char *path)
{
        struct error err = ERROR_INIT;

        if (tree_add(t, path, ENTRY_DIR, 0755, 0, NULL, NULL, &err) < 0)
                fail_msg("tree_add %s: %s", path, err.msg);
}

/* The flavor of a tree of files (NULL-terminated; a trailing '/' is a directory), with `flavor` declared. */
static int flavor_of(enum manifest_flavor declared, const char *const *paths, struct error *err)
{
        struct manifest m = {.flavor = declared};
        struct tree t;
        const char *compose = NULL;
        int r;

        tree_init(&t);
        add_file(&t, "stack.yaml");
        for (size_t i = 0; paths[i]; i++) {
                size_t n = strlen(paths[i]);
                if (paths[i][n - 1] == '/') {
                        char dir[256];
                        snprintf(dir, sizeof dir, "%.*s", (int)(n - 1), paths[i]);
                        add_dir(&t, dir);
                } else {
                        add_file(&t, paths[i]);
                }
        }
        assert_int_equal(tree_finalize(&t, err), 0);
        r = bundle_check_content(&t, &m, &compose, err);
        if (r == 0)
                r = bundle_flavor(&t, compose);
        tree_release(&t);
        return r;
}

static void content_decides_whatever_stack_yaml_says(void **state)
{
        struct error err = ERROR_INIT;

        (void)state;
        for (int declared = FLAVOR_DOCKER_COMPOSE; declared <= FLAVOR_STATIC_WEBSITE; declared++) {
                assert_int_equal(
                        flavor_of(declared, (const char *[]){"compose.yaml", "Dockerfile", "index.html", NULL}, &err),
                        FLAVOR_DOCKER_COMPOSE);
                assert_int_equal(flavor_of(declared, (const char *[]){"docker-compose.yml", NULL}, &err),
                                 FLAVOR_DOCKER_COMPOSE);
                assert_int_equal(flavor_of(declared, (const char *[]){"Dockerfile", "index.html", NULL}, &err),
                                 FLAVOR_DOCKER_SERVICE);
                /* the catalog's 2048: says DockerCompose, ships a static site */
                assert_int_equal(
                        flavor_of(declared, (const char *[]){"index.html", "style.css", "js/", "js/a.js", NULL}, &err),
                        FLAVOR_STATIC_WEBSITE);
        }
}

static void only_root_files_count(void **state)
{
        struct error err = ERROR_INIT;

        (void)state;
        /* a Dockerfile or index.html below the root, or a directory of that name, is not the bundle's */
        assert_int_equal(
                flavor_of(FLAVOR_DOCKER_SERVICE, (const char *[]){"app/", "app/Dockerfile", "index.html", NULL}, &err),
                FLAVOR_STATIC_WEBSITE);
        assert_int_equal(flavor_of(FLAVOR_STATIC_WEBSITE, (const char *[]){"site/", "site/index.html", NULL}, &err),
                         -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "nothing to run"));
        error_clear(&err);
        assert_int_equal(flavor_of(FLAVOR_DOCKER_SERVICE, (const char *[]){"Dockerfile/", "Dockerfile/x", NULL}, &err),
                         -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "no compose file"));
}

struct warnings {
        char lines[4][512];
        int n;
};

static void collect(void *ctx, const char *line)
{
        struct warnings *w = ctx;

        if (w->n < 4)
                snprintf(w->lines[w->n], sizeof w->lines[0], "%s", line);
        w->n++;
}

/* Ingest entries with warnings collected; publish; return the recorded flavor (malloc'ed). */
static char *import_flavor(struct store *s, const struct tl_entry *e, size_t n, struct warnings *w)
{
        static int k;
        char path[PATH_MAX], *flavor;
        struct ingest *ing = NULL;
        struct error err = ERROR_INIT;
        struct publish_info pi = {0};
        struct version_info v = {0};
        int64_t id = 0;
        bool is_new = false;
        int fd;

        snprintf(path, sizeof path, "%s/flavor-%d.stack", tl_tmpdir(), k++);
        assert_int_equal(tl_write_bundle(path, TL_ZSTD, e, n), 0);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(ingest_new(s, NULL, &ing, &err), 0);
        ingest_set_warn(ing, collect, w);
        if (ingest_read_fd(ing, fd, &err) < 0)
                fail_msg("ingest: %s", err.msg);
        close(fd);
        assert_int_equal(ingest_manifest(ing)->flavor, FLAVOR_STATIC_WEBSITE);
        if (ingest_publish(ing, &pi, &id, &is_new, &err) < 0)
                fail_msg("publish: %s", err.msg);
        ingest_free(ing);
        assert_int_equal(index_get_version(store_index(s), id, &v, &err), 0);
        flavor = strdup(v.flavor);
        assert_null(v.compose);
        version_info_release(&v);
        return flavor;
}

static void import_warns_once_and_records_the_content_flavor(void **state)
{
        static const char yaml[] = "slug: fl2048\nname: 2048\nflavor: DockerCompose\nversion: \"1\"\n"
                                   "description: d\nauthor: a\nlicense: MIT\n";
        static const char yaml_ok[] = "slug: flok\nname: ok\nflavor: StaticWebsite\nversion: \"1\"\n"
                                      "description: d\nauthor: a\nlicense: MIT\n";
        struct tl_entry e[3] = {
                {.path = "stack.yaml", .type = 'f', .data = yaml, .len = sizeof yaml - 1},
                {.path = "index.html", .type = 'f', .data = "<p>2048</p>", .len = 11},
                {.path = "style.css", .type = 'f', .data = "p{}", .len = 3},
        };
        struct warnings w = {0};
        struct store *s = tl_store_new();
        char *flavor;

        (void)state;
        flavor = import_flavor(s, e, 3, &w);
        assert_string_equal(flavor, "StaticWebsite");
        free(flavor);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.lines[0], "flavor DockerCompose"));
        assert_non_null(strstr(w.lines[0], "it runs as StaticWebsite"));
        /* a stack.yaml that agrees: no warning */
        memset(&w, 0, sizeof w);
        e[0] = (struct tl_entry){.path = "stack.yaml", .type = 'f', .data = yaml_ok, .len = sizeof yaml_ok - 1};
        flavor = import_flavor(s, e, 3, &w);
        assert_string_equal(flavor, "StaticWebsite");
        free(flavor);
        assert_int_equal(w.n, 0);
        store_free(s);
}

static void dockerfile_single_expose_port(void **state)
{
        unsigned n = 9;

        (void)state;
        assert_int_equal(flavor_dockerfile_port("FROM x\nEXPOSE 8080\nCMD [\"a\"]\n", &n), 8080);
        assert_int_equal(n, 1);
        assert_int_equal(flavor_dockerfile_port("FROM x\n  expose 3000/tcp\n", &n), 3000);
        assert_int_equal(flavor_dockerfile_port("FROM x\nEXPOSE \\\n 80\n", &n), 80);   /* continued line */
        assert_int_equal(flavor_dockerfile_port("FROM x\nEXPOSE 80 80/tcp\n", &n), 80); /* one port twice */
        assert_int_equal(flavor_dockerfile_port("FROM x\nEXPOSE 80 443\n", &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(flavor_dockerfile_port("FROM x\nEXPOSE 80\nEXPOSE 81\n", &n), 0);
        assert_int_equal(flavor_dockerfile_port("FROM x\nRUN echo EXPOSE 80\n", &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(flavor_dockerfile_port("FROM x\nEXPOSE ${PORT}\n", &n), 0);
        assert_int_equal(flavor_dockerfile_port("FROM x\nEXPOSE 70000\n", &n), 0);
        assert_int_equal(flavor_dockerfile_port("", &n), 0);
}

static void service_tag_is_a_valid_reference_naming_the_tree(void **state)
{
        struct version_info v = {.slug = (char *)"my_app..v2-"};
        char tag[128];

        (void)state;
        memset(&v.tree, 0xab, sizeof v.tree);
        assert_int_equal(flavor_service_tag(&v, tag, sizeof tag), 0);
        assert_string_equal(tag, "stack-my-app-v2:abababababab");
        v.slug = (char *)"flsvc1";
        assert_int_equal(flavor_service_tag(&v, tag, sizeof tag), 0);
        assert_string_equal(tag, "stack-flsvc1:abababababab");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(content_decides_whatever_stack_yaml_says),
                cmocka_unit_test(only_root_files_count),
                cmocka_unit_test(import_warns_once_and_records_the_content_flavor),
                cmocka_unit_test(dockerfile_single_expose_port),
                cmocka_unit_test(service_tag_is_a_valid_reference_naming_the_tree),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
