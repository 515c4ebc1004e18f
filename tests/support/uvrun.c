/* Driving a libuv loop in tests: see uvrun.h. */
#include "tests/support/uvrun.h"

#include <stdio.h>
#include <stdlib.h>

struct until {
    bool (*pred)(void *arg);
    void *arg;
    bool expired;
};

static void
on_deadline(uv_timer_t *t)
{
    struct until *u = t->data;

    u->expired = true;
    uv_stop(t->loop);
}

static void
on_prepare(uv_prepare_t *p)
{
    struct until *u = p->data;

    if (u->pred(u->arg))
        uv_stop(p->loop);
}

bool
ts_run_until(uv_loop_t *loop, bool (*pred)(void *arg), void *arg, uint64_t ms)
{
    struct until u = {.pred = pred, .arg = arg};
    uv_timer_t t;
    uv_prepare_t p;

    uv_timer_init(loop, &t);
    uv_prepare_init(loop, &p);
    t.data = p.data = &u;
    /* The loop's clock may be stale (it was not running): the deadline
     * counts from now. */
    uv_update_time(loop);
    uv_timer_start(&t, on_deadline, ms, 0);
    uv_prepare_start(&p, on_prepare);
    while (!pred(arg) && !u.expired)
        uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_close((uv_handle_t *)&p, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return pred(arg);
}

struct count {
    const int *counter;
    int target;
};

static bool
count_reached(void *arg)
{
    const struct count *c = arg;

    return *c->counter >= c->target;
}

bool
ts_run_count(uv_loop_t *loop, const int *counter, int target, uint64_t ms)
{
    struct count c = {counter, target};

    return ts_run_until(loop, count_reached, &c, ms);
}

static bool
never(void *arg)
{
    (void)arg;
    return false;
}

void
ts_run_for(uv_loop_t *loop, uint64_t ms)
{
    ts_run_until(loop, never, NULL, ms);
}

static void
on_wake(uv_timer_t *t)
{
    (void)t; /* only there to make the loop turn */
}

int
ts_loop_close(uv_loop_t *loop)
{
    uv_timer_t wake;
    uint64_t end;

    /* An unreferenced timer wakes the loop without keeping it alive, so
     * a close that needs a few turns gets them. */
    uv_timer_init(loop, &wake);
    uv_timer_start(&wake, on_wake, 10, 10);
    uv_unref((uv_handle_t *)&wake);
    uv_update_time(loop);
    end = uv_now(loop) + 5000;
    while (uv_loop_alive(loop) && uv_now(loop) < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&wake, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    if (getenv("KP_TEST_SHOW_HANDLES"))
        uv_print_all_handles(loop, stderr);
    return uv_loop_close(loop);
}
