/* caddy.h - the Caddy process stack runs and its admin API on a unix socket (spec/proxy.md "The process").
 *
 * Calling sequence:
 *   caddy_paths_init(&p, home, err)              names proxy/ under home (made 0700): caddy.json, admin.sock,
 *                                                caddy.pid, caddy.log, config/, data/
 *   caddy_running(&p)                            does the admin socket answer?
 *   caddy_start(&p, home, config, port, http_port, err)
 *                                                claims the port in the front door registry (frontdoor.h:
 *                                                refused when another store's proxy or another program holds
 *                                                it), writes the config, starts a supervisor in its own session
 *                                                that runs `caddy run` and stops it when proxy/ is deleted,
 *                                                waits until the admin socket answers (or caddy exits)
 *   caddy_load(&p, config, port, err)            POST /load: the running proxy takes the whole new config
 *   caddy_get(&p, path, &json, err)              GET a part of the running config (for status)
 *   caddy_stop(&p, err)                          POST /stop, then SIGTERM if it lingers; removes the pid file
 * port is only used to name the port in a "cannot listen" message.
 */
#ifndef STACK_CADDY_H
#define STACK_CADDY_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

#define CADDY_START_WAIT_MS 10000
#define CADDY_STOP_WAIT_MS  5000

struct caddy_paths {
        char dir[PATH_MAX], config[PATH_MAX], socket[PATH_MAX], pid[PATH_MAX], log[PATH_MAX];
};

int caddy_paths_init(struct caddy_paths *p, const char *home, struct error *err);
/* $STACK_PROXY_BIN, else `caddy` on PATH, into buf; -STACK_ERUNTIME with how to install it when missing. */
int caddy_find(char *buf, size_t size, struct error *err);
bool caddy_running(const struct caddy_paths *p);
/* The pid Caddy wrote, 0 when none or not alive. */
pid_t caddy_pid(const struct caddy_paths *p);
int caddy_start(const struct caddy_paths *p, const char *home, const char *config, int port, int http_port,
                struct error *err);
int caddy_load(const struct caddy_paths *p, const char *config, int port, struct error *err);
int caddy_get(const struct caddy_paths *p, const char *path, char **ret_body, struct error *err);
int caddy_stop(const struct caddy_paths *p, struct error *err);

#endif
