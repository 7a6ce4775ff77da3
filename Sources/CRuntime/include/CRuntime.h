#ifndef STACKSHIP_CRUNTIME_H
#define STACKSHIP_CRUNTIME_H

/// openat2(2) with RESOLVE_IN_ROOT: `path` is resolved as if `rootfd` were "/" — symlinks,
/// absolute targets and ".." all stay inside it (the kernel does what securejoin does, without
/// its race). Magic links (/proc/self/fd/...) are refused. Returns a file descriptor or -1
/// with errno set.
int stackship_open_in_root(int rootfd, const char *path, int flags, unsigned int mode);

#endif
