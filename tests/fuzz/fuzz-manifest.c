/* fuzz-manifest.c - stack.yaml (store/manifest.h): a manifest parses and reads back, or is refused with one
 * line naming the key. */
#include "fuzz.h"

#include "store/manifest.h"

static void on_warn(void *ctx, const char *line)
{
        if (!line || !*line)
                abort();
        ++*(size_t *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = ERROR_INIT;
        struct manifest *m = NULL;
        size_t warnings = 0;
        int r = manifest_parse(data, size, &m, on_warn, &warnings, &err);

        fuzz_check_verdict(r, &err);
        if (r == 0) {
                if (!m || !m->slug || !manifest_slug_valid(m->slug) || !manifest_flavor_name(m->flavor))
                        abort();
                for (size_t i = 0; i < m->n_images; i++)
                        if (!m->images[i])
                                abort();
                for (size_t i = 0; i < m->n_ports; i++)
                        if (!m->ports[i].service || m->ports[i].port < 1 || m->ports[i].port > 65535)
                                abort();
                for (size_t i = 0; i < m->n_unknown; i++)
                        if (!m->unknown[i])
                                abort();
        }
        manifest_free(m);
        return 0;
}
