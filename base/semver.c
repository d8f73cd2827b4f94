/* semver.c - version labels in semantic-version order, for resolving "the newest" in the index and the catalog. */
#include "base/semver.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Parse MAJOR.MINOR.PATCH[-pre][+build] with an optional leading v; MINOR and PATCH may be missing ("6.4"). */
struct semver {
        unsigned long long n[3];
        const char *pre; /* NULL or the text after '-', up to '+' */
        size_t pre_len;
};

static int semver_parse(const char *s, struct semver *v)
{
        const char *p = s;

        memset(v, 0, sizeof *v);
        if (*p == 'v' || *p == 'V')
                p++;
        for (int i = 0; i < 3; i++) {
                char *end;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                errno = 0;
                v->n[i] = strtoull(p, &end, 10);
                if (errno)
                        return -EINVAL;
                p = end;
                if (*p != '.')
                        break;
                if (i == 2)
                        return -EINVAL;
                p++;
        }
        if (*p == '-') {
                v->pre = ++p;
                while (*p && *p != '+')
                        p++;
                v->pre_len = (size_t)(p - v->pre);
                if (!v->pre_len)
                        return -EINVAL;
        }
        if (*p == '+')
                p += strlen(p);
        return *p ? -EINVAL : 0;
}

/* Pre-release identifiers compare numerically when both are numbers, else as text (semver 2.0 section 11). */
static int prerelease_cmp(const char *a, size_t al, const char *b, size_t bl)
{
        while (al && bl) {
                size_t ai = 0, bi = 0;
                bool an = true, bn = true;
                int c;

                for (; ai < al && a[ai] != '.'; ai++)
                        an = an && isdigit((unsigned char)a[ai]);
                for (; bi < bl && b[bi] != '.'; bi++)
                        bn = bn && isdigit((unsigned char)b[bi]);
                if (an && bn) {
                        c = ai != bi ? (ai < bi ? -1 : 1) : memcmp(a, b, ai);
                } else if (an != bn) {
                        c = an ? -1 : 1;
                } else {
                        c = memcmp(a, b, ai < bi ? ai : bi);
                        if (!c && ai != bi)
                                c = ai < bi ? -1 : 1;
                }
                if (c)
                        return c;
                a += ai + (ai < al);
                al -= ai + (ai < al);
                b += bi + (bi < bl);
                bl -= bi + (bi < bl);
        }
        return al ? 1 : bl ? -1 : 0;
}

int semver_compare(const char *a, const char *b, int *ret)
{
        struct semver x, y;

        if (semver_parse(a, &x) < 0 || semver_parse(b, &y) < 0)
                return -EINVAL;
        for (int i = 0; i < 3; i++)
                if (x.n[i] != y.n[i]) {
                        *ret = x.n[i] < y.n[i] ? -1 : 1;
                        return 0;
                }
        if (!x.pre || !y.pre)
                *ret = x.pre ? -1 : y.pre ? 1 : 0; /* a release outranks its pre-releases */
        else
                *ret = prerelease_cmp(x.pre, x.pre_len, y.pre, y.pre_len);
        return 0;
}
