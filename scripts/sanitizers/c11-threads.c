/*
 * C11 threads over the pthread functions ThreadSanitizer intercepts, for
 * `scripts/sanitize.sh thread` (LD_PRELOAD into the test process).
 *
 * Why: Debian's librdkafka makes its threads and locks with C11 threads
 * (thrd_create, mtx_lock, cnd_wait). glibc implements those by calling its
 * internal pthread functions directly, not through the symbols TSan's
 * runtime interposes, and the runtime in this Swift toolchain has no C11
 * interceptors. So TSan never learns of librdkafka's threads: the first
 * malloc in one crashes inside TSan's allocator (its per-thread cache is
 * null: a SEGV near address 0 in the "rdk:mock" thread), and a lock taken
 * by librdkafka would be invisible (false races on what its threads hand
 * to ours). These wrappers do what glibc's own do (glibc's mtx_t and cnd_t
 * are pthread's objects), through the public pthread symbols, which resolve
 * to TSan's interceptors in the test binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int from_errno(int err) {
    switch (err) {
    case 0: return thrd_success;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
    }
}

struct start { thrd_start_t func; void *arg; };

static void *trampoline(void *raw) {
    struct start start = *(struct start *)raw;
    free(raw);
    return (void *)(intptr_t)start.func(start.arg);
}

int thrd_create(thrd_t *thread, thrd_start_t func, void *arg) {
    struct start *start = malloc(sizeof *start);
    if (!start) return thrd_nomem;
    start->func = func;
    start->arg = arg;
    int err = pthread_create((pthread_t *)thread, NULL, trampoline, start);
    if (err) free(start);
    return from_errno(err);
}

int thrd_join(thrd_t thread, int *result) {
    void *value = NULL;
    int err = pthread_join((pthread_t)thread, &value);
    if (!err && result) *result = (int)(intptr_t)value;
    return from_errno(err);
}

int thrd_detach(thrd_t thread) { return from_errno(pthread_detach((pthread_t)thread)); }

int mtx_init(mtx_t *mutex, int type) {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, (type & mtx_recursive) ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL);
    int err = pthread_mutex_init((pthread_mutex_t *)mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
    return from_errno(err);
}

void mtx_destroy(mtx_t *mutex) { pthread_mutex_destroy((pthread_mutex_t *)mutex); }
int mtx_lock(mtx_t *mutex) { return from_errno(pthread_mutex_lock((pthread_mutex_t *)mutex)); }
int mtx_trylock(mtx_t *mutex) { return from_errno(pthread_mutex_trylock((pthread_mutex_t *)mutex)); }
int mtx_timedlock(mtx_t *restrict mutex, const struct timespec *restrict until) {
    return from_errno(pthread_mutex_timedlock((pthread_mutex_t *)mutex, until));
}
int mtx_unlock(mtx_t *mutex) { return from_errno(pthread_mutex_unlock((pthread_mutex_t *)mutex)); }

int cnd_init(cnd_t *cond) { return from_errno(pthread_cond_init((pthread_cond_t *)cond, NULL)); }
void cnd_destroy(cnd_t *cond) { pthread_cond_destroy((pthread_cond_t *)cond); }
int cnd_signal(cnd_t *cond) { return from_errno(pthread_cond_signal((pthread_cond_t *)cond)); }
int cnd_broadcast(cnd_t *cond) { return from_errno(pthread_cond_broadcast((pthread_cond_t *)cond)); }
int cnd_wait(cnd_t *cond, mtx_t *mutex) {
    return from_errno(pthread_cond_wait((pthread_cond_t *)cond, (pthread_mutex_t *)mutex));
}
int cnd_timedwait(cnd_t *restrict cond, mtx_t *restrict mutex, const struct timespec *restrict until) {
    return from_errno(pthread_cond_timedwait((pthread_cond_t *)cond, (pthread_mutex_t *)mutex, until));
}
