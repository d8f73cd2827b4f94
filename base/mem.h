/* mem.h - string lists, and freeing the arrays the modules hand out: string lists and arrays of structs.
 *
 * strv_free(v)                  a NULL-terminated array of heap strings (engine names, image refs, policy
 *                               lists, judge ids); v may be NULL
 * strv_extend(&v, add)          appends copies of the NULL-terminated add (may be NULL) to *v (may be NULL);
 *                               (-ENOMEM: *v is still a valid list, maybe with some of them)
 * strv_free_n(v, n)             the same for an array of n strings (directory listings, request slugs)
 * MEM_FREE_ARRAY(v, n, release) an array of n structs: release(&v[i]) for each (the struct's own release
 *                               function, typed as the struct), then free(v); v may be NULL
 */
#ifndef STACK_MEM_H
#define STACK_MEM_H

#include <stddef.h>
#include <stdlib.h>

void strv_free(char **v);
void strv_free_n(char **v, size_t n);
int strv_extend(char ***v, char *const *add);

#define MEM_FREE_ARRAY(v, n, release)                      \
        do {                                               \
                for (size_t i_ = 0; (v) && i_ < (n); i_++) \
                        release(&(v)[i_]);                 \
                free(v);                                   \
        } while (0)

#endif
