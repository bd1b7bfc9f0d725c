/* checkpointer: WAL checkpoints on a thread of their own. By default SQLite checkpoints on the
 * thread that commits, once the WAL passes 1000 pages; on the writer that stalled a batch's commit
 * for the time it took to copy the pages into the database (a tenth of the writer's time with plugins
 * on). The writer now only tells the checkpointer how large the WAL is after each commit; past
 * CHECKPOINT_PAGES it wakes this thread, which runs a PASSIVE checkpoint on its own connection while
 * the writer goes on. Readers and writers never wait for it. */
#ifndef EARSHOT_CHECKPOINTER_H
#define EARSHOT_CHECKPOINTER_H

#include "config.h"
#include "storage.h"

typedef struct checkpointer checkpointer;

/* Opens its own connection to db_path and starts the thread. NULL with *err (caller frees). */
checkpointer *checkpointer_start(const char *db_path, durability_mode durability, char **err);
/* Hooks writer_st's commits up to cp (store_on_wal_commit). */
void checkpointer_watch(checkpointer *cp, store *writer_st);
/* Stops the thread and closes its connection. NULL is allowed. Unhook the writer's store first. */
void checkpointer_stop(checkpointer *cp);

#endif
