#define _GNU_SOURCE
#include "CMappedFaults.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <lmdb.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static uintptr_t lmdb_lo, lmdb_hi;

/// The executable mappings of the library that holds mdb_get, from /proc/self/maps.
static void find_lmdb_text(void) {
    if (lmdb_hi) return;
    Dl_info info;
    if (!dladdr((void *)&mdb_get, &info) || !info.dli_fname) return;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return;
    char line[4096];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[2] != 'x') continue;
        if (!strstr(line, info.dli_fname)) continue;
        if (!lmdb_lo || lo < lmdb_lo) lmdb_lo = lo;
        if (hi > lmdb_hi) lmdb_hi = hi;
    }
    fclose(maps);
}

static uintptr_t fault_pc(void *context) {
    ucontext_t *uc = context;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

static int in_lmdb(int sig, void *context) {
    if (sig == SIGBUS) return 1;
    uintptr_t pc = fault_pc(context);
    return lmdb_hi && pc >= lmdb_lo && pc < lmdb_hi;
}

/// Restores the default action, so returning re-runs the instruction and the process dies.
static void default_action(int sig) { signal(sig, SIG_DFL); }

static void install(void (*handler)(int, siginfo_t *, void *)) {
    find_lmdb_text();
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, NULL);
    sigaction(SIGSEGV, &action, NULL);
    sigaction(SIGFPE, &action, NULL);
}

static const char *exit_message;
static int exit_status;
static __thread sigjmp_buf *catching;

/// Each thread that ever called LMDB: whether it is inside a call, and a count of calls.
typedef struct thread_state {
    _Atomic uint64_t calls;
    _Atomic int inside, catching, alive;
    pthread_t thread;
    uint64_t seen_calls;
    unsigned stuck_ticks;
    struct thread_state *next;
} thread_state;

static _Atomic(thread_state *) states;
static __thread thread_state *me;
static pthread_key_t state_key;
static pthread_once_t state_key_once = PTHREAD_ONCE_INIT;

static void thread_ended(void *state) { atomic_store(&((thread_state *)state)->alive, 0); }
static void make_state_key(void) { pthread_key_create(&state_key, thread_ended); }

static thread_state *my_state(void) {
    if (me) return me;
    thread_state *state = calloc(1, sizeof *state);
    if (!state) abort();
    state->thread = pthread_self();
    atomic_store(&state->alive, 1);
    pthread_once(&state_key_once, make_state_key);
    pthread_setspecific(state_key, state);
    thread_state *head = atomic_load(&states);
    do { state->next = head; } while (!atomic_compare_exchange_weak(&states, &head, state));
    me = state;
    return state;
}

void twentyq_lmdb_enter(void) {
    thread_state *state = my_state();
    atomic_fetch_add_explicit(&state->calls, 1, memory_order_relaxed);
    atomic_store_explicit(&state->inside, 1, memory_order_relaxed);
}

void twentyq_lmdb_leave(void) {
    atomic_store_explicit(&me->inside, 0, memory_order_relaxed);
}

static unsigned watchdog_ticks;  // of 100 ms

static void *watchdog(void *unused) {
    (void)unused;
    struct timespec tick = {0, 100 * 1000 * 1000};
    for (;;) {
        nanosleep(&tick, NULL);
        for (thread_state *s = atomic_load(&states); s; s = s->next) {
            uint64_t calls = atomic_load_explicit(&s->calls, memory_order_relaxed);
            if (!atomic_load(&s->alive) || !atomic_load_explicit(&s->inside, memory_order_relaxed) || calls != s->seen_calls) {
                s->seen_calls = calls;
                s->stuck_ticks = 0;
                continue;
            }
            if (++s->stuck_ticks < watchdog_ticks) continue;
            s->stuck_ticks = 0;
            if (atomic_load(&s->catching)) {
                pthread_kill(s->thread, SIGUSR2);
            } else if (exit_message) {
                static const char stuck[] = "(LMDB went round in circles in data.mdb)\n";
                ssize_t ignored = write(2, exit_message, strlen(exit_message));
                ignored = write(2, stuck, sizeof stuck - 1);
                (void)ignored;
                _exit(exit_status);
            }
        }
    }
    return NULL;
}

void twentyq_start_lmdb_watchdog(unsigned seconds) {
    static atomic_int started;
    if (atomic_exchange(&started, 1)) return;
    watchdog_ticks = seconds ? seconds * 10 : 10;
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_create(&thread, &attributes, watchdog, NULL);
    pthread_attr_destroy(&attributes);
}

static void exit_handler(int sig, siginfo_t *info, void *context) {
    (void)info;
    if (!in_lmdb(sig, context)) { default_action(sig); return; }
    ssize_t ignored = write(2, exit_message, strlen(exit_message));
    (void)ignored;
    _exit(exit_status);
}

void twentyq_install_lmdb_fault_exit(const char *message, int status) {
    exit_message = message;
    exit_status = status;
    install(exit_handler);
}

void twentyq_lmdb_assert(MDB_env *env, const char *message) {
    (void)env;
    if (catching) siglongjmp(*catching, SIGABRT);
    if (exit_message) {
        ssize_t ignored = write(2, exit_message, strlen(exit_message));
        ignored = write(2, "(LMDB: ", 7);
        ignored = write(2, message, strlen(message));
        ignored = write(2, ")\n", 2);
        (void)ignored;
        _exit(exit_status);
    }
}

static void catch_handler(int sig, siginfo_t *info, void *context) {
    (void)info;
    if (sig == SIGUSR2) {  // the watchdog: this thread is stuck inside an LMDB call
        if (catching) siglongjmp(*catching, sig);
        return;
    }
    if (!catching || !in_lmdb(sig, context)) { default_action(sig); return; }
    siglongjmp(*catching, sig);
}

int twentyq_run_catching_lmdb_faults(void (*body)(void *), void *context) {
    struct sigaction old_bus, old_segv, old_fpe, old_usr2;
    sigaction(SIGBUS, NULL, &old_bus);
    sigaction(SIGSEGV, NULL, &old_segv);
    sigaction(SIGFPE, NULL, &old_fpe);
    sigaction(SIGUSR2, NULL, &old_usr2);
    install(catch_handler);
    struct sigaction usr2;
    memset(&usr2, 0, sizeof usr2);
    usr2.sa_sigaction = catch_handler;
    usr2.sa_flags = SA_SIGINFO;
    sigemptyset(&usr2.sa_mask);
    sigaction(SIGUSR2, &usr2, NULL);
    thread_state *state = my_state();
    // Worker threads (libdispatch's among them) may block SIGUSR2: let the watchdog's through.
    sigset_t usr2_only, old_mask;
    sigemptyset(&usr2_only);
    sigaddset(&usr2_only, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &usr2_only, &old_mask);
    sigjmp_buf buffer;
    int sig = sigsetjmp(buffer, 1);
    if (sig == 0) {
        catching = &buffer;
        atomic_store(&state->catching, 1);
        body(context);
    }
    atomic_store(&state->catching, 0);
    atomic_store_explicit(&state->inside, 0, memory_order_relaxed);
    catching = NULL;
    sigaction(SIGBUS, &old_bus, NULL);
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGFPE, &old_fpe, NULL);
    sigaction(SIGUSR2, &old_usr2, NULL);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    return sig;
}
