/* checkpointer: WAL checkpoints on a thread of their own. By default SQLite checkpoints on the
 * thread that commits, once the WAL passes 1000 pages; on the writer that stalled a batch's commit
 * for the time it took to copy the pages into the database (a tenth of the writer's time with plugins
 * on). The writer now only tells the checkpointer how large the WAL is after each commit; past
 * CHECKPOINT_PAGES it wakes this thread, which runs a PASSIVE checkpoint on its own connection while
 * the writer goes on. Readers and writers never wait for it. Past CATCH_UP_PAGES the writer copies
 * what is left itself. */
#ifndef EARSHOT_CHECKPOINTER_H
#define EARSHOT_CHECKPOINTER_H

#include "config.h"
#include "storage.h"

/* WAL size, in pages, past which a commit wakes the checkpointer. */
#define CHECKPOINT_PAGES 4000
/* WAL size past which the writer finishes the checkpoint itself, right after its commit. A checkpoint
 * running beside a writer that commits back to back never copies the last frames, so the WAL never
 * starts over: it grew to 200 MB under a 10-second burst, every frame written to a newly allocated
 * block (which the kernel zeroes first) and the checkpointer copying pages no longer in memory.
 * Finished by the only writer, no new frame arrives meanwhile: the WAL starts over at the next
 * commit and stays near this size, in the page cache. */
#define CATCH_UP_PAGES (3 * CHECKPOINT_PAGES)

typedef struct checkpointer checkpointer;

/* Opens its own connection to db_path and starts the thread. NULL with *err (caller frees). */
checkpointer *checkpointer_start(const char *db_path, durability_mode durability, char **err);
/* Hooks writer_st's commits up to cp (store_on_wal_commit). */
void checkpointer_watch(checkpointer *cp, store *writer_st);
/* Stops the thread and closes its connection. NULL is allowed. Unhook the writer's store first. */
void checkpointer_stop(checkpointer *cp);

#endif
