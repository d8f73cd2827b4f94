/* mem.c - string lists and freeing them (mem.h). */
#include "base/mem.h"

#include <errno.h>
#include <string.h>

void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

void strv_free_n(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

int strv_extend(char ***v, char *const *add)
{
        size_t n = 0, k = 0, i;
        char **nv;

        while (*v && (*v)[n])
                n++;
        while (add && add[k])
                k++;
        if (!k)
                return 0;
        nv = realloc(*v, (n + k + 1) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        *v = nv;
        for (i = 0; i < k; i++)
                if (!(nv[n + i] = strdup(add[i]))) {
                        nv[n + i] = NULL;
                        return -ENOMEM; /* the copies made so far stay, terminated */
                }
        nv[n + k] = NULL;
        return 0;
}
