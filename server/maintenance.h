/* maintenance: background upkeep that must not stall the event loop (retention purge). */
#ifndef EARSHOT_MAINTENANCE_H
#define EARSHOT_MAINTENANCE_H

#include <stdint.h>

#include "config.h"

/* Deletes answers created before cutoff_ms on a detached thread with its own connection; the
 * outcome is logged. Overlapping calls are skipped while one runs. */
void maintenance_purge_async(const char *db_path, durability_mode durability, int64_t cutoff_ms);

#endif
