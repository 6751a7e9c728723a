// The fuzz binary's entry point. SwiftPM links an executable target's `main` to `<module>_main`
// (here `aios_fuzz_main`); it hands control to libFuzzer's driver with the Swift callback.
#ifndef AIOS_FUZZ_H
#define AIOS_FUZZ_H

int aios_fuzz_main(int argc, char **argv);

#endif
