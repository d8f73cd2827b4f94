/* yamltree-emit.c - a tree written back as YAML (yamltree_emit(), yamltree.h): the effective compose file the
 * policy writes, the stack.yaml export rewrites. */
#include "base/yamltree.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "base/buf.h"

/* libyaml's writer: 1 to go on, 0 to stop (the buf says why: toobig or oom). */
static int emit_write(void *data, unsigned char *buffer, size_t size)
{
        return buf_add(data, buffer, size) == 0;
}

/* 0, -EPROTO (a tag and no_tags), -1 (the emitter failed: its error says why). */
static int emit_node(yaml_emitter_t *e, const struct yamltree_node *n, bool no_tags)
{
        yaml_char_t *tag = (yaml_char_t *)n->tag;
        yaml_event_t ev;
        size_t i;
        int ok;

        if (n->tag && no_tags)
                return -EPROTO;
        if (n->kind == YAMLTREE_ALIAS) /* a copy of its target: the output's max bounds the expansion */
                return emit_node(e, n->target, no_tags);
        if (n->kind == YAMLTREE_SCALAR) {
                const char *text = n->text;
                size_t len = n->len;

                /* an empty plain scalar is a null; in a flow collection libyaml would write '' (a string) */
                if (len == 0 && n->style == YAML_PLAIN_SCALAR_STYLE) {
                        text = "null";
                        len = 4;
                }
                ok = yaml_scalar_event_initialize(&ev, NULL, tag, (yaml_char_t *)text, (int)len, !tag, !tag,
                                                  (yaml_scalar_style_t)n->style);
                return ok && yaml_emitter_emit(e, &ev) ? 0 : -1;
        }
        if (n->kind == YAMLTREE_SEQ)
                ok = yaml_sequence_start_event_initialize(&ev, NULL, tag, !tag, (yaml_sequence_style_t)n->style);
        else
                ok = yaml_mapping_start_event_initialize(&ev, NULL, tag, !tag, (yaml_mapping_style_t)n->style);
        if (!ok || !yaml_emitter_emit(e, &ev))
                return -1;
        for (i = 0; i < n->n; i++) {
                int r = emit_node(e, n->items[i], no_tags);

                if (r < 0)
                        return r;
        }
        if (n->kind == YAMLTREE_SEQ)
                ok = yaml_sequence_end_event_initialize(&ev);
        else
                ok = yaml_mapping_end_event_initialize(&ev);
        return ok && yaml_emitter_emit(e, &ev) ? 0 : -1;
}

int yamltree_emit(const struct yamltree_node *root, bool no_tags, struct buf *out, const char **ret_problem)
{
        yaml_emitter_t e;
        yaml_event_t ev;
        int r = 0;

        if (!root || !out)
                return -EINVAL;
        if (!yaml_emitter_initialize(&e))
                return -ENOMEM;
        yaml_emitter_set_output(&e, emit_write, out);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_indent(&e, 2);
        yaml_emitter_set_width(&e, -1);
        yaml_emitter_set_break(&e, YAML_LN_BREAK);
        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || !yaml_emitter_emit(&e, &ev) ||
            !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || !yaml_emitter_emit(&e, &ev) ||
            (r = emit_node(&e, root, no_tags)) < 0 || !yaml_document_end_event_initialize(&ev, 1) ||
            !yaml_emitter_emit(&e, &ev) || !yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&e, &ev) ||
            !yaml_emitter_flush(&e)) {
                if (r == -EPROTO) {
                        /* the caller's message */
                } else if (out->toobig) {
                        r = -E2BIG;
                } else if (e.error == YAML_EMITTER_ERROR) {
                        r = -EINVAL;
                        if (ret_problem)
                                *ret_problem = e.problem;
                } else {
                        r = -ENOMEM; /* a writer error that is not toobig is the buf's oom; so is a failed event */
                }
        }
        yaml_emitter_delete(&e);
        return r;
}
