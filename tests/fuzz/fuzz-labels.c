/* fuzz-labels.c - traefik labels to routes (run/labels.h). The input is lines `key=value` (a compose
 * service's labels, already interpolated); the first byte is the service's single exposed port (0: none).
 * Every route it returns names a host the proxy accepts (labels_host_ok) and a port in 1..65535. */
#include "fuzz.h"

#include "run/labels.h"

#define MAX_LABELS 64

static void on_warn(void *ctx, const char *line)
{
        (void)ctx;
        if (!line || !*line)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct label labels[MAX_LABELS];
        struct label_routes routes;
        struct error err = ERROR_INIT;
        char *text, *line, *save = NULL;
        size_t n = 0;
        int r, port;

        if (size < 1)
                return 0;
        port = data[0] == 0 ? 0 : data[0] * 97; /* 97 .. 24735 */
        text = fuzz_strndup(data + 1, size - 1);
        for (line = strtok_r(text, "\n", &save); line && n < MAX_LABELS; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                if (eq)
                        *eq = '\0';
                labels[n].key = line;
                labels[n].value = eq ? eq + 1 : "";
                n++;
        }
        memset(&routes, 0xa5, sizeof routes);
        r = labels_routes(labels, n, port, &routes, on_warn, NULL, &err);
        fuzz_check_verdict(r, &err);
        if (r == 0) {
                if (routes.n > LABELS_ROUTES_MAX)
                        abort();
                for (size_t i = 0; i < routes.n; i++)
                        if (!labels_host_ok(routes.v[i].host) || routes.v[i].port < 1 || routes.v[i].port > 65535 ||
                            !memchr(routes.v[i].router, '\0', sizeof routes.v[i].router))
                                abort();
        }
        for (size_t i = 0; i < n; i++)
                (void)labels_host_ok(labels[i].value);
        free(text);
        return 0;
}
