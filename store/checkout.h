/* checkout.h - materialise a tree from the store into a directory (spec/store.md "Checkout").
 *
 * checkout_tree(store, tree, dir, err): dir must not exist (or be an empty directory). The tree is written
 * into a temp directory beside dir and renamed into place at the end, so a failed checkout leaves nothing.
 * Files are reflinked where the file system can, else copied; they are the caller's own writable files,
 * never hard links into the store. A store object missing or of the wrong size is STACK_ESTORE.
 */
#ifndef STACK_CHECKOUT_H
#define STACK_CHECKOUT_H

#include "base/error.h"
#include "store.h"
#include "tree.h"

int checkout_tree(struct store *s, const struct tree *t, const char *dir, struct error *err);

#endif
