// CZlib: the system zlib (Debian's zlib1g-dev), for its CRC-32 (slice-by-N, several GB/s),
// which checks every model file and stored record, and its inflate, which reads a folder's gzip
// files. No Swift API of its own; see CRC32.swift and Ingest's Gunzip.swift.
#ifndef TWENTYQ_CZLIB_SHIM_H
#define TWENTYQ_CZLIB_SHIM_H
#include <zlib.h>
#endif
