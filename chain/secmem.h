/*
 * secmem.h - a small holder for key material, kept apart from the heap.
 *
 * The bytes live in their own anonymous mapping (whole pages) so that:
 *   - they are locked in RAM (mlock) and never written to swap; locking is
 *     best effort, because unprivileged processes may have a tiny
 *     RLIMIT_MEMLOCK: on failure the holder still works and the caller is
 *     told once per process, so it can log one warning;
 *   - they are left out of core dumps (MADV_DONTDUMP) even if the process
 *     is made dumpable again, and not copied into forked children
 *     (MADV_WIPEONFORK, where the kernel has it);
 *   - they are wiped before the pages are returned (secmem_free).
 * The data pages are surrounded by inaccessible guard pages, so a linear
 * overrun of a neighbouring buffer faults instead of reading the key.
 */
#ifndef KP_CHAIN_SECMEM_H
#define KP_CHAIN_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

#define SECMEM_MAX (64 * 1024) /* bytes per holder at most */

struct secmem;

/* Map a zeroed holder of `len` bytes (0 < len <= SECMEM_MAX).
 * Returns: the holder, never NULL (running out of address space is fatal,
 *          like out of memory).
 * Out: *lock_warn (may be NULL): set true when mlock failed and this is the
 *      first such failure in the process (log it once), false otherwise.
 * In: len */
struct secmem *secmem_new(size_t len, bool *lock_warn);

/* Wipe and unmap. secmem_free(NULL) is a no-op. */
void secmem_free(struct secmem *m);

/* Returns: the first of secmem_len(m) writable bytes. */
void *secmem_data(const struct secmem *m);

/* Returns: the usable length asked for in secmem_new. */
size_t secmem_len(const struct secmem *m);

/* Returns: whether the pages are locked in RAM. */
bool secmem_is_locked(const struct secmem *m);

#endif
