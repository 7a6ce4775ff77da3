#ifndef STACKSHIP_CRUNTIME_H
#define STACKSHIP_CRUNTIME_H

// openat2 with RESOLVE_IN_ROOT is in CSupport (OCI's safe extractor uses it too).

#include <sys/types.h>

// ---- Network namespaces (Runtime/Network) -------------------------------------------------

/// Creates a network namespace with only loopback, brought up, and pins it by bind-mounting it
/// on `path` (created as an empty file; it must not exist), as `ip netns add` does. Done on a
/// thread of its own, so the caller's own namespace never changes and it can do other work
/// meanwhile: `start` makes the pin file and starts the thread (0, and `*job` set, or -errno,
/// and nothing to finish); `finish` waits for it and returns its result (0 or -errno, the pin
/// file then gone). Every started job must be finished, before the process forks.
struct stackship_netns_job;
int stackship_netns_start(const char *path, struct stackship_netns_job **job);
int stackship_netns_finish(struct stackship_netns_job *job);

/// Unpins a namespace made by stackship_netns_start (lazy unmount, then unlink). Returns 0 or
/// -errno; a path that is not there counts as done.
int stackship_netns_remove(const char *path);

/// A socket created inside the network namespace `nsfd` (the calling thread enters it, makes
/// the socket, and returns to where it was). Returns a descriptor or -errno.
int stackship_socket_in_netns(int nsfd, int domain, int type);

/// Connects to 127.0.0.1:`port` inside the namespace `nsfd` (or the caller's own when nsfd < 0)
/// within `timeout_ms`. Returns a connected descriptor or -errno.
int stackship_connect_loopback(int nsfd, int port, int timeout_ms);

// ---- Port publishing (Runtime/Network/PortForwarder) --------------------------------------

/// Serves the listening socket `listenfd` on a background thread, which enters namespace `nsfd`
/// (stays in the host's when nsfd < 0): each accepted connection is relayed to 127.0.0.1:`port`
/// there, as docker-proxy does; one the container refuses is closed at once. Takes ownership of
/// both descriptors. Returns 0 or -errno.
int stackship_forward_start(int listenfd, int nsfd, int port);

// ---- Processes (Runtime/Process) ----------------------------------------------------------

/// fork, the child keeping exactly the descriptors `fds[0..<nfds]` as its 0, 1, 2, 3, ... (any
/// other is closed), with no signal blocked or handled, optionally in a new session and in the
/// directory `cwd`. Returns 0 in the child, the child's pid in the parent, or -errno. The child
/// of a multi-threaded process may only exec (stackship_spawn); a single-threaded one may go on.
pid_t stackship_fork(const int *fds, int nfds, int new_session, const char *cwd);

/// Replaces what ps shows for this process (its arguments, in place, cut to their length, and
/// its 15-character name) with `title`: a forked monitor would otherwise show as the `run` it
/// came from.
void stackship_set_title(char **argv, int argc, const char *title);

/// The number of threads in this process (from /proc/self/stat), or -errno.
int stackship_thread_count(void);

// posix_spawn with exact descriptors (stackship_spawn) is in CSupport.

/// Makes this process a child subreaper, so orphaned descendants (a container's init after
/// `runc create` exits) are reparented to it and it can wait for them. Returns 0 or -errno.
int stackship_set_subreaper(void);

// ---- Mounts (Runtime/Container) -----------------------------------------------------------

/// mount(2) with an options string. Returns 0 or -errno.
int stackship_mount(const char *source, const char *target, const char *fstype,
                    unsigned long flags, const char *data);

/// umount2(2) with MNT_DETACH. Returns 0 or -errno (EINVAL/ENOENT: nothing mounted there).
int stackship_unmount(const char *target);

#endif
