/* judge-swarm.c - the services and networks `docker stack deploy` made for a swarm run, compared with the sandbox
 * and the grants before any task runs (interface judge.h "Swarm services", spec/run.md "What swarm was asked
 * for").
 *
 * The services are judged as the Engine holds them (GET /services: Spec), whatever the swarm file said. The checks
 * a container has are shared with judge.c (judge-int.h): bind sources, sysctls, ulimits, log driver, volume
 * options, the refusal's words. What only a service has (its image pinned into the registry, its placement,
 * its published ports, the stack namespace, the fields of the API a container does not have) is here. A field
 * the judge does not know, with a value other than its default, is refused: a newer Engine's field is judged
 * only once someone has said what it means.
 */
#include "judge.h"
#include "judge-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_LABEL "com.docker.stack.namespace"

/* ---- fail-closed ---- */

/* null, false, 0, "", [], or an object of defaults: what the Engine writes for a field nobody set. */
static bool is_default(const json_t *v)
{
        const char *k;
        json_t *m;

        if (!v || json_is_null(v) || json_is_false(v) || (json_is_integer(v) && json_integer_value(v) == 0) ||
            (json_is_real(v) && json_real_value(v) == 0) || (json_is_string(v) && !*json_string_value(v)) ||
            (json_is_array(v) && json_array_size(v) == 0))
                return true;
        if (!json_is_object(v))
                return false;
        json_object_foreach((json_t *)v, k, m)
        {
                if (!is_default(m))
                        return false;
        }
        return true;
}

static bool listed(const char *const *names, const char *s)
{
        for (size_t i = 0; names && names[i]; i++)
                if (!strcmp(names[i], s))
                        return true;
        return false;
}

/* s is one of the space-separated words of words. */
static bool word_of(const char *words, const char *s)
{
        size_t n = strlen(s);

        for (const char *w = words; *w; w += strcspn(w, " "), w += *w == ' ')
                if (strcspn(w, " ") == n && !strncmp(w, s, n))
                        return true;
        return false;
}

/* Every member of o whose name is not one of the words of known must hold its default. */
static int unknown_members(const char *who, const char *field, const json_t *o, const char *known, struct error *err)
{
        const char *k;
        json_t *v;

        json_object_foreach((json_t *)o, k, v)
        {
                if (!word_of(known, k) && !is_default(v))
                        return judge_refuse(err, who, NULL, "%s.%s (a field the judge does not know)", field, k);
        }
        return 0;
}

static const char *first_string(const json_t *array)
{
        const char *s = json_string_value(json_array_get(array, 0));

        return s ? s : "?";
}

/* ---- the container of every task ---- */

/* "<registry>/<repo>@sha256:<64 lowercase hex>". */
static bool pinned_into(const char *image, const char *registry)
{
        size_t n = registry ? strlen(registry) : 0;
        const char *repo = image + n + 1, *at;

        if (!n || strncmp(image, registry, n) || image[n] != '/')
                return false;
        at = strchr(repo, '@');
        if (!at || at == repo || strncmp(at, "@sha256:", 8) || strlen(at + 8) != 64)
                return false;
        for (const char *p = at + 8; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* "<project>_...": what `docker stack deploy` names the project's volumes, networks, secrets and configs
 * (a project name holds no '_', run_project_name()). */
static bool of_project(const struct judge_input *in, const char *name)
{
        size_t n = strlen(in->project);

        return !strncmp(name, in->project, n) && name[n] == '_' && name[n + 1];
}

static int judge_privileges(const struct judge_input *in, const char *who, const json_t *p, struct error *err)
{
        static const char known[] = "CredentialSpec SELinuxContext Seccomp AppArmor NoNewPrivileges";
        const json_t *seccomp = json_object_get(p, "Seccomp"), *apparmor = json_object_get(p, "AppArmor");
        int r = unknown_members(who, "Privileges", p, known, err);

        if (r == 0 && !is_default(json_object_get(p, "CredentialSpec")))
                r = judge_need(in, err, who, "privileged", false, "Privileges.CredentialSpec %s", "(set)");
        if (r == 0 && !is_default(json_object_get(p, "SELinuxContext")))
                r = judge_need(in, err, who, "privileged", false, "Privileges.SELinuxContext %s", "(set)");
        /* NoNewPrivileges: any (API 1.44 and later only; spec/run.md "What differs on swarm") */
        if (r == 0 && !is_default(seccomp) &&
            (strcmp(str(seccomp, "Mode"), "default") || json_object_size(seccomp) != 1))
                r = judge_need(in, err, who, "privileged", false, "Privileges.Seccomp %s", str(seccomp, "Mode"));
        if (r == 0 && !is_default(apparmor) &&
            (strcmp(str(apparmor, "Mode"), "default") || json_object_size(apparmor) != 1))
                r = judge_need(in, err, who, "privileged", false, "Privileges.AppArmor %s", str(apparmor, "Mode"));
        return r;
}

/* Named volumes of the project (local, no host mount), tmpfs, binds judge_bind() accepts. A bind, or a named
 * volume, is data on one node: *ret_stateful. */
static int judge_service_mounts(const struct judge_input *in, const char *who, const json_t *mounts, bool *ret_stateful,
                                struct error *err)
{
        static const char known[] = "Type Source Target ReadOnly Consistency BindOptions VolumeOptions TmpfsOptions";
        const json_t *m;
        size_t i;
        int r = 0;

        json_array_foreach(mounts, i, m)
        {
                const char *type = str(m, "Type"), *src = str(m, "Source");
                const json_t *vo = json_object_get(m, "VolumeOptions");
                const json_t *drv = json_object_get(vo, "DriverConfig");
                const char *prop = str(json_object_get(m, "BindOptions"), "Propagation");

                if (r == 0)
                        r = unknown_members(who, "Mounts", m, known, err);
                if (r < 0)
                        break;
                if (!strcmp(type, "bind")) {
                        *ret_stateful = true; /* the path was judged on this node: its tasks stay here */
                        r = judge_bind(in, who, "Mounts", src, err);
                        if (r == 0 && *prop && strcmp(prop, "rprivate") && strcmp(prop, "private"))
                                r = judge_need(in, err, who, "privileged", false, "Mounts %s propagation %s", src,
                                               prop);
                } else if (!strcmp(type, "volume")) {
                        *ret_stateful = *ret_stateful || *src;
                        if (*src && !of_project(in, src))
                                r = judge_need(in, err, who, "external", false, "Mounts volume %s (not this stack's)",
                                               src);
                        else if (*str(drv, "Name") && strcmp(str(drv, "Name"), "local"))
                                r = judge_need(in, err, who, "volume-driver", false, "Mounts volume driver %s",
                                               str(drv, "Name"));
                        else if (non_empty(json_object_get(drv, "Options")) &&
                                 !judge_tmpfs_options(json_object_get(drv, "Options")))
                                r = judge_need(in, err, who, "host-bind", false,
                                               "Mounts volume %s with driver options type=%s device=%s", src,
                                               str(json_object_get(drv, "Options"), "type"),
                                               str(json_object_get(drv, "Options"), "device"));
                } else if (strcmp(type, "tmpfs"))
                        r = judge_refuse(err, who, NULL, "a mount of type '%s'", type);
        }
        return r;
}

/* Secrets and configs of the project only (an external one is another stack's). */
static int judge_files(const struct judge_input *in, const char *who, const char *field, const char *name_key,
                       const json_t *list, struct error *err)
{
        const json_t *f;
        size_t i;

        json_array_foreach(list, i, f)
        {
                if (!is_default(json_object_get(f, "Runtime")))
                        return judge_refuse(err, who, NULL, "%s %s as a runtime file", field, str(f, name_key));
                if (!of_project(in, str(f, name_key)))
                        return judge_need(in, err, who, "external", false, "%s %s (not this stack's)", field,
                                          str(f, name_key));
        }
        return 0;
}

static int judge_container_spec(const struct judge_input *in, const struct judge_swarm *sw, const char *who,
                                const json_t *cs, bool *ret_stateful, struct error *err)
{
        static const char known[] = "Image Labels Command Args Hostname Env Dir User Groups Privileges TTY OpenStdin "
                                    "ReadOnly Mounts StopSignal StopGracePeriod Healthcheck Hosts DNSConfig Secrets "
                                    "Configs Isolation Init Sysctls CapabilityAdd CapabilityDrop Ulimits OomScoreAdj";
        const char *image = str(cs, "Image"), *iso = str(cs, "Isolation");
        int r = unknown_members(who, "ContainerSpec", cs, known, err);

        if (r == 0 && !pinned_into(image, sw->registry))
                r = judge_refuse(err, who, NULL, "image %s (not pinned into the registry %s by digest)", image,
                                 sw->registry ? sw->registry : "(none)");
        if (r == 0 && sw->images && !listed(sw->images, image))
                r = judge_refuse(err, who, NULL, "image %s (not one this version pushed)", image);
        if (r == 0)
                r = judge_privileges(in, who, json_object_get(cs, "Privileges"), err);
        if (r == 0 && non_empty(json_object_get(cs, "CapabilityAdd")))
                r = judge_need(in, err, who, "cap-add", true, "CapabilityAdd [%s]",
                               first_string(json_object_get(cs, "CapabilityAdd")));
        if (r == 0 && *iso && strcmp(iso, "default"))
                r = judge_refuse(err, who, NULL, "Isolation %s", iso);
        /* a task's container has a network namespace of its own; runc refuses net.* in the host's */
        if (r == 0)
                r = judge_sysctls(in, who, "Sysctls", json_object_get(cs, "Sysctls"), true, err);
        if (r == 0)
                r = judge_ulimits(in, who, "Ulimits", json_object_get(cs, "Ulimits"), err);
        if (r == 0 && json_integer_value(json_object_get(cs, "OomScoreAdj")) < 0)
                r = judge_need(in, err, who, "oom", false, "OomScoreAdj %lld",
                               (long long)json_integer_value(json_object_get(cs, "OomScoreAdj")));
        if (r == 0)
                r = judge_files(in, who, "Secrets", "SecretName", json_object_get(cs, "Secrets"), err);
        if (r == 0)
                r = judge_files(in, who, "Configs", "ConfigName", json_object_get(cs, "Configs"), err);
        if (r == 0)
                r = judge_service_mounts(in, who, json_object_get(cs, "Mounts"), ret_stateful, err);
        return r;
}

/* ---- the task around it ---- */

static int judge_resources(const struct judge_input *in, const char *who, const json_t *res, struct error *err)
{
        static const char known[] = "Limits Reservations";
        static const char limits_known[] = "NanoCPUs MemoryBytes Pids";
        static const char resv_known[] = "NanoCPUs MemoryBytes GenericResources";
        const json_t *lim = json_object_get(res, "Limits"), *resv = json_object_get(res, "Reservations");
        json_int_t mem = json_integer_value(json_object_get(lim, "MemoryBytes")),
                   nano = json_integer_value(json_object_get(lim, "NanoCPUs")),
                   pids = json_integer_value(json_object_get(lim, "Pids"));
        int r = unknown_members(who, "Resources", res, known, err);

        if (r == 0)
                r = unknown_members(who, "Resources.Limits", lim, limits_known, err);
        if (r == 0)
                r = unknown_members(who, "Resources.Reservations", resv, resv_known, err);
        if (r == 0 && non_empty(json_object_get(resv, "GenericResources")))
                r = judge_need(in, err, who, "devices", true, "Resources.Reservations.GenericResources %s",
                               "(node devices)");
        if (r == 0 && in->memory && (mem <= 0 || (uint64_t)mem > in->memory))
                r = judge_refuse(err, who, NULL, "Resources.Limits.MemoryBytes %lld (the stack's limit is %llu)",
                                 (long long)mem, (unsigned long long)in->memory);
        if (r == 0 && in->cpus > 0 && (nano <= 0 || (double)nano / 1e9 > in->cpus * 1.0001))
                r = judge_refuse(err, who, NULL, "Resources.Limits.NanoCPUs %lld (the stack's limit is %g CPUs)",
                                 (long long)nano, in->cpus);
        if (r == 0 && in->pids && (pids <= 0 || (uint64_t)pids > in->pids))
                r = judge_refuse(err, who, NULL, "Resources.Limits.Pids %lld (the stack's limit is %llu)",
                                 (long long)pids, (unsigned long long)in->pids);
        return r;
}

/* The constraint "node.id==<node>" among the placement's (spaces around "==" allowed, as swarm allows them). */
static bool placed_on(const json_t *placement, const char *node)
{
        const json_t *c;
        size_t i;

        json_array_foreach(json_object_get(placement, "Constraints"), i, c)
        {
                char buf[256];
                size_t o = 0;
                for (const char *p = json_string_value(c); p && *p && o + 1 < sizeof buf; p++)
                        if (*p != ' ' && *p != '\t')
                                buf[o++] = *p;
                buf[o] = 0;
                if (!strncmp(buf, "node.id==", 9) && !strcmp(buf + 9, node))
                        return true;
        }
        return false;
}

static int judge_task(const struct judge_input *in, const struct judge_swarm *sw, const char *who, const json_t *tt,
                      struct error *err)
{
        static const char known[] =
                "ContainerSpec Resources RestartPolicy Placement Networks LogDriver ForceUpdate Runtime";
        static const char placement_known[] = "Constraints Preferences MaxReplicas Platforms";
        static const char attach_known[] = "Target Aliases";
        const char *rt = str(tt, "Runtime");
        const json_t *cs = json_object_get(tt, "ContainerSpec"), *net;
        bool stateful = false;
        size_t i;
        int r = unknown_members(who, "TaskTemplate", tt, known, err);

        if (r == 0 && *rt && strcmp(rt, "container"))
                r = judge_refuse(err, who, NULL, "TaskTemplate.Runtime %s", rt);
        if (r == 0 && !json_is_object(cs))
                r = judge_refuse(err, who, NULL, "TaskTemplate %s", "without a ContainerSpec");
        if (r == 0)
                r = judge_container_spec(in, sw, who, cs, &stateful, err);
        if (r == 0)
                r = judge_resources(in, who, json_object_get(tt, "Resources"), err);
        if (r == 0)
                r = judge_log_driver(in, who, "LogDriver.Name", str(json_object_get(tt, "LogDriver"), "Name"), err);
        if (r == 0)
                r = unknown_members(who, "Placement", json_object_get(tt, "Placement"), placement_known, err);
        if (r == 0 && stateful && !(sw->data_node && *sw->data_node))
                r = judge_refuse(err, who, NULL, "data on a node (%s)", "no data node was chosen");
        if (r == 0 && stateful && !placed_on(json_object_get(tt, "Placement"), sw->data_node))
                r = judge_refuse(err, who, NULL, "Placement without node.id==%s (its mounts are on that node)",
                                 sw->data_node);
        json_array_foreach(json_object_get(tt, "Networks"), i, net)
        {
                if (r == 0)
                        r = unknown_members(who, "TaskTemplate.Networks", net, attach_known, err);
        }
        return r;
}

/* "service:port" of sw->route_ports names (service, port). */
static bool routed(const struct judge_swarm *sw, const char *service, json_int_t port)
{
        for (size_t i = 0; sw->route_ports && sw->route_ports[i]; i++) {
                const char *rp = sw->route_ports[i], *colon = strrchr(rp, ':');
                if (colon && (size_t)(colon - rp) == strlen(service) && !strncmp(rp, service, strlen(service)) &&
                    strtoll(colon + 1, NULL, 10) == port)
                        return true;
        }
        return false;
}

/* Host-mode ports only (the routing mesh's ingress listens on every node); without `listen`, only the routed
 * ones, over tcp. dnsrr: service VIPs need IPVS (spec/run.md). */
static int judge_endpoint(const struct judge_input *in, const struct judge_swarm *sw, const char *who,
                          const char *service, const json_t *ep, struct error *err)
{
        static const char known[] = "Mode Ports";
        static const char port_known[] = "Name Protocol TargetPort PublishedPort PublishMode";
        const json_t *p;
        size_t i;
        int r = unknown_members(who, "EndpointSpec", ep, known, err);

        json_array_foreach(json_object_get(ep, "Ports"), i, p)
        {
                const char *mode = str(p, "PublishMode"), *proto = str(p, "Protocol");
                json_int_t target = json_integer_value(json_object_get(p, "TargetPort"));
                if (r == 0)
                        r = unknown_members(who, "EndpointSpec.Ports", p, port_known, err);
                if (r == 0 && strcmp(mode, "host"))
                        r = judge_refuse(err, who, NULL,
                                         "EndpointSpec.Ports %lld/%s in %s mode (it listens on every node)",
                                         (long long)target, *proto ? proto : "tcp", *mode ? mode : "ingress");
                if (r == 0 && !(routed(sw, service, target) && (!*proto || !strcmp(proto, "tcp"))))
                        r = judge_need(in, err, who, "listen", false, "EndpointSpec.Ports %lld/%s (not a routed port)",
                                       (long long)target, *proto ? proto : "tcp");
        }
        if (r == 0 && strcmp(str(ep, "Mode"), "dnsrr"))
                r = judge_refuse(err, who, NULL, "EndpointSpec.Mode %s (not dnsrr)",
                                 *str(ep, "Mode") ? str(ep, "Mode") : "vip");
        return r;
}

int judge_service(const struct judge_input *in, const struct judge_swarm *sw, const json_t *service, struct error *err)
{
        static const char known[] = "Name Labels TaskTemplate Mode UpdateConfig RollbackConfig Networks EndpointSpec";
        const json_t *spec = json_object_get(service, "Spec"), *mode = json_object_get(spec, "Mode");
        const char *name = str(spec, "Name"), *ns = str(json_object_get(spec, "Labels"), NS_LABEL), *k;
        char who[300];
        json_t *v;
        size_t i;
        int r;

        if (!in || !sw || !in->project)
                return error_set(err, STACK_EFAIL, "judge_service: no input");
        snprintf(who, sizeof who, "service %s", *name ? name : str(service, "ID"));
        if (!json_is_object(spec))
                return error_set(err, STACK_ERUNTIME, "Docker Engine: %s: no Spec in its answer", who);
        if (strcmp(ns, in->project) || !of_project(in, name))
                return judge_refuse(err, who, NULL, "the stack label '%s' (not %s)", ns, in->project);
        r = unknown_members(who, "Spec", spec, known, err);
        json_object_foreach((json_t *)mode, k, v)
        {
                if (r == 0 && strcmp(k, "Replicated"))
                        r = judge_refuse(err, who, NULL, "Mode %s (only replicated services)", k);
        }
        if (r == 0 && !json_is_object(json_object_get(mode, "Replicated")))
                r = judge_refuse(err, who, NULL, "Mode %s", "without Replicated");
        if (r == 0)
                r = judge_task(in, sw, who, json_object_get(spec, "TaskTemplate"), err);
        json_array_foreach(json_object_get(spec, "Networks"), i, v)
        {
                static const char attach_known[] = "Target Aliases";
                if (r == 0)
                        r = unknown_members(who, "Networks", v, attach_known, err);
        }
        if (r == 0)
                r = judge_endpoint(in, sw, who, name + strlen(in->project) + 1, json_object_get(spec, "EndpointSpec"),
                                   err);
        return r;
}

/* ---- networks ---- */

int judge_swarm_network(const struct judge_input *in, const json_t *n, struct error *err)
{
        static const char *const options[] = {"com.docker.network.driver.overlay.vxlanid_list",
                                              "com.docker.network.driver.mtu", "encrypted", NULL};
        const char *name = str(n, "Name"), *drv = str(n, "Driver"), *ipam = str(json_object_get(n, "IPAM"), "Driver");
        const char *ns = str(json_object_get(n, "Labels"), NS_LABEL), *k;
        char who[300];
        json_t *v;

        snprintf(who, sizeof who, "network %s", *name ? name : str(n, "Id"));
        if (!strcmp(drv, "host"))
                return judge_need(in, err, who, "host-network", false, "Driver %s (the host's network)", drv);
        if (json_is_true(json_object_get(n, "Ingress")))
                return judge_refuse(err, who, NULL, "Ingress %s (the routing mesh listens on every node)", "true");
        if (strcmp(drv, "overlay"))
                return judge_need(in, err, who, "host-network", false, "Driver %s", drv);
        if (strcmp(str(n, "Scope"), "swarm"))
                return judge_refuse(err, who, NULL, "Scope %s", str(n, "Scope"));
        if (!is_default(json_object_get(n, "ConfigFrom")))
                return judge_refuse(err, who, NULL, "ConfigFrom %s", str(json_object_get(n, "ConfigFrom"), "Network"));
        if (json_is_true(json_object_get(n, "Attachable")))
                return judge_refuse(err, who, NULL, "Attachable %s (any container could join it)", "true");
        if (*ipam && strcmp(ipam, "default"))
                return judge_refuse(err, who, NULL, "IPAM.Driver %s", ipam);
        json_object_foreach((json_t *)json_object_get(n, "Options"), k, v)
        {
                if (!listed(options, k))
                        return judge_refuse(err, who, NULL, "Options %s", k);
        }
        if (!strcmp(ns, in->project) && of_project(in, name))
                return 0;
        return judge_need(in, err, who, "external", false, "%s", *ns ? "of another stack" : "not made by this stack");
}

/* What one service's tasks join and mount that the Engine holds: every network, inspected by id; every named
 * volume this node already has (swarm creates a volume from the spec only when it is missing, so one made before
 * is judged as it is; the data node is the node stack runs on). */
static int judge_service_refs(struct engine *e, const struct judge_input *in, const json_t *spec, struct error *err)
{
        const json_t *tt = json_object_get(spec, "TaskTemplate");
        const json_t *lists[2] = {json_object_get(tt, "Networks"), json_object_get(spec, "Networks")}, *m;
        char who[300];
        size_t i;
        int r = 0;

        snprintf(who, sizeof who, "service %s", str(spec, "Name"));
        for (size_t l = 0; l < 2 && r == 0; l++) {
                const json_t *att;
                json_array_foreach(lists[l], i, att)
                {
                        json_t *n = NULL;
                        if (r < 0)
                                break;
                        r = engine_inspect(e, "networks", str(att, "Target"), &n, err);
                        if (r == 0 && !n)
                                r = judge_refuse(err, who, NULL, "network %s (the Engine does not have it)",
                                                 str(att, "Target"));
                        if (r == 0)
                                r = judge_swarm_network(in, n, err);
                        json_decref(n);
                }
        }
        json_array_foreach(json_object_get(json_object_get(tt, "ContainerSpec"), "Mounts"), i, m)
        {
                json_t *v = NULL;
                if (r < 0)
                        break;
                if (strcmp(str(m, "Type"), "volume") || !*str(m, "Source"))
                        continue;
                r = engine_inspect(e, "volumes", str(m, "Source"), &v, err);
                if (r == 0 && v)
                        r = judge_volume(in, who, v, false, err);
                json_decref(v);
        }
        return r;
}

int judge_services(struct engine *e, const struct judge_input *in, const struct judge_swarm *sw, const json_t *services,
                   struct error *err)
{
        const json_t *s;
        size_t i;
        int r = 0;

        if (!json_is_array(services))
                return error_set(err, STACK_ERUNTIME, "Docker Engine: the services list is not an array");
        json_array_foreach(services, i, s)
        {
                if (r == 0)
                        r = judge_service(in, sw, s, err);
        }
        json_array_foreach(services, i, s)
        {
                if (r == 0)
                        r = judge_service_refs(e, in, json_object_get(s, "Spec"), err);
        }
        return r;
}
