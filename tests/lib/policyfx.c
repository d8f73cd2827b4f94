/* policyfx.c - the policy_apply() fixture (policyfx.h). */
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

#include "policyfx.h"
#include "base/fsutil.h"
#include "testlib.h"

static const char *const run_labels[] = {"io.stack.run=r1", "io.stack.slug=demo", NULL};

void fx_init(struct fx *f, const char *resources, const char *const *shipped)
{
        char manifest[1024];
        struct digest d;
        size_t i;

        memset(f, 0, sizeof *f);
        snprintf(f->dir, sizeof f->dir, "%s", tl_tmpdir());
        snprintf(f->run, sizeof f->run, "%s/run", f->dir);
        snprintf(f->data, sizeof f->data, "%s/data/demo", f->dir);
        snprintf(f->compose, sizeof f->compose, "%s/compose.yaml", f->run);
        snprintf(f->out, sizeof f->out, "%s/.stack-compose.yaml", f->run);
        assert_int_equal(mkdir(f->run, 0755), 0);
        tree_init(&f->tree);
        memset(d.b, 'x', sizeof d.b);
        assert_int_equal(tree_add(&f->tree, "compose.yaml", ENTRY_FILE, 0644, 1, &d, NULL, NULL), 0);
        for (i = 0; shipped && shipped[i]; i++) {
                size_t n = strlen(shipped[i]);
                char path[PATH_MAX];

                if (shipped[i][n - 1] == '/') {
                        snprintf(path, sizeof path, "%.*s", (int)n - 1, shipped[i]);
                        assert_int_equal(tree_add(&f->tree, path, ENTRY_DIR, 0755, 0, NULL, NULL, NULL), 0);
                } else {
                        assert_int_equal(tree_add(&f->tree, shipped[i], ENTRY_FILE, 0644, 1, &d, NULL, NULL), 0);
                }
        }
        assert_int_equal(tree_finalize(&f->tree, NULL), 0);
        snprintf(manifest, sizeof manifest, MANIFEST "%s", resources ? resources : "");
        assert_int_equal(manifest_parse(manifest, strlen(manifest), &f->m, NULL, NULL, NULL), 0);
}

void fx_release(struct fx *f)
{
        policy_result_release(&f->res);
        tree_release(&f->tree);
        manifest_free(f->m);
        free(f->text);
}

bool fx_exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

/* Every node of the effective file untagged and unanchored, no alias, no `<<` key. */
static void assert_plain_yaml(const char *text)
{
        yaml_parser_t p;
        yaml_event_t ev;
        bool done = false;

        assert_true(yaml_parser_initialize(&p));
        yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
        while (!done) {
                const yaml_char_t *tag = NULL, *anchor = NULL;

                assert_true(yaml_parser_parse(&p, &ev));
                switch (ev.type) {
                case YAML_STREAM_END_EVENT: done = true; break;
                case YAML_ALIAS_EVENT: fail_msg("an alias in the effective file:\n%s", text); break;
                case YAML_SCALAR_EVENT:
                        tag = ev.data.scalar.tag;
                        anchor = ev.data.scalar.anchor;
                        if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                            strcmp((const char *)ev.data.scalar.value, "<<") == 0)
                                fail_msg("a merge key in the effective file:\n%s", text);
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        tag = ev.data.sequence_start.tag;
                        anchor = ev.data.sequence_start.anchor;
                        break;
                case YAML_MAPPING_START_EVENT:
                        tag = ev.data.mapping_start.tag;
                        anchor = ev.data.mapping_start.anchor;
                        break;
                default: break;
                }
                if (tag || anchor)
                        fail_msg("a tag '%s' or anchor '%s' in the effective file:\n%s", tag ? (char *)tag : "",
                                 anchor ? (char *)anchor : "", text);
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&p);
}

int fx_apply(struct fx *f, const char *yaml, unsigned allow)
{
        struct policy_input in = {.compose_path = f->compose,
                                  .run_dir = f->run,
                                  .data_dir = f->data,
                                  .tree = &f->tree,
                                  .m = f->m,
                                  .allow = allow,
                                  .labels = run_labels,
                                  .compose_v1 = f->v1,
                                  .limits = f->limits,
                                  .lookup = f->lookup,
                                  .lookup_ctx = f->lookup_ctx,
                                  .project = PROJECT,
                                  .swarm = f->swarm};
        size_t len;
        int r;

        assert_int_equal(fs_write_atomic(f->compose, yaml, strlen(yaml), 0644), 0);
        unlink(f->out);
        policy_result_release(&f->res);
        error_clear(&f->err);
        free(f->text);
        f->text = NULL;
        r = policy_apply(&in, f->out, &f->res, &f->err);
        if (r == 0) {
                assert_int_equal(fs_read_file(f->out, 1 << 24, &f->text, &len), 0);
                assert_plain_yaml(f->text);
        } else {
                assert_false(fx_exists(f->out));
        }
        return r;
}

void fx_refused(const char *yaml, unsigned bit, const char *what, bool v1)
{
        struct fx f;
        const char *name = policy_perm_name(bit);
        char want[160];

        fx_init(&f, NULL, NULL);
        f.v1 = v1;
        if (fx_apply(&f, yaml, 0) != -STACK_EREJECT)
                fail_msg("accepted without '%s':\n%s", name, yaml);
        assert_int_equal(f.err.code, STACK_EREJECT);
        if (!strstr(f.err.msg, what))
                fail_msg("message '%s' does not say '%s'", f.err.msg, what);
        snprintf(want, sizeof want, "(needs permission '%s'); grant what demo needs with: stack run demo --allow %s",
                 name, name);
        if (!strstr(f.err.msg, want))
                fail_msg("message '%s' does not say '%s'", f.err.msg, want);
        assert_true(f.res.needed & bit);
        assert_false(fx_exists(f.data));
        if (fx_apply(&f, yaml, bit) != 0)
                fail_msg("refused with '%s' granted: %s", name, f.err.msg);
        assert_true(f.res.needed & bit);
        fx_release(&f);
}

void fx_accepted(const char *yaml)
{
        struct fx f;

        fx_init(&f, NULL, NULL);
        if (fx_apply(&f, yaml, 0) != 0)
                fail_msg("refused: %s\n%s", f.err.msg, yaml);
        fx_release(&f);
}
