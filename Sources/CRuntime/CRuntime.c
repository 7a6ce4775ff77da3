#define _GNU_SOURCE
#include "CRuntime.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

// ---- Network namespaces -------------------------------------------------------------------

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <spawn.h>

struct stackship_netns_job { char *path; int result; pthread_t thread; };

static void *netns_create_thread(void *arg) {
    struct stackship_netns_job *job = arg;
    if (unshare(CLONE_NEWNET) != 0) { job->result = -errno; return NULL; }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) { job->result = -errno; return NULL; }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) { job->result = -errno; close(s); return NULL; }
    } else { job->result = -errno; close(s); return NULL; }
    close(s);
    char self[64];
    snprintf(self, sizeof(self), "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
    if (mount(self, job->path, NULL, MS_BIND, NULL) != 0) { job->result = -errno; return NULL; }
    job->result = 0;
    return NULL;
}

int stackship_netns_start(const char *path, struct stackship_netns_job **out) {
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) return -errno;
    close(fd);
    struct stackship_netns_job *job = calloc(1, sizeof(*job));
    if (job) job->path = strdup(path);
    if (!job || !job->path) { if (job) free(job); unlink(path); return -ENOMEM; }
    int rc = pthread_create(&job->thread, NULL, netns_create_thread, job);
    if (rc != 0) { unlink(path); free(job->path); free(job); return -rc; }
    *out = job;
    return 0;
}

int stackship_netns_finish(struct stackship_netns_job *job) {
    pthread_join(job->thread, NULL);
    int result = job->result;
    if (result != 0) unlink(job->path);
    free(job->path);
    free(job);
    return result;
}

int stackship_netns_remove(const char *path) {
    if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return -errno;
    if (unlink(path) != 0 && errno != ENOENT) return -errno;
    return 0;
}

int stackship_socket_in_netns(int nsfd, int domain, int type) {
    if (nsfd < 0) {
        int fd = socket(domain, type | SOCK_CLOEXEC, 0);
        return fd < 0 ? -errno : fd;
    }
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) return -errno;
    if (setns(nsfd, CLONE_NEWNET) != 0) { int e = errno; close(home); return -e; }
    int fd = socket(domain, type | SOCK_CLOEXEC, 0);
    int e = errno;
    if (setns(home, CLONE_NEWNET) != 0) abort(); // a thread stranded in a container's namespace must not go on
    close(home);
    return fd < 0 ? -e : fd;
}

int stackship_connect_loopback(int nsfd, int port, int timeout_ms) {
    int fd = stackship_socket_in_netns(nsfd, AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    if (fd < 0) return fd;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        if (errno != EINPROGRESS) { int e = errno; close(fd); return -e; }
        struct pollfd p = { fd, POLLOUT, 0 };
        int n;
        do { n = poll(&p, 1, timeout_ms); } while (n < 0 && errno == EINTR);
        if (n == 0) { close(fd); return -ETIMEDOUT; }
        int err = 0; socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (n < 0 || err != 0) { close(fd); return -(err ? err : errno); }
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

// ---- Port publishing ----------------------------------------------------------------------

struct relay_job { int client; int upstream; };
struct listen_job { int listenfd; int nsfd; int port; };

/// Copies both ways until both directions are closed, passing a half-close along.
static void relay(int a, int b) {
    char buf[65536];
    int open_a = 1, open_b = 1; // whether reading from a / b may still give data
    while (open_a || open_b) {
        struct pollfd p[2] = { { open_a ? a : -1, POLLIN, 0 }, { open_b ? b : -1, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; break; }
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            int from = i == 0 ? a : b, to = i == 0 ? b : a;
            ssize_t n = read(from, buf, sizeof(buf));
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                shutdown(to, SHUT_WR);
                if (i == 0) open_a = 0; else open_b = 0;
                if (n < 0) { open_a = open_b = 0; }
                continue;
            }
            ssize_t off = 0;
            while (off < n) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w < 0) { if (errno == EINTR) continue; open_a = open_b = 0; break; }
                off += w;
            }
        }
    }
}

/// Waits (up to 5 s) for a connect still in progress to finish; 0 when it succeeded.
static int finish_connect(int fd) {
    struct pollfd p = { fd, POLLOUT, 0 };
    int n;
    do { n = poll(&p, 1, 5000); } while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    int err = 0; socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    return err == 0 ? 0 : -1;
}

static void *relay_thread(void *arg) {
    struct relay_job job = *(struct relay_job *)arg;
    free(arg);
    if (finish_connect(job.upstream) == 0) {
        int flags = fcntl(job.upstream, F_GETFL);
        fcntl(job.upstream, F_SETFL, flags & ~O_NONBLOCK);
        relay(job.client, job.upstream);
    }
    close(job.upstream);
    close(job.client);
    return NULL;
}

/// Accepts on the host's listening socket and connects each client to the container's
/// 127.0.0.1:port. The thread enters the container's network namespace once, at its start, so
/// the sockets it makes are there (the listening socket stays the host's). A connection the
/// container refuses (it is not listening yet, say) is closed here at once, without a thread:
/// a client polling a starting container costs it little.
static void *listen_thread(void *arg) {
    struct listen_job job = *(struct listen_job *)arg;
    free(arg);
    if (job.nsfd >= 0) {
        int rc = setns(job.nsfd, CLONE_NEWNET);
        close(job.nsfd);
        if (rc != 0) {
            close(job.listenfd); // no relay possible: clients are refused rather than left waiting
            return NULL;
        }
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)job.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (;;) {
        int client = accept4(job.listenfd, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
                if (errno == EMFILE || errno == ENFILE) usleep(10000);
                continue;
            }
            break; // the listener was closed: stop serving
        }
        int upstream = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (upstream < 0) { close(client); continue; }
        if (connect(upstream, (struct sockaddr *)&addr, sizeof(addr)) != 0 && errno != EINPROGRESS) {
            close(upstream); close(client); continue;
        }
        struct relay_job *r = malloc(sizeof(*r));
        if (!r) { close(upstream); close(client); continue; }
        r->client = client; r->upstream = upstream;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        if (pthread_create(&t, &attr, relay_thread, r) != 0) { close(upstream); close(client); free(r); }
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

int stackship_forward_start(int listenfd, int nsfd, int port) {
    struct listen_job *job = malloc(sizeof(*job));
    if (!job) return -ENOMEM;
    job->listenfd = listenfd; job->nsfd = nsfd; job->port = port;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, listen_thread, job);
    pthread_attr_destroy(&attr);
    if (rc != 0) { free(job); return -rc; }
    return 0;
}

// ---- Processes ----------------------------------------------------------------------------

pid_t stackship_fork(const int *fds, int nfds, int new_session, const char *cwd) {
    if (nfds > 64) return -EINVAL;
    pid_t pid = fork();
    if (pid != 0) return pid < 0 ? -errno : pid;
    // Child: only async-signal-safe calls until the caller execs or, single-threaded, goes on.
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL); // do not pass on the parent's blocked signals
    for (int s = 1; s < 32; s++) if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
    if (new_session) setsid();
    if (cwd && chdir(cwd) != 0) _exit(126);
    // Move the wanted descriptors above the target range first, so dup2 never clobbers one.
    int high[64];
    for (int i = 0; i < nfds; i++) {
        high[i] = fcntl(fds[i], F_DUPFD, 64 + nfds);
        if (high[i] < 0) _exit(126);
    }
    for (int i = 0; i < nfds; i++) {
        if (dup2(high[i], i) < 0) _exit(126);
    }
    for (int fd = nfds; fd < 65536; fd++) {
        if (syscall(SYS_close_range, (unsigned)fd, ~0U, 0) == 0) break;
        close(fd);
    }
    return 0;
}

void stackship_set_title(char **argv, int argc, const char *title) {
    if (argc < 1 || !argv[0]) return;
    char *start = argv[0];
    char *end = argv[argc - 1] + strlen(argv[argc - 1]); // the arguments lie end to end
    size_t room = (size_t)(end - start);
    size_t n = strlen(title);
    if (n > room) n = room;
    memcpy(start, title, n);
    memset(start + n, 0, room - n + 1);
    char comm[16];
    snprintf(comm, sizeof(comm), "%s", title);
    prctl(PR_SET_NAME, comm, 0, 0, 0);
}

int stackship_thread_count(void) {
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    char buffer[1024];
    ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
    close(fd);
    if (n <= 0) return -EIO;
    buffer[n] = 0;
    // Field 20 (num_threads), counted after the ")" that ends the command name.
    char *p = strrchr(buffer, ')');
    if (!p) return -EIO;
    int field = 2;
    for (; *p && field < 20; p++) if (*p == ' ') field++;
    return field == 20 ? atoi(p) : -EIO;
}

int stackship_set_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

// ---- Mounts -------------------------------------------------------------------------------

int stackship_mount(const char *source, const char *target, const char *fstype,
                    unsigned long flags, const char *data) {
    return mount(source, target, fstype, flags, data) == 0 ? 0 : -errno;
}

int stackship_unmount(const char *target) {
    return umount2(target, MNT_DETACH) == 0 ? 0 : -errno;
}
