/* bench-hash.c - SHA-256 throughput of the store's digest (nettle) against mbedTLS 2.28 (the baseline), and
 * OpenSSL's libcrypto as the reference for what this CPU manages right now (a VM's speed varies over a day),
 * in one run. Target (DESIGN.md section 9): at least 1.2 GB/s. Prints; never fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/sha256.h>
#include <openssl/evp.h>

#include "base/digest.h"

#define SIZE   (512UL << 20)
#define ROUNDS 3

static double now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
        unsigned char *buf = malloc(SIZE), out[32];
        double best_store = 1e9, best_mbed = 1e9, best_ossl = 1e9;
        struct digest d;

        if (!buf)
                return 1;
        for (size_t i = 0; i < SIZE; i++)
                buf[i] = (unsigned char)(i * 2654435761u >> 13);
        for (int r = 0; r < ROUNDS; r++) {
                double t = now();
                digest_buffer(buf, SIZE, &d);
                t = now() - t;
                if (t < best_store)
                        best_store = t;
                t = now();
                mbedtls_sha256_ret(buf, SIZE, out, 0);
                t = now() - t;
                if (t < best_mbed)
                        best_mbed = t;
                t = now();
                EVP_Digest(buf, SIZE, out, NULL, EVP_sha256(), NULL);
                t = now() - t;
                if (t < best_ossl)
                        best_ossl = t;
        }
        printf("hash: store digest (nettle) %.2f GB/s; baseline mbedTLS %.2f GB/s; ratio %.2fx faster; "
               "target >= 1.20 GB/s: %s; this CPU now (libcrypto, reference) %.2f GB/s, store at %.0f%% of it\n",
               SIZE / best_store / 1e9, SIZE / best_mbed / 1e9, best_mbed / best_store,
               SIZE / best_store / 1e9 >= 1.2 ? "met" : "NOT met", SIZE / best_ossl / 1e9,
               100 * best_ossl / best_store);
        free(buf);
        return 0;
}
