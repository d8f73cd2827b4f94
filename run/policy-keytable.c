/* policy-keytable.c - every key of the compose specification (schema/compose-spec.json of
 * github.com/compose-spec/compose-spec, commit 170098ba07d9), as the shapes policy_check_keys() (policy-keys.c)
 * walks: which keys a mapping may hold, which values are mappings of names, lists or free-form mappings, and
 * the few keys judged by their flags (KEY_*, policy-int.h). Generated from the schema; a shape the schema
 * repeats under several keys (external, file references, ulimits, device requests, update configs, lifecycle
 * hooks) is written once and shared.
 */
#include "policy-int.h"

#include <stddef.h>

static const struct key_shape free_map = {.free = true};

/* ---- the table: generated from the compose specification's schema (see the comment at the top) ---- */

static const struct key_def k_external_keys[] = {
        {"name", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_external = {
        .keys = k_external_keys,
};

static const struct key_def k_configs_n_keys[] = {
        {"content", NULL, 0},     {"environment", NULL, 0}, {"external", &k_external, 0}, {"file", NULL, 0},
        {"labels", &free_map, 0}, {"name", NULL, 0},        {"template_driver", NULL, 0}, {NULL, NULL, 0},
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

static const struct key_shape k_external_x = {.keys = k_external_keys, .x = true};

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
        {"external", &k_external_x, 0},
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

static const struct key_def k_secrets_n_keys[] = {
        {"driver", NULL, 0}, {"driver_opts", &free_map, 0}, {"environment", NULL, 0}, {"external", &k_external, 0},
        {"file", NULL, 0},   {"labels", &free_map, 0},      {"name", NULL, 0},        {"template_driver", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_secrets_n = {.keys = k_secrets_n_keys, .x = true};

static const struct key_shape k_secrets = {
        .names = &k_secrets_n,
};

static const struct key_def k_device_rate_keys[] = {
        {"path", NULL, 0},
        {"rate", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_device_rate = {
        .keys = k_device_rate_keys,
};

static const struct key_shape k_device_rate_list = {
        .items = &k_device_rate,
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
        {"device_read_bps", &k_device_rate_list, 0},
        {"device_read_iops", &k_device_rate_list, 0},
        {"device_write_bps", &k_device_rate_list, 0},
        {"device_write_iops", &k_device_rate_list, 0},
        {"weight", NULL, 0},
        {"weight_device", &k_services_n_blkio_config_weight_device, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_blkio_config = {
        .keys = k_services_n_blkio_config_keys,
};

static const struct key_def k_file_ref_keys[] = {
        {"gid", NULL, 0},    {"mode", NULL, 0}, {"source", NULL, 0},
        {"target", NULL, 0}, {"uid", NULL, 0},  {NULL, NULL, 0},
};

static const struct key_shape k_file_ref = {.keys = k_file_ref_keys, .x = true};

static const struct key_shape k_file_ref_list = {
        .items = &k_file_ref,
};

static const struct key_def k_ulimit_keys[] = {
        {"hard", NULL, 0},
        {"soft", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_ulimit = {.keys = k_ulimit_keys, .x = true};

static const struct key_shape k_ulimit_names = {
        .names = &k_ulimit,
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
        {"secrets", &k_file_ref_list, 0},
        {"shm_size", NULL, 0},
        {"ssh", &free_map, 0},
        {"tags", NULL, 0},
        {"target", NULL, 0},
        {"ulimits", &k_ulimit_names, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_build = {.keys = k_services_n_build_keys, .x = true};

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

static const struct key_def k_device_request_keys[] = {
        {"capabilities", NULL, 0}, {"count", NULL, 0},        {"device_ids", NULL, 0},
        {"driver", NULL, 0},       {"options", &free_map, 0}, {NULL, NULL, 0},
};

static const struct key_shape k_services_n_deploy_resources_reservations_devices_item = {.keys = k_device_request_keys,
                                                                                         .x = true};

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

static const struct key_def k_update_config_keys[] = {
        {"delay", NULL, 0},   {"failure_action", NULL, 0}, {"max_failure_ratio", NULL, 0},
        {"monitor", NULL, 0}, {"order", NULL, 0},          {"parallelism", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_update_config = {.keys = k_update_config_keys, .x = true};

static const struct key_def k_services_n_deploy_keys[] = {
        {"endpoint_mode", NULL, 0},
        {"labels", &free_map, 0},
        {"mode", NULL, 0},
        {"placement", &k_services_n_deploy_placement, 0},
        {"replicas", NULL, 0},
        {"resources", &k_services_n_deploy_resources, 0},
        {"restart_policy", &k_services_n_deploy_restart_policy, 0},
        {"rollback_config", &k_update_config, 0},
        {"update_config", &k_update_config, 0},
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

static const struct key_shape k_services_n_gpus_item = {
        .keys = k_device_request_keys,
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

static const struct key_def k_hook_keys[] = {
        {"command", NULL, 0}, {"environment", &free_map, 0}, {"privileged", NULL, KEY_PRIVILEGED},
        {"user", NULL, 0},    {"working_dir", NULL, 0},      {NULL, NULL, 0},
};

static const struct key_shape k_hook = {.keys = k_hook_keys, .x = true};

static const struct key_shape k_hook_list = {
        .items = &k_hook,
};

static const struct key_def k_services_n_provider_keys[] = {
        {"options", &free_map, 0},
        {"type", NULL, 0},
        {NULL, NULL, 0},
};

static const struct key_shape k_services_n_provider = {.keys = k_services_n_provider_keys, .x = true};

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
        {"configs", &k_file_ref_list, 0},
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
        {"post_start", &k_hook_list, 0},
        {"pre_stop", &k_hook_list, 0},
        {"privileged", NULL, 0},
        {"profiles", NULL, 0},
        {"provider", &k_services_n_provider, KEY_REFUSE},
        {"pull_policy", NULL, 0},
        {"pull_refresh_after", NULL, 0},
        {"read_only", NULL, 0},
        {"restart", NULL, 0},
        {"runtime", NULL, 0},
        {"scale", NULL, 0},
        {"secrets", &k_file_ref_list, 0},
        {"security_opt", NULL, 0},
        {"shm_size", NULL, 0},
        {"stdin_open", NULL, 0},
        {"stop_grace_period", NULL, 0},
        {"stop_signal", NULL, 0},
        {"storage_opt", &free_map, 0},
        {"sysctls", &free_map, 0},
        {"tmpfs", NULL, 0},
        {"tty", NULL, 0},
        {"ulimits", &k_ulimit_names, 0},
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

static const struct key_def k_volumes_n_keys[] = {
        {"driver", NULL, 0},
        {"driver_opts", &free_map, 0},
        {"external", &k_external_x, 0},
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

const struct key_shape policy_key_top = {.keys = k_top_keys, .x = true};
