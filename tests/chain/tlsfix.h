/*
 * tlsfix.h - a TLS fixture for the chain/ TLS tests (header only): a
 * throwaway CA made at test time with the openssl CLI, and
 * tests/chain/tls_server.js (HTTPS JSON-RPC and WSS) serving certificates
 * from it on two ports of 127.0.0.1.
 *
 * Everything lives in a fresh temporary directory that tlsfix_stop
 * removes; no key is ever committed. Fixed parameters: P-256 keys,
 * certificates valid for 2 days, serial numbers 1-4.
 *
 *   ca.pem      the CA that signed both server certificates
 *   wrong.pem   another CA, which signed nothing the server shows
 *   good.pem    server certificate for IP 127.0.0.1 and DNS localhost
 *   other.pem   server certificate for DNS other.example only (ca.pem)
 */
#ifndef KP_TESTS_TLSFIX_H
#define KP_TESTS_TLSFIX_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <uv.h>

#include "tests/support/proc.h"
#include "tests/support/tmp.h"

#define TLSFIX_WAIT_MS 20000 /* node starts slowly on a loaded machine */

struct tlsfix {
    char dir[64];
    char ca[128];       /* trusted by the tests that expect success */
    char wrong_ca[128]; /* a CA that signed neither server certificate */
    pid_t pid;          /* the server; 0: not running */
    int in;             /* its stdin, held open (it exits on EOF) */
    int port;           /* certificate for 127.0.0.1 */
    int other_port;     /* certificate for other.example */
};

static const char tlsfix_cnf[] = "[req]\n"
                                 "distinguished_name = dn\n"
                                 "prompt = no\n"
                                 "[dn]\n"
                                 "CN = kp test\n"
                                 "[ca_ext]\n"
                                 "basicConstraints = critical,CA:TRUE\n"
                                 "keyUsage = critical,keyCertSign,cRLSign\n"
                                 "subjectKeyIdentifier = hash\n"
                                 "[good_ext]\n"
                                 "basicConstraints = critical,CA:FALSE\n"
                                 "keyUsage = critical,digitalSignature\n"
                                 "extendedKeyUsage = serverAuth\n"
                                 "subjectAltName = IP:127.0.0.1,DNS:localhost\n"
                                 "authorityKeyIdentifier = keyid\n"
                                 "[other_ext]\n"
                                 "basicConstraints = critical,CA:FALSE\n"
                                 "keyUsage = critical,digitalSignature\n"
                                 "extendedKeyUsage = serverAuth\n"
                                 "subjectAltName = DNS:other.example\n"
                                 "authorityKeyIdentifier = keyid\n";

/* Run openssl with `args` in f->dir, its chatter into openssl.log there.
 * Returns: 0, or -1 (the failed step and the log on stderr). */
static __attribute__((unused)) int
tlsfix_openssl(const struct tlsfix *f, const char *const *args)
{
    char *argv[32] = {"openssl"}, logpath[96], *log;
    struct ts_spawn_opts so;
    size_t n = 1;
    pid_t pid = -1;
    int fd;

    for (; *args && n < 31; args++)
        argv[n++] = (char *)*args;
    snprintf(logpath, sizeof(logpath), "%s/openssl.log", f->dir);
    fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ts_spawn_opts_init(&so);
    so.dir = f->dir;
    so.path_search = true;
    so.out = so.err = fd >= 0 ? fd : TS_FD_NULL;
    pid = ts_spawn(argv, &so);
    if (fd >= 0)
        close(fd);
    if (pid > 0 && ts_reap(pid) == 0)
        return 0;
    log = ts_read_text(logpath);
    fprintf(stderr, "tlsfix: openssl %s %s failed:\n%s\n", argv[1], argv[2],
            log ? log : "");
    free(log);
    return -1;
}

/* A self-signed CA: <name>.pem, <name>.key. */
static __attribute__((unused)) int
tlsfix_make_ca(const struct tlsfix *f, const char *name, const char *serial)
{
    char key[32], pem[32], subj[64];

    snprintf(key, sizeof(key), "%s.key", name);
    snprintf(pem, sizeof(pem), "%s.pem", name);
    snprintf(subj, sizeof(subj), "/CN=kp test %s", name);
    return tlsfix_openssl(
        f, (const char *const[]){"req",         "-x509",
                                 "-config",     "tls.cnf",
                                 "-extensions", "ca_ext",
                                 "-newkey",     "ec",
                                 "-pkeyopt",    "ec_paramgen_curve:P-256",
                                 "-noenc",      "-keyout",
                                 key,           "-out",
                                 pem,           "-days",
                                 "2",           "-set_serial",
                                 serial,        "-subj",
                                 subj,          NULL});
}

/* A server certificate <name>.pem/.key with extensions <name>_ext,
 * signed by ca.pem. */
static __attribute__((unused)) int
tlsfix_make_server(const struct tlsfix *f, const char *name, const char *serial)
{
    char key[32], pem[32], csr[32], ext[32];

    snprintf(key, sizeof(key), "%s.key", name);
    snprintf(pem, sizeof(pem), "%s.pem", name);
    snprintf(csr, sizeof(csr), "%s.csr", name);
    snprintf(ext, sizeof(ext), "%s_ext", name);
    if (tlsfix_openssl(f, (const char *const[]){
                              "req", "-new", "-config", "tls.cnf", "-newkey",
                              "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                              "-noenc", "-keyout", key, "-out", csr, "-subj",
                              "/CN=kp test server", NULL}) != 0)
        return -1;
    return tlsfix_openssl(
        f, (const char *const[]){"x509", "-req", "-in", csr, "-CA", "ca.pem",
                                 "-CAkey", "ca.key", "-set_serial", serial,
                                 "-days", "2", "-extfile", "tls.cnf",
                                 "-extensions", ext, "-out", pem, NULL});
}

static __attribute__((unused)) int
tlsfix_make_certs(struct tlsfix *f)
{
    char cnf[128];

    snprintf(cnf, sizeof(cnf), "%s/tls.cnf", f->dir);
    snprintf(f->ca, sizeof(f->ca), "%s/ca.pem", f->dir);
    snprintf(f->wrong_ca, sizeof(f->wrong_ca), "%s/wrong.pem", f->dir);
    if (ts_write_text(cnf, tlsfix_cnf, 0600) != 0 ||
        tlsfix_make_ca(f, "ca", "1") != 0 ||
        tlsfix_make_ca(f, "wrong", "2") != 0 ||
        tlsfix_make_server(f, "good", "3") != 0 ||
        tlsfix_make_server(f, "other", "4") != 0)
        return -1;
    return 0;
}

/* Read the server's "PORT <good> <other>" line from `fd`, waiting for it
 * until TLSFIX_WAIT_MS pass (or the server closes its stdout).
 * Returns: 0, or -1. */
static __attribute__((unused)) int
tlsfix_read_ports(struct tlsfix *f, int fd)
{
    char line[64];
    size_t len = 0;
    uint64_t end = uv_hrtime() / 1000000u + TLSFIX_WAIT_MS;

    while (len < sizeof(line) - 1 && !memchr(line, '\n', len)) {
        uint64_t now = uv_hrtime() / 1000000u;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;

        if (now >= end)
            return -1;
        if (poll(&p, 1, (int)(end - now)) < 0 && errno != EINTR)
            return -1;
        if (!(p.revents & (POLLIN | POLLHUP)))
            continue;
        if ((r = read(fd, line + len, sizeof(line) - 1 - len)) <= 0)
            return -1;
        len += (size_t)r;
    }
    line[len] = '\0';
    if (sscanf(line, "PORT %d %d", &f->port, &f->other_port) != 2)
        return -1;
    return 0;
}

/* Start tls_server.js on f->dir with pipes for its stdin (held open) and
 * stdout (read for the ports); its stderr stays the test's. */
static __attribute__((unused)) int
tlsfix_spawn(struct tlsfix *f)
{
    char script[4096];
    struct ts_spawn_opts so;
    int in[2], out[2], rc;

    if (ts_source_path(script, sizeof(script), "tests/chain/tls_server.js"))
        snprintf(script, sizeof(script), "./tests/chain/tls_server.js");
    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    ts_spawn_opts_init(&so);
    so.in = in[0];
    so.out = out[1];
    so.err = TS_FD_KEEP;
    so.path_search = true;
    f->pid = ts_spawn((char *[]){"node", script, f->dir, NULL}, &so);
    close(in[0]);
    close(out[1]);
    f->in = in[1];
    rc = f->pid > 0 ? tlsfix_read_ports(f, out[0]) : -1;
    close(out[0]);
    if (rc != 0)
        fprintf(stderr, "tlsfix: tls_server.js did not start\n");
    return rc;
}

static __attribute__((unused)) void
tlsfix_stop(struct tlsfix *f)
{
    ts_kill(&f->pid, SIGTERM);
    if (f->in >= 0)
        close(f->in);
    f->in = -1;
    if (f->dir[0])
        ts_tmpdir_remove(f->dir);
    f->dir[0] = '\0';
}

/* Make the certificates and start the server.
 * Returns: 0, or -1 (everything undone). */
static __attribute__((unused)) int
tlsfix_start(struct tlsfix *f)
{
    memset(f, 0, sizeof(*f));
    f->in = -1;
    if (ts_tmpdir_make(f->dir, sizeof(f->dir), "tls") != 0) {
        f->dir[0] = '\0';
        return -1;
    }
    if (tlsfix_make_certs(f) != 0 || tlsfix_spawn(f) != 0) {
        tlsfix_stop(f);
        return -1;
    }
    return 0;
}

#endif
