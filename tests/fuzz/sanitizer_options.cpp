// Default options of ASan and UBSan in the -DK2K_SANITIZE=ON / -DK2K_FUZZ=ON builds, compiled into
// every data test and fuzzer; ASAN_OPTIONS / UBSAN_OPTIONS in the environment still override them.

// Stop at the first report with a non-zero exit, and check for leaks at exit.
extern "C" __attribute__((used, visibility("default"))) const char* __asan_default_options() {
    return "halt_on_error=1:detect_leaks=1";
}

// Stop at the first report (the build also passes -fno-sanitize-recover=undefined) and print where.
extern "C" __attribute__((used, visibility("default"))) const char* __ubsan_default_options() {
    return "halt_on_error=1:print_stacktrace=1";
}

// fontconfig (cairo's text, used by the numbered sheets) keeps its caches for the whole process
// and links their objects by encoded offsets, which LeakSanitizer cannot follow: it reports them
// as leaked (Numbered.ColoursOnWhiteWithNumbers, 651 bytes). Leaks in any other code still fail.
extern "C" __attribute__((used, visibility("default"))) const char* __lsan_default_suppressions() {
    return "leak:libfontconfig.so\n";
}
