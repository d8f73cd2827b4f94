/* fuzz-api.c - what the API daemon reads from a request before anything runs, without a daemon: the route
 * matcher (api/routes.h) on the method and path, the Allow list of a 405, the session cookie check
 * (api/session.h), and POST /run's JSON body ({"slug": SLUG or bundle URL, "version": ...}, read with the
 * flags routes.c uses) resolved by resolve_target() (api/resolve.h) against an empty store with no catalog,
 * so nothing is fetched. Input: method NUL path NUL body. */
#include "fuzz.h"

#include <jansson.h>

#include "api/resolve.h"
#include "api/routes.h"
#include "api/session.h"
#include "store/store.h"

static struct store *store;
static struct sessions *sessions;

static void setup(void)
{
        struct error err = ERROR_INIT;
        char home[PATH_MAX];

        snprintf(home, sizeof home, "%s/home", fuzz_tmpdir());
        if (store_open(home, &store, &err) != 0 || sessions_new(&sessions) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *p = data;
        size_t n = size;
        char *method, *path, *body, param[64], allow[64], slug[64], ref[256];
        const struct route *route;
        struct error err = ERROR_INIT;
        json_t *j, *js, *jv;
        bool known = true;
        int r;

        if (!store)
                setup();
        method = fuzz_next(&p, &n);
        path = fuzz_next(&p, &n);
        body = fuzz_strndup(p, n);
        memset(param, 'x', sizeof param);
        route = routes_find(method, path, param, sizeof param, &known);
        if (!memchr(param, '\0', sizeof param) ||
            strspn(param, "0123456789abcdefghijklmnopqrstuvwxyz-") != strlen(param))
                abort();
        if (route && (!known || strcmp(route->method, method) != 0))
                abort();
        routes_allowed_methods(path, allow, sizeof allow);
        if (!memchr(allow, '\0', sizeof allow))
                abort();
        (void)sessions_check(sessions, path, 1800000000);

        j = json_loadb(body, n, JSON_REJECT_DUPLICATES, NULL);
        js = json_object_get(j, "slug");
        jv = json_object_get(j, "version");
        if (json_is_string(js) && *json_string_value(js) && (!jv || json_is_null(jv) || json_is_string(jv))) {
                r = resolve_target(store, NULL, json_string_value(js),
                                   json_is_string(jv) ? json_string_value(jv) : NULL, slug, sizeof slug, ref,
                                   sizeof ref, &err);
                fuzz_check_verdict(r, &err);
                if (r == 0)
                        abort(); /* the store is empty and there is no catalog */
        }
        json_decref(j);
        free(method);
        free(path);
        free(body);
        return 0;
}
