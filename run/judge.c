/* judge.c - the containers, volumes and networks the Engine holds for a project, compared with the sandbox and
 * the grants before anything starts (interface judge.h, spec/run.md "What the Engine was asked for").
 *
 * Every field is read from the Engine's own inspect answer: what the compose tool made of the file, whatever
 * YAML produced it. The first field outside the sandbox is the refusal. Permissions are found by name
 * (policy_perm_from_name()): a name the policy does not define is never granted.
 */
#include "judge.h"
#include "judge-int.h"
#include "policy.h"
#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROJECT_LABEL "com.docker.compose.project"

/* ---- small helpers ---- */

static bool granted(const struct judge_input *in, const char *perm)
{
        unsigned bit = policy_perm_from_name(perm);

        return bit && (in->allow & bit);
}

int judge_refuse(struct error *err, const char *who, const char *perm, const char *fmt, ...)
{
        char what[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        if (perm && policy_perm_from_name(perm))
                return error_set(err, STACK_EREJECT,
                                 "%s: %s needs permission '%s' (the Engine was asked for it; nothing was started)", who,
                                 what, perm);
        return error_set(err, STACK_EREJECT, "%s: %s is not allowed (the Engine was asked for it; nothing was started)",
                         who, what);
}

int judge_need(const struct judge_input *in, struct error *err, const char *who, const char *perm, bool alt_privileged,
               const char *fmt, ...)
{
        char what[512];
        va_list ap;

        if (granted(in, perm) || (alt_privileged && granted(in, "privileged")))
                return 0;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        return judge_refuse(err, who, perm, "%s", what);
}

static int strv_push(char ***v, size_t *n, const char *s, size_t len)
{
        char **nv;

        for (size_t i = 0; i < *n; i++)
                if (strlen((*v)[i]) == len && !strncmp((*v)[i], s, len))
                        return 0;
        nv = realloc(*v, (*n + 2) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strndup(s, len);
        if (!nv[*n])
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

void judge_refs_release(struct judge_refs *r)
{
        for (size_t i = 0; i < r->n_containers; i++)
                free(r->containers[i]);
        for (size_t i = 0; i < r->n_volumes; i++)
                free(r->volumes[i]);
        for (size_t i = 0; i < r->n_networks; i++)
                free(r->networks[i]);
        free(r->containers);
        free(r->volumes);
        free(r->networks);
        memset(r, 0, sizeof *r);
}

/* ---- bind sources ---- */

/* path made absolute and clean ("." and ".." and "//" folded), without looking at the disk. */
static int lexical(const char *path, char *out, size_t size)
{
        size_t o = 0;
        const char *p = path;

        if (path[0] != '/' || size < 2)
                return -EINVAL;
        out[o++] = '/';
        while (*p) {
                size_t len;
                while (*p == '/')
                        p++;
                len = strcspn(p, "/");
                if (len == 0)
                        break;
                if (len == 1 && p[0] == '.') {
                } else if (len == 2 && p[0] == '.' && p[1] == '.') {
                        while (o > 1 && out[o - 1] != '/')
                                o--;
                        if (o > 1)
                                o--;
                } else {
                        if (o > 1)
                                out[o++] = '/';
                        if (o + len + 1 > size)
                                return -ENAMETOOLONG;
                        memcpy(out + o, p, len);
                        o += len;
                }
                p += len;
        }
        out[o] = 0;
        return 0;
}

/* Where a host path leads now: the deepest existing ancestor resolved (symlinks followed: a link inside the run
 * dir that points out is judged by its target), the rest appended as written (it does not exist, so it holds no
 * link; the Engine creates it). */
static int resolve_host(const char *path, char *out, size_t size)
{
        char clean[PATH_MAX], head[PATH_MAX], real[PATH_MAX];
        const char *rest;
        int r = lexical(path, clean, sizeof clean);

        if (r < 0)
                return r;
        snprintf(head, sizeof head, "%s", clean);
        while (!realpath(head, real)) {
                char *slash = strrchr(head, '/');
                if (!slash || slash == head) {
                        snprintf(head, sizeof head, "/");
                        snprintf(real, sizeof real, "/");
                        break;
                }
                *slash = 0;
        }
        rest = clean + (strcmp(head, "/") ? strlen(head) : 0); /* "" or "/more" */
        if (!strcmp(real, "/"))
                r = snprintf(out, size, "%s", *rest ? rest : "/");
        else
                r = snprintf(out, size, "%s%s", real, rest);
        return r < 0 || (size_t)r >= size ? -ENAMETOOLONG : 0;
}

static bool inside(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        if (!n)
                return false;
        if (n > 1 && dir[n - 1] == '/')
                n--;
        return !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

static bool docker_socket(const char *resolved)
{
        static const char *const socks[] = {"/var/run/docker.sock", "/run/docker.sock"};
        char real[PATH_MAX];
        const char *host = getenv("DOCKER_HOST");
        struct stat st;

        for (size_t i = 0; i < sizeof socks / sizeof *socks; i++)
                if (!strcmp(resolved, socks[i]) || (realpath(socks[i], real) && !strcmp(resolved, real)))
                        return true;
        if (host && !strncmp(host, "unix://", 7) && realpath(host + 7, real) && !strcmp(resolved, real))
                return true;
        /* any other socket file is not the bundle's either: judged as a host path below, unless inside the
         * dirs, where only a socket the container itself made can be */
        return stat(resolved, &st) == 0 && S_ISSOCK(st.st_mode) && strstr(resolved, "docker") != NULL;
}

int judge_bind(const struct judge_input *in, const char *who, const char *field, const char *src, struct error *err)
{
        char res[PATH_MAX], run_real[PATH_MAX], data_real[PATH_MAX], what[PATH_MAX + 64];

        if (resolve_host(src, res, sizeof res) < 0)
                return judge_refuse(err, who, "host-bind", "%s bind of '%s' (not an absolute host path)", field, src);
        if (docker_socket(res)) {
                snprintf(what, sizeof what, "%s bind of the Docker socket %s", field, src);
                return judge_need(in, err, who, "docker-socket", false, "%s", what);
        }
        if (resolve_host(in->run_dir, run_real, sizeof run_real) < 0 ||
            resolve_host(in->data_dir, data_real, sizeof data_real) < 0)
                return error_set(err, STACK_EFAIL, "judge: the run dir or data dir is not an absolute path");
        if (inside(res, run_real) || inside(res, data_real))
                return 0;
        snprintf(what, sizeof what, "%s bind of %s%s%s%s (outside the run dir and the data dir)", field, src,
                 strcmp(src, res) ? " (" : "", strcmp(src, res) ? res : "", strcmp(src, res) ? ")" : "");
        return judge_need(in, err, who, "host-bind", false, "%s", what);
}

/* ---- one container ---- */

/* A container another one points at, as "FIELD=NAME" (names hold no '='). */
static int container_ref(struct judge_refs *refs, const char *field, const char *name, size_t len)
{
        char buf[512];
        int n = snprintf(buf, sizeof buf, "%s=%.*s", field, (int)len, name);

        return strv_push(&refs->containers, &refs->n_containers, buf,
                         (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* "container:X" of a mode: X collected for judge_reference(). */
static int mode_ref(const char *field, const char *mode, struct judge_refs *refs)
{
        if (strncmp(mode, "container:", 10) || !mode[10])
                return 0;
        return container_ref(refs, field, mode + 10, strlen(mode + 10));
}

static int judge_namespaces(const struct judge_input *in, const char *who, const json_t *hc, struct judge_refs *refs,
                            struct error *err)
{
        const char *net = str(hc, "NetworkMode"), *pid = str(hc, "PidMode"), *ipc = str(hc, "IpcMode");
        const char *userns = str(hc, "UsernsMode"), *uts = str(hc, "UTSMode"), *cgns = str(hc, "CgroupnsMode");
        int r = 0;

        /* Podman's compatible API names the default, a namespace of the container's own, "private" */
        if (!strcmp(pid, "private"))
                pid = "";
        if (!strcmp(uts, "private"))
                uts = "";
        if (!strcmp(userns, "private"))
                userns = "";

        if (!strcmp(net, "host"))
                r = judge_need(in, err, who, "host-network", false, "NetworkMode %s", net);
        if (r == 0 && !strcmp(pid, "host"))
                r = judge_need(in, err, who, "host-pid", false, "PidMode %s", pid);
        else if (r == 0 && *pid && strncmp(pid, "container:", 10))
                r = judge_refuse(err, who, NULL, "PidMode '%s'", pid);
        if (r == 0 && !strcmp(ipc, "host"))
                r = judge_need(in, err, who, "host-ipc", false, "IpcMode %s", ipc);
        else if (r == 0 && *ipc && strcmp(ipc, "private") && strcmp(ipc, "shareable") && strcmp(ipc, "none") &&
                 strncmp(ipc, "container:", 10))
                r = judge_refuse(err, who, NULL, "IpcMode '%s'", ipc);
        if (r == 0 && *userns)
                r = judge_need(in, err, who, "privileged", false, "UsernsMode %s", userns);
        if (r == 0 && *uts)
                r = judge_need(in, err, who, "privileged", false, "UTSMode %s", uts);
        if (r == 0 && *cgns && strcmp(cgns, "private") && !(!strcmp(cgns, "host") && in->cgroupns_host_default))
                r = judge_need(in, err, who, "privileged", false, "CgroupnsMode %s", cgns);
        if (r == 0 && *str(hc, "CgroupParent"))
                r = judge_need(in, err, who, "privileged", false, "CgroupParent %s", str(hc, "CgroupParent"));
        if (r == 0 && (mode_ref("NetworkMode container:", net, refs) < 0 ||
                       mode_ref("PidMode container:", pid, refs) < 0 || mode_ref("IpcMode container:", ipc, refs) < 0))
                r = error_set(err, STACK_EFAIL, "out of memory");
        return r;
}

static bool shared_ns(const char *mode)
{
        return !strcmp(mode, "host") || !strncmp(mode, "container:", 10);
}

static int judge_security(const struct judge_input *in, const char *who, const json_t *hc, struct error *err)
{
        const json_t *v, *opts = json_object_get(hc, "SecurityOpt");
        bool nnp = false, priv_granted = granted(in, "privileged");
        const char *rt = str(hc, "Runtime");
        size_t i;
        int r = 0;

        if (json_is_true(json_object_get(hc, "Privileged")))
                r = judge_need(in, err, who, "privileged", false, "Privileged %s", "true");
        if (r == 0 && non_empty(json_object_get(hc, "CapAdd"))) {
                const char *first = json_string_value(json_array_get(json_object_get(hc, "CapAdd"), 0));
                r = judge_need(in, err, who, "cap-add", true, "CapAdd [%s]", first ? first : "?");
        }
        json_array_foreach(opts, i, v)
        {
                const char *o = json_string_value(v);
                if (!o)
                        continue;
                if (!strcmp(o, "no-new-privileges") || !strcasecmp(o, "no-new-privileges:true") ||
                    !strcasecmp(o, "no-new-privileges=true")) {
                        nnp = true;
                        continue;
                }
                /* the Engine's own, with a shared pid or ipc namespace (judged as such) */
                if (!strcmp(o, "label=disable") && (shared_ns(str(hc, "PidMode")) || shared_ns(str(hc, "IpcMode"))))
                        continue;
                if (r == 0)
                        r = judge_need(in, err, who, "privileged", false, "SecurityOpt %s", o);
        }
        if (r == 0 && !nnp && !priv_granted)
                r = judge_refuse(err, who, "privileged", "SecurityOpt %s", "without no-new-privileges");
        /* "oci": what Podman's compatible API reports for its default OCI runtime (runc or crun, as configured) */
        if (r == 0 && *rt && strcmp(rt, "runc") && strcmp(rt, "oci"))
                r = judge_need(in, err, who, "privileged", false, "Runtime %s", rt);
        /* systempaths=unconfined empties these; privileged containers have none */
        v = json_object_get(hc, "MaskedPaths");
        if (r == 0 && json_is_array(v) && json_array_size(v) == 0 && !json_is_true(json_object_get(hc, "Privileged")))
                r = judge_need(in, err, who, "privileged", false, "MaskedPaths %s", "[] (systempaths=unconfined)");
        if (r == 0 && non_empty(json_object_get(hc, "Devices")))
                r = judge_need(in, err, who, "devices", true, "Devices %s",
                               str(json_array_get(json_object_get(hc, "Devices"), 0), "PathOnHost"));
        if (r == 0 && non_empty(json_object_get(hc, "DeviceCgroupRules")))
                r = judge_need(in, err, who, "devices", true, "DeviceCgroupRules %s",
                               json_string_value(json_array_get(json_object_get(hc, "DeviceCgroupRules"), 0))
                                       ? json_string_value(json_array_get(json_object_get(hc, "DeviceCgroupRules"), 0))
                                       : "?");
        if (r == 0 && non_empty(json_object_get(hc, "DeviceRequests")))
                r = judge_need(in, err, who, "devices", true, "DeviceRequests %s", "(gpus)");
        return r;
}

int judge_sysctls(const struct judge_input *in, const char *who, const char *field, const json_t *sysctls, bool own_net,
                  struct error *err)
{
        const json_t *v;
        const char *k;

        json_object_foreach((json_t *)sysctls, k, v)
        {
                bool ok = (!strncmp(k, "net.", 4) && own_net) || !strncmp(k, "kernel.shm", 10) ||
                          !strncmp(k, "kernel.msg", 10) || !strcmp(k, "kernel.sem") || !strncmp(k, "fs.mqueue.", 10);
                if (!ok) {
                        int r = judge_need(in, err, who, "privileged", false, "%s %s", field, k);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int ulimit_resource(const char *name)
{
        static const struct {
                const char *name;
                int res;
        } map[] = {
                {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
                {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
                {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
                {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
                {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
                {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
                {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
                {"stack", RLIMIT_STACK},
        };

        for (size_t i = 0; i < sizeof map / sizeof *map; i++)
                if (!strcmp(name, map[i].name))
                        return map[i].res;
        return -1;
}

int judge_log_driver(const struct judge_input *in, const char *who, const char *field, const char *driver,
                     struct error *err)
{
        if (*driver && strcmp(driver, "json-file") && strcmp(driver, "local") && strcmp(driver, "none"))
                return judge_need(in, err, who, "logging", false, "%s %s", field, driver);
        return 0;
}

int judge_ulimits(const struct judge_input *in, const char *who, const char *field, const json_t *ulimits,
                  struct error *err)
{
        const json_t *u;
        char buf[96];
        size_t i;
        int r = 0;

        json_array_foreach(ulimits, i, u)
        {
                char lower[32];
                const char *name = str(u, "Name");
                int res;

                if (!strncmp(name, "RLIMIT_", 7)) { /* Podman's spelling: RLIMIT_NOFILE for nofile */
                        size_t k;
                        for (k = 0; name[7 + k] && k + 1 < sizeof lower; k++)
                                lower[k] = (char)tolower((unsigned char)name[7 + k]);
                        lower[k] = 0;
                        name = lower;
                }
                res = ulimit_resource(name);
                struct rlimit rl;
                json_int_t soft = json_integer_value(json_object_get(u, "Soft")),
                           hard = json_integer_value(json_object_get(u, "Hard"));
                if (!strcmp(name, "memlock") || !strcmp(name, "nproc"))
                        continue; /* bounded by the memory and pids limits the judge checks (spec/run.md) */
                if (r == 0 && res >= 0 && getrlimit(res, &rl) == 0 && soft >= 0 && hard >= 0 && soft <= hard &&
                    (rl.rlim_max == RLIM_INFINITY || (rlim_t)hard <= rl.rlim_max))
                        continue;
                snprintf(buf, sizeof buf, "%s=%lld:%lld", name, (long long)soft, (long long)hard);
                if (r == 0)
                        r = judge_need(in, err, who, "ulimits", false, "%s %s", field, buf);
        }
        return r;
}

/* Limits: log driver, ulimits (lowering only: not above stack's own hard limit), OOM score, memory, CPU, pids. */
static int judge_limits(const struct judge_input *in, const char *who, const json_t *hc, struct error *err)
{
        json_int_t mem = json_integer_value(json_object_get(hc, "Memory")),
                   swap = json_integer_value(json_object_get(hc, "MemorySwap")),
                   nano = json_integer_value(json_object_get(hc, "NanoCpus")),
                   quota = json_integer_value(json_object_get(hc, "CpuQuota")),
                   period = json_integer_value(json_object_get(hc, "CpuPeriod")),
                   pids = json_integer_value(json_object_get(hc, "PidsLimit"));
        char buf[96];
        int r = judge_log_driver(in, who, "LogConfig.Type", str(json_object_get(hc, "LogConfig"), "Type"), err);

        if (r == 0)
                r = judge_ulimits(in, who, "Ulimits", json_object_get(hc, "Ulimits"), err);
        if (r == 0 && json_integer_value(json_object_get(hc, "OomScoreAdj")) < 0) {
                snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(json_object_get(hc, "OomScoreAdj")));
                r = judge_need(in, err, who, "oom", false, "OomScoreAdj %s", buf);
        }
        if (r == 0 && json_is_true(json_object_get(hc, "OomKillDisable")))
                r = judge_need(in, err, who, "oom", false, "OomKillDisable %s", "true");
        if (r == 0 && mem > 0 && swap == -1)
                r = judge_refuse(err, who, NULL, "MemorySwap %s", "-1 (unlimited swap)");
        if (r == 0 && in->memory && (mem <= 0 || (uint64_t)mem > in->memory)) {
                snprintf(buf, sizeof buf, "%lld (the stack's limit is %llu)", (long long)mem,
                         (unsigned long long)in->memory);
                r = judge_refuse(err, who, NULL, "Memory %s", buf);
        }
        if (r == 0 && in->memory && swap != mem) { /* the policy writes memswap_limit = mem_limit: no swap */
                snprintf(buf, sizeof buf, "%lld (memory %lld)", (long long)swap, (long long)mem);
                r = judge_refuse(err, who, NULL, "MemorySwap %s", buf);
        }
        if (r == 0 && in->cpus > 0) {
                double got = nano > 0    ? (double)nano / 1e9
                             : quota > 0 ? (double)quota / (double)(period > 0 ? period : 100000)
                                         : 0;
                if (!(got > 0) || got > in->cpus * 1.0001) {
                        snprintf(buf, sizeof buf, "%g (the stack's limit is %g)", got, in->cpus);
                        r = judge_refuse(err, who, NULL, "CPUs %s", buf);
                }
        }
        if (r == 0 && in->pids && (pids <= 0 || (uint64_t)pids > in->pids)) {
                snprintf(buf, sizeof buf, "%lld (the stack's limit is %llu)", (long long)pids,
                         (unsigned long long)in->pids);
                r = judge_refuse(err, who, NULL, "PidsLimit %s", buf);
        }
        return r;
}

static int judge_ports(const struct judge_input *in, const char *who, const json_t *hc, struct error *err)
{
        const json_t *list, *b;
        const char *port;
        size_t i;

        if (json_is_true(json_object_get(hc, "PublishAllPorts")))
                return judge_need(in, err, who, "listen", false, "PublishAllPorts %s", "true");
        json_object_foreach((json_t *)json_object_get(hc, "PortBindings"), port, list)
        {
                json_array_foreach(list, i, b)
                {
                        const char *ip = str(b, "HostIp");
                        char what[160];
                        int r;
                        if (!strcmp(ip, "127.0.0.1"))
                                continue;
                        snprintf(what, sizeof what, "%s on %s (not 127.0.0.1)", port, *ip ? ip : "all interfaces");
                        r = judge_need(in, err, who, "listen", false, "PortBindings %s", what);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int judge_mounts(const struct judge_input *in, const char *who, const json_t *c, const json_t *hc,
                        struct judge_refs *refs, struct error *err)
{
        const json_t *v;
        size_t i;
        int r = 0;

        json_array_foreach(json_object_get(hc, "Binds"), i, v)
        {
                const char *b = json_string_value(v);
                size_t len = b ? strcspn(b, ":") : 0;
                if (!b || r < 0)
                        continue;
                if (b[0] == '/') {
                        char src[PATH_MAX];
                        snprintf(src, sizeof src, "%.*s", (int)len, b);
                        r = judge_bind(in, who, "HostConfig.Binds", src, err);
                } else if (len && strv_push(&refs->volumes, &refs->n_volumes, b, len) < 0) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                }
        }
        json_array_foreach(json_object_get(hc, "Mounts"), i, v)
        {
                const char *type = str(v, "Type"), *src = str(v, "Source");
                if (r < 0)
                        break;
                if (!strcmp(type, "bind"))
                        r = judge_bind(in, who, "HostConfig.Mounts", src, err);
                else if (!strcmp(type, "volume")) {
                        const char *drv =
                                str(json_object_get(json_object_get(v, "VolumeOptions"), "DriverConfig"), "Name");
                        if (*drv && strcmp(drv, "local"))
                                r = judge_need(in, err, who, "volume-driver", false,
                                               "HostConfig.Mounts volume driver %s", drv);
                        else if (*src && strv_push(&refs->volumes, &refs->n_volumes, src, strlen(src)) < 0)
                                r = error_set(err, STACK_EFAIL, "out of memory");
                } else if (strcmp(type, "tmpfs"))
                        r = judge_refuse(err, who, NULL, "HostConfig.Mounts of type '%s'", type);
        }
        /* What the Engine resolved, the anonymous volumes of the image's VOLUMEs included. */
        json_array_foreach(json_object_get(c, "Mounts"), i, v)
        {
                const char *type = str(v, "Type");
                if (r < 0)
                        break;
                if (!strcmp(type, "bind"))
                        r = judge_bind(in, who, "Mounts", str(v, "Source"), err);
                else if (!strcmp(type, "volume") && *str(v, "Name") &&
                         strv_push(&refs->volumes, &refs->n_volumes, str(v, "Name"), strlen(str(v, "Name"))) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
                else if (strcmp(type, "volume") && strcmp(type, "tmpfs") && strcmp(type, "bind"))
                        r = judge_refuse(err, who, NULL, "a mount of type '%s'", type);
        }
        if (r == 0 && *str(hc, "VolumeDriver") && strcmp(str(hc, "VolumeDriver"), "local"))
                r = judge_need(in, err, who, "volume-driver", false, "VolumeDriver %s", str(hc, "VolumeDriver"));
        json_array_foreach(json_object_get(hc, "VolumesFrom"), i, v)
        {
                const char *from = json_string_value(v);
                if (r == 0 && from && container_ref(refs, "VolumesFrom", from, strcspn(from, ":")) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
        }
        json_array_foreach(json_object_get(hc, "Links"), i, v)
        {
                const char *l = json_string_value(v); /* "/container:/me/alias" */
                if (r == 0 && l && container_ref(refs, "Links", l + (l[0] == '/'), strcspn(l + (l[0] == '/'), ":")) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
        }
        return r;
}

int judge_container(const struct judge_input *in, const json_t *c, struct judge_refs *refs, struct error *err)
{
        const json_t *hc = json_object_get(c, "HostConfig"), *labels, *v;
        const char *name = str(c, "Name"), *k;
        char who[300];
        int r;

        snprintf(who, sizeof who, "container %s", *name ? name + (name[0] == '/') : str(c, "Id"));
        if (!json_is_object(hc))
                return error_set(err, STACK_ERUNTIME, "Docker Engine: %s: no HostConfig in its inspect answer", who);
        labels = json_object_get(json_object_get(c, "Config"), "Labels");
        if (strcmp(str(labels, PROJECT_LABEL), in->project))
                return judge_refuse(err, who, NULL, "the project label '%s' (not %s)", str(labels, PROJECT_LABEL),
                                    in->project);
        for (size_t i = 0; in->pinned && in->pinned[i] && in->pinned[i + 1]; i += 2)
                if (!strcmp(str(json_object_get(c, "Config"), "Image"), in->pinned[i]) &&
                    strcmp(str(c, "Image"), in->pinned[i + 1]))
                        return judge_refuse(err, who, NULL, "image %s as %s (the version is pinned to %s)",
                                            in->pinned[i], str(c, "Image"), in->pinned[i + 1]);
        r = judge_namespaces(in, who, hc, refs, err);
        if (r == 0)
                r = judge_security(in, who, hc, err);
        if (r == 0)
                r = judge_sysctls(in, who, "Sysctls", json_object_get(hc, "Sysctls"),
                                  strcmp(str(hc, "NetworkMode"), "host") != 0, err);
        if (r == 0)
                r = judge_limits(in, who, hc, err);
        if (r == 0)
                r = judge_ports(in, who, hc, err);
        if (r == 0)
                r = judge_mounts(in, who, c, hc, refs, err);
        json_object_foreach((json_t *)json_object_get(json_object_get(c, "NetworkSettings"), "Networks"), k, v)
        {
                if (r == 0 && strv_push(&refs->networks, &refs->n_networks, k, strlen(k)) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
        }
        return r;
}

/* ---- what the containers point at ---- */

int judge_reference(const struct judge_input *in, const char *who, const char *field, const char *name, const json_t *c,
                    struct error *err)
{
        const char *proj = c ? str(json_object_get(json_object_get(c, "Config"), "Labels"), PROJECT_LABEL) : "";
        char what[400];

        if (c && !strcmp(proj, in->project))
                return 0;
        snprintf(what, sizeof what, "%s%s%s (%s)", field, field[strlen(field) - 1] == ':' ? "" : " ", name,
                 !c      ? "no such container"
                 : *proj ? "a container of another project"
                         : "a container of no project");
        return judge_need(in, err, who, "other-containers", false, "%s", what);
}

bool judge_tmpfs_options(const json_t *opts)
{
        const char *type = str(opts, "type"), *dev = str(opts, "device");

        /* type and device tmpfs, mount options that do not make it a bind */
        return !strcmp(type, "tmpfs") && (!*dev || !strcmp(dev, "tmpfs")) && json_object_size(opts) <= 3 &&
               (json_object_size(opts) == 1 + (*dev != 0) || json_object_get(opts, "o")) &&
               !strstr(str(opts, "o"), "bind");
}

int judge_volume(const struct judge_input *in, const char *who, const json_t *v, bool users_ok, struct error *err)
{
        const json_t *labels = json_object_get(v, "Labels"), *opts = json_object_get(v, "Options");
        const char *name = str(v, "Name"), *drv = str(v, "Driver"), *proj = str(labels, PROJECT_LABEL);
        char what[400];

        if (strcmp(drv, "local")) {
                snprintf(what, sizeof what, "volume %s with driver '%s'", name, drv);
                if (judge_need(in, err, who, "volume-driver", false, "%s", what) < 0)
                        return -STACK_EREJECT;
        } else if (non_empty(opts)) {
                const char *type = str(opts, "type"), *dev = str(opts, "device");
                snprintf(what, sizeof what, "volume %s with driver options type=%s device=%s", name, *type ? type : "-",
                         *dev ? dev : "-");
                if (!judge_tmpfs_options(opts) && judge_need(in, err, who, "host-bind", false, "%s", what) < 0)
                        return -STACK_EREJECT;
        }
        /* or the stack's swarm run made it (spec/run.md "What swarm was asked for") */
        if (!strcmp(proj, in->project) || (!*proj && !strcmp(str(labels, "com.docker.stack.namespace"), in->project)))
                return 0;
        if (!*proj && !non_empty(labels) && users_ok) /* an anonymous volume, used by this project only */
                return 0;
        snprintf(what, sizeof what, "volume %s (%s)", name,
                 *proj ? "of another project" : "not made by this stack's project");
        return judge_need(in, err, who, "external", false, "%s", what);
}

int judge_network(const struct judge_input *in, const char *who, const json_t *n, struct error *err)
{
        const json_t *labels = json_object_get(n, "Labels");
        const char *name = str(n, "Name"), *drv = str(n, "Driver"), *proj = str(labels, PROJECT_LABEL);
        char what[400];

        if (!strcmp(drv, "null") && !strcmp(name, "none"))
                return 0;
        if (!strcmp(drv, "host")) {
                snprintf(what, sizeof what, "network %s (the host's network)", name);
                return judge_need(in, err, who, "host-network", false, "%s", what);
        }
        if (strcmp(drv, "bridge")) {
                snprintf(what, sizeof what, "network %s with driver '%s'", name, drv);
                return judge_need(in, err, who, "host-network", false, "%s", what);
        }
        if (!strcmp(proj, in->project))
                return 0;
        /* the Engine's default bridge (network_mode: bridge) belongs to no stack */
        if (!strcmp(name, "bridge") &&
            !strcmp(str(json_object_get(n, "Options"), "com.docker.network.bridge.default_bridge"), "true"))
                return 0;
        snprintf(what, sizeof what, "network %s (%s)", name, *proj ? "of another project" : "not made by this project");
        return judge_need(in, err, who, "external", false, "%s", what);
}

/* ---- the whole project, through the Engine ---- */

/* Every container using volume name belongs to the project. */
static int volume_users_ours(struct engine *e, const struct judge_input *in, const char *name, bool *ret,
                             struct error *err)
{
        json_t *list = NULL, *c;
        size_t i;
        int r = engine_containers_json(e, "volume", name, &list, err);

        if (r < 0)
                return r;
        *ret = true;
        json_array_foreach(list, i, c)
        {
                if (strcmp(str(json_object_get(c, "Labels"), PROJECT_LABEL), in->project))
                        *ret = false;
        }
        json_decref(list);
        return 0;
}

static int judge_refs(struct engine *e, const struct judge_input *in, const char *who, const struct judge_refs *refs,
                      struct error *err)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < refs->n_containers; i++) {
                char field[512], *name;
                json_t *c = NULL;
                snprintf(field, sizeof field, "%s", refs->containers[i]);
                name = strchr(field, '=');
                if (!name)
                        continue;
                *name++ = 0;
                r = engine_inspect(e, "containers", name, &c, err);
                if (r == 0)
                        r = judge_reference(in, who, field, name, c, err);
                json_decref(c);
        }
        for (size_t i = 0; r == 0 && i < refs->n_volumes; i++) {
                json_t *v = NULL;
                bool users_ok = false;
                r = engine_inspect(e, "volumes", refs->volumes[i], &v, err);
                if (r == 0 && !v)
                        r = judge_refuse(err, who, NULL, "volume %s (the Engine does not have it)", refs->volumes[i]);
                if (r == 0 && !non_empty(json_object_get(v, "Labels")))
                        r = volume_users_ours(e, in, refs->volumes[i], &users_ok, err);
                if (r == 0)
                        r = judge_volume(in, who, v, users_ok, err);
                json_decref(v);
        }
        for (size_t i = 0; r == 0 && i < refs->n_networks; i++) {
                json_t *n = NULL;
                r = engine_inspect(e, "networks", refs->networks[i], &n, err);
                if (r == 0 && !n)
                        r = judge_refuse(err, who, NULL, "network %s (the Engine does not have it)", refs->networks[i]);
                if (r == 0)
                        r = judge_network(in, who, n, err);
                json_decref(n);
        }
        return r;
}

int judge_project(struct engine *e, const struct judge_input *in_arg, char ***ret_ids, struct error *err)
{
        struct judge_input in = *in_arg;
        json_t *list = NULL, *item;
        char label[256], **ids = NULL;
        size_t i, n_ids = 0;
        bool info_read = false;
        int r;

        snprintf(label, sizeof label, PROJECT_LABEL "=%s", in.project);
        r = engine_containers_json(e, "label", label, &list, err);
        json_array_foreach(list, i, item)
        {
                struct judge_refs refs = {0};
                json_t *c = NULL;
                const char *id = str(item, "Id");
                char who[300];
                if (r < 0)
                        break;
                r = engine_inspect(e, "containers", id, &c, err);
                if (r == 0 && !c)
                        continue; /* gone since the list */
                /* cgroup v1 Engines put every container in the host's cgroup namespace by default */
                if (r == 0 && !info_read && !strcmp(str(json_object_get(c, "HostConfig"), "CgroupnsMode"), "host")) {
                        json_t *info = NULL;
                        info_read = true;
                        if (engine_inspect(e, "info", NULL, &info, NULL) == 0 && info)
                                in.cgroupns_host_default = !strcmp(str(info, "CgroupVersion"), "1");
                        json_decref(info);
                }
                if (r == 0)
                        r = judge_container(&in, c, &refs, err);
                snprintf(who, sizeof who, "container %s", str(c, "Name") + (str(c, "Name")[0] == '/'));
                if (r == 0)
                        r = judge_refs(e, &in, who, &refs, err);
                if (r == 0 && strv_push(&ids, &n_ids, id, strlen(id)) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
                judge_refs_release(&refs);
                json_decref(c);
        }
        json_decref(list);
        if (r < 0) {
                strv_free(ids);
                return r;
        }
        if (ret_ids)
                *ret_ids = ids;
        else
                strv_free(ids);
        return 0;
}
