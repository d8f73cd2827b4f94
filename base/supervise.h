/* supervise.h - a program stack keeps running in the background after the command that started it exits: the
 * front door's Caddy (spec/proxy.md "The process") and the managed registry (spec/run.md "The managed registry").
 *
 * A small supervisor process, in a session of its own, is the program's parent. It exits when the program exits
 * (with the program's exit status; 127 when the program could not be executed), and it stops the program
 * (SIGTERM, then SIGKILL after stop_wait_ms) and exits 0 when it gets SIGTERM or SIGINT, or when the directory it
 * watches is removed or replaced (the store deleted under it: nothing is left running for a store that is gone).
 *
 * Calling sequence:
 *   struct supervise_spec sp = {.name = "stack-frontdoor", .dir = ..., .log = ..., .path = bin, .argv = ...};
 *   supervise_start(&sp, &pid, err)   forks the supervisor (pid), which forks and execs the program
 *   the caller then waits until the program answers in its own way, reaping pid (waitpid WNOHANG): a supervisor
 *   that exited means the program did (its status says how); kill(pid, SIGTERM) gives up on it.
 * The supervisor and the program get /dev/null as stdin and the log (appended, created 0600) as stdout and
 * stderr, and no other file descriptor of the caller. After the fork only async-signal-safe calls are made: the
 * process that calls may have threads (the daemon).
 */
#ifndef STACK_SUPERVISE_H
#define STACK_SUPERVISE_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

struct supervise_spec {
        const char *name;           /* the supervisor's name in ps (at most 15 bytes) */
        const char *what;           /* in messages: "the proxy" */
        const char *dir;            /* watched every poll_ms; the program's working directory */
        const char *log;            /* the output of both */
        const char *path;           /* the program */
        const char *const *argv;    /* its arguments, argv[0] included, NULL-terminated */
        const char *const *env_set; /* "NAME=VALUE" entries that replace or add to the caller's environment */
        const char *pid_file;       /* the supervisor writes the program's pid there (NULL: nowhere) */
        int poll_ms;
        int stop_wait_ms;
};

/* 0 with *ret_pid the supervisor's pid; STACK_ESTORE when dir cannot be read ("cannot stat DIR"), STACK_ERUNTIME
 * "cannot start <what>" when it cannot fork, STACK_EFAIL when out of memory. */
int supervise_start(const struct supervise_spec *sp, pid_t *ret_pid, struct error *err);

/* Has pid not exited? A zombie (exited, not yet reaped) has; a pid kill(pid, 0) cannot reach is gone. */
bool supervise_running(pid_t pid);
/* The end of what the log holds from offset from on (at most size - 1 bytes: the last ones), NUL-terminated in
 * buf: what a program said before it exited at start. Its length; 0 when there is nothing or no log. */
size_t supervise_log_since(const char *log, off_t from, char *buf, size_t size);
/* The pid a pid file names (decimal) when that process is running, else 0. */
pid_t supervise_pid_file(const char *path);

#endif
