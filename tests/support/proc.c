/* Child processes and loopback ports for tests: see proc.h. */
#include "tests/support/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

void
ts_spawn_opts_init(struct ts_spawn_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->in = TS_FD_KEEP;
    o->out = TS_FD_NULL;
    o->err = TS_FD_NULL;
}

/* In the child: put `fd` (or /dev/null) on `target`. Only async-signal-safe
 * calls here: the test may have threads (libuv's pool, curl's resolver). */
static void
child_fd(int fd, int target, int devnull)
{
    if (fd == TS_FD_KEEP)
        return;
    dup2(fd == TS_FD_NULL ? devnull : fd, target);
}

static _Noreturn void
child_exec(char *const argv[], const struct ts_spawn_opts *o, pid_t parent)
{
    int devnull = open("/dev/null", O_RDWR);

    /* Die with the test, whatever kills it; if the test is already gone,
     * the signal was missed: leave at once. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    child_fd(o->in, 0, devnull);
    child_fd(o->out, 1, devnull);
    child_fd(o->err, 2, devnull);
    if (o->dir && chdir(o->dir) != 0)
        _exit(126);
    if (o->path_search)
        execvp(argv[0], argv);
    else
        execv(argv[0], argv);
    _exit(127);
}

pid_t
ts_spawn(char *const argv[], const struct ts_spawn_opts *o)
{
    struct ts_spawn_opts defaults;
    pid_t parent = getpid(), pid;

    if (o == NULL) {
        ts_spawn_opts_init(&defaults);
        o = &defaults;
    }
    pid = fork();
    if (pid == 0)
        child_exec(argv, o, parent);
    return pid;
}

int
ts_reap(pid_t pid)
{
    int st = 0;

    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
ts_kill(pid_t *pid, int sig)
{
    if (*pid > 0) {
        kill(*pid, sig);
        ts_reap(*pid);
    }
    *pid = 0;
}

int
ts_refusing_port(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int
ts_free_port(void)
{
    int port = -1, fd = ts_refusing_port(&port);

    if (fd < 0)
        return -1;
    close(fd);
    return port;
}

int
ts_source_path(char *out, size_t cap, const char *rel)
{
    const char *src = getenv("KP_SOURCE_DIR");
    int n;

    if (src == NULL) {
        fprintf(stderr, "KP_SOURCE_DIR is not set\n");
        return -1;
    }
    n = snprintf(out, cap, "%s/%s", src, rel);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}
