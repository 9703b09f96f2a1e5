#ifndef SPOOLD_CINOTIFYTOOLS_SHIM_H
#define SPOOLD_CINOTIFYTOOLS_SHIM_H
// libinotifytools from Debian's libinotifytools0-dev. Its header needs <sys/inotify.h> for the
// event struct and the IN_* masks.
#include <sys/inotify.h>
#include <inotifytools/inotifytools.h>
#endif
