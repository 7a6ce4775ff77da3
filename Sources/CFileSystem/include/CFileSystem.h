#ifndef STACKSHIP_CFILESYSTEM_H
#define STACKSHIP_CFILESYSTEM_H

/// openat2(rootfd, path, flags, mode) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: every
/// symlink, absolute path and `..` in `path` is resolved as if `rootfd` were `/`, so the
/// result is always inside the root. Returns a descriptor (O_CLOEXEC added), or -1 with errno.
int stackship_open_in_root(int rootfd, const char *path, int flags, unsigned int mode);

#endif
