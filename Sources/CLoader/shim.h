// Prefixed wrappers over what the kernel and the dynamic loader tell a process of its own executable (<elf.h> and
// <sys/auxv.h>: AT_PHDR and the ELF types are macros and C structures).
#ifndef AIOS_CLOADER_SHIM_H
#define AIOS_CLOADER_SHIM_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/auxv.h>

/// Where the executable's relocation table (DT_RELA) is mapped: 1 and the range, or 0 when it has none inside a
/// read-only segment. From the program headers the kernel mapped (AT_PHDR); 64-bit executables only.
static inline int aios_executable_relocation_table(uintptr_t *start, size_t *length) {
    *start = 0;
    *length = 0;
    const Elf64_Phdr *headers = (const Elf64_Phdr *)getauxval(AT_PHDR);
    size_t count = getauxval(AT_PHNUM);
    if (headers == NULL || count == 0) return 0;
    uintptr_t base = 0;
    int located = 0;
    const Elf64_Dyn *dynamic = NULL;
    for (size_t i = 0; i < count; i++)
        if (headers[i].p_type == PT_PHDR) {
            base = (uintptr_t)headers - headers[i].p_vaddr;
            located = 1;
        }
    if (!located) return 0; // no PT_PHDR: where the executable was loaded is unknown
    for (size_t i = 0; i < count; i++)
        if (headers[i].p_type == PT_DYNAMIC) dynamic = (const Elf64_Dyn *)(base + headers[i].p_vaddr);
    if (dynamic == NULL) return 0;
    uintptr_t table = 0;
    size_t size = 0;
    for (const Elf64_Dyn *entry = dynamic; entry->d_tag != DT_NULL; entry++) {
        if (entry->d_tag == DT_RELA) table = entry->d_un.d_ptr;
        if (entry->d_tag == DT_RELASZ) size = entry->d_un.d_val;
    }
    if (table == 0 || size == 0) return 0;
    // The loader may have rebased the entry in place (an address) or not (an offset from the load address).
    if (table < base) table += base;
    for (size_t i = 0; i < count; i++) {
        const Elf64_Phdr *segment = &headers[i];
        uintptr_t first = base + segment->p_vaddr;
        if (segment->p_type == PT_LOAD && !(segment->p_flags & PF_W) && table >= first
            && table + size <= first + segment->p_filesz) {
            *start = table;
            *length = size;
            return 1;
        }
    }
    return 0;
}

#endif
