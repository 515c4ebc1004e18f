#include "chain/secmem.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "chain/err.h"

struct secmem {
    unsigned char *map; /* whole mapping: guard, data pages, guard */
    size_t maplen;
    unsigned char *data;
    size_t len;
    bool locked;
};

/* Set once the first mlock failure has been reported, so a process that
 * holds several keys warns once, not once per key. */
static bool secmem_lock_warned;

static size_t
page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);

    return ps > 0 ? (size_t)ps : 4096;
}

/* Direct system calls: sanitizer runtimes turn mlock() into a no-op that
 * reports success, which would hide lock failures from the tests. */
static bool
secmem_lock(void *p, size_t n)
{
    return syscall(SYS_mlock, p, n) == 0;
}

static void
secmem_unlock(void *p, size_t n)
{
    (void)syscall(SYS_munlock, p, n);
}

static void
secmem_advise(unsigned char *p, size_t n)
{
    /* Both are hardening, not correctness: a kernel without them still
     * gives a working holder, so failures are ignored. */
#ifdef MADV_DONTDUMP
    (void)madvise(p, n, MADV_DONTDUMP);
#endif
#ifdef MADV_WIPEONFORK
    (void)madvise(p, n, MADV_WIPEONFORK);
#endif
}

struct secmem *
secmem_new(size_t len, bool *lock_warn)
{
    struct secmem *m;
    size_t ps = page_size(), datalen;

    assert(len > 0 && len <= SECMEM_MAX);
    datalen = (len + ps - 1) / ps * ps;
    m = kp_xcalloc(1, sizeof(*m));
    m->maplen = datalen + 2 * ps;
    m->map =
        mmap(NULL, m->maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m->map == MAP_FAILED) {
        fprintf(stderr, "keeper: fatal: cannot map %zu bytes: %s\n", m->maplen,
                strerror(errno));
        abort();
    }
    m->data = m->map + ps;
    m->len = len;
    if (mprotect(m->data, datalen, PROT_READ | PROT_WRITE) != 0) {
        fprintf(stderr, "keeper: fatal: mprotect: %s\n", strerror(errno));
        abort();
    }
    secmem_advise(m->data, datalen);
    m->locked = secmem_lock(m->data, datalen);
    if (lock_warn)
        *lock_warn = !m->locked && !secmem_lock_warned;
    if (!m->locked)
        secmem_lock_warned = true;
    return m;
}

void
secmem_free(struct secmem *m)
{
    size_t ps;

    if (!m)
        return;
    ps = page_size();
    kp_wipe(m->data, m->maplen - 2 * ps);
    if (m->locked)
        secmem_unlock(m->data, m->maplen - 2 * ps);
    (void)munmap(m->map, m->maplen);
    free(m);
}

void *
secmem_data(const struct secmem *m)
{
    assert(m);
    return m->data;
}

size_t
secmem_len(const struct secmem *m)
{
    assert(m);
    return m->len;
}

bool
secmem_is_locked(const struct secmem *m)
{
    assert(m);
    return m->locked;
}
