#include <stddef.h>
#include <stdint.h>
#include "aios_fuzz.h"

// Provided by the Swift target (@_cdecl) and by libFuzzer (linked through -sanitize=fuzzer).
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int aios_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
