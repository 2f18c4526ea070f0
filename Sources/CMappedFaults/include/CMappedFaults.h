#ifndef TWENTYQ_MAPPED_FAULTS_H
#define TWENTYQ_MAPPED_FAULTS_H

/// Faults inside LMDB on a damaged data file.
///
/// LMDB trusts the pages of its memory-mapped file. TwentyQ checks what it can before LMDB
/// reads (the file length, the bounds of every value returned), but a damaged page header or
/// node flag can still send LMDB itself past the end of the file (SIGBUS) or through a pointer
/// it never set (SIGSEGV, e.g. a sorted-duplicates flag on a node of a plain table), or divide by
/// a zero it read (SIGFPE). These functions tell such faults apart from any other: a SIGSEGV or
/// SIGFPE counts only when the faulting instruction lies in liblmdb's code; a SIGBUS is a read of the mapped file whatever the
/// instruction. Everything else keeps its default action (the process dies, as a bug should).

#include <stdint.h>
#include <lmdb.h>

/// LMDB's assertion callback (`mdb_env_set_assert`), set on every environment TwentyQ opens:
/// LMDB asserts on some damaged pages and then aborts. Inside
/// `twentyq_run_catching_lmdb_faults` the failure counts as a fault (SIGABRT is returned); in
/// the CLI (after `twentyq_install_lmdb_fault_exit`) it prints the CLI's message and exits;
/// otherwise LMDB prints its message and aborts, as it always did.
void twentyq_lmdb_assert(MDB_env *env, const char *message);

/// The CLI's handler: on a fault in LMDB (above), writes `message` to stderr and exits with
/// `status`; other faults crash as usual. `message` must stay valid for the process's life.
void twentyq_install_lmdb_fault_exit(const char *message, int status);

/// For tests: runs `body(context)` on the calling thread and returns 0, or the signal number
/// when a fault in LMDB interrupted it. The body is abandoned at the fault (its frames are
/// not unwound: what it held leaks). Other faults, and faults on other threads, crash.
int twentyq_run_catching_lmdb_faults(void (*body)(void *), void *context);

/// Marks the calling thread as inside / out of an LMDB call that walks the file's pages (get,
/// put, delete, cursor moves, opening tables, statistics; CodeStore wraps each). Two relaxed
/// atomic stores a call.
void twentyq_lmdb_enter(void);
void twentyq_lmdb_leave(void);

/// Starts a watchdog thread (once) for LMDB calls stuck on a damaged file: a cycle of pages can
/// make LMDB loop forever. A thread that stays inside one call for `seconds` is, when it runs
/// `twentyq_run_catching_lmdb_faults`, interrupted (the runner returns SIGUSR2); otherwise, in
/// the CLI (after `twentyq_install_lmdb_fault_exit`), the process prints its message and exits.
/// A call that walks pages never legitimately takes seconds (commits and copies, which write
/// gigabytes, are not watched).
void twentyq_start_lmdb_watchdog(unsigned seconds);

#endif
