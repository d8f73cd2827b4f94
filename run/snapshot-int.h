/* snapshot-int.h - what snapshot.c (the table, taking one) and snapshot-restore.c (restoring one) share. */
#ifndef STACK_RUN_SNAPSHOT_INT_H
#define STACK_RUN_SNAPSHOT_INT_H

#include "snapshot.h"

#define META_NAME    "snapshot.meta"
#define VOLUME_MOUNT "/vol"

/* A new temporary file in the store's tmp/ (path filled): its fd, or a negative code. */
int snapshot_tmp_file(struct store *s, char *path, size_t size, struct error *err);

#endif
