/* supervise.c - a program kept in the background under a supervisor of its own (supervise.h). Everything the
 * supervisor needs (the environment, the pid file's temp name) is made before the fork: after it, only
 * async-signal-safe calls.
 */
#include "base/supervise.h"
#include "base/wallclock.h"
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t supervisor_stop;

static void on_term(int sig)
{
        (void)sig;
        supervisor_stop = 1;
}

/* The pid, as decimal digits and a newline, written to tmp and renamed to path. */
static void write_pid(const char *path, const char *tmp, pid_t pid)
{
        char digits[16], *d = digits + sizeof digits;
        int fd;

        *--d = '\n';
        do
                *--d = (char)('0' + pid % 10);
        while ((pid /= 10) > 0);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        if (write(fd, d, (size_t)(digits + sizeof digits - d)) > 0)
                rename(tmp, path);
        close(fd);
}

static void supervise(const struct supervise_spec *sp, char *const *envp, const char *pid_tmp,
                      const struct stat *dir_st)
{
        struct sigaction sa;
        struct stat st;
        pid_t child;
        int status, waited;

        prctl(PR_SET_NAME, sp->name, 0, 0, 0); /* what ps shows for it */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        child = fork();
        if (child < 0)
                _exit(127);
        if (child == 0) {
                sa.sa_handler = SIG_DFL;
                sigaction(SIGTERM, &sa, NULL);
                sigaction(SIGINT, &sa, NULL);
                if (chdir(sp->dir) == 0)
                        execve(sp->path, (char *const *)sp->argv, envp);
                _exit(127);
        }
        if (sp->pid_file)
                write_pid(sp->pid_file, pid_tmp, child);
        for (;;) {
                if (waitpid(child, &status, WNOHANG) == child)
                        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
                if (supervisor_stop || stat(sp->dir, &st) < 0 || st.st_ino != dir_st->st_ino ||
                    st.st_dev != dir_st->st_dev)
                        break;
                sleep_ms(sp->poll_ms);
        }
        kill(child, SIGTERM);
        for (waited = 0; waited < sp->stop_wait_ms; waited += 50) {
                if (waitpid(child, &status, WNOHANG) == child)
                        _exit(0);
                sleep_ms(50);
        }
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        _exit(0);
}

static void child_start(const struct supervise_spec *sp, char *const *envp, const char *pid_tmp,
                        const struct stat *dir_st)
{
        int fd;

        setsid();
        fd = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
                dup2(fd, 0);
                close(fd);
        }
        fd = open(sp->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
        }
        for (int i = 3; i < 1024; i++)
                close(i); /* the caller's locks, sockets and index among them */
        supervise(sp, envp, pid_tmp, dir_st);
}

/* The caller's environment with env_set's names replaced or added; the strings are borrowed. */
static char **environment(const char *const *set)
{
        size_t n = 0, k = 0, i, j;
        char **v;

        while (environ && environ[n])
                n++;
        for (j = 0; set && set[j]; j++)
                ;
        v = calloc(n + j + 1, sizeof *v);
        if (!v)
                return NULL;
        for (i = 0; i < n; i++) {
                bool replaced = false;

                for (j = 0; set && set[j] && !replaced; j++) {
                        size_t nl = strcspn(set[j], "=");
                        replaced = !strncmp(environ[i], set[j], nl) && environ[i][nl] == '=';
                }
                if (!replaced)
                        v[k++] = environ[i];
        }
        for (j = 0; set && set[j]; j++)
                v[k++] = (char *)set[j];
        return v;
}

int supervise_start(const struct supervise_spec *sp, pid_t *ret_pid, struct error *err)
{
        struct stat dir_st;
        char **envp = NULL, *pid_tmp = NULL;
        pid_t pid;
        int r = 0;

        if (stat(sp->dir, &dir_st) < 0)
                return error_errno(err, STACK_ESTORE, -errno, "cannot stat %s", sp->dir);
        envp = environment(sp->env_set);
        if (!envp || (sp->pid_file && asprintf(&pid_tmp, "%s.tmp", sp->pid_file) < 0)) {
                free(envp);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        pid = fork();
        if (pid == 0)
                child_start(sp, envp, pid_tmp, &dir_st);
        if (pid < 0)
                r = error_errno(err, STACK_ERUNTIME, -errno, "cannot start %s", sp->what);
        else
                *ret_pid = pid;
        free(envp);
        free(pid_tmp);
        return r;
}

bool supervise_running(pid_t pid)
{
        char path[64], *stat = NULL, *paren;
        size_t len;
        bool alive;

        if (pid <= 0 || kill(pid, 0) < 0)
                return false;
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (fs_read_file(path, 4096, &stat, &len) < 0)
                return true;        /* no /proc to look in: kill() said it is there */
        paren = strrchr(stat, ')'); /* "pid (comm) S ...": comm may hold spaces and parentheses */
        alive = !paren || paren[1] != ' ' || (paren[2] != 'Z' && paren[2] != 'X');
        free(stat);
        return alive;
}

pid_t supervise_pid_file(const char *path)
{
        char *s = NULL;
        size_t len;
        long pid;

        if (fs_read_file(path, 64, &s, &len) < 0)
                return 0;
        pid = strtol(s, NULL, 10);
        free(s);
        return pid > 0 && pid <= INT_MAX && supervise_running((pid_t)pid) ? (pid_t)pid : 0;
}

size_t supervise_log_since(const char *log, off_t from, char *buf, size_t size)
{
        ssize_t n;
        off_t end;
        int fd = open(log, O_RDONLY | O_CLOEXEC);

        buf[0] = 0;
        if (fd < 0)
                return 0;
        end = lseek(fd, 0, SEEK_END);
        if (end - from > (off_t)size - 1)
                from = end - ((off_t)size - 1);
        n = pread(fd, buf, size - 1, from < 0 ? 0 : from);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        return (size_t)n;
}
