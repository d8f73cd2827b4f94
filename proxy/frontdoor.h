/* frontdoor.h - one front door per machine: which store's proxy holds a port (spec/proxy.md "One front door
 * per machine").
 *
 * Caddy binds its ports with SO_REUSEPORT, so a second Caddy of the same user on 127.0.0.1:443 binds it too and
 * the kernel spreads connections over both. Before a proxy starts, its store claims the port in a registry
 * every store of the user shares: $XDG_RUNTIME_DIR/stack (else /tmp/stack-<uid>), mode 0700, owned by the
 * user, one marker per network namespace and port, `frontdoor-<netns inode>-<port>`, holding
 * {"store": HOME, "proxy_dir": HOME/proxy, "pid": caddy's pid}.
 *
 * Calling sequence (caddy.c, around the start of a proxy):
 *   frontdoor_claim(&fd, home, proxy_dir, port, http_port, err)
 *        takes the registry's lock for port; refuses (-STACK_ERUNTIME) when another store's live proxy holds
 *        port (the message names that store and STACK_PROXY_PORT) or when anything else answers on port or
 *        http_port; a proxy whose store directory is gone is stopped first (an orphan)
 *   ... start the proxy ...
 *   frontdoor_commit(&fd, pid)      on success: the marker names this store and the proxy's pid
 *   frontdoor_release(&fd)          always: drops the lock (safe after a failed claim)
 *   frontdoor_stop_orphan(port)     stop the proxy on port when its store directory is gone; 1 when it did
 */
#ifndef STACK_FRONTDOOR_H
#define STACK_FRONTDOOR_H

#include <limits.h>
#include <sys/types.h>

#include "base/error.h"

/* How long a proxy outlives its deleted store at most: the supervisor polls the store every
 * FRONTDOOR_POLL_MS and gives Caddy CADDY_STOP_WAIT_MS to stop. */
#define FRONTDOOR_POLL_MS 500

struct frontdoor {
        char marker[PATH_MAX], home[PATH_MAX], proxy_dir[PATH_MAX];
        int lock_fd;
};

int frontdoor_claim(struct frontdoor *f, const char *home, const char *proxy_dir, int port, int http_port,
                    struct error *err);
int frontdoor_commit(struct frontdoor *f, pid_t pid);
void frontdoor_release(struct frontdoor *f);
int frontdoor_stop_orphan(int port);

#endif
