/* fuzz-composevars.c - compose's variables (run/composevars.h): dotenv text and ${VAR} interpolation.
 * First byte even: the rest is a bundle .env for dotenv_parse(); odd: the rest is one compose string for
 * interp_expand(), and interp_escape() of it must expand back to exactly it (what the effective compose file
 * relies on). */
#include "fuzz.h"

#include "run/composevars.h"

static const char *const vars[] = {"A=1", "B=", "C=${A}$$x", "PROJECT=stack-demo", "DOMAIN=demo.stack.localhost", NULL};

static const char *lookup(void *ctx, const char *name)
{
        size_t n = strlen(name);

        (void)ctx;
        if (n > INTERP_NAME_MAX)
                abort(); /* names are bounded before any lookup */
        for (size_t i = 0; vars[i]; i++)
                if (!strncmp(vars[i], name, n) && vars[i][n] == '=')
                        return vars[i] + n + 1;
        return NULL;
}

static int on_value(void *ctx, const char *key, const char *value)
{
        if (!key || !*key || !value)
                abort();
        ++*(size_t *)ctx;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = ERROR_INIT;
        char *s, *out = NULL, *esc = NULL, *back = NULL;
        struct interp_report rep;
        size_t n = 0;
        int r;

        if (size < 1)
                return 0;
        if (!(data[0] & 1)) {
                r = dotenv_parse((const char *)data + 1, size - 1, "bundle/.env", lookup, NULL, on_value, &n, &err);
                fuzz_check_verdict(r, &err);
                if (n > DOTENV_MAX_BINDINGS)
                        abort();
                return 0;
        }
        s = fuzz_strndup(data + 1, size - 1);
        (void)interp_has_vars(s);
        r = interp_expand(s, (data[0] & 2) ? lookup : NULL, NULL, &out, &rep, &err);
        fuzz_check_verdict(r, &err);
        if (r == 0 && (!out || strlen(out) > INTERP_MAX_OUTPUT))
                abort();
        free(out);
        if (interp_escape(s, &esc) != 0)
                abort();
        error_clear(&err);
        r = interp_expand(esc, lookup, NULL, &back, &rep, &err);
        if (r != 0 || strcmp(back, s) != 0 || rep.flags & (INTERP_UNSET_USED | INTERP_REQUIRED_MISSING))
                abort(); /* an escaped string reads back as itself, whatever the variables */
        free(back);
        free(esc);
        free(s);
        return 0;
}
