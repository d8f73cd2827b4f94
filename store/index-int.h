/* index-int.h - what the files of the index (store/index*.c) share; the interface is store/index.h.
 * index.c: schema, migrations, module tables; index-publish.c: publish and pins; index-query.c: versions, trees,
 * counts; index-sweep.c: gc's sweep; index-repair.c: verify --repair and the lost table.
 */
#ifndef STACK_INDEX_INT_H
#define STACK_INDEX_INT_H

#include "db.h"
#include "index.h"

struct index {
        struct db *db;
};

#endif
