// Atomic operations on 64-bit words in raw (shared, mmap'd) memory, for the Metrics target.
// Swift's `Atomic` must own its storage; these act on any aligned address, which is what a
// region shared by forked processes needs. 64-bit atomics are lock-free (address-free) on the
// platforms we build for, so they are coherent across processes mapping the same pages.
#ifndef CATOMICS_H
#define CATOMICS_H

#include <stdbool.h>
#include <stdint.h>

/// __atomic_load_n with acquire ordering.
static inline uint64_t catomics_load_acquire(const uint64_t *address) {
    return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}

/// __atomic_load_n with relaxed ordering.
static inline uint64_t catomics_load_relaxed(const uint64_t *address) {
    return __atomic_load_n(address, __ATOMIC_RELAXED);
}

/// __atomic_store_n with release ordering.
static inline void catomics_store_release(uint64_t *address, uint64_t value) {
    __atomic_store_n(address, value, __ATOMIC_RELEASE);
}

/// __atomic_store_n with relaxed ordering.
static inline void catomics_store_relaxed(uint64_t *address, uint64_t value) {
    __atomic_store_n(address, value, __ATOMIC_RELAXED);
}

/// __atomic_fetch_add with relaxed ordering; returns the previous value.
static inline uint64_t catomics_fetch_add_relaxed(uint64_t *address, uint64_t amount) {
    return __atomic_fetch_add(address, amount, __ATOMIC_RELAXED);
}

/// __atomic_compare_exchange_n (strong, acquire-release on success, acquire on failure).
/// On failure `*expected` receives the current value.
static inline bool catomics_compare_exchange(uint64_t *address, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n(address, expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

#endif
