// CZlib: the system zlib (Debian's zlib1g-dev), for its CRC-32 (slice-by-N, several GB/s),
// which checks every model file and stored record. No Swift API of its own; see CRC32.swift.
#ifndef TWENTYQ_CZLIB_SHIM_H
#define TWENTYQ_CZLIB_SHIM_H
#include <zlib.h>
#endif
