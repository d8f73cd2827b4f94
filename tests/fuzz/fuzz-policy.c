/* fuzz-policy.c - the compose policy (run/policy.h): a compose file in, a verdict out. Input: first byte (bit 0:
 * written for docker-compose 1.29; bits 1-7: granted permissions), then the compose file, a NUL, and a second
 * file the bundle ships as other.yaml (for include / extends.file / env_file). The run dir lives in the harness's
 * temp dir and the input is dry (stack config): no data dir is made. Every input is applied or refused with one
 * message; an accepted one leaves the effective file, a refused one leaves none. */
#include "fuzz.h"

#include <sys/stat.h>

#include "run/policy.h"
#include "store/manifest.h"
#include "store/tree.h"

#define MANIFEST                                                                                                   \
        "slug: demo\nname: Demo\nflavor: DockerCompose\nversion: \"1\"\ndescription: d\nauthor: a\nlicense: MIT\n" \
        "resources: {cpus: 1, memory: 512m, pids: 200}\n"

static char run[PATH_MAX], data_dir[PATH_MAX], compose[PATH_MAX], other[PATH_MAX], out[PATH_MAX];
static struct tree tree;
static struct manifest *manifest;

static const char *const labels[] = {"io.stack.run=r1", "io.stack.slug=demo", NULL};
static const char *const vars[] = {
        "PROJECT=stack-demo", "DOMAIN=demo.stack.localhost", "PORT=8080", "DATA=./data", "EMPTY=", NULL};

static const char *lookup(void *ctx, const char *name)
{
        size_t n = strlen(name);

        (void)ctx;
        for (size_t i = 0; vars[i]; i++)
                if (!strncmp(vars[i], name, n) && vars[i][n] == '=')
                        return vars[i] + n + 1;
        return NULL;
}

static void setup(void)
{
        static const char *const files[] = {"compose.yaml", "other.yaml", ".env", "app/index.html", NULL};
        static const char *const dirs[] = {"data", "app", NULL};
        struct digest d;
        char path[PATH_MAX];

        snprintf(run, sizeof run, "%s/run", fuzz_tmpdir());
        snprintf(data_dir, sizeof data_dir, "%s/data/demo", fuzz_tmpdir());
        snprintf(compose, sizeof compose, "%s/compose.yaml", run);
        snprintf(other, sizeof other, "%s/other.yaml", run);
        snprintf(out, sizeof out, "%s/.stack-compose.yaml", run);
        if (fs_mkdir_p(run, 0755) != 0)
                abort();
        tree_init(&tree);
        memset(d.b, 'x', sizeof d.b);
        for (size_t i = 0; files[i]; i++)
                if (tree_add(&tree, files[i], ENTRY_FILE, 0644, 1, &d, NULL, NULL) != 0)
                        abort();
        for (size_t i = 0; dirs[i]; i++) {
                snprintf(path, sizeof path, "%s/%s", run, dirs[i]);
                if (tree_add(&tree, dirs[i], ENTRY_DIR, 0755, 0, NULL, NULL, NULL) != 0 || fs_mkdir_p(path, 0755) != 0)
                        abort();
        }
        snprintf(path, sizeof path, "%s/.env", run);
        if (tree_finalize(&tree, NULL) != 0 || fs_write_atomic(path, "A=1\nB=${A}x\n", 12, 0644) != 0 ||
            manifest_parse(MANIFEST, strlen(MANIFEST), &manifest, NULL, NULL, NULL) != 0)
                abort();
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        if (!f || fwrite(text, 1, strlen(text), f) != strlen(text) || fclose(f) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct policy_result res = {0};
        struct error err = ERROR_INIT;
        struct policy_input in;
        const uint8_t *p;
        size_t n;
        char *main_text, *other_text;
        int r;

        if (size < 1)
                return 0;
        if (!manifest)
                setup();
        p = data + 1;
        n = size - 1;
        main_text = fuzz_next(&p, &n);
        other_text = fuzz_next(&p, &n);
        write_file(compose, main_text);
        write_file(other, other_text);
        unlink(out);
        in = (struct policy_input){.compose_path = compose,
                                   .run_dir = run,
                                   .data_dir = data_dir,
                                   .tree = &tree,
                                   .m = manifest,
                                   .allow = (unsigned)(data[0] >> 1),
                                   .labels = labels,
                                   .compose_v1 = data[0] & 1,
                                   .lookup = lookup,
                                   .dry = true};
        r = policy_apply(&in, out, &res, &err);
        fuzz_check_verdict(r, &err);
        if ((access(out, F_OK) == 0) != (r == 0))
                abort(); /* the effective file exists exactly when the file was accepted */
        if (access(data_dir, F_OK) == 0)
                abort(); /* dry: no data dir */
        policy_result_release(&res);
        free(main_text);
        free(other_text);
        return 0;
}
