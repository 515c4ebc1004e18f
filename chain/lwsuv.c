/*
 * lwsuv.c - libwebsockets contexts on a foreign libuv loop (see lwsuv.h).
 */
#include "chain/lwsuv.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/err.h"

/* The reaper polls for the moment all of the context's handles are
 * closed: lws marks its own handles with handle->data == context, and they
 * close after the connections' handles. */
#define LWSUV_TICK_MS 1
#define LWSUV_GIVE_UP_MS 10000
#define LWSUV_HOLD_MAX 64 /* descriptors held across one destroy */

/* lws 4.1 closes a descriptor of a foreign-loop context twice: its event
 * pipe (an eventfd; seen with 4.1.6, client and server contexts alike),
 * once in the first lws_context_destroy and again when the poll handle's
 * close callback frees its wsi on the loop, at the end of the same loop
 * turn. In between, the number is free and the process may reuse it
 * (another client's socket): the second close then closes that socket
 * under its owner (libuv aborts on the next epoll_ctl). So every number
 * of the context's poll handles that the first destroy closes is held
 * with a placeholder until its handles have closed; lws's second close
 * then closes the placeholder, and any placeholder left is closed at the
 * end.
 * The placeholder is the read end of a pipe made for this destroy (before
 * the first one, so that it cannot take a number lws frees), duplicated
 * onto every held number: a pipe's inode is its own, so at the end a
 * number is known to still hold it (and not a file someone else opened on
 * that number after lws freed it) by st_dev+st_ino. /dev/null would not
 * do (every open of it looks alike), nor an eventfd (all share one anon
 * inode). Our own descriptor of it stays open until the end so that the
 * inode number cannot be reused meanwhile. */
struct lwsuv_reaper {
    uv_timer_t timer;
    struct lws_context *ctx;
    void (*done)(void *arg); /* once ctx is freed, or NULL */
    void *done_arg;
    unsigned ticks;
    bool first_done;         /* the first lws_context_destroy was made */
    bool ctx_busy;           /* a handle of ctx is still open */
    int fds[LWSUV_HOLD_MAX]; /* open poll descriptors before the destroy, */
    size_t nfds;             /* then those held with a placeholder */
    int ph;                  /* the placeholder (a pipe's read end), or -1 */
    struct stat hold;        /* the placeholder's identity */
};

/* Only touched from the loop thread(s); a plain counter is enough. */
static uint64_t lwsuv_leak_count;

int
lwsuv_context_new(struct lws_context **out, uv_loop_t *loop,
                  struct lws_context_creation_info *info)
{
    void *loops[1] = {loop};

    *out = NULL;
    info->options |= LWS_SERVER_OPTION_LIBUV;
    /* lws reads the array during creation only. */
    info->foreign_loops = loops;
    *out = lws_create_context(info);
    info->foreign_loops = NULL;
    return *out != NULL ? 0 : KP_EIO;
}

static void
lwsuv_find_ctx(uv_handle_t *handle, void *arg)
{
    struct lwsuv_reaper *r = arg;

    if (handle->data == (void *)r->ctx)
        r->ctx_busy = true;
}

static void
lwsuv_reaper_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void
lwsuv_note_poll(uv_handle_t *h, void *arg)
{
    struct lwsuv_reaper *r = arg;
    uv_os_fd_t fd;

    if (h->type != UV_POLL || uv_is_closing(h) || r->nfds == LWSUV_HOLD_MAX)
        return;
    if (uv_fileno(h, &fd) == 0 && fd >= 0)
        r->fds[r->nfds++] = fd;
}

/* Before the first destroy, so that the placeholder does not itself take
 * a number lws is about to close. Without one (no descriptor to spare),
 * nothing is held: a full descriptor table is not worth failing a destroy
 * for. */
static void
lwsuv_make_placeholder(struct lwsuv_reaper *r)
{
    int p[2];

    r->ph = -1;
    if (r->nfds == 0 || pipe2(p, O_CLOEXEC) != 0)
        return;
    close(p[1]); /* the read end alone keeps the pipe's inode */
    if (fstat(p[0], &r->hold) != 0) {
        close(p[0]);
        return;
    }
    r->ph = p[0];
}

/* Our own descriptor only: copies on held numbers keep the pipe alive. */
static void
lwsuv_drop_placeholder(struct lwsuv_reaper *r)
{
    if (r->ph >= 0)
        close(r->ph);
    r->ph = -1;
}

/* After the first destroy: hold every number it closed. */
static void
lwsuv_hold_closed(struct lwsuv_reaper *r)
{
    size_t kept = 0;

    for (size_t i = 0; r->ph >= 0 && i < r->nfds; i++) {
        if (fcntl(r->fds[i], F_GETFD) != -1 || errno != EBADF)
            continue; /* still open: not lws's, or not closed yet */
        if (dup3(r->ph, r->fds[i], O_CLOEXEC) == r->fds[i])
            r->fds[kept++] = r->fds[i];
    }
    r->nfds = kept;
}

/* The end: close the placeholders lws did not close itself (a number
 * that no longer holds our placeholder belongs to someone else now), then
 * the placeholder. */
static void
lwsuv_release_held(struct lwsuv_reaper *r)
{
    struct stat st;

    for (size_t i = 0; i < r->nfds; i++)
        if (fstat(r->fds[i], &st) == 0 && st.st_dev == r->hold.st_dev &&
            st.st_ino == r->hold.st_ino)
            close(r->fds[i]);
    r->nfds = 0;
    lwsuv_drop_placeholder(r);
}

static void
lwsuv_reaper_tick(uv_timer_t *t)
{
    struct lwsuv_reaper *r = t->data;

    if (!r->first_done) {
        /* Deferred to here so that a destroy asked for from inside one of
         * the context's callbacks does not pull the context from under
         * it. */
        r->first_done = true;
        r->nfds = 0;
        uv_walk(t->loop, lwsuv_note_poll, r);
        lwsuv_make_placeholder(r);
        lws_context_destroy(r->ctx);
        lwsuv_hold_closed(r);
        return;
    }
    r->ctx_busy = false;
    uv_walk(t->loop, lwsuv_find_ctx, r);
    if (r->ctx_busy && ++r->ticks < LWSUV_GIVE_UP_MS / LWSUV_TICK_MS)
        return;
    if (r->ctx_busy) {
        /* Leaking beats freeing memory lws may touch; the held numbers
         * stay held too, since lws may still close them. */
        lwsuv_leak_count++;
        lwsuv_drop_placeholder(r);
    } else {
        lws_context_destroy(r->ctx);
        lwsuv_release_held(r);
        if (r->done != NULL)
            r->done(r->done_arg);
    }
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, lwsuv_reaper_closed);
}

static void
lwsuv_reap(uv_loop_t *loop, struct lws_context *ctx, void (*done)(void *arg),
           void *arg)
{
    struct lwsuv_reaper *r = kp_xcalloc(1, sizeof(*r));

    r->ctx = ctx;
    r->done = done;
    r->done_arg = arg;
    r->ph = -1;
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, lwsuv_reaper_tick, 0, LWSUV_TICK_MS);
}

void
lwsuv_context_destroy(uv_loop_t *loop, struct lws_context *ctx)
{
    if (ctx != NULL)
        lwsuv_reap(loop, ctx, NULL, NULL);
}

void
lwsuv_context_destroy_then(uv_loop_t *loop, struct lws_context *ctx,
                           void (*done)(void *arg), void *arg)
{
    assert(done != NULL);
    if (ctx == NULL)
        done(arg);
    else
        lwsuv_reap(loop, ctx, done, arg);
}

/* A poll handle lws will not close, and the wsi it was tagged with. */
struct lwsuv_orphan {
    uv_timer_t timer;
    uv_handle_t *poll;
    void *wsi;
};

struct lwsuv_find {
    const void *wsi;
    uv_handle_t *poll;
    const uv_handle_t *want; /* look for this very handle, or NULL */
};

static void
lwsuv_find_poll(uv_handle_t *h, void *arg)
{
    struct lwsuv_find *f = arg;

    if (h->type != UV_POLL || h->data != f->wsi || uv_is_closing(h))
        return;
    if (f->want == NULL || f->want == h)
        f->poll = h;
}

static void
lwsuv_orphan_freed(uv_handle_t *h)
{
    free(h);
}

static void
lwsuv_orphan_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Next loop turn: lws is done with the wsi. If the handle is still in the
 * loop, open and idle, nobody will close it but us. */
static void
lwsuv_orphan_tick(uv_timer_t *t)
{
    struct lwsuv_orphan *o = t->data;
    struct lwsuv_find f = {.wsi = o->wsi, .want = o->poll};

    uv_walk(t->loop, lwsuv_find_poll, &f);
    if (f.poll != NULL && !uv_is_active(f.poll))
        uv_close(f.poll, lwsuv_orphan_freed);
    uv_close((uv_handle_t *)t, lwsuv_orphan_timer_closed);
}

void
lwsuv_client_failed(uv_loop_t *loop, struct lws *wsi)
{
    struct lwsuv_find f = {.wsi = wsi};
    struct lwsuv_orphan *o;

    if (loop == NULL || wsi == NULL || lws_get_socket_fd(wsi) >= 0)
        return; /* lws still has the socket: it closes the handle too */
    uv_walk(loop, lwsuv_find_poll, &f);
    if (f.poll == NULL)
        return;
    o = kp_xcalloc(1, sizeof(*o));
    o->poll = f.poll;
    o->wsi = wsi;
    uv_timer_init(loop, &o->timer);
    o->timer.data = o;
    uv_timer_start(&o->timer, lwsuv_orphan_tick, 0, 0);
}

uint64_t
lwsuv_leaked(void)
{
    return lwsuv_leak_count;
}
