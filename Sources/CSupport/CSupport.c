#define _GNU_SOURCE
#include "CSupport.h"
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int stackship_open_in_root(int rootfd, const char *path, int flags, unsigned int mode) {
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

pid_t stackship_spawn(const char *path, char *const argv[], char *const envp[],
                      const int *fds, int nfds, int new_session, const char *cwd) {
    // posix_spawn (a vfork: no copy of this process's page tables), with the same descriptor
    // shuffle as stackship_fork: each wanted descriptor first above every source, then down.
    int base = nfds;
    for (int i = 0; i < nfds; i++) if (fds[i] >= base) base = fds[i] + 1;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    for (int i = 0; i < nfds; i++) posix_spawn_file_actions_adddup2(&actions, fds[i], base + i);
    for (int i = 0; i < nfds; i++) posix_spawn_file_actions_adddup2(&actions, base + i, i);
    posix_spawn_file_actions_addclosefrom_np(&actions, nfds);
    if (cwd) posix_spawn_file_actions_addchdir_np(&actions, cwd);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none); // do not pass on the parent's blocked signals
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (new_session ? POSIX_SPAWN_SETSID : 0));
    pid_t pid = 0;
    int rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return rc == 0 ? pid : -rc;
}

