#ifndef CFUZZERDRIVER_H
#define CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry point for a program that has its own main (clang's
// compiler-rt/lib/fuzzer/FuzzerInterface.h). SwiftPM renames an executable's main to
// <module>_main and links `main` to it, so libFuzzer's own main is never used; each harness's
// main.swift calls this instead.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
