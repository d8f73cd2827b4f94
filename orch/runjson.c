/* runjson.c - a run as JSON, the one writer `stack ps|run --json` and the daemon's GET /runs, /runs/{id} and
 * POST /runs/{id}/stop share (spec/api.md "GET /runs", spec/cli.md "Runs as JSON"). */
#include "orch.h"

json_t *orch_run_json(const struct run_row *row, bool paths)
{
        json_t *o = json_object();
        char tree[DIGEST_HEX_LEN + 1];

        if (!o)
                return NULL;
        json_object_set_new(o, "id", json_string(row->id));
        json_object_set_new(o, "slug", json_string(row->slug));
        json_object_set_new(o, "version", json_string(row->version));
        json_object_set_new(o, "state", json_string(run_state_name(row->state)));
        if (paths) {
                digest_to_hex(&row->tree, tree);
                json_object_set_new(o, "tree", json_string(tree));
                json_object_set_new(o, "project", json_string(row->project));
                json_object_set_new(o, "run_dir", json_string(row->run_dir));
        }
        json_object_set_new(o, "reason", row->reason ? json_string(row->reason) : json_null());
        json_object_set_new(o, "created_at", json_integer(row->created_at));
        json_object_set_new(o, "updated_at", json_integer(row->updated_at));
        json_object_set_new(o, "started_at", row->started_at ? json_integer(row->started_at) : json_null());
        json_object_set_new(o, "stopped_at", row->stopped_at ? json_integer(row->stopped_at) : json_null());
        return o;
}

json_t *orch_addresses_json(const struct run_info *info)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < info->n_addresses; i++)
                json_array_append_new(a, json_pack("{s:s?, s:s?, s:s?}", "service", info->addresses[i].service, "label",
                                                   info->addresses[i].label, "url", info->addresses[i].url));
        return a;
}

json_t *orch_strv_json(char **v)
{
        json_t *a = json_array();

        for (size_t i = 0; a && v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

void orch_swarm_json(json_t *o, const struct run_info *info)
{
        json_t *sw = info->swarm ? json_loads(info->swarm, 0, NULL) : NULL;

        json_object_set_new(o, "backend", json_string(info->swarm ? "swarm" : "compose"));
        if (sw)
                json_object_update(o, sw);
        json_decref(sw);
}
