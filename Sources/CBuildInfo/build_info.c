#include "spoold_build_info.h"

// A C macro because Swift's -D defines only conditions, never values: this is the one way to hand a
// string from the build command line to the binary without generating a source file.
#ifndef SPOOLD_COMMIT
#define SPOOLD_COMMIT "unknown"
#endif

const char *spoold_build_commit(void) { return SPOOLD_COMMIT; }
