/* engine-down.c - taking a compose project down without the compose tool: its containers, networks and volumes
 * found by label and removed through the Engine (spec/run.md "Engine": "Taking a project down"). Also the one
 * DELETE and the one labelled list every other topic uses (engine-int.h).
 */
#include "engine.h"
#include "engine-int.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int engine_list_labelled(struct engine *e, const char *base, const char *label, const char *member, json_t **ret,
                         struct error *err)
{
        char path[4096];
        json_t *j = NULL, *list;
        long status = 0;
        int r = 0;

        if (label && *label)
                r = engine_filter_path(e, base, "label", label, path, sizeof path, err);
        else
                snprintf(path, sizeof path, "%s", base);
        if (r < 0)
                return r;
        r = engine_get_json(e, path, &status, &j, err);
        if (r < 0)
                return r;
        list = member && json_is_object(j) ? json_object_get(j, member) : j;
        if (member && json_is_object(j) && (!list || json_is_null(list)))
                list = json_array();
        else
                json_incref(list);
        json_decref(j);
        if (!json_is_array(list)) {
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET %.*s: %s", (int)strcspn(base, "?"), base,
                              status == 404 ? "HTTP 404" : "the answer is not a list");
                json_decref(list);
                return r;
        }
        *ret = list;
        return 0;
}

/* "kind name: <the Engine's message>" into kept. */
static int keep(struct engine_strv *kept, const char *kind, const char *name, const struct engine_reply *rp,
                struct error *err)
{
        char *m = engine_answer_message(rp->body.p, rp->body.len), *line = NULL;
        int r = 0;

        if (asprintf(&line, "%s %s: %s", kind, name, m ? m : "in use") < 0) {
                line = NULL;
                r = -ENOMEM;
        } else {
                r = engine_strv_add(kept, line);
        }
        free(line);
        free(m);
        return r < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

int engine_delete(struct engine *e, const char *kind, const char *base, const char *id, const char *name,
                  const char *query, const long *in_use, struct engine_strv *kept, unsigned *ret_n, struct error *err)
{
        static const long none[] = {0};
        char path[1024];
        struct engine_reply rp;
        int r;

        snprintf(path, sizeof path, "%s/", base);
        if (engine_path_append(path, sizeof path, id) < 0 || strlen(path) + strlen(query) >= sizeof path)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: %s id too long: %.64s...", kind, id);
        strcat(path, query);
        r = engine_request(e, "DELETE", path, NULL, MAX_MESSAGE, false, &rp, err);
        if (r < 0)
                return r;
        if (!in_use)
                in_use = none;
        if (rp.status >= 200 && rp.status <= 299) {
                if (ret_n)
                        (*ret_n)++;
        } else if (rp.status != 404) {
                while (*in_use && *in_use != rp.status)
                        in_use++;
                if (!*in_use)
                        r = engine_status_error("DELETE", path, &rp, err);
                else
                        r = keep(kept, kind, name ? name : id, &rp, err);
        }
        engine_reply_release(&rp);
        return r;
}

int engine_remove_containers(struct engine *e, const char *label, bool volumes, unsigned *ret_n, struct error *err)
{
        const char *eq = label ? strchr(label, '=') : NULL;
        json_t *list = NULL, *item;
        unsigned n = 0;
        size_t i;
        int r;

        if (!e || !label || !ret_n)
                return error_set(err, STACK_EFAIL, "engine_remove_containers: missing argument");
        /* A bare key would select every container that has it, whatever the value: every compose project. */
        if (!eq || eq == label || !eq[1])
                return error_set(err, STACK_EFAIL, "engine_remove_containers: label '%s' is not key=value", label);
        r = engine_list_labelled(e, "/containers/json?all=1", label, NULL, &list, err);
        if (r < 0)
                return r;
        json_array_foreach(list, i, item)
        {
                const char *id = json_string_value(json_object_get(item, "Id"));
                const char *name = json_string_value(json_array_get(json_object_get(item, "Names"), 0));
                if (!id) {
                        r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: an entry has no Id");
                        break;
                }
                if (name && *name == '/')
                        name++;
                /* force=1 kills a running container: nothing keeps it */
                r = engine_delete(e, "container", "/containers", id, name, volumes ? "?force=1&v=1" : "?force=1", NULL,
                                  NULL, &n, err);
                if (r < 0)
                        break;
        }
        json_decref(list);
        if (r == 0)
                *ret_n = n;
        return r;
}

/* Networks, or volumes: every object of the project's label, by `key` (Id for networks: their names need not
 * be unique), named in messages by Name. */
static int remove_labelled(struct engine *e, const char *kind, const char *list_base, const char *member,
                           const char *delete_base, const char *key, const char *label, const long *in_use,
                           struct engine_strv *kept, unsigned *ret_n, struct error *err)
{
        json_t *list = NULL, *item;
        size_t i;
        int r = engine_list_labelled(e, list_base, label, member, &list, err);

        if (r < 0)
                return r;
        json_array_foreach(list, i, item)
        {
                const char *id = json_string_value(json_object_get(item, key));
                if (!id) {
                        r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET %s: an entry has no %s", list_base, key);
                        break;
                }
                r = engine_delete(e, kind, delete_base, id, json_string_value(json_object_get(item, "Name")), "",
                                  in_use, kept, ret_n, err);
                if (r < 0)
                        break;
        }
        json_decref(list);
        return r;
}

int engine_remove_project(struct engine *e, const char *project, bool volumes, struct engine_removed *ret,
                          struct error *err)
{
        /* A network with endpoints: 403 from API 1.41 (libnetwork's ActiveEndpointsError), 409 from newer
         * Engines; a volume a container uses: 409. */
        static const long network_in_use[] = {403, 409, 0}, volume_in_use[] = {409, 0};
        struct engine_removed rm = {0};
        struct engine_strv kept = {0};
        char label[512];
        int r;

        if (!e || !project || !*project || !ret)
                return error_set(err, STACK_EFAIL, "engine_remove_project: missing argument");
        if ((size_t)snprintf(label, sizeof label, PROJECT_LABEL "=%s", project) >= sizeof label)
                return error_set(err, STACK_EFAIL, "compose project name too long: %.64s...", project);
        r = engine_remove_containers(e, label, volumes, &rm.containers, err);
        if (r == 0)
                r = remove_labelled(e, "network", "/networks", NULL, "/networks", "Id", label, network_in_use, &kept,
                                    &rm.networks, err);
        if (r == 0 && volumes)
                r = remove_labelled(e, "volume", "/volumes", "Volumes", "/volumes", "Name", label, volume_in_use, &kept,
                                    &rm.volumes, err);
        if (r < 0) {
                strv_free(kept.v);
                return r;
        }
        rm.kept = kept.v;
        *ret = rm;
        return 0;
}

void engine_removed_release(struct engine_removed *r)
{
        if (!r)
                return;
        strv_free(r->kept);
        r->kept = NULL;
}
