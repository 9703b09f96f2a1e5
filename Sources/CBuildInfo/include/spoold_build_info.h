#ifndef SPOOLD_BUILD_INFO_H
#define SPOOLD_BUILD_INFO_H

/// The git commit the binaries were built from, as scripts/package passes it
/// (-Xcc -DSPOOLD_COMMIT="..."); "unknown" for a plain `swift build`.
const char *spoold_build_commit(void);

#endif
