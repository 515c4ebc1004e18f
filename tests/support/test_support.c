/* The test support library itself: temp dirs and files, child processes
 * (exit codes, signals, descriptors, working directory, reaping by pid),
 * ports, loop driving (conditions met and deadlines kept), the socket
 * plumbing end to end, a synchronous call that times out and is
 * cancelled, a contract that does not compile, and the check helpers
 * (known answers, and failures that do fail). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "chain/err.h"
#include "chain/rpc.h"
#include "tests/support/check.h"
#include "tests/support/net.h"
#include "tests/support/proc.h"
#include "tests/support/rpcsync.h"
#include "tests/support/solc.h"
#include "tests/support/tmp.h"
#include "tests/support/uvrun.h"

/* ---- temp dirs and files ---- */

static void
test_tmp(void **state)
{
    char dir[256], sub[300], path[320], tiny[8];
    char *text;

    (void)state;
    assert_int_equal(ts_tmpdir_make(tiny, sizeof(tiny), "x"), -1);
    assert_int_equal(ts_tmpdir_make(dir, sizeof(dir), "support"), 0);
    assert_non_null(strstr(dir, "/kp-support-"));
    snprintf(sub, sizeof(sub), "%s/a", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof(path), "%s/b.txt", sub);
    assert_int_equal(ts_write_text(path, "two words \n\n", 0600), 0);
    assert_int_equal(ts_write_text(path, "again", 0600), -1); /* exists */
    text = ts_read_text(path);
    assert_string_equal(text, "two words");
    free(text);
    /* The whole tree goes; then there is nothing left to remove. */
    assert_int_equal(ts_tmpdir_remove(dir), 0);
    assert_null(ts_read_text(path));
    assert_int_equal(access(dir, F_OK), -1);
    assert_int_equal(ts_tmpdir_remove(dir), -1);
}

/* ---- processes and ports ---- */

static pid_t
sh(const char *script, const struct ts_spawn_opts *o)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};

    return ts_spawn(argv, o);
}

static void
test_exit_status(void **state)
{
    pid_t pid, saved;

    (void)state;
    assert_int_equal(ts_reap(sh("exit 3", NULL)), 3);
    assert_int_equal(ts_reap(sh("kill -9 $$", NULL)), -1);
    /* Not found: 127, from the child itself. */
    assert_int_equal(ts_reap(ts_spawn((char *[]){"/nonexistent", NULL}, NULL)),
                     127);
    pid = sh("sleep 30", NULL);
    saved = pid;
    assert_true(pid > 0);
    ts_kill(&pid, SIGKILL);
    assert_int_equal(pid, 0);
    /* Killed and reaped: no such process any more. */
    assert_int_equal(kill(saved, 0), -1);
    assert_int_equal(errno, ESRCH);
    ts_kill(&pid, SIGKILL); /* nothing running: nothing happens */
    assert_int_equal(ts_reap(12345678), -1);
}

/* Run `script`, its stdout into a pipe; Returns: what it wrote. */
static char *
sh_output(const char *script, struct ts_spawn_opts *o)
{
    static char buf[512];
    int p[2];
    ssize_t n, len = 0;
    pid_t pid;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    o->out = p[1];
    pid = sh(script, o);
    close(p[1]);
    while ((n = read(p[0], buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
        len += n;
    close(p[0]);
    buf[len] = '\0';
    assert_int_equal(ts_reap(pid), 0);
    return buf;
}

static void
test_spawn_options(void **state)
{
    struct ts_spawn_opts o;
    char dir[256], want[300];

    (void)state;
    ts_spawn_opts_init(&o);
    assert_string_equal(sh_output("echo out; echo err >&2", &o), "out\n");
    assert_int_equal(ts_tmpdir_make(dir, sizeof(dir), "support-cwd"), 0);
    o.dir = dir;
    snprintf(want, sizeof(want), "%s\n", dir);
    assert_string_equal(sh_output("pwd -P", &o), want);
    assert_int_equal(ts_tmpdir_remove(dir), 0);
    /* A directory that is not there: the child gives up with 126. */
    assert_int_equal(ts_reap(sh("exit 0", &o)), 126);
    /* PATH search: "sh" alone, only with path_search. */
    ts_spawn_opts_init(&o);
    assert_int_equal(
        ts_reap(ts_spawn((char *[]){"sh", "-c", "exit 4", NULL}, &o)), 127);
    o.path_search = true;
    assert_int_equal(
        ts_reap(ts_spawn((char *[]){"sh", "-c", "exit 4", NULL}, &o)), 4);
}

static void
test_ports(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    int port = 0, fd, c;

    (void)state;
    assert_true(ts_free_port() > 0);
    fd = ts_refusing_port(&port);
    assert_true(fd >= 0);
    assert_true(port > 0);
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), -1);
    assert_int_equal(errno, ECONNREFUSED);
    close(c);
    close(fd);
}

static void
test_source_path(void **state)
{
    char out[64], *saved = getenv("KP_SOURCE_DIR");

    (void)state;
    saved = saved ? strdup(saved) : NULL;
    setenv("KP_SOURCE_DIR", "/src", 1);
    assert_int_equal(ts_source_path(out, sizeof(out), "a/b"), 0);
    assert_string_equal(out, "/src/a/b");
    assert_int_equal(ts_source_path(out, 6, "a/b"), -1);
    unsetenv("KP_SOURCE_DIR");
    assert_int_equal(ts_source_path(out, sizeof(out), "a/b"), -1);
    if (saved)
        setenv("KP_SOURCE_DIR", saved, 1);
    free(saved);
}

/* ---- loop driving ---- */

static void
bump(uv_timer_t *t)
{
    (*(int *)t->data)++;
}

static void
test_run_until(void **state)
{
    uv_loop_t loop;
    uv_timer_t t;
    int ticks = 0;
    uint64_t t0;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &t);
    t.data = &ticks;
    uv_timer_start(&t, bump, 20, 20);
    /* Met: at the third tick, not at the deadline. */
    t0 = uv_hrtime();
    assert_true(ts_run_count(&loop, &ticks, 3, 5000));
    assert_int_equal(ticks, 3);
    assert_true(uv_hrtime() - t0 < 1000u * 1000000u);
    /* Not met: false once the deadline has passed, not before. */
    uv_timer_stop(&t);
    t0 = uv_hrtime();
    assert_false(ts_run_count(&loop, &ticks, 4, 100));
    assert_true(uv_hrtime() - t0 >= 95u * 1000000u);
    /* Run for a while: the timer keeps ticking. */
    uv_timer_start(&t, bump, 10, 10);
    t0 = uv_hrtime();
    ts_run_for(&loop, 200);
    assert_true(uv_hrtime() - t0 >= 195u * 1000000u);
    assert_true(ticks >= 3 + 10);
    uv_close((uv_handle_t *)&t, NULL);
    assert_int_equal(ts_loop_close(&loop), 0);
}

/* ---- socket plumbing: a listener echoes what it reads ---- */

struct echo {
    uv_loop_t loop;
    uv_tcp_t listener, server, client;
    uv_connect_t conn;
    char got[64];
    size_t len;
    int accepted;
};

static void
echo_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct echo *e = s->data;

    if (n > 0 && s == (uv_stream_t *)&e->server) {
        assert_int_equal(ts_write_copy(s, buf->base, (size_t)n), 0);
    } else if (n > 0 && e->len + (size_t)n < sizeof(e->got)) {
        memcpy(e->got + e->len, buf->base, (size_t)n);
        e->len += (size_t)n;
    }
    free(buf->base);
}

static void
echo_accept(uv_stream_t *l, int status)
{
    struct echo *e = l->data;

    assert_int_equal(status, 0);
    uv_tcp_init(&e->loop, &e->server);
    e->server.data = e;
    assert_int_equal(uv_accept(l, (uv_stream_t *)&e->server), 0);
    uv_read_start((uv_stream_t *)&e->server, ts_alloc_64k, echo_read);
    e->accepted++;
}

static void
echo_connected(uv_connect_t *req, int status)
{
    struct echo *e = req->data;

    assert_int_equal(status, 0);
    uv_read_start((uv_stream_t *)&e->client, ts_alloc_64k, echo_read);
    assert_int_equal(ts_write_copy((uv_stream_t *)&e->client, "ping", 4), 0);
}

static bool
echoed(void *arg)
{
    return ((struct echo *)arg)->len == 4;
}

static void
test_net(void **state)
{
    struct echo *e = calloc(1, sizeof(*e));
    struct sockaddr_in a;
    int port = 0;

    (void)state;
    assert_int_equal(uv_loop_init(&e->loop), 0);
    assert_int_equal(ts_listen(&e->listener, &e->loop, 8, echo_accept, &port),
                     0);
    e->listener.data = e->client.data = e->conn.data = e;
    assert_true(port > 0);
    uv_tcp_init(&e->loop, &e->client);
    uv_ip4_addr("127.0.0.1", port, &a);
    assert_int_equal(uv_tcp_connect(&e->conn, &e->client,
                                    (const struct sockaddr *)&a,
                                    echo_connected),
                     0);
    assert_true(ts_run_until(&e->loop, echoed, e, 5000));
    assert_memory_equal(e->got, "ping", 4);
    assert_int_equal(e->accepted, 1);
    uv_close((uv_handle_t *)&e->client, NULL);
    uv_close((uv_handle_t *)&e->server, NULL);
    uv_close((uv_handle_t *)&e->listener, NULL);
    assert_int_equal(ts_loop_close(&e->loop), 0);
    free(e);
}

/* ---- a synchronous call to a node that never answers ---- */

/* Never accepted: the kernel completes the connection, the request goes
 * out, no answer ever comes (closing the listener closes it). */
static void
silent_accept(uv_stream_t *l, int status)
{
    (void)l;
    (void)status;
}

static void
test_rpc_call_timeout(void **state)
{
    uv_loop_t loop;
    uv_tcp_t l;
    struct rpc_client *c = NULL;
    struct ts_rpc_reply r;
    char url[64];
    int port = 0;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(ts_listen(&l, &loop, 8, silent_accept, &port), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    assert_int_equal(ts_rpc_client_new(&c, &loop, url, 1), 0);
    assert_int_equal(ts_rpc_call(&r, &loop, c, "eth_chainId", NULL, 150),
                     KP_ETIMEOUT);
    assert_null(r.result);
    assert_non_null(strstr(r.text, "150 ms"));
    /* Cancelled: nothing arrives later into the dead reply. */
    ts_run_for(&loop, 100);
    assert_int_equal(ts_rpc_call(&r, &loop, c, "bad method", NULL, 150),
                     KP_EINVAL);
    ts_rpc_reply_cleanup(&r);
    rpc_client_free(c);
    uv_close((uv_handle_t *)&l, NULL);
    assert_int_equal(ts_loop_close(&loop), 0);
}

static void
test_solc_refuses_garbage(void **state)
{
    char *bin = (char *)1;

    (void)state;
    assert_int_equal(ts_solc_source(&bin, "contract {", "Q"), -1);
    assert_null(bin);
    assert_int_equal(ts_solc_file(&bin, "/nonexistent/Q.sol", "Q"), -1);
    assert_null(bin);
}

/* ---- checks ---- */

static void
test_check_values(void **state)
{
    uint8_t b[4];
    struct u256 x = ts_u256(7), m = ts_u256_max(), p;
    uint64_t s = 1;

    (void)state;
    assert_int_equal(ts_unhex(b, sizeof(b), "0x0aff"), 2);
    assert_memory_equal(b, "\x0a\xff", 2);
    assert_true(x.w[0] == 7 && x.w[1] == 0 && x.w[3] == 0);
    assert_true(m.w[0] == UINT64_MAX && m.w[3] == UINT64_MAX);
    p = ts_u256_parse("0x10000000000000000");
    assert_true(p.w[0] == 0 && p.w[1] == 1);
    ts_assert_u256_equal(&x, &x);
    ts_assert_u256_is(&x, 7);
    ts_assert_close(1.0 + 1e-13, 1.0, 1e-12);
    ts_assert_close(0.0, 0.0, 0.0);
    /* xorshift64 (13, 7, 17) from 1: 1 -> 8193 -> 8257 -> 1082269761. */
    assert_true(ts_xorshift64(&s) == 1082269761u);
    assert_true(s == 1082269761u);
}

/* Each of these must fail the test. */
static void
fails_u256(void **state)
{
    struct u256 a = ts_u256(1);

    (void)state;
    ts_assert_u256_is(&a, 2);
}

static void
fails_close(void **state)
{
    (void)state;
    ts_assert_close(1.01, 1.0, 1e-3);
}

static void
fails_nan(void **state)
{
    (void)state;
    ts_assert_close(NAN, 0.0, 1.0);
}

static void
fails_unhex(void **state)
{
    uint8_t b[1];

    (void)state;
    ts_unhex(b, sizeof(b), "0102");
}

/* Run the failing checks in a child, quietly: cmocka keeps global state,
 * and a group run returns the number of its tests that failed. */
static void
test_checks_fail(void **state)
{
    const struct CMUnitTest failing[] = {
        cmocka_unit_test(fails_u256),
        cmocka_unit_test(fails_close),
        cmocka_unit_test(fails_nan),
        cmocka_unit_test(fails_unhex),
    };
    pid_t pid;
    int fd;

    (void)state;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        _exit(cmocka_run_group_tests_name("expected failures", failing, NULL,
                                          NULL));
    }
    assert_int_equal(ts_reap(pid), 4);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tmp),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_spawn_options),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_source_path),
        cmocka_unit_test(test_run_until),
        cmocka_unit_test(test_net),
        cmocka_unit_test(test_rpc_call_timeout),
        cmocka_unit_test(test_solc_refuses_garbage),
        cmocka_unit_test(test_check_values),
        cmocka_unit_test(test_checks_fail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
