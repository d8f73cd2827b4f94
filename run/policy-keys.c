/* policy-keys.c - fail closed on what the policy does not understand (spec/run.md "Reading the file" and
 * "Known compose keys"): YAML tags beyond the core schema, and compose keys the policy does not know.
 *
 * Tags (policy_tags(), run by policy_parse_yaml() on every compose file read, and again on the main document once its
 * override file is merged): no tag, the core schema's !!str, !!int, !!float, !!bool, !!null (a scalar whose text
 * matches its tag), !!map, !!seq, and compose v2's !reset and !override are allowed; anything else is refused
 * with the key's path. Resolved, nothing is left for compose to read differently: !reset removes the node (a
 * mapping's key, or a list's item, as compose-go's reset processor does within one file), !override and the
 * collection tags are dropped, !!str makes a plain scalar double-quoted, !!int/!!float/!!bool/!!null become the
 * plain text both compose v1 (PyYAML, YAML 1.1) and v2 (go-yaml) read as that type.
 *
 * Keys (policy_check_keys(), run first by policy_check_document()): the table below is every key of the compose
 * specification (schema/compose-spec.json of github.com/compose-spec/compose-spec, commit 170098ba07d9), nested
 * mappings included; `x-` extensions are dropped where the specification allows them; free-form mappings
 * (environment, labels, driver_opts ...) and names (services, networks ...) are not key-checked. Any other key is
 * STACK_EREJECT with its path. A few known keys are judged here because no other check owns them: the service's
 * `provider` and the `models` keys are refused (stack does not run them), `use_api_socket` needs docker-socket,
 * a lifecycle hook's `privileged` needs privileged.
 */
#include "policy-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

enum {
        KEY_REFUSE = 1 << 0,        /* known, not supported by stack: refused */
        KEY_DOCKER_SOCKET = 1 << 1, /* anything but false needs docker-socket */
        KEY_PRIVILEGED = 1 << 2,    /* anything but false needs privileged */
};

struct key_shape;

struct key_def {
        const char *name;
        const struct key_shape *shape; /* what the value may hold; NULL: a scalar or a list not walked */
        unsigned flags;                /* KEY_* */
};

/* What a value may hold; one shape describes every form the specification allows (`build: .` or a mapping). */
struct key_shape {
        const struct key_def *keys;    /* a mapping: of these keys only */
        const struct key_shape *names; /* a mapping of names (services, networks, ulimits ...), values of this shape */
        const struct key_shape *items; /* a list: each item of this shape */
        bool free;                     /* a mapping of any keys, not checked (environment, labels, driver_opts ...) */
        bool x;                        /* `x-` keys allowed here: dropped */
};

static const struct key_shape free_map = {.free = true};

/* ---- the table: generated from the compose specification's schema (see the comment at the top) ---- */

static const struct key_def k_configs_n_external_keys[] = {
        {"name", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_configs_n_external = {
        .keys = k_configs_n_external_keys,
};

static const struct key_def k_configs_n_keys[] = {
        {"content", NULL, 0},     {"environment", NULL, 0}, {"external", &k_configs_n_external, 0}, {"file", NULL, 0},
        {"labels", &free_map, 0}, {"name", NULL, 0},        {"template_driver", NULL, 0},           {NULL, NULL, 0},
};

static const struct key_shape k_configs_n = {.keys = k_configs_n_keys, .x = true};

static const struct key_shape k_configs = {
        .names = &k_configs_n,
};

static const struct key_def k_include_item_keys[] = {
        {"env_file", NULL, 0},
        {"path", NULL, 0},
        {"project_directory", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_include_item = {
        .keys = k_include_item_keys,
};

static const struct key_shape k_include = {
        .items = &k_include_item,
};

static const struct key_def k_models_n_keys[] = {
        {"context_size", NULL, 0}, {"model", NULL, 0}, {"name", NULL, 0}, {"runtime_flags", NULL, 0}, {NULL, NULL, 0},
};

static const struct key_shape k_models_n = {.keys = k_models_n_keys, .x = true};

static const struct key_shape k_models = {
        .names = &k_models_n,
};

static const struct key_def k_networks_n_external_keys[] = {
        {"name", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_networks_n_external = {.keys = k_networks_n_external_keys, .x = true};

static const struct key_def k_networks_n_ipam_config_item_keys[] = {
        {"aux_addresses", &free_map, 0},
        {"gateway", NULL, 0},
        {"ip_range", NULL, 0},
        {"subnet", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_networks_n_ipam_config_item = {.keys = k_networks_n_ipam_config_item_keys, .x = true};

static const struct key_shape k_networks_n_ipam_config = {
        .items = &k_networks_n_ipam_config_item,
};

static const struct key_def k_networks_n_ipam_keys[] = {
        {"config", &k_networks_n_ipam_config, 0},
        {"driver", NULL, 0},
        {"options", &free_map, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_networks_n_ipam = {.keys = k_networks_n_ipam_keys, .x = true};

static const struct key_def k_networks_n_keys[] = {
        {"attachable", NULL, 0},
        {"driver", NULL, 0},
        {"driver_opts", &free_map, 0},
        {"enable_ipv4", NULL, 0},
        {"enable_ipv6", NULL, 0},
        {"external", &k_networks_n_external, 0},
        {"internal", NULL, 0},
        {"ipam", &k_networks_n_ipam, 0},
        {"labels", &free_map, 0},
        {"name", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_networks_n = {.keys = k_networks_n_keys, .x = true};

static const struct key_shape k_networks = {
        .names = &k_networks_n,
};

static const struct key_def k_secrets_n_external_keys[] = {
        {"name", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_secrets_n_external = {
        .keys = k_secrets_n_external_keys,
};

static const struct key_def k_secrets_n_keys[] = {
        {"driver", NULL, 0},      {"driver_opts", &free_map, 0},
        {"environment", NULL, 0}, {"external", &k_secrets_n_external, 0},
        {"file", NULL, 0},        {"labels", &free_map, 0},
        {"name", NULL, 0},        {"template_driver", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_secrets_n = {.keys = k_secrets_n_keys, .x = true};

static const struct key_shape k_secrets = {
        .names = &k_secrets_n,
};

static const struct key_def k_services_n_blkio_config_device_read_bps_item_keys[] = {
        {"path", NULL, 0},
        {"rate", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_blkio_config_device_read_bps_item = {
        .keys = k_services_n_blkio_config_device_read_bps_item_keys,
};

static const struct key_shape k_services_n_blkio_config_device_read_bps = {
        .items = &k_services_n_blkio_config_device_read_bps_item,
};

static const struct key_def k_services_n_blkio_config_device_read_iops_item_keys[] = {
        {"path", NULL, 0},
        {"rate", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_blkio_config_device_read_iops_item = {
        .keys = k_services_n_blkio_config_device_read_iops_item_keys,
};

static const struct key_shape k_services_n_blkio_config_device_read_iops = {
        .items = &k_services_n_blkio_config_device_read_iops_item,
};

static const struct key_def k_services_n_blkio_config_device_write_bps_item_keys[] = {
        {"path", NULL, 0},
        {"rate", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_blkio_config_device_write_bps_item = {
        .keys = k_services_n_blkio_config_device_write_bps_item_keys,
};

static const struct key_shape k_services_n_blkio_config_device_write_bps = {
        .items = &k_services_n_blkio_config_device_write_bps_item,
};

static const struct key_def k_services_n_blkio_config_device_write_iops_item_keys[] = {
        {"path", NULL, 0},
        {"rate", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_blkio_config_device_write_iops_item = {
        .keys = k_services_n_blkio_config_device_write_iops_item_keys,
};

static const struct key_shape k_services_n_blkio_config_device_write_iops = {
        .items = &k_services_n_blkio_config_device_write_iops_item,
};

static const struct key_def k_services_n_blkio_config_weight_device_item_keys[] = {
        {"path", NULL, 0},
        {"weight", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_blkio_config_weight_device_item = {
        .keys = k_services_n_blkio_config_weight_device_item_keys,
};

static const struct key_shape k_services_n_blkio_config_weight_device = {
        .items = &k_services_n_blkio_config_weight_device_item,
};

static const struct key_def k_services_n_blkio_config_keys[] = {
        {"device_read_bps", &k_services_n_blkio_config_device_read_bps, 0},
        {"device_read_iops", &k_services_n_blkio_config_device_read_iops, 0},
        {"device_write_bps", &k_services_n_blkio_config_device_write_bps, 0},
        {"device_write_iops", &k_services_n_blkio_config_device_write_iops, 0},
        {"weight", NULL, 0},
        {"weight_device", &k_services_n_blkio_config_weight_device, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_blkio_config = {
        .keys = k_services_n_blkio_config_keys,
};

static const struct key_def k_services_n_build_secrets_item_keys[] = {
        {"gid", NULL, 0},    {"mode", NULL, 0}, {"source", NULL, 0},
        {"target", NULL, 0}, {"uid", NULL, 0},  {NULL, NULL, 0},
};

static const struct key_shape k_services_n_build_secrets_item = {.keys = k_services_n_build_secrets_item_keys,
                                                                 .x = true};

static const struct key_shape k_services_n_build_secrets = {
        .items = &k_services_n_build_secrets_item,
};

static const struct key_def k_services_n_build_ulimits_n_keys[] = {
        {"hard", NULL, 0},
        {"soft", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_build_ulimits_n = {.keys = k_services_n_build_ulimits_n_keys, .x = true};

static const struct key_shape k_services_n_build_ulimits = {
        .names = &k_services_n_build_ulimits_n,
};

static const struct key_def k_services_n_build_keys[] = {
        {"additional_contexts", &free_map, 0},
        {"args", &free_map, 0},
        {"cache_from", NULL, 0},
        {"cache_to", NULL, 0},
        {"context", NULL, 0},
        {"dockerfile", NULL, 0},
        {"dockerfile_inline", NULL, 0},
        {"entitlements", NULL, 0},
        {"extra_hosts", &free_map, 0},
        {"isolation", NULL, 0},
        {"labels", &free_map, 0},
        {"network", NULL, 0},
        {"no_cache", NULL, 0},
        {"platforms", NULL, 0},
        {"privileged", NULL, 0},
        {"provenance", NULL, 0},
        {"pull", NULL, 0},
        {"sbom", NULL, 0},
        {"secrets", &k_services_n_build_secrets, 0},
        {"shm_size", NULL, 0},
        {"ssh", &free_map, 0},
        {"tags", NULL, 0},
        {"target", NULL, 0},
        {"ulimits", &k_services_n_build_ulimits, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_build = {.keys = k_services_n_build_keys, .x = true};

static const struct key_def k_services_n_configs_item_keys[] = {
        {"gid", NULL, 0},    {"mode", NULL, 0}, {"source", NULL, 0},
        {"target", NULL, 0}, {"uid", NULL, 0},  {NULL, NULL, 0},
};

static const struct key_shape k_services_n_configs_item = {.keys = k_services_n_configs_item_keys, .x = true};

static const struct key_shape k_services_n_configs = {
        .items = &k_services_n_configs_item,
};

static const struct key_def k_services_n_credential_spec_keys[] = {
        {"config", NULL, 0},
        {"file", NULL, 0},
        {"registry", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_credential_spec = {.keys = k_services_n_credential_spec_keys, .x = true};

static const struct key_def k_services_n_depends_on_n_keys[] = {
        {"condition", NULL, 0},
        {"required", NULL, 0},
        {"restart", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_depends_on_n = {.keys = k_services_n_depends_on_n_keys, .x = true};

static const struct key_shape k_services_n_depends_on = {
        .names = &k_services_n_depends_on_n,
};

static const struct key_def k_services_n_deploy_placement_preferences_item_keys[] = {
        {"spread", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_placement_preferences_item = {
        .keys = k_services_n_deploy_placement_preferences_item_keys, .x = true};

static const struct key_shape k_services_n_deploy_placement_preferences = {
        .items = &k_services_n_deploy_placement_preferences_item,
};

static const struct key_def k_services_n_deploy_placement_keys[] = {
        {"constraints", NULL, 0},
        {"max_replicas_per_node", NULL, 0},
        {"preferences", &k_services_n_deploy_placement_preferences, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_placement = {.keys = k_services_n_deploy_placement_keys, .x = true};

static const struct key_def k_services_n_deploy_resources_limits_keys[] = {
        {"cpus", NULL, 0},
        {"memory", NULL, 0},
        {"pids", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_resources_limits = {.keys = k_services_n_deploy_resources_limits_keys,
                                                                      .x = true};

static const struct key_def k_services_n_deploy_resources_reservations_devices_item_keys[] = {
        {"capabilities", NULL, 0}, {"count", NULL, 0},        {"device_ids", NULL, 0},
        {"driver", NULL, 0},       {"options", &free_map, 0}, {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_resources_reservations_devices_item = {
        .keys = k_services_n_deploy_resources_reservations_devices_item_keys, .x = true};

static const struct key_shape k_services_n_deploy_resources_reservations_devices = {
        .items = &k_services_n_deploy_resources_reservations_devices_item,
};

static const struct key_def
        k_services_n_deploy_resources_reservations_generic_resources_item_discrete_resource_spec_keys[] = {
                {"kind", NULL, 0},
                {"value", NULL, 0},
                {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_resources_reservations_generic_resources_item_discrete_resource_spec =
        {.keys = k_services_n_deploy_resources_reservations_generic_resources_item_discrete_resource_spec_keys,
         .x = true};

static const struct key_def k_services_n_deploy_resources_reservations_generic_resources_item_keys[] = {
        {"discrete_resource_spec",
         &k_services_n_deploy_resources_reservations_generic_resources_item_discrete_resource_spec, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_resources_reservations_generic_resources_item = {
        .keys = k_services_n_deploy_resources_reservations_generic_resources_item_keys, .x = true};

static const struct key_shape k_services_n_deploy_resources_reservations_generic_resources = {
        .items = &k_services_n_deploy_resources_reservations_generic_resources_item,
};

static const struct key_def k_services_n_deploy_resources_reservations_keys[] = {
        {"cpus", NULL, 0},
        {"devices", &k_services_n_deploy_resources_reservations_devices, 0},
        {"generic_resources", &k_services_n_deploy_resources_reservations_generic_resources, 0},
        {"memory", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_resources_reservations = {
        .keys = k_services_n_deploy_resources_reservations_keys, .x = true};

static const struct key_def k_services_n_deploy_resources_keys[] = {
        {"limits", &k_services_n_deploy_resources_limits, 0},
        {"reservations", &k_services_n_deploy_resources_reservations, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_resources = {.keys = k_services_n_deploy_resources_keys, .x = true};

static const struct key_def k_services_n_deploy_restart_policy_keys[] = {
        {"condition", NULL, 0}, {"delay", NULL, 0}, {"max_attempts", NULL, 0}, {"window", NULL, 0}, {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_restart_policy = {.keys = k_services_n_deploy_restart_policy_keys,
                                                                    .x = true};

static const struct key_def k_services_n_deploy_rollback_config_keys[] = {
        {"delay", NULL, 0},   {"failure_action", NULL, 0}, {"max_failure_ratio", NULL, 0},
        {"monitor", NULL, 0}, {"order", NULL, 0},          {"parallelism", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_rollback_config = {.keys = k_services_n_deploy_rollback_config_keys,
                                                                     .x = true};

static const struct key_def k_services_n_deploy_update_config_keys[] = {
        {"delay", NULL, 0},   {"failure_action", NULL, 0}, {"max_failure_ratio", NULL, 0},
        {"monitor", NULL, 0}, {"order", NULL, 0},          {"parallelism", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_update_config = {.keys = k_services_n_deploy_update_config_keys,
                                                                   .x = true};

static const struct key_def k_services_n_deploy_keys[] = {
        {"endpoint_mode", NULL, 0},
        {"labels", &free_map, 0},
        {"mode", NULL, 0},
        {"placement", &k_services_n_deploy_placement, 0},
        {"replicas", NULL, 0},
        {"resources", &k_services_n_deploy_resources, 0},
        {"restart_policy", &k_services_n_deploy_restart_policy, 0},
        {"rollback_config", &k_services_n_deploy_rollback_config, 0},
        {"update_config", &k_services_n_deploy_update_config, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy = {.keys = k_services_n_deploy_keys, .x = true};

static const struct key_def k_services_n_develop_watch_item_exec_keys[] = {
        {"command", NULL, 0}, {"environment", &free_map, 0}, {"privileged", NULL, 0},
        {"user", NULL, 0},    {"working_dir", NULL, 0},      {NULL, NULL, 0},
};

static const struct key_shape k_services_n_develop_watch_item_exec = {.keys = k_services_n_develop_watch_item_exec_keys,
                                                                      .x = true};

static const struct key_def k_services_n_develop_watch_item_keys[] = {
        {"action", NULL, 0},       {"exec", &k_services_n_develop_watch_item_exec, 0},
        {"ignore", NULL, 0},       {"include", NULL, 0},
        {"initial_sync", NULL, 0}, {"path", NULL, 0},
        {"target", NULL, 0},       {NULL, NULL, 0},
};

static const struct key_shape k_services_n_develop_watch_item = {.keys = k_services_n_develop_watch_item_keys,
                                                                 .x = true};

static const struct key_shape k_services_n_develop_watch = {
        .items = &k_services_n_develop_watch_item,
};

static const struct key_def k_services_n_develop_keys[] = {
        {"watch", &k_services_n_develop_watch, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_develop = {.keys = k_services_n_develop_keys, .x = true};

static const struct key_def k_services_n_devices_item_keys[] = {
        {"permissions", NULL, 0},
        {"source", NULL, 0},
        {"target", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_devices_item = {.keys = k_services_n_devices_item_keys, .x = true};

static const struct key_shape k_services_n_devices = {
        .items = &k_services_n_devices_item,
};

static const struct key_def k_services_n_env_file_item_keys[] = {
        {"format", NULL, 0},
        {"path", NULL, 0},
        {"required", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_env_file_item = {
        .keys = k_services_n_env_file_item_keys,
};

static const struct key_shape k_services_n_env_file = {
        .items = &k_services_n_env_file_item,
};

static const struct key_def k_services_n_extends_keys[] = {
        {"file", NULL, 0},
        {"service", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_extends = {
        .keys = k_services_n_extends_keys,
};

static const struct key_def k_services_n_gpus_item_keys[] = {
        {"capabilities", NULL, 0}, {"count", NULL, 0},        {"device_ids", NULL, 0},
        {"driver", NULL, 0},       {"options", &free_map, 0}, {NULL, NULL, 0},
};

static const struct key_shape k_services_n_gpus_item = {
        .keys = k_services_n_gpus_item_keys,
};

static const struct key_shape k_services_n_gpus = {.items = &k_services_n_gpus_item, .x = true};

static const struct key_def k_services_n_healthcheck_keys[] = {
        {"disable", NULL, 0},      {"interval", NULL, 0}, {"retries", NULL, 0}, {"start_interval", NULL, 0},
        {"start_period", NULL, 0}, {"test", NULL, 0},     {"timeout", NULL, 0}, {NULL, NULL, 0},
};

static const struct key_shape k_services_n_healthcheck = {.keys = k_services_n_healthcheck_keys, .x = true};

static const struct key_def k_services_n_logging_keys[] = {
        {"driver", NULL, 0},
        {"options", &free_map, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_logging = {.keys = k_services_n_logging_keys, .x = true};

static const struct key_def k_services_n_models_n_keys[] = {
        {"endpoint_var", NULL, 0},
        {"model_var", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_models_n = {.keys = k_services_n_models_n_keys, .x = true};

static const struct key_shape k_services_n_models = {
        .names = &k_services_n_models_n,
};

static const struct key_def k_services_n_networks_n_keys[] = {
        {"aliases", NULL, 0},        {"driver_opts", &free_map, 0},
        {"gw_priority", NULL, 0},    {"interface_name", NULL, 0},
        {"ipv4_address", NULL, 0},   {"ipv6_address", NULL, 0},
        {"link_local_ips", NULL, 0}, {"mac_address", NULL, 0},
        {"priority", NULL, 0},       {NULL, NULL, 0},
};

static const struct key_shape k_services_n_networks_n = {.keys = k_services_n_networks_n_keys, .x = true};

static const struct key_shape k_services_n_networks = {
        .names = &k_services_n_networks_n,
};

static const struct key_def k_services_n_ports_item_keys[] = {
        {"app_protocol", NULL, 0}, {"host_ip", NULL, 0},   {"mode", NULL, 0},   {"name", NULL, 0},
        {"protocol", NULL, 0},     {"published", NULL, 0}, {"target", NULL, 0}, {NULL, NULL, 0},
};

static const struct key_shape k_services_n_ports_item = {.keys = k_services_n_ports_item_keys, .x = true};

static const struct key_shape k_services_n_ports = {
        .items = &k_services_n_ports_item,
};

static const struct key_def k_services_n_post_start_item_keys[] = {
        {"command", NULL, 0}, {"environment", &free_map, 0}, {"privileged", NULL, KEY_PRIVILEGED},
        {"user", NULL, 0},    {"working_dir", NULL, 0},      {NULL, NULL, 0},
};

static const struct key_shape k_services_n_post_start_item = {.keys = k_services_n_post_start_item_keys, .x = true};

static const struct key_shape k_services_n_post_start = {
        .items = &k_services_n_post_start_item,
};

static const struct key_def k_services_n_pre_stop_item_keys[] = {
        {"command", NULL, 0}, {"environment", &free_map, 0}, {"privileged", NULL, KEY_PRIVILEGED},
        {"user", NULL, 0},    {"working_dir", NULL, 0},      {NULL, NULL, 0},
};

static const struct key_shape k_services_n_pre_stop_item = {.keys = k_services_n_pre_stop_item_keys, .x = true};

static const struct key_shape k_services_n_pre_stop = {
        .items = &k_services_n_pre_stop_item,
};

static const struct key_def k_services_n_provider_keys[] = {
        {"options", &free_map, 0},
        {"type", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_provider = {.keys = k_services_n_provider_keys, .x = true};

static const struct key_def k_services_n_secrets_item_keys[] = {
        {"gid", NULL, 0},    {"mode", NULL, 0}, {"source", NULL, 0},
        {"target", NULL, 0}, {"uid", NULL, 0},  {NULL, NULL, 0},
};

static const struct key_shape k_services_n_secrets_item = {.keys = k_services_n_secrets_item_keys, .x = true};

static const struct key_shape k_services_n_secrets = {
        .items = &k_services_n_secrets_item,
};

static const struct key_def k_services_n_ulimits_n_keys[] = {
        {"hard", NULL, 0},
        {"soft", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_ulimits_n = {.keys = k_services_n_ulimits_n_keys, .x = true};

static const struct key_shape k_services_n_ulimits = {
        .names = &k_services_n_ulimits_n,
};

static const struct key_def k_services_n_volumes_item_bind_keys[] = {
        {"create_host_path", NULL, 0}, {"propagation", NULL, 0}, {"recursive", NULL, 0},
        {"selinux", NULL, 0},          {NULL, NULL, 0},
};

static const struct key_shape k_services_n_volumes_item_bind = {.keys = k_services_n_volumes_item_bind_keys, .x = true};

static const struct key_def k_services_n_volumes_item_image_keys[] = {
        {"subpath", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_volumes_item_image = {.keys = k_services_n_volumes_item_image_keys,
                                                                 .x = true};

static const struct key_def k_services_n_volumes_item_tmpfs_keys[] = {
        {"mode", NULL, 0},
        {"size", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_volumes_item_tmpfs = {.keys = k_services_n_volumes_item_tmpfs_keys,
                                                                 .x = true};

static const struct key_def k_services_n_volumes_item_volume_keys[] = {
        {"labels", &free_map, 0},
        {"nocopy", NULL, 0},
        {"subpath", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_volumes_item_volume = {.keys = k_services_n_volumes_item_volume_keys,
                                                                  .x = true};

static const struct key_def k_services_n_volumes_item_keys[] = {
        {"bind", &k_services_n_volumes_item_bind, 0},
        {"consistency", NULL, 0},
        {"image", &k_services_n_volumes_item_image, 0},
        {"read_only", NULL, 0},
        {"source", NULL, 0},
        {"target", NULL, 0},
        {"tmpfs", &k_services_n_volumes_item_tmpfs, 0},
        {"type", NULL, 0},
        {"volume", &k_services_n_volumes_item_volume, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_volumes_item = {.keys = k_services_n_volumes_item_keys, .x = true};

static const struct key_shape k_services_n_volumes = {
        .items = &k_services_n_volumes_item,
};

static const struct key_def k_services_n_keys[] = {
        {"annotations", &free_map, 0},
        {"attach", NULL, 0},
        {"blkio_config", &k_services_n_blkio_config, 0},
        {"build", &k_services_n_build, 0},
        {"cap_add", NULL, 0},
        {"cap_drop", NULL, 0},
        {"cgroup", NULL, 0},
        {"cgroup_parent", NULL, 0},
        {"command", NULL, 0},
        {"configs", &k_services_n_configs, 0},
        {"container_name", NULL, 0},
        {"cpu_count", NULL, 0},
        {"cpu_percent", NULL, 0},
        {"cpu_period", NULL, 0},
        {"cpu_quota", NULL, 0},
        {"cpu_rt_period", NULL, 0},
        {"cpu_rt_runtime", NULL, 0},
        {"cpu_shares", NULL, 0},
        {"cpus", NULL, 0},
        {"cpuset", NULL, 0},
        {"credential_spec", &k_services_n_credential_spec, 0},
        {"depends_on", &k_services_n_depends_on, 0},
        {"deploy", &k_services_n_deploy, 0},
        {"develop", &k_services_n_develop, 0},
        {"device_cgroup_rules", NULL, 0},
        {"devices", &k_services_n_devices, 0},
        {"dns", NULL, 0},
        {"dns_opt", NULL, 0},
        {"dns_search", NULL, 0},
        {"domainname", NULL, 0},
        {"entrypoint", NULL, 0},
        {"env_file", &k_services_n_env_file, 0},
        {"environment", &free_map, 0},
        {"expose", NULL, 0},
        {"extends", &k_services_n_extends, 0},
        {"external_links", NULL, 0},
        {"extra_hosts", &free_map, 0},
        {"gpus", &k_services_n_gpus, 0},
        {"group_add", NULL, 0},
        {"healthcheck", &k_services_n_healthcheck, 0},
        {"hostname", NULL, 0},
        {"image", NULL, 0},
        {"init", NULL, 0},
        {"ipc", NULL, 0},
        {"isolation", NULL, 0},
        {"label_file", NULL, 0},
        {"labels", &free_map, 0},
        {"links", NULL, 0},
        {"logging", &k_services_n_logging, 0},
        {"mac_address", NULL, 0},
        {"mem_limit", NULL, 0},
        {"mem_reservation", NULL, 0},
        {"mem_swappiness", NULL, 0},
        {"memswap_limit", NULL, 0},
        {"models", &k_services_n_models, KEY_REFUSE},
        {"network_mode", NULL, 0},
        {"networks", &k_services_n_networks, 0},
        {"oom_kill_disable", NULL, 0},
        {"oom_score_adj", NULL, 0},
        {"pid", NULL, 0},
        {"pids_limit", NULL, 0},
        {"platform", NULL, 0},
        {"ports", &k_services_n_ports, 0},
        {"post_start", &k_services_n_post_start, 0},
        {"pre_stop", &k_services_n_pre_stop, 0},
        {"privileged", NULL, 0},
        {"profiles", NULL, 0},
        {"provider", &k_services_n_provider, KEY_REFUSE},
        {"pull_policy", NULL, 0},
        {"pull_refresh_after", NULL, 0},
        {"read_only", NULL, 0},
        {"restart", NULL, 0},
        {"runtime", NULL, 0},
        {"scale", NULL, 0},
        {"secrets", &k_services_n_secrets, 0},
        {"security_opt", NULL, 0},
        {"shm_size", NULL, 0},
        {"stdin_open", NULL, 0},
        {"stop_grace_period", NULL, 0},
        {"stop_signal", NULL, 0},
        {"storage_opt", &free_map, 0},
        {"sysctls", &free_map, 0},
        {"tmpfs", NULL, 0},
        {"tty", NULL, 0},
        {"ulimits", &k_services_n_ulimits, 0},
        {"use_api_socket", NULL, KEY_DOCKER_SOCKET},
        {"user", NULL, 0},
        {"userns_mode", NULL, 0},
        {"uts", NULL, 0},
        {"volume_driver", NULL, 0}, /* compose file format 2.x, docker-compose 1.29: judged by policy-security.c */
        {"volumes", &k_services_n_volumes, 0},
        {"volumes_from", NULL, 0},
        {"working_dir", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n = {.keys = k_services_n_keys, .x = true};

static const struct key_shape k_services = {
        .names = &k_services_n,
};

static const struct key_def k_volumes_n_external_keys[] = {
        {"name", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_volumes_n_external = {.keys = k_volumes_n_external_keys, .x = true};

static const struct key_def k_volumes_n_keys[] = {
        {"driver", NULL, 0},
        {"driver_opts", &free_map, 0},
        {"external", &k_volumes_n_external, 0},
        {"labels", &free_map, 0},
        {"name", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_volumes_n = {.keys = k_volumes_n_keys, .x = true};

static const struct key_shape k_volumes = {
        .names = &k_volumes_n,
};

static const struct key_def k_top_keys[] = {
        {"configs", &k_configs, 0},        {"include", &k_include, 0},
        {"models", &k_models, KEY_REFUSE}, {"name", NULL, 0},
        {"networks", &k_networks, 0},      {"secrets", &k_secrets, 0},
        {"services", &k_services, 0},      {"version", NULL, 0},
        {"volumes", &k_volumes, 0},        {NULL, NULL, 0},
};

static const struct key_shape k_top = {.keys = k_top_keys, .x = true};

/* ---- paths in messages ---- */

/* Where a node is: a head ("service 'web'": a named definition of a top-level section, "" above one) and the
 * keys below it ("deploy.resources", "cap_add[0]"), truncated in a long path. */
#define TAIL_SIZE 256
#define HEAD_SIZE 128 /* "service '<name, at most ~64 bytes as yamltree_show() writes it>'" */

static const struct {
        const char *section, *what;
} named_sections[] = {
        {"services", "service"}, {"volumes", "volume"}, {"networks", "network"},
        {"secrets", "secret"},   {"configs", "config"}, {"models", "model"},
};

/* The head of a definition named k in the top-level section (NULL when the section names none). */
static bool named_head(const char *section, const struct yamltree_node *k, char *head, size_t size)
{
        char buf[80];
        size_t i;

        for (i = 0; section && i < COUNT(named_sections); i++)
                if (strcmp(section, named_sections[i].section) == 0) {
                        snprintf(head, size, "%s '%s'", named_sections[i].what,
                                 yamltree_show(k->text, k->len, buf, sizeof buf));
                        return true;
                }
        return false;
}

static void tail_key(char *out, const char *tail, const struct yamltree_node *k)
{
        char buf[80];

        if (snprintf(out, TAIL_SIZE, "%s%s%s", tail, *tail ? "." : "",
                     yamltree_show(k->text, k->len, buf, sizeof buf)) >= TAIL_SIZE)
                return; /* a path this deep is cut short in the message: nothing is decided on it */
}

static void tail_item(char *out, const char *tail, size_t i)
{
        char idx[24];
        size_t n = strnlen(tail, TAIL_SIZE - 1), m;

        snprintf(idx, sizeof idx, "[%zu]", i);
        m = strlen(idx);
        if (n + m >= TAIL_SIZE)
                n = TAIL_SIZE - 1 - m; /* a path this deep is cut short in the message, as above */
        memmove(out, tail, n);
        memcpy(out + n, idx, m + 1);
}

/* "<head>: <tail>" (or either alone); "the top level" when both are empty. */
static const char *where(const char *head, const char *tail, char *buf, size_t size)
{
        if (*head && *tail)
                snprintf(buf, size, "%s: %s", head, tail);
        else if (*head || *tail)
                snprintf(buf, size, "%s", *head ? head : tail);
        else
                snprintf(buf, size, "the top level");
        return buf;
}

/* ---- YAML tags ---- */

#define CORE(t) "tag:yaml.org,2002:" t

struct tags {
        const char *rel;
        struct error *err;
        bool resolve;
};

static const char *tag_show(const char *tag, char *buf, size_t size)
{
        if (strncmp(tag, CORE(""), strlen(CORE(""))) == 0)
                snprintf(buf, size, "!!%.60s", tag + strlen(CORE("")));
        else
                snprintf(buf, size, "%.64s", tag);
        return buf;
}

/* noinline: its buffers stay off the stack of every level of a deep document */
static __attribute__((noinline)) int tag_refused(struct tags *t, const char *head, const char *tail,
                                                 const struct yamltree_node *n, const char *why)
{
        char at[HEAD_SIZE + TAIL_SIZE], tag[80];

        return error_set(t->err, STACK_EREJECT, "%s: %s: YAML tag '%s' is not allowed%s (line %zu)", t->rel,
                         where(head, tail, at, sizeof at), tag_show(n->tag, tag, sizeof tag), why, n->line);
}

static bool all_digits(const char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return len > 0;
}

/* [-+]?(0|[1-9][0-9]*): an int for PyYAML and go-yaml alike (no octal, hex, `_` or sexagesimal). */
static bool plain_int(const char *s, size_t len)
{
        if (len && (*s == '-' || *s == '+'))
                s++, len--;
        return all_digits(s, len) && (len == 1 || s[0] != '0');
}

/* [-+]?[0-9]+\.[0-9]*([eE][-+][0-9]+)?: a float for PyYAML (which wants the dot and the exponent's sign) and
 * go-yaml alike. */
static bool plain_float(const char *s, size_t len)
{
        size_t i = 0, j;

        if (len && (s[0] == '-' || s[0] == '+'))
                i++;
        for (j = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                ;
        if (i == j || i >= len || s[i] != '.')
                return false;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                ;
        if (i == len)
                return true;
        if (s[i] != 'e' && s[i] != 'E')
                return false;
        i++;
        if (i >= len || (s[i] != '-' && s[i] != '+'))
                return false;
        return all_digits(s + i + 1, len - i - 1);
}

static int set_text(struct yamltree_node *n, const char *text)
{
        char *copy = strdup(text);

        if (!copy)
                return -1;
        yamltree_scalar_replace(n, copy, YAML_PLAIN_SCALAR_STYLE);
        return 0;
}

/* A scalar's tag: checked, and (resolve) replaced by a style that makes both compose versions read the same. */
static int tag_scalar(struct tags *t, struct yamltree_node *n, const char *head, const char *tail, bool key)
{
        static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
        const char *tag = n->tag;
        bool ok = false;
        size_t i;

        if (!tag)
                return 0;
        if (strcmp(tag, CORE("str")) == 0) {
                if (!t->resolve)
                        return 0;
                free(n->tag);
                n->tag = NULL;
                if (n->style == YAML_PLAIN_SCALAR_STYLE || n->style == YAML_ANY_SCALAR_STYLE)
                        n->style = YAML_DOUBLE_QUOTED_SCALAR_STYLE; /* stays a string */
                return 0;
        }
        if (key)
                return tag_refused(t, head, tail, n, " on a key");
        if (strcmp(tag, "!override") == 0) {
                if (t->resolve) {
                        free(n->tag);
                        n->tag = NULL;
                }
                return 0;
        }
        if (strcmp(tag, CORE("int")) == 0) {
                if (!plain_int(n->text, n->len))
                        return tag_refused(t, head, tail, n, " on a value that is not a decimal integer");
                return t->resolve && set_text(n, n->text) < 0 ? policy_oom(t->err) : 0;
        }
        if (strcmp(tag, CORE("float")) == 0) {
                if (!plain_float(n->text, n->len))
                        return tag_refused(t, head, tail, n, " on a value that is not a decimal float");
                return t->resolve && set_text(n, n->text) < 0 ? policy_oom(t->err) : 0;
        }
        if (strcmp(tag, CORE("bool")) == 0) {
                for (i = 0; i < COUNT(bools) && !ok; i++)
                        ok = yamltree_text_is(n, bools[i]);
                if (!ok)
                        return tag_refused(t, head, tail, n, " on a value that is not true or false");
                return t->resolve && set_text(n, n->text[0] == 't' || n->text[0] == 'T' ? "true" : "false") < 0
                               ? policy_oom(t->err)
                               : 0;
        }
        if (strcmp(tag, CORE("null")) == 0) {
                ok = n->len == 0 || yamltree_text_is(n, "~") || yamltree_text_is(n, "null") ||
                     yamltree_text_is(n, "Null") || yamltree_text_is(n, "NULL");
                if (!ok)
                        return tag_refused(t, head, tail, n, " on a value that is not a null");
                return t->resolve && set_text(n, "null") < 0 ? policy_oom(t->err) : 0;
        }
        return tag_refused(t, head, tail, n, "");
}

/* A list's or mapping's own tag. */
static int tag_collection(struct tags *t, struct yamltree_node *n, const char *head, const char *tail)
{
        const char *own = n->kind == YAMLTREE_MAP ? CORE("map") : CORE("seq");

        if (!n->tag)
                return 0;
        if (strcmp(n->tag, own) != 0 && strcmp(n->tag, "!override") != 0)
                return tag_refused(t, head, tail, n, "");
        if (t->resolve) {
                free(n->tag);
                n->tag = NULL;
        }
        return 0;
}

static int tags_node(struct tags *t, struct yamltree_node *n, const char *head, const char *tail, size_t depth,
                     const char *section);

static bool is_reset(const struct yamltree_node *n)
{
        return n->tag && strcmp(n->tag, "!reset") == 0;
}

static int tags_map(struct tags *t, struct yamltree_node *m, const char *head, const char *tail, size_t depth,
                    const char *section)
{
        char child_head[HEAD_SIZE], child_tail[TAIL_SIZE];
        const char *sec = NULL;
        size_t i = 0;
        int r;

        while (i + 1 < m->n) {
                struct yamltree_node *k = m->items[i], *v = m->items[i + 1];
                const char *h = head;

                if (depth == 0) {
                        sec = k->kind == YAMLTREE_SCALAR && !memchr(k->text, 0, k->len) ? k->text : NULL;
                        tail_key(child_tail, "", k);
                } else if (depth == 1 && named_head(section, k, child_head, sizeof child_head)) {
                        h = child_head;
                        child_tail[0] = 0;
                } else {
                        tail_key(child_tail, tail, k);
                }
                r = k->kind == YAMLTREE_SCALAR ? tag_scalar(t, k, h, child_tail, true) : 0;
                if (r < 0)
                        return r;
                if (is_reset(v) && t->resolve) { /* the key is removed (compose v2 reads no value) */
                        yamltree_free(k);
                        yamltree_free(v);
                        memmove(m->items + i, m->items + i + 2, (m->n - i - 2) * sizeof *m->items);
                        m->n -= 2;
                        continue;
                }
                r = tags_node(t, v, h, child_tail, depth + 1, depth == 0 ? sec : section);
                if (r < 0)
                        return r;
                i += 2;
        }
        return 0;
}

static int tags_node(struct tags *t, struct yamltree_node *n, const char *head, const char *tail, size_t depth,
                     const char *section)
{
        char child_tail[TAIL_SIZE];
        size_t i = 0, shown = 0;
        int r;

        if (is_reset(n)) {
                if (depth == 0)
                        return tag_refused(t, head, tail, n, " on the document");
                return 0; /* resolve: removed by the caller; check only: allowed */
        }
        if (n->kind == YAMLTREE_SCALAR)
                return tag_scalar(t, n, head, tail, false);
        r = tag_collection(t, n, head, tail);
        if (r < 0)
                return r;
        if (n->kind == YAMLTREE_MAP)
                return tags_map(t, n, head, tail, depth, section);
        while (i < n->n) {
                if (is_reset(n->items[i]) && t->resolve) { /* the item is removed */
                        yamltree_free(n->items[i]);
                        memmove(n->items + i, n->items + i + 1, (n->n - i - 1) * sizeof *n->items);
                        n->n--;
                        shown++;
                        continue;
                }
                tail_item(child_tail, tail, i + shown);
                r = tags_node(t, n->items[i], head, child_tail, depth + 1, section);
                if (r < 0)
                        return r;
                i++;
        }
        return 0;
}

int policy_tags(const char *rel, struct yamltree_node *root, bool resolve, struct error *err)
{
        struct tags t = {.rel = rel, .err = err, .resolve = resolve};

        return tags_node(&t, root, "", "", 0, NULL);
}

/* ---- keys ---- */

static const struct key_def *key_find(const struct key_def *keys, const struct yamltree_node *k)
{
        for (; keys->name; keys++)
                if (strlen(keys->name) == k->len && memcmp(keys->name, k->text, k->len) == 0)
                        return keys;
        return NULL;
}

static bool is_extension(const struct yamltree_node *k)
{
        return k->kind == YAMLTREE_SCALAR && k->len >= 2 && k->text[0] == 'x' && k->text[1] == '-';
}

/* Key k at head/ktail is d in the table (NULL: not there): refused, or judged by its flags. noinline: its
 * buffers stay off the stack of every level of a deep document. */
static __attribute__((noinline)) int key_judge(struct file *f, const char *head, const char *ktail,
                                               const struct key_def *d, const struct yamltree_node *k,
                                               const struct yamltree_node *v)
{
        char who[WHO_SIZE + HEAD_SIZE + TAIL_SIZE], at[HEAD_SIZE + TAIL_SIZE];

        if (!d) {
                if (*head)
                        snprintf(who, sizeof who, "%s%s", f->prefix, head);
                else
                        snprintf(who, sizeof who, "%s", f->rel);
                return error_set(f->a->err, STACK_EREJECT,
                                 "%s: unknown compose key '%s' (stack refuses what it does not know; line %zu)", who,
                                 ktail, k->line);
        }
        if (!d->flags)
                return 0;
        snprintf(who, sizeof who, "%s%s", f->prefix, where(head, ktail, at, sizeof at));
        if (d->flags & KEY_REFUSE)
                return error_set(f->a->err, STACK_EREJECT,
                                 "%s: not supported by stack (compose runs it outside the sandbox stack judges; line "
                                 "%zu)",
                                 who, k->line);
        if ((d->flags & KEY_DOCKER_SOCKET) && !policy_is_false(v))
                policy_need(f, PERM_DOCKER_SOCKET, who, "the Docker socket");
        if ((d->flags & KEY_PRIVILEGED) && !policy_is_false(v))
                policy_need(f, PERM_PRIVILEGED, who, "a privileged command");
        return 0;
}

static int keys_node(struct file *f, struct yamltree_node *n, const struct key_shape *s, const char *head,
                     const char *tail, size_t depth, const char *section);

static int keys_map(struct file *f, struct yamltree_node *m, const struct key_shape *s, const char *head,
                    const char *tail, size_t depth, const char *section)
{
        char child_head[HEAD_SIZE], child_tail[TAIL_SIZE];
        size_t i = 0;
        int r;

        while (i + 1 < m->n) {
                struct yamltree_node *k = m->items[i], *v = m->items[i + 1];
                const struct key_shape *sub = s->names;
                const char *h = head;

                if (s->x && is_extension(k)) { /* dropped: compose ignores it, nothing is judged in it */
                        yamltree_free(k);
                        yamltree_free(v);
                        memmove(m->items + i, m->items + i + 2, (m->n - i - 2) * sizeof *m->items);
                        m->n -= 2;
                        continue;
                }
                if (depth == 1 && named_head(section, k, child_head, sizeof child_head)) {
                        h = child_head;
                        child_tail[0] = 0;
                } else {
                        tail_key(child_tail, tail, k);
                }
                if (s->keys) {
                        const struct key_def *d = k->kind == YAMLTREE_SCALAR ? key_find(s->keys, k) : NULL;

                        r = key_judge(f, head, child_tail, d, k, v);
                        if (r < 0)
                                return r;
                        sub = d->shape;
                }
                if (sub) {
                        r = keys_node(f, v, sub, h, child_tail, depth + 1,
                                      depth == 0 && k->kind == YAMLTREE_SCALAR ? k->text : section);
                        if (r < 0)
                                return r;
                }
                i += 2;
        }
        return 0;
}

static int keys_node(struct file *f, struct yamltree_node *n, const struct key_shape *s, const char *head,
                     const char *tail, size_t depth, const char *section)
{
        char child_tail[TAIL_SIZE];
        size_t i;
        int r;

        if (n->kind == YAMLTREE_MAP && (s->keys || s->names))
                return keys_map(f, n, s, head, tail, depth, section);
        if (n->kind != YAMLTREE_SEQ || !s->items)
                return 0; /* a scalar, or a free mapping */
        for (i = 0; i < n->n; i++) {
                tail_item(child_tail, tail, i);
                r = keys_node(f, n->items[i], s->items, head, child_tail, depth + 1, section);
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_check_keys(struct file *f, struct yamltree_node *root)
{
        return keys_node(f, root, &k_top, "", "", 0, NULL);
}
