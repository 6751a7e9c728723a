// Prefixed wrappers over glibc's allocator controls (<malloc.h> is not in Swift's Glibc module, and M_ARENA_MAX
// is a macro).
#ifndef AIOS_CMALLOC_SHIM_H
#define AIOS_CMALLOC_SHIM_H

#include <malloc.h>

/// At most `arenas` malloc arenas for the whole process; 1 on success.
static inline int aios_malloc_limit_arenas(int arenas) { return mallopt(M_ARENA_MAX, arenas); }

/// Allocations of `bytes` or more get their own mapping, returned to the kernel when freed; a fixed threshold also
/// stops glibc from raising it (up to 32 MiB) after the first such block is freed. 1 on success.
static inline int aios_malloc_map_from(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

/// Bytes in blocks malloc mapped on their own (mallinfo2's hblkhd).
static inline size_t aios_malloc_mapped_bytes(void) { return mallinfo2().hblkhd; }

/// Returns the pages of free chunks in every arena to the kernel; 1 if any memory was released.
static inline int aios_malloc_trim(void) { return malloc_trim(0); }

#endif
