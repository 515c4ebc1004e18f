/*
 * uvrun.h - driving a libuv loop in tests: until a condition holds, with
 * a hard deadline, never by sleeping; and closing a loop cleanly.
 */
#ifndef KP_TESTS_SUPPORT_UVRUN_H
#define KP_TESTS_SUPPORT_UVRUN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

/* Run `loop` until pred(arg) holds or `ms` pass. The condition is checked
 * before the loop would block (a prepare handle), so one made true by a
 * timer callback is seen at once rather than at the deadline.
 * Returns: pred(arg) at the end.   In: pred, arg, ms */
bool ts_run_until(uv_loop_t *loop, bool (*pred)(void *arg), void *arg,
                  uint64_t ms);

/* Run `loop` until *counter >= target or `ms` pass.
 * Returns: whether the target was reached.   In: counter, target, ms */
bool ts_run_count(uv_loop_t *loop, const int *counter, int target, uint64_t ms);

/* Run `loop` for `ms`: to let timers fire, or to see that something does
 * not happen. */
void ts_run_for(uv_loop_t *loop, uint64_t ms);

/* Let every closing handle finish (5 s at most: libwebsockets closes its
 * context over a few turns), then close the loop. With the environment
 * variable KP_TEST_SHOW_HANDLES set, lists what is still open.
 * Returns: uv_loop_close's result (0 when nothing was left open). */
int ts_loop_close(uv_loop_t *loop);

#endif
