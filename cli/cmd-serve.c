/* cmd-serve.c - `stack serve`: the localhost HTTPS API (spec/api.md). Runs until SIGTERM or SIGINT. */
#include "cli.h"
#include "api/cert.h"
#include "api/jwt.h"
#include "orch/requests.h"
#include "api/server.h"
#include "run/run.h"
#include "base/fsutil.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#define MAX_ORIGINS  16
#define PEM_FILE_MAX (64 * 1024)

/* scheme://host[:port] exactly, as browsers send Origin: no path, no wildcard, no "null". */
static bool origin_valid(const char *o)
{
        const char *host;

        if (!strncmp(o, "https://", 8))
                host = o + 8;
        else if (!strncmp(o, "http://", 7))
                host = o + 7;
        else
                return false;
        return *host && strlen(o) < 256 && !strpbrk(host, "/*?# \t\r\n") && o[strlen(o) - 1] != ':';
}

static int print_cert(const char *cert_path, struct error *err)
{
        char fp[CERT_FP_LEN];
        int r = cert_fingerprint(cert_path, fp, err);

        if (r < 0)
                return r;
        printf("certificate: %s\nsha256 fingerprint: %s\n", cert_path, fp);
        printf("to trust it in Chromium/Firefox on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t P,, -n stack-api -i %s\n",
               cert_path);
        return 0;
}

/* Before serving: run states reconciled with the Engine (as `stack ps` does), and requests a previous daemon
 * left pending expired (nothing waits for them any more). Neither failing stops the daemon. */
static void reconcile(struct store *s)
{
        struct error err = ERROR_INIT;
        struct run_info *v = NULL;
        size_t n = 0;
        unsigned expired = 0;

        if (run_list(s, &v, &n, &err) < 0)
                fprintf(stderr, "stack serve: warning: cannot reconcile runs: %s\n", err.msg);
        else
                fprintf(stderr, "stack serve: %zu run(s) reconciled with the Engine\n", n);
        run_infos_free(v, n);
        error_clear(&err);
        if (requests_expire(s, NULL, true, "stack serve restarted", &expired, &err) < 0)
                fprintf(stderr, "stack serve: warning: cannot expire old requests: %s\n", err.msg);
        else if (expired)
                fprintf(stderr, "stack serve: %u request(s) left pending by a previous daemon expired\n", expired);
}

/* cfg as the options made it; the keys, the secret and the store are added here. */
static int serve(struct store *s, struct server_config *cfg, const char *key_path, const char *cert_path,
                 const char *secret_path, struct error *err)
{
        unsigned char secret[JWT_SECRET_LEN];
        struct server *srv = NULL;
        char *key_pem = NULL, *cert_pem = NULL;
        size_t len = 0;
        sigset_t stop;
        int r, sig = 0;

        r = jwt_secret_load(secret_path, true, secret, err);
        if (r < 0)
                return r;
        r = fs_read_file(key_path, PEM_FILE_MAX, &key_pem, &len);
        if (r == 0)
                r = fs_read_file(cert_path, PEM_FILE_MAX, &cert_pem, &len);
        if (r < 0) {
                r = error_errno(err, STACK_ESTORE, r, "cannot read the API key or certificate in %s", key_path);
                goto done;
        }
        /* Before any thread starts, so that every thread inherits the mask and only sigwait sees them. */
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stop, NULL);
        signal(SIGPIPE, SIG_IGN);

        reconcile(s);
        cfg->key_pem = key_pem;
        cfg->cert_pem = cert_pem;
        cfg->secret = secret;
        cfg->secret_len = sizeof secret;
        cfg->store = s;
        r = server_start(cfg, &srv, err);
        if (r < 0)
                goto done;
        fprintf(stderr, "stack serve: listening on https://%s%s%s:%u (store %s)\n",
                strchr(cfg->address, ':') ? "[" : "", cfg->address, strchr(cfg->address, ':') ? "]" : "",
                server_port(srv), store_home(s));
        for (size_t i = 0; i < cfg->n_origins; i++)
                fprintf(stderr, "stack serve: allowed origin %s\n", cfg->origins[i]);
        fprintf(stderr, "stack serve: catalog %s; requests wait %d s for approval\n",
                cfg->catalog && *cfg->catalog ? cfg->catalog : "(none: slugs in the store only)", cfg->expiry_s);
        if (cfg->auto_approve)
                fprintf(stderr, "stack serve: WARNING: --auto-approve: EVERY POST /run STARTS WITHOUT ASKING. "
                                "For tests only.\n");
        while (sigwait(&stop, &sig) != 0)
                ;
        fprintf(stderr, "stack serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        server_stop(srv);
        fprintf(stderr, "stack serve: stopped\n");
done:
        mbedtls_platform_zeroize(secret, sizeof secret);
        if (key_pem)
                mbedtls_platform_zeroize(key_pem, strlen(key_pem));
        free(key_pem);
        free(cert_pem);
        return r;
}

static int port_arg(void *ret, const char *cmd, const char *arg)
{
        unsigned long port;
        char *end;

        errno = 0;
        port = strtoul(arg, &end, 10);
        if (errno || *end || !*arg || port > 65535)
                return cli_usage(cmd, "--port wants 0-65535, not '%s'", arg);
        *(unsigned *)ret = (unsigned)port;
        return 0;
}

struct origins {
        const char *v[MAX_ORIGINS];
        size_t n;
};

static int origin_arg(void *ret, const char *cmd, const char *arg)
{
        struct origins *o = ret;

        if (!origin_valid(arg))
                return cli_usage(cmd, "--origin wants scheme://host[:port] (no path, no *), not '%s'", arg);
        if (o->n == MAX_ORIGINS)
                return cli_usage(cmd, "at most %d origins", MAX_ORIGINS);
        o->v[o->n++] = arg;
        return 0;
}

/* The defaults spelled out at compile time, into the help text. */
#define STR_(x) #x
#define STR(x)  STR_(x)
#define PORT    STR(SERVER_DEFAULT_PORT)
#define EXPIRY  STR(REQUEST_EXPIRY_DEFAULT)
#define ORIGIN  SERVER_DEFAULT_ORIGIN

static const char help[] =
        "usage: stack serve [--port N] [--address A] [--origin O]... [--catalog URL]\n"
        "                   [--auto-approve] [--print-cert]\n"
        "The localhost HTTPS API (default https://127.0.0.1:" PORT ") for the catalog website and local\n"
        "tools. --address must be a loopback address; --origin adds a website origin allowed by CORS\n"
        "(always allowed: " ORIGIN "); --port 0 picks a free port. --print-cert prints the certificate's\n"
        "path and SHA-256 fingerprint (making it first if needed) and exits. Keys live in\n"
        "$STACK_HOME/keys/. Stops on SIGTERM/SIGINT. Tokens: stack token.\n"
        "POST /run resolves bundle URLs under --catalog (default $STACK_CATALOG); requests wait\n"
        "for stack approve|deny ($STACK_API_REQUEST_EXPIRY seconds, default " EXPIRY "). --auto-approve\n"
        "approves every request at once: for tests only.\n";

int cmd_serve(int argc, char **argv)
{
        struct server_config cfg = {.address = SERVER_DEFAULT_ADDRESS, .port = SERVER_DEFAULT_PORT};
        struct origins origins = {{SERVER_DEFAULT_ORIGIN}, 1};
        bool show_cert = false, created = false;
        const struct cli_option opts[] = {{"port", 0, .parse = port_arg, .ctx = &cfg.port},
                                          {"address", 0, .arg = &cfg.address},
                                          {"origin", 0, .parse = origin_arg, .ctx = &origins},
                                          {"print-cert", 0, .flag = &show_cert},
                                          {"catalog", 0, .arg = &cfg.catalog},
                                          {"auto-approve", 0, .flag = &cfg.auto_approve},
                                          {0}};
        const struct cli_command c = {"serve", help, opts, .args = {0, 0, "takes no arguments"}};
        char key_path[PATH_MAX], cert_path[PATH_MAX], secret_path[PATH_MAX], *end;
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        if (server_check_address(cfg.address, &err) < 0)
                return cli_fail(&err);
        if (!cfg.catalog)
                cfg.catalog = getenv("STACK_CATALOG");
        cfg.expiry_s = REQUEST_EXPIRY_DEFAULT;
        if (getenv("STACK_API_REQUEST_EXPIRY")) {
                const char *e = getenv("STACK_API_REQUEST_EXPIRY");
                long v = strtol(e, &end, 10);
                if (!*e || *end || v < 1 || v > 86400)
                        return cli_usage("serve", "STACK_API_REQUEST_EXPIRY wants 1-86400 seconds, not '%s'", e);
                cfg.expiry_s = (int)v;
        }
        cfg.origins = origins.v;
        cfg.n_origins = origins.n;
        r = cli_open_store(&s, &err);
        if (r < 0)
                goto fail;
        if (fs_path(key_path, sizeof key_path, "%s/keys/api-key.pem", store_home(s)) < 0 ||
            fs_path(cert_path, sizeof cert_path, "%s/keys/api-cert.pem", store_home(s)) < 0 ||
            fs_path(secret_path, sizeof secret_path, "%s/keys/api.secret", store_home(s)) < 0) {
                r = error_set(&err, STACK_ESTORE, "store path too long: %s", store_home(s));
                goto fail;
        }
        r = cert_ensure(key_path, cert_path, &created, &err);
        if (r < 0)
                goto fail;
        if (created)
                fprintf(stderr, "stack serve: made a new TLS certificate %s\n", cert_path);
        r = show_cert ? print_cert(cert_path, &err) : serve(s, &cfg, key_path, cert_path, secret_path, &err);
        if (r < 0)
                goto fail;
        store_free(s);
        return 0;
fail:
        store_free(s);
        return cli_fail(&err);
}
