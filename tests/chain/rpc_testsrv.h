/*
 * rpc_testsrv.h - a tiny HTTP/1.1 server on a libuv loop for test_rpc.c.
 *
 * It misbehaves on request: refuses nothing (use ts_refusing_port for
 * that), answers 500, accepts and never answers, sends replies over any
 * size cap, sends garbage, or answers JSON-RPC requests (single or batch,
 * batch replies in reverse order) with each call's method name as result.
 * Keep-alive: connections stay open unless the mode closes them.
 */
#ifndef KP_TESTS_RPC_TESTSRV_H
#define KP_TESTS_RPC_TESTSRV_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "tests/support/net.h"

enum tsrv_mode {
    TS_ECHO,      /* JSON-RPC: result = method name ("t_revert": error) */
    TS_500,       /* HTTP 500 naming the request path */
    TS_HANG,      /* read the request, never answer */
    TS_BIG,       /* a valid JSON-RPC reply of `big` bytes, Content-Length */
    TS_BIG_CLOSE, /* the same without Content-Length, then close */
    TS_RAW,       /* HTTP 200 with body `raw` */
};

struct tsrv {
    struct ts_tcpsrv net; /* port, accepted, open */
    enum tsrv_mode mode;
    int fail_first; /* TS_ECHO: answer this many requests with 500 */
    size_t big;
    const char *raw;
    int requests; /* complete requests seen */
};

struct tsrv_write {
    uv_write_t req;
    struct ts_tcpconn *k;
    bool close_after;
    char data[];
};

static void
tsrv_written(uv_write_t *w, int status)
{
    struct tsrv_write *tw = (struct tsrv_write *)w;

    (void)status;
    if (tw->close_after)
        ts_tcpconn_close(tw->k);
    free(tw);
}

static void
tsrv_send(struct ts_tcpconn *k, int status, const char *body, size_t len,
          bool with_length)
{
    char head[256];
    int hl;
    struct tsrv_write *tw;
    uv_buf_t b;

    if (with_length)
        hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      status, len);
    else
        hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                      "Connection: close\r\n\r\n",
                      status);
    tw = malloc(sizeof(*tw) + (size_t)hl + len);
    tw->k = k;
    tw->close_after = !with_length;
    memcpy(tw->data, head, (size_t)hl);
    memcpy(tw->data + hl, body, len);
    b = uv_buf_init(tw->data, (unsigned)((size_t)hl + len));
    uv_write(&tw->req, (uv_stream_t *)&k->tcp, &b, 1, tsrv_written);
}

static cJSON *
tsrv_echo_one(const cJSON *req)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "method");
    cJSON *r = cJSON_CreateObject();

    cJSON_AddStringToObject(r, "jsonrpc", "2.0");
    cJSON_AddItemToObject(r, "id",
                          id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    if (cJSON_IsString(m) && !strcmp(m->valuestring, "t_revert")) {
        cJSON *e = cJSON_AddObjectToObject(r, "error");

        cJSON_AddNumberToObject(e, "code", 3);
        cJSON_AddStringToObject(e, "message", "execution reverted");
        cJSON_AddStringToObject(e, "data", "0xdeadbeef");
    } else {
        cJSON_AddStringToObject(r, "result",
                                cJSON_IsString(m) ? m->valuestring : "?");
    }
    return r;
}

static void
tsrv_echo(struct ts_tcpconn *k, const char *body, size_t len)
{
    cJSON *req = cJSON_ParseWithLength(body, len), *rep, *el;
    char *out;

    if (cJSON_IsArray(req)) {
        rep = cJSON_CreateArray();
        /* Reverse order: the client must match replies by id. */
        cJSON_ArrayForEach(el, req)
            cJSON_InsertItemInArray(rep, 0, tsrv_echo_one(el));
    } else {
        rep = tsrv_echo_one(req);
    }
    out = cJSON_PrintUnformatted(rep);
    tsrv_send(k, 200, out, strlen(out), true);
    free(out);
    cJSON_Delete(rep);
    cJSON_Delete(req);
}

static void
tsrv_big(struct ts_tcpconn *k, const char *body, size_t len, bool with_length)
{
    cJSON *req = cJSON_ParseWithLength(body, len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    size_t n = ((struct tsrv *)k->srv->arg)->big;
    char *out = malloc(n + 1);
    int hl =
        snprintf(out, n + 1, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":\"",
                 cJSON_IsNumber(id) ? id->valueint : 0);

    memset(out + hl, 'a', n - (size_t)hl - 2);
    memcpy(out + n - 2, "\"}", 2);
    tsrv_send(k, 200, out, n, with_length);
    free(out);
    cJSON_Delete(req);
}

static void
tsrv_request(struct ts_tcpconn *k, const char *path, const char *body,
             size_t len)
{
    struct tsrv *s = k->srv->arg;
    char msg[512];

    s->requests++;
    if (s->mode == TS_500 || (s->mode == TS_ECHO && s->fail_first > 0)) {
        if (s->fail_first > 0)
            s->fail_first--;
        /* Like real proxies, echo the path: it may hold an API key. */
        snprintf(msg, sizeof(msg), "internal error serving %s", path);
        tsrv_send(k, 500, msg, strlen(msg), true);
    } else if (s->mode == TS_ECHO) {
        tsrv_echo(k, body, len);
    } else if (s->mode == TS_BIG || s->mode == TS_BIG_CLOSE) {
        tsrv_big(k, body, len, s->mode == TS_BIG);
    } else if (s->mode == TS_RAW) {
        tsrv_send(k, 200, s->raw, strlen(s->raw), true);
    }
    /* TS_HANG: nothing, ever. */
}

/* Take complete requests off the front of the connection's buffer. */
static void
tsrv_parse(struct ts_tcpconn *k)
{
    for (;;) {
        char *end = memmem(k->buf, k->len, "\r\n\r\n", 4), *p, path[256];
        size_t hlen, clen = 0;

        if (!end)
            return;
        hlen = (size_t)(end - k->buf) + 4;
        *end = '\0';
        for (p = k->buf; (p = strchr(p, '\n')) != NULL; p++)
            if (!strncasecmp(p + 1, "content-length:", 15))
                clen = strtoul(p + 16, NULL, 10);
        if (k->len < hlen + clen) {
            *end = '\r';
            return;
        }
        if (sscanf(k->buf, "%*s %255s", path) != 1)
            strcpy(path, "?");
        tsrv_request(k, path, k->buf + hlen, clen);
        ts_tcpconn_consume(k, hlen + clen);
    }
}

/* Returns: 0, or -1 if the listener could not be set up (stop it all
 * the same). */
static int
tsrv_start(struct tsrv *s, uv_loop_t *loop, enum tsrv_mode mode)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    return ts_tcpsrv_start(&s->net, loop, tsrv_parse, s);
}

/* Close everything; the loop must then run until s->net.open is 0. */
static void
tsrv_stop(struct tsrv *s)
{
    ts_tcpsrv_stop(&s->net);
}

#endif
