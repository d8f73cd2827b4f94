/* digest.c - SHA-256 through nettle, and hex conversion. */
#include "base/digest.h"

#include <errno.h>
#include <string.h>

void digest_init(struct hasher *h)
{
        sha256_init(&h->ctx);
}

void digest_update(struct hasher *h, const void *data, size_t len)
{
        sha256_update(&h->ctx, len, data);
}

void digest_final(struct hasher *h, struct digest *ret)
{
        sha256_digest(&h->ctx, DIGEST_LEN, ret->b);
}

void digest_buffer(const void *data, size_t len, struct digest *ret)
{
        struct hasher h;

        digest_init(&h);
        digest_update(&h, data, len);
        digest_final(&h, ret);
}

void digest_to_hex(const struct digest *d, char *out)
{
        static const char hex[] = "0123456789abcdef";

        for (int i = 0; i < DIGEST_LEN; i++) {
                out[2 * i] = hex[d->b[i] >> 4];
                out[2 * i + 1] = hex[d->b[i] & 15];
        }
        out[DIGEST_HEX_LEN] = 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int digest_from_hex(const char *hex, struct digest *ret)
{
        struct digest d;

        if (!hex || strlen(hex) != DIGEST_HEX_LEN)
                return -EINVAL;
        for (int i = 0; i < DIGEST_LEN; i++) {
                int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                d.b[i] = (uint8_t)(hi << 4 | lo);
        }
        *ret = d;
        return 0;
}

bool digest_equal(const struct digest *a, const struct digest *b)
{
        return memcmp(a->b, b->b, DIGEST_LEN) == 0;
}
