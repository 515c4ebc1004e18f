/* lwsuv: destroying a libwebsockets context on a foreign libuv loop.
 *
 * lws 4.1 closes a descriptor of the context twice (its event pipe: once
 * in the first lws_context_destroy, again when the poll handle's close
 * callback runs, later in the same loop turn). lwsuv holds the number in
 * between with a placeholder, and closes what is left of its
 * placeholders at the end. Both windows are where the rest of the
 * process can lose a file: the tests play that part with a prepare
 * handle which, from the moment the destroy starts, opens /dev/null on
 * any of the context's descriptor numbers it finds free (as a new
 * connection or a log file would) and keeps it. Every such file must
 * survive the destroy:
 * - with no free number below the context's, the number lws frees first
 *   is the lowest free one: the placeholder must still be put on it;
 * - with a free number below, the placeholder does go on; once lws's
 *   second close has freed the number and our file sits on it, the end
 *   of the destroy must tell our /dev/null from the placeholder.
 * The context has WebSocket connections open, as chain/ws.c destroys
 * them. Also: a NULL context and a NULL wsi are no-ops. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "chain/lwsuv.h"
#include "tests/chain/wssrv.h"
#include "tests/support/uvrun.h"

#define N_CLIENTS 2
#define MAX_WATCH 16 /* the context's descriptors */
#define MAX_FILL 64  /* our files filling free numbers below them */
#define MAX_TURNS 20000

struct fx {
    uv_loop_t loop;
    struct wssrv srv;
    struct lws_context *ctx;
    int established;
    uv_prepare_t other; /* the rest of the process */
    bool destroying;
    int watch[MAX_WATCH]; /* the context's descriptor numbers */
    bool taken[MAX_WATCH];
    size_t nwatch;
    int fill[MAX_FILL];
    size_t nfill;
    int spare; /* ours, below all of the context's numbers, or -1 */
};

static int
client_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
          void *in, size_t len)
{
    struct fx *f = lws_context_user(lws_get_context(wsi));

    (void)user;
    (void)in;
    (void)len;
    if (reason == LWS_CALLBACK_CLIENT_ESTABLISHED)
        f->established++;
    return 0;
}

static const struct lws_protocols test_protocols[] = {
    {"lwsuv-test", client_cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int
open_null(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Our /dev/null on number `n` (free). Returns: n, or -1. */
static int
open_null_on(int n)
{
    int fd = open_null();

    if (fd < 0 || fd == n)
        return fd;
    if (dup3(fd, n, O_CLOEXEC) != n)
        n = -1;
    close(fd);
    return n;
}

static bool
is_free(int n)
{
    return fcntl(n, F_GETFD) == -1 && errno == EBADF;
}

/* Whether `fd` is still one of our /dev/null files. */
static bool
is_our_null(int fd)
{
    struct stat st, null_st;

    return fstat(fd, &st) == 0 && stat("/dev/null", &null_st) == 0 &&
           S_ISCHR(st.st_mode) && st.st_rdev == null_st.st_rdev;
}

static void
other_turn(uv_prepare_t *p)
{
    struct fx *f = p->data;

    if (!f->destroying)
        return;
    for (size_t i = 0; i < f->nwatch; i++)
        if (!f->taken[i] && is_free(f->watch[i])) {
            assert_int_equal(open_null_on(f->watch[i]), f->watch[i]);
            f->taken[i] = true;
        }
}

static bool
all_established(void *arg)
{
    struct fx *f = arg;

    return f->established == N_CLIENTS && f->srv.upgrades == N_CLIENTS;
}

static void
fx_connect(struct fx *f)
{
    struct lws_client_connect_info ci;

    memset(&ci, 0, sizeof(ci));
    ci.context = f->ctx;
    ci.address = "127.0.0.1";
    ci.port = f->srv.port;
    ci.path = "/";
    ci.host = "127.0.0.1";
    ci.origin = "127.0.0.1";
    ci.local_protocol_name = test_protocols[0].name;
    assert_non_null(lws_client_connect_via_info(&ci));
}

/* A client context with N_CLIENTS connections up. */
static void
fx_start(struct fx *f)
{
    struct lws_context_creation_info info;

    f->spare = open_null(); /* before anything of the context */
    assert_true(f->spare >= 0);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(wssrv_start(&f->srv, &f->loop), 0);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = test_protocols;
    info.user = f;
    info.gid = -1;
    info.uid = -1;
    info.fd_limit_per_thread = 16;
    assert_int_equal(lwsuv_context_new(&f->ctx, &f->loop, &info), 0);
    for (int i = 0; i < N_CLIENTS; i++)
        fx_connect(f);
    assert_true(ts_run_until(&f->loop, all_established, f, 5000));
    uv_prepare_init(&f->loop, &f->other);
    f->other.data = f;
    uv_prepare_start(&f->other, other_turn);
}

static void
note_poll(uv_handle_t *h, void *arg)
{
    struct fx *f = arg;
    uv_os_fd_t fd;

    /* The server's are TCP handles: every poll handle is lws's. */
    if (h->type == UV_POLL && !uv_is_closing(h) && uv_fileno(h, &fd) == 0 &&
        f->nwatch < MAX_WATCH)
        f->watch[f->nwatch++] = fd;
}

/* Note the context's numbers; fill every free number below them with
 * our own files, so that the lowest free number is one lws frees. */
static void
fx_watch_and_fill(struct fx *f)
{
    int top = -1, fd;

    uv_walk(&f->loop, note_poll, f);
    /* Its event pipe and a socket per connection. */
    assert_true(f->nwatch >= N_CLIENTS + 1);
    for (size_t i = 0; i < f->nwatch; i++) {
        assert_true(f->watch[i] > f->spare);
        if (f->watch[i] > top)
            top = f->watch[i];
    }
    while ((fd = open_null()) >= 0 && fd < top) {
        assert_true(f->nfill < MAX_FILL);
        f->fill[f->nfill++] = fd;
    }
    assert_true(fd > top);
    close(fd);
}

static void
busy_handle(uv_handle_t *h, void *arg)
{
    bool *busy = arg;

    /* Ours: the server's TCP handles and the prepare handle. The rest
     * (lws's polls, timers, idles, and lwsuv's reaper) must go. */
    if (h->type != UV_TCP && h->type != UV_PREPARE && !uv_is_closing(h))
        *busy = true;
}

static bool
only_ours_left(uv_loop_t *loop)
{
    bool busy = false;

    uv_walk(loop, busy_handle, &busy);
    return !busy;
}

/* Destroy, one loop turn at a time (the reaper ticks every millisecond
 * while it runs, so a turn never blocks for long), until nothing of the
 * context is left. */
static void
fx_destroy(struct fx *f)
{
    uint64_t leaked = lwsuv_leaked();
    int turns = 0;

    f->destroying = true;
    lwsuv_context_destroy(&f->loop, f->ctx);
    f->ctx = NULL;
    while (!only_ours_left(&f->loop) && turns++ < MAX_TURNS)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_true(only_ours_left(&f->loop));
    assert_int_equal(lwsuv_leaked(), leaked);
}

static size_t
fx_check_ours(struct fx *f)
{
    size_t ntaken = 0;

    if (f->spare >= 0)
        assert_true(is_our_null(f->spare));
    for (size_t i = 0; i < f->nfill; i++)
        assert_true(is_our_null(f->fill[i]));
    for (size_t i = 0; i < f->nwatch; i++)
        if (f->taken[i]) {
            assert_true(is_our_null(f->watch[i]));
            ntaken++;
        }
    return ntaken;
}

static void
fx_cleanup(struct fx *f)
{
    if (f->spare >= 0)
        close(f->spare);
    for (size_t i = 0; i < f->nfill; i++)
        close(f->fill[i]);
    for (size_t i = 0; i < f->nwatch; i++)
        if (f->taken[i])
            close(f->watch[i]);
    uv_close((uv_handle_t *)&f->other, NULL);
    wssrv_stop(&f->srv);
    assert_int_equal(ts_loop_close(&f->loop), 0);
}

static void
run_destroy(bool hole_below)
{
    struct fx *f = test_calloc(1, sizeof(*f));

    fx_start(f);
    fx_watch_and_fill(f);
    if (hole_below) {
        close(f->spare);
        f->spare = -1;
    }
    fx_destroy(f);
    /* Else the test proved nothing: lws freed no number while the
     * destroy ran. */
    assert_true(fx_check_ours(f) > 0);
    fx_cleanup(f);
    test_free(f);
}

/* The number lws frees first is the lowest free one. */
static void
test_destroy_holds_lowest_free_number(void **state)
{
    (void)state;
    run_destroy(false);
}

/* A lower number is free: the placeholder goes on, and a file of ours
 * lands on the number after lws's second close. */
static void
test_destroy_spares_file_on_freed_number(void **state)
{
    (void)state;
    run_destroy(true);
}

static void
test_null_is_noop(void **state)
{
    uv_loop_t loop;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    lwsuv_context_destroy(&loop, NULL);
    lwsuv_client_failed(&loop, NULL);
    lwsuv_client_failed(NULL, NULL);
    assert_int_equal(ts_loop_close(&loop), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_destroy_holds_lowest_free_number),
        cmocka_unit_test(test_destroy_spares_file_on_freed_number),
        cmocka_unit_test(test_null_is_noop),
    };

    lws_set_log_level(0, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
