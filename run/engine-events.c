/* engine-events.c - the Engine's event stream (engine.h engine_events(), spec/run.md "Watching").
 *
 * One long GET /events: the answer is read as it arrives and cut into lines in a bounded buffer (an over-long
 * line is dropped up to its end, never kept whole); each line that is a container event is handed over with
 * pointers into its parsed JSON, valid during the call only.
 */
#include "engine.h"
#include "engine-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct events_read {
        const struct engine_events_handler *h;
        char *line;
        size_t len;
        bool skipping; /* inside a line longer than ENGINE_EVENT_MAX */
        bool stop;
};

static const char *attr(json_t *attrs, const char *key)
{
        return json_string_value(json_object_get(attrs, key));
}

static void bad(struct events_read *rd, const char *why)
{
        if (rd->h->bad)
                rd->h->bad(rd->h->ctx, why);
}

static void one_line(struct events_read *rd, const char *text, size_t len)
{
        json_t *j, *actor, *attrs, *tn;
        struct engine_event ev = {.exit_code = -1};
        const char *type, *action, *colon, *code;
        char act[64];
        size_t alen;

        while (len && (text[len - 1] == '\r' || text[len - 1] == ' '))
                len--;
        if (!len)
                return;
        j = json_loadb(text, len, 0, NULL);
        if (!json_is_object(j)) {
                bad(rd, "a line of the event stream is not JSON (truncated?)");
                json_decref(j);
                return;
        }
        type = json_string_value(json_object_get(j, "Type"));
        action = json_string_value(json_object_get(j, "Action"));
        if (!action)
                action = json_string_value(json_object_get(j, "status")); /* the oldest Engines */
        actor = json_object_get(j, "Actor");
        attrs = json_object_get(actor, "Attributes");
        ev.id = json_string_value(json_object_get(actor, "ID"));
        if (!ev.id)
                ev.id = json_string_value(json_object_get(j, "id"));
        if (!action || !ev.id || (type && strcmp(type, "container"))) {
                if (!action || !ev.id)
                        bad(rd, "an event without an action or a container id");
                json_decref(j);
                return;
        }
        colon = strstr(action, ": ");
        alen = colon ? (size_t)(colon - action) : strlen(action);
        snprintf(act, sizeof act, "%.*s", (int)(alen < sizeof act ? alen : sizeof act - 1), action);
        ev.action = act;
        ev.detail = colon ? colon + 2 : NULL;
        ev.name = attr(attrs, "name");
        ev.run = attr(attrs, "io.stack.run");
        ev.project = attr(attrs, "com.docker.compose.project");
        ev.service = attr(attrs, "com.docker.compose.service");
        ev.exec_id = attr(attrs, "execID");
        code = attr(attrs, "exitCode");
        if (code)
                ev.exit_code = atoi(code);
        tn = json_object_get(j, "timeNano");
        ev.time_ns = json_is_integer(tn) ? (int64_t)json_integer_value(tn)
                                         : (int64_t)json_integer_value(json_object_get(j, "time")) * 1000000000;
        ev.attributes = attrs;
        if (rd->h->event && rd->h->event(rd->h->ctx, &ev))
                rd->stop = true;
        json_decref(j);
}

static size_t events_write(char *ptr, size_t size, size_t n, void *ud)
{
        struct events_read *rd = ud;
        size_t total = size * n;

        for (size_t i = 0; i < total && !rd->stop;) {
                char *nl = memchr(ptr + i, '\n', total - i);
                size_t piece = nl ? (size_t)(nl - (ptr + i)) : total - i;

                if (!rd->skipping && rd->len + piece > ENGINE_EVENT_MAX) {
                        rd->skipping = true;
                        rd->len = 0;
                        bad(rd, "an event longer than the limit: skipped");
                }
                if (!rd->skipping) {
                        memcpy(rd->line + rd->len, ptr + i, piece);
                        rd->len += piece;
                }
                i += piece;
                if (nl) {
                        if (!rd->skipping)
                                one_line(rd, rd->line, rd->len);
                        rd->skipping = false;
                        rd->len = 0;
                        i++;
                }
        }
        if (!rd->stop && rd->h->tick && rd->h->tick(rd->h->ctx))
                rd->stop = true;
        return rd->stop ? 0 : total;
}

static int events_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
        struct events_read *rd = ud;

        if (!rd->stop && rd->h->tick && rd->h->tick(rd->h->ctx))
                rd->stop = true;
        return rd->stop ? 1 : 0;
}

int engine_events(struct engine *e, int64_t since_ns, const struct engine_events_handler *h, struct error *err)
{
        char path[512];
        struct events_read rd = {.h = h};
        struct engine_transfer t = {.method = "GET",
                                    .write = events_write,
                                    .write_ud = &rd,
                                    .progress = events_progress,
                                    .progress_ud = &rd};
        long status = 0;
        CURLcode c;
        int r;

        if (!e || !h)
                return error_set(err, STACK_EFAIL, "engine_events: invalid arguments");
        r = engine_filter_path(e, "/events", "type", "container", path, sizeof path, err);
        if (r < 0)
                return r;
        if (since_ns > 0)
                snprintf(path + strlen(path), sizeof path - strlen(path), "&since=%lld.%09lld",
                         (long long)(since_ns / 1000000000), (long long)(since_ns % 1000000000));
        rd.line = malloc(ENGINE_EVENT_MAX);
        if (!rd.line)
                return error_set(err, STACK_EFAIL, "out of memory");
        t.path = path;
        c = engine_perform(e, &t, &status);
        free(rd.line);
        if (rd.stop)
                return 0; /* the caller ended it */
        if (status && status != 200)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: GET /events: HTTP %ld", status);
        if (c != CURLE_OK && c != CURLE_PARTIAL_FILE)
                return engine_transport_error(e, c, "GET", "/events", err);
        return 0; /* the Engine ended the stream */
}
