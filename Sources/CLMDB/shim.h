// CLMDB: the system LMDB (Debian's liblmdb-dev) exposed to Swift as-is.
// This module has no stable Swift API of its own; use CodeStore, which wraps it.
#ifndef TWENTYQ_CLMDB_SHIM_H
#define TWENTYQ_CLMDB_SHIM_H
#include <lmdb.h>
#endif
