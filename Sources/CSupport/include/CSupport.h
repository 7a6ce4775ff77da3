#ifndef STACKSHIP_CSUPPORT_H
#define STACKSHIP_CSUPPORT_H

/// openat2(rootfd, path, flags, mode) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: every
/// symlink, absolute path and `..` in `path` is resolved as if `rootfd` were `/`, so the
/// result is always inside the root. Returns a descriptor (O_CLOEXEC added), or -1 with errno.
int stackship_open_in_root(int rootfd, const char *path, int flags, unsigned int mode);

#include <sys/types.h>
// lgetxattr and friends, which Swift's Glibc module leaves out (UpperDirLayer reads overlay's marks).
#include <sys/xattr.h>

/// posix_spawn with exactly the descriptors `fds[0..<nfds]` as the child's 0, 1, 2, 3, ...
/// (any other descriptor is closed), optionally in a new session and in the directory `cwd`
/// (NULL: the caller's). Returns the pid or -errno.
pid_t stackship_spawn(const char *path, char *const argv[], char *const envp[],
                      const int *fds, int nfds, int new_session, const char *cwd);

#endif
