/* ports.c - the host ports stack listens on (ports.h). */
#include "base/ports.h"

#include <stdlib.h>

static int env_port(const char *name, int fallback)
{
        const char *v = getenv(name);
        char *end;
        long p;

        if (!v || !*v)
                return fallback;
        p = strtol(v, &end, 10);
        return *end || p < 1 || p > 65535 ? -1 : (int)p;
}

int ports_front_https(void)
{
        return env_port("STACK_PROXY_PORT", 443);
}

int ports_front_http(void)
{
        const char *https = getenv("STACK_PROXY_PORT");

        return env_port("STACK_PROXY_HTTP_PORT", https && *https ? 0 : 80);
}
