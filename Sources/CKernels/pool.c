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

/* The latest prefetch request, published seqlock-style (seq odd while being written). A torn
   read can only prefetch a wrong range, which is harmless: prefetches never fault. */
#define PF_RANGES 4
static struct {
    _Atomic uint32_t seq;
    _Atomic(const char *) ptr[PF_RANGES];
    _Atomic long len[PF_RANGES];
    _Atomic int count;
    int enabled;
} pf;

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

/* Where this worker stopped in each range of the last request (so a repeated request resumes). */
static _Thread_local const char *pf_done_ptr[PF_RANGES];
static _Thread_local long pf_done_off[PF_RANGES];
static _Thread_local uint32_t pf_seen;

/* Prefetches request `q` (read consistently or not at all) into this core's L2, checking every
   4 KiB for a new job (state != s) or request; returns 1 when it did some work. */
static int serve_prefetch(uint32_t q, uint32_t s) {
    const char *ptr[PF_RANGES];
    long len[PF_RANGES];
    int count = atomic_load_explicit(&pf.count, memory_order_relaxed);
    if (count > PF_RANGES) count = PF_RANGES;
    for (int r = 0; r < count; r++) {
        ptr[r] = atomic_load_explicit(&pf.ptr[r], memory_order_relaxed);
        len[r] = atomic_load_explicit(&pf.len[r], memory_order_relaxed);
    }
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&pf.seq, memory_order_relaxed) != q) return 0;
    for (int r = 0; r < count; r++) {
        const char *p = ptr[r];
        long off = pf_done_ptr[r] == p ? pf_done_off[r] : 0;
        for (; off < len[r]; off += 4096) {
            if (atomic_load_explicit(&pool.state, memory_order_relaxed) != s ||
                atomic_load_explicit(&pf.seq, memory_order_relaxed) != q) {
                pf_done_ptr[r] = p; pf_done_off[r] = off;
                return 1;
            }
            long end = off + 4096 < len[r] ? off + 4096 : len[r];
#if defined(__x86_64__)
            for (long o = off; o < end; o += 64) _mm_prefetch(p + o, _MM_HINT_T1);
#else
            for (long o = off; o < end; o += 64) __builtin_prefetch(p + o, 0, 2);
#endif
        }
        pf_done_ptr[r] = p; pf_done_off[r] = len[r];
    }
    return 1;
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
        /* Nothing to do: spin a while (serving prefetch requests), then sleep until the state
           word changes. */
        long deadline = now_ns() + pool.spin_ns;
        uint32_t parks = atomic_load_explicit(&pool.parks, memory_order_relaxed);
        int changed = 0;
        for (long k = 0;; k++) {
            if (atomic_load_explicit(&pool.state, memory_order_relaxed) != s) { changed = 1; break; }
            if (pf.enabled) {
                uint32_t q = atomic_load_explicit(&pf.seq, memory_order_acquire);
                if (q != pf_seen && !(q & 1)) {
                    pf_seen = q;
                    if (serve_prefetch(q, s)) deadline = now_ns() + pool.spin_ns;
                    continue;
                }
            }
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
    const char *pfe = getenv("ZOO_POOL_PREFETCH");
    pf.enabled = !(pfe && pfe[0] == '0');
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

void zoo_pool_prefetch(const void *const *ptrs, const long *bytes, int count) {
    pthread_once(&pool_once, pool_start);
    if (!pf.enabled || pool.workers == 0 || count <= 0) return;
    if (count > PF_RANGES) count = PF_RANGES;
    /* Already the latest request: re-armed (the same ranges), so a worker that stopped for a
       job since resumes where it stopped. */
    if (atomic_load_explicit(&pf.count, memory_order_relaxed) == count) {
        int same = 1;
        for (int r = 0; r < count && same; r++)
            same = atomic_load_explicit(&pf.ptr[r], memory_order_relaxed) == (const char *)ptrs[r] &&
                   atomic_load_explicit(&pf.len[r], memory_order_relaxed) == bytes[r];
        if (same) {
            atomic_fetch_add_explicit(&pf.seq, 2, memory_order_release);
            return;
        }
    }
    atomic_fetch_add_explicit(&pf.seq, 1, memory_order_relaxed);   /* odd: writing */
    atomic_thread_fence(memory_order_release);
    for (int r = 0; r < count; r++) {
        atomic_store_explicit(&pf.ptr[r], (const char *)ptrs[r], memory_order_relaxed);
        atomic_store_explicit(&pf.len[r], bytes[r], memory_order_relaxed);
    }
    atomic_store_explicit(&pf.count, count, memory_order_relaxed);
    atomic_fetch_add_explicit(&pf.seq, 1, memory_order_release);   /* even: published */
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
