/* The CPU backend's worker pool: `zoo_pool_run(n, fn, ctx)` runs fn(ctx, 0..<n) on the
   calling thread and the pool's workers and returns when every task has finished.

   Why not Dispatch: a decode step of a small LLM is a few hundred kernels of 20-200 µs each.
   Waking a sleeping thread through a condition variable or semaphore for every one of them
   costs more than a tenth of the step. Here the workers spin on one atomic word for a short
   while after each job (ZOO_POOL_SPIN_US, default 300 µs), so back-to-back kernels find them
   awake, and only then sleep on a futex.

   One job runs at a time. A call made while the pool is busy (another thread's job) or from
   inside a task runs its tasks inline on the calling thread: never a deadlock, never a wait.

   The state word packs a job generation (upper 24 bits; odd = open for joining) and the count
   of workers inside the job (lower 8 bits). A worker joins with a compare-and-swap that only
   succeeds while the generation it saw is still open; the caller closes the job with a
   compare-and-swap that only succeeds when no worker is inside. So the job's fields are never
   read after the caller has returned. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#include "ckernels.h"

#define MAX_WORKERS 63

static struct {
    _Atomic uint32_t state;      /* generation << 8 | workers inside */
    _Atomic int sleepers;
    _Atomic long next;           /* next task index to claim */
    _Atomic long done;           /* tasks finished */
    _Atomic uint32_t parks;      /* bumped by zoo_pool_park: spinning workers go to sleep */
    zoo_pool_task fn;
    void *ctx;
    long count;
    int workers;
    long spin_ns;
    pthread_mutex_t busy;
} pool = {.busy = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static _Thread_local int in_task;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t expected) {
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    (void)addr; (void)expected;
    usleep(50);
#endif
}

static void futex_wake_all(_Atomic uint32_t *addr) {
#if defined(__linux__)
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)addr;
#endif
}

/* Claims and runs tasks of the current job until none is left. */
static void run_tasks(void) {
    long n = pool.count;
    for (;;) {
        long i = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed);
        if (i >= n) break;
        pool.fn(pool.ctx, i);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

static void *worker_main(void *arg) {
    (void)arg;
    in_task = 1;
    uint32_t seen = atomic_load(&pool.state) >> 8;  /* last generation this worker looked at */
    for (;;) {
        uint32_t s = atomic_load_explicit(&pool.state, memory_order_acquire);
        uint32_t gen = s >> 8;
        if (gen != seen && (gen & 1)) {
            /* An open job: join it if it is still the same one. */
            if (atomic_compare_exchange_weak_explicit(&pool.state, &s, s + 1, memory_order_acquire,
                                                      memory_order_relaxed)) {
                run_tasks();
                atomic_fetch_sub_explicit(&pool.state, 1, memory_order_release);
                seen = gen;
            }
            continue;
        }
        seen = gen;
        /* Nothing to do: spin a while, then sleep until the state word changes. */
        long deadline = now_ns() + pool.spin_ns;
        uint32_t parks = atomic_load_explicit(&pool.parks, memory_order_relaxed);
        int changed = 0;
        for (long k = 0;; k++) {
            if (atomic_load_explicit(&pool.state, memory_order_relaxed) != s) { changed = 1; break; }
            CPU_RELAX();
            if ((k & 127) == 127 &&
                (now_ns() > deadline || atomic_load_explicit(&pool.parks, memory_order_relaxed) != parks)) break;
        }
        if (changed) continue;
        atomic_fetch_add(&pool.sleepers, 1);
        if (atomic_load(&pool.state) == s) futex_wait(&pool.state, s);
        atomic_fetch_sub(&pool.sleepers, 1);
    }
    return NULL;
}

static void pool_start(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *env = getenv("ZOO_NUM_THREADS");
    if (env && atoi(env) > 0) cores = atoi(env);
    const char *spin = getenv("ZOO_POOL_SPIN_US");
    pool.spin_ns = (spin ? atol(spin) : 300) * 1000L;
    if (pool.spin_ns < 0) pool.spin_ns = 0;
    long workers = cores - 1;
    if (workers > MAX_WORKERS) workers = MAX_WORKERS;
    if (workers < 0) workers = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int started = 0;
    for (long w = 0; w < workers; w++) {
        pthread_t t;
        if (pthread_create(&t, &attr, worker_main, NULL) == 0) started++;
    }
    pthread_attr_destroy(&attr);
    pool.workers = started;
}

void zoo_pool_park(void) { atomic_fetch_add_explicit(&pool.parks, 1, memory_order_relaxed); }

int zoo_pool_threads(void) {
    pthread_once(&pool_once, pool_start);
    return pool.workers + 1;
}

void zoo_pool_run(long count, zoo_pool_task fn, void *ctx) {
    if (count <= 0) return;
    pthread_once(&pool_once, pool_start);
    if (count == 1 || pool.workers == 0 || in_task || pthread_mutex_trylock(&pool.busy) != 0) {
        int outer = in_task;
        in_task = 1;
        for (long i = 0; i < count; i++) fn(ctx, i);
        in_task = outer;
        return;
    }
    pool.fn = fn;
    pool.ctx = ctx;
    pool.count = count;
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    /* Open the job: the next (odd) generation, nobody inside. */
    uint32_t closed = atomic_load(&pool.state);           /* even generation, 0 inside */
    uint32_t open = closed + (1u << 8);
    atomic_store(&pool.state, open);
    if (atomic_load(&pool.sleepers) > 0) futex_wake_all(&pool.state);

    in_task = 1;
    run_tasks();
    in_task = 0;
    /* Wait for tasks still running on workers; yield the core after a short spin in case a
       worker was preempted on it (a shared machine), so the wait cannot starve it. */
    for (long k = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < count; k++) {
        if (k < 4096) CPU_RELAX(); else sched_yield();
    }
    /* Close it once no worker is inside (a late joiner finds no task and leaves at once). */
    for (;;) {
        uint32_t s = open & ~0xFFu;
        if (atomic_compare_exchange_weak(&pool.state, &s, s + (1u << 8))) break;
        sched_yield();
    }
    pthread_mutex_unlock(&pool.busy);
}
