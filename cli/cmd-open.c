/* cmd-open.c - `stack open [--print] [--port N]`: a one-time login link for the page stack serve serves at its
 * own origin (spec/api.md "The page"), opened with xdg-open where there is one, else printed. */
#include "cli.h"
#include "api/server.h"
#include "api/session.h"

#include <errno.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static bool on_path(const char *name)
{
        const char *path = getenv("PATH");
        char buf[4096];

        for (const char *p = path; p && *p;) {
                size_t n = strcspn(p, ":");
                if (n > 0 && snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, name) < (int)sizeof buf &&
                    access(buf, X_OK) == 0)
                        return true;
                p += n + (p[n] == ':');
        }
        return false;
}

static bool xdg_open(const char *url)
{
        char *argv[] = {"xdg-open", (char *)url, NULL};
        pid_t pid;
        int status = 0;

        if (!on_path("xdg-open") || posix_spawnp(&pid, "xdg-open", NULL, NULL, argv, environ) != 0)
                return false;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int port_arg(void *ret, const char *cmd, const char *arg)
{
        char *end;

        errno = 0;
        *(unsigned long *)ret = strtoul(arg, &end, 10);
        if (errno || *end || !*arg || *(unsigned long *)ret < 1 || *(unsigned long *)ret > 65535)
                return cli_usage(cmd, "--port wants 1-65535, not '%s'", arg);
        return 0;
}

int cmd_open(int argc, char **argv)
{
        unsigned long port = SERVER_DEFAULT_PORT;
        bool print = false;
        const struct cli_option opts[] = {
                {"print", 0, .flag = &print}, {"port", 0, .parse = port_arg, .ctx = &port}, {0}};
        char help[512];
        struct store *s = NULL;
        const struct cli_command c = {"open", help, opts, .args = {0, 0, "takes no arguments"}, .store = &s};
        char token[LOGIN_TOKEN_HEX + 1], url[256];
        struct error err = ERROR_INIT;
        int r;

        snprintf(help, sizeof help,
                 "usage: stack open [--print] [--port N]\n"
                 "Opens the page of stack serve (https://127.0.0.1:%d/) in the browser with a one-time\n"
                 "login link (xdg-open; without it, or with --print, the link is printed). The link works\n"
                 "once, for %d seconds, and logs the browser in for %d hours (until stack serve restarts).\n"
                 "--port: the port stack serve listens on.\n",
                 SERVER_DEFAULT_PORT, LOGIN_TTL_DEFAULT, SESSION_TTL / 3600);
        r = cli_parse(&c, argc, argv);
        if (r != CLI_PARSED)
                return r;
        r = login_token_create(store_home(s), LOGIN_TTL_DEFAULT, (int64_t)time(NULL), token, &err);
        store_free(s);
        if (r < 0)
                return cli_fail(&err);
        snprintf(url, sizeof url, "https://127.0.0.1:%lu/login?t=%s", port, token);
        if (!print && xdg_open(url)) {
                fprintf(stderr, "stack: opened the page in the browser (the link works once, for %d seconds)\n",
                        LOGIN_TTL_DEFAULT);
                return 0;
        }
        if (!print)
                fprintf(stderr, "stack: no xdg-open: open this link in the browser (it works once, for %d seconds):\n",
                        LOGIN_TTL_DEFAULT);
        printf("%s\n", url);
        return 0;
}
