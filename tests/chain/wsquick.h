/*
 * wsquick.h - what the WebSocket client tests share (header only): client
 * options that make reconnecting quick, and the check that a client whose
 * every attempt fails backs off as those options say.
 */
#ifndef KP_TESTS_WSQUICK_H
#define KP_TESTS_WSQUICK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <uv.h>

#include "chain/ws.h"
#include "tests/support/uvrun.h"

/* The defaults with a short backoff (20 ms doubling up to 160 ms), a 3 s
 * connect timeout, and the jitter seeded with `seed`: a fixed seed keeps
 * the delays of every run alike. */
static __attribute__((unused)) struct ws_opts
wsquick_opts(uint64_t seed)
{
    struct ws_opts o;

    ws_opts_init(&o);
    o.backoff_base_ms = 20;
    o.backoff_max_ms = 160;
    o.connect_timeout_ms = 3000;
    o.seed = seed;
    return o;
}

/* Run `loop` for 1.2 s while every attempt of `w` (made with
 * wsquick_opts) fails, then check how many it made: delays of 10-20,
 * 20-40, 40-80, then 80-160 ms give about 10. Without a backoff there
 * would be hundreds; without the cap, about 6. */
static __attribute__((unused)) void
wsquick_check_backoff(uv_loop_t *loop, const struct ws_client *w)
{
    uint64_t attempts;

    ts_run_for(loop, 1200);
    attempts = ws_stats(w)->attempts;
    assert_true(attempts >= 6);
    assert_true(attempts <= 20);
    assert_true(ws_stats(w)->failures + 1 >= attempts);
}

#endif
