/* engine-volumes.c - a project's named volumes, copied in and out through a helper container that is created and
 * never started (spec/run.md "Upgrades and snapshots").
 */
#include "engine.h"
#include "engine-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/mem.h"

int engine_list_volumes(struct engine *e, const char *project, char ***ret, struct error *err)
{
        char label[256];
        json_t *list = NULL, *item;
        struct engine_strv names = {0};
        size_t i;
        int r;

        if (!e || !project || !*project || !ret)
                return error_set(err, STACK_EFAIL, "engine_list_volumes: missing argument");
        /* compose's label, and on a swarm (engine-swarm.c) the one docker stack deploy gives them */
        for (int k = 0; k < 2; k++) {
                snprintf(label, sizeof label, "%s=%s", k ? "com.docker.stack.namespace" : PROJECT_LABEL, project);
                r = engine_list_labelled(e, "/volumes", label, "Volumes", &list, err);
                json_array_foreach(list, i, item)
                {
                        const char *name = json_string_value(json_object_get(item, "Name"));
                        if (r == 0 && name && engine_strv_add(&names, name) < 0)
                                r = error_set(err, STACK_EFAIL, "out of memory");
                }
                json_decref(list);
                list = NULL;
                if (r < 0)
                        break;
        }
        if (r == 0 && !names.v && engine_strv_add(&names, "") == 0) {
                free(names.v[0]); /* an empty NULL-terminated list */
                names.v[0] = NULL;
        }
        if (r < 0 || !names.v) {
                strv_free(names.v);
                return r < 0 ? r : error_set(err, STACK_EFAIL, "out of memory");
        }
        *ret = names.v;
        return 0;
}

int engine_volume_recreate(struct engine *e, const char *name, struct error *err)
{
        char path[1024] = "/volumes/";
        json_t *v = NULL, *spec;
        long status = 0;
        int r;

        if (!e || !name || !*name || engine_path_append(path, sizeof path, name) < 0)
                return error_set(err, STACK_EFAIL, "engine_volume_recreate: bad volume name");
        r = engine_get_json(e, path, &status, &v, err);
        if (r < 0)
                return r;
        spec = json_pack("{s:s, s:O?, s:O?, s:O?}", "Name", name, "Driver", json_object_get(v, "Driver"), "Labels",
                         json_object_get(v, "Labels"), "DriverOpts", json_object_get(v, "Options"));
        json_decref(v);
        if (!spec)
                return error_set(err, STACK_EFAIL, "out of memory");
        if (status != 404)
                r = engine_delete(e, "volume", "/volumes", name, NULL, "", NULL, NULL, NULL, err);
        if (r == 0)
                r = engine_call_json(e, "POST", "/volumes/create", spec, NULL, err);
        json_decref(spec);
        return r;
}

int engine_volume_delete(struct engine *e, const char *name, struct error *err)
{
        if (!e || !name || !*name)
                return error_set(err, STACK_EFAIL, "engine_volume_delete: missing argument");
        return engine_delete(e, "volume", "/volumes", name, NULL, "", NULL, NULL, NULL, err);
}

int engine_helper_create(struct engine *e, const char *image, const char *volume, const char *target, char **ret_id,
                         struct error *err)
{
        json_t *body, *ans = NULL;
        const char *id;
        int r;

        if (!e || !image || !volume || !target || !ret_id)
                return error_set(err, STACK_EFAIL, "engine_helper_create: missing argument");
        /* Never started: the entrypoint only has to be non-empty. NoCopy: an empty volume stays empty (no copy
         * of the image's files at the mount point). */
        body = json_pack("{s:s, s:[s], s:[], s:{s:s}, s:{s:[{s:s, s:s, s:s, s:{s:b}}]}}", "Image", image, "Entrypoint",
                         "/stack-snapshot-helper-never-started", "Cmd", "Labels", "io.stack.snapshot-helper", "1",
                         "HostConfig", "Mounts", "Type", "volume", "Source", volume, "Target", target, "VolumeOptions",
                         "NoCopy", 1);
        if (!body)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = engine_call_json(e, "POST", "/containers/create", body, &ans, err);
        json_decref(body);
        id = json_string_value(json_object_get(ans, "Id"));
        if (r == 0 && !id)
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: POST /containers/create: no Id in the answer");
        if (r == 0 && !(*ret_id = strdup(id)))
                r = error_set(err, STACK_EFAIL, "out of memory");
        json_decref(ans);
        return r;
}

/* ---- a container's files as a tar, both ways ---- */

struct fd_sink {
        CURL *curl;
        int fd;
        struct buf *msg; /* an error answer's text */
};

static size_t fd_write(char *ptr, size_t size, size_t n, void *ud)
{
        struct fd_sink *k = ud;
        long status = 0;

        curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299)
                return buf_add(k->msg, ptr, size * n) == 0 || k->msg->toobig ? size * n : 0;
        return fs_write_all(k->fd, ptr, size * n) == 0 ? size * n : 0;
}

static int archive_path(struct engine *e, const char *id, const char *path, char *out, size_t cap)
{
        char *q = curl_easy_escape(e->curl, path, 0);
        int k;

        snprintf(out, cap, "/containers/");
        if (!q || engine_path_append(out, cap, id) < 0) {
                curl_free(q);
                return -1;
        }
        k = snprintf(out + strlen(out), cap - strlen(out), "/archive?path=%s", q);
        curl_free(q);
        return k < 0 || (size_t)k >= cap ? -1 : 0;
}

/* How a transfer of an archive ended, once its own failures (reading or writing the tar) are told. */
static int archive_outcome(struct engine *e, CURLcode c, const char *method, const char *path,
                           const struct engine_reply *rp, struct error *err)
{
        if (c != CURLE_OK)
                return engine_transport_error(e, c, method, path, err);
        if (rp->status < 200 || rp->status > 299)
                return engine_status_error(method, path, rp, err);
        return 0;
}

int engine_archive_get(struct engine *e, const char *id, const char *path, int fd, struct error *err)
{
        char p[2048];
        struct engine_reply rp = {.body = BUF_INIT(MAX_MESSAGE)};
        struct fd_sink k = {.curl = e ? e->curl : NULL, .fd = fd, .msg = &rp.body};
        struct engine_transfer t = {.method = "GET", .path = p, .write = fd_write, .write_ud = &k};
        CURLcode c;
        int r = 0;

        if (!e || !id || !path || archive_path(e, id, path, p, sizeof p) < 0)
                return error_set(err, STACK_EFAIL, "engine_archive_get: bad argument");
        c = engine_perform(e, &t, &rp.status);
        if (c == CURLE_WRITE_ERROR && rp.status >= 200 && rp.status <= 299)
                r = error_set(err, STACK_ESTORE, "writing the archive of %s: %s", path, strerror(errno));
        else
                r = archive_outcome(e, c, "GET", p, &rp, err);
        engine_reply_release(&rp);
        return r;
}

int engine_archive_put(struct engine *e, const char *id, const char *path, int fd, uint64_t size, struct error *err)
{
        char p[2048];
        struct engine_reply rp = {.body = BUF_INIT(MAX_MESSAGE)};
        struct engine_upload u = {.fd = fd, .size = size};
        struct engine_transfer t = {.method = "PUT",
                                    .path = p,
                                    .write = engine_buf_write,
                                    .write_ud = &rp.body,
                                    .upload = &u,
                                    .content_type = "application/x-tar"};
        CURLcode c;
        int r = 0;

        if (!e || !id || !path || archive_path(e, id, path, p, sizeof p) < 0)
                return error_set(err, STACK_EFAIL, "engine_archive_put: bad argument");
        c = engine_perform(e, &t, &rp.status);
        if (u.read_errno || u.short_read)
                r = error_set(err, STACK_ESTORE, "reading the archive for %s failed", path);
        else
                r = archive_outcome(e, c, "PUT", p, &rp, err);
        engine_reply_release(&rp);
        return r;
}
