/* tool-swreg.c - the managed registry (run/swarm-registry.h) driven from a shell, for tests/e2e/swarm-registry.sh
 * until a CLI command does it. The store is $STACK_HOME's; the settings its config.json "swarm".
 *
 *   tool-swreg ensure                     prints the host ("addr:port")
 *   tool-swreg push HOST REF IMAGE_ID     prints "<host>/<repo>@sha256:..." and, on stderr, "push: N ms"
 *   tool-swreg stop
 *   tool-swreg status                     prints "managed pid answers host"
 * A failure prints the error's line on stderr and exits with its exit code, as the CLI does.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "run/engine.h"
#include "run/swarm-registry.h"
#include "store/store.h"

static double now_ms(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int run(int argc, char **argv, struct store *s, struct error *err)
{
        struct swreg_options o;
        char buf[1024], out[1600];
        int r;

        r = swreg_options_load(store_home(s), &o, buf, sizeof buf, err);
        if (r < 0)
                return r;
        if (argc == 2 && !strcmp(argv[1], "ensure")) {
                r = swreg_ensure(s, &o, out, sizeof out, err);
                if (r == 0)
                        printf("%s\n", out);
        } else if (argc == 5 && !strcmp(argv[1], "push")) {
                struct engine *e = NULL;
                double t0;

                r = engine_open(&e, err);
                if (r < 0)
                        return r;
                t0 = now_ms();
                r = swreg_push(s, e, argv[2], argv[3], argv[4], out, sizeof out, err);
                if (r == 0) {
                        fprintf(stderr, "push: %.0f ms\n", now_ms() - t0);
                        printf("%s\n", out);
                }
                engine_free(e);
        } else if (argc == 2 && !strcmp(argv[1], "stop")) {
                r = swreg_stop(s, err);
        } else if (argc == 2 && !strcmp(argv[1], "status")) {
                struct swreg_status st;

                r = swreg_status(s, &o, &st, err);
                if (r == 0)
                        printf("%s %d %s %s\n", st.managed ? "managed" : "named", (int)st.pid,
                               st.answers ? "answers" : "silent", st.host);
        } else {
                r = error_set(err, STACK_EUSAGE, "usage: tool-swreg ensure | push HOST REF IMAGE_ID | stop | status");
        }
        return r;
}

int main(int argc, char **argv)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        int r;

        r = store_open(NULL, &s, &err);
        if (r == 0)
                r = run(argc, argv, s, &err);
        store_free(s);
        if (r < 0) {
                fprintf(stderr, "tool-swreg: %s\n", err.msg);
                return stack_exit_code(r);
        }
        return 0;
}
