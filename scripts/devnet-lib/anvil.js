'use strict';
// The anvil process: start it detached on loopback, wait until it answers,
// stop it by pid. A pid is trusted only while /proc says it is a live anvil,
// so a recycled pid is never signalled.

const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { Rpc } = require('./rpc');

const CHAIN_ID = 31337;
const READY_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 5000;

function findBin(root, name) {
    const local = path.join(root, 'node_modules', '.bin', name);
    return fs.existsSync(local) ? local : name;
}

// A port that was free a moment ago (the caller retries if it is taken).
function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function isRunning(pid) {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        return state !== 'Z' && state !== 'X';
    } catch {
        return false;
    }
}

// Whether `pid` is a running (not zombie) anvil process.
function isAnvil(pid) {
    try {
        return isRunning(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('anvil');
    } catch {
        return false;
    }
}

// Whether process `pid` holds the listening TCP socket on 127.0.0.1:port.
// Anvil on a taken port dies, but another node may answer there meanwhile:
// only our own socket proves the endpoint is ours.
function ownsPort(pid, port) {
    const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    let inode = null;
    try {
        for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
            const f = line.trim().split(/\s+/);
            if (f[1] === want && f[3] === '0A') inode = f[9];
        }
        if (!inode) return false;
        return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
            try {
                return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`;
            } catch {
                return false;
            }
        });
    } catch {
        return false;
    }
}

// Fail early, with a clear message, when `port` is taken.
function checkPortFree(port) {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once('error', (e) => reject(new Error(e.code === 'EADDRINUSE' ? `port ${port} is in use` : `port ${port}: ${e.message}`)));
        srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
    });
}

async function waitReady(child, port, logFile) {
    const url = `http://127.0.0.1:${port}`;
    const rpc = new Rpc(url);
    let exited = null;
    child.once('exit', (code, sig) => { exited = sig || `exit ${code}`; });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
        if (exited) {
            const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
            throw Object.assign(new Error(`anvil stopped (${exited}): ${log}`), { anvilExited: true });
        }
        try {
            if (ownsPort(child.pid, port) && Number(await rpc.call('eth_chainId')) === CHAIN_ID) return;
        } catch {
            // not listening yet
        }
        await sleep(50);
    }
    throw new Error(`anvil did not answer on ${url} within ${READY_TIMEOUT_MS / 1000}s`);
}

// --quiet: no banner (it lists the dev accounts' keys, the keeper's among
// them) and no per-request lines; errors still reach the log.
function spawnAnvil(root, port, logFile) {
    const log = fs.openSync(logFile, 'a');
    const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(CHAIN_ID),
        '--accounts', '10', '--balance', '100000', '--quiet'];
    const child = spawn(findBin(root, 'anvil'), args, { detached: true, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    return child;
}

// Start anvil on `port`, or on a free port (retried) when port is null.
// onSpawn(pid) runs as soon as a process exists, so that the caller can
// record it before waiting. Returns { pid, port }.
async function startAnvil(root, stateDir, port, onSpawn) {
    const logFile = path.join(stateDir, 'anvil.log');
    for (let attempt = 0; ; attempt++) {
        const p = port || await freePort();
        if (port) await checkPortFree(port);
        const child = spawnAnvil(root, p, logFile);
        onSpawn(child.pid);
        try {
            await waitReady(child, p, logFile);
            child.unref();
            return { pid: child.pid, port: p };
        } catch (e) {
            await stopAnvil(child.pid, true);
            // Another process took the free port first: try another one.
            if (port || !e.anvilExited || !/in use/i.test(e.message) || attempt >= 4) throw e;
        }
    }
}

// Stop anvil `pid`: SIGTERM, then SIGKILL if it lingers. Returns whether a
// process was signalled. `own`: pid is this process's unreaped child, so it
// cannot have been recycled, and may not have exec'd anvil yet.
async function stopAnvil(pid, own = false) {
    const alive = own ? isRunning : isAnvil;
    if (!pid || !alive(pid)) return false;
    const send = (sig) => { try { process.kill(pid, sig); } catch { /* gone */ } };
    send('SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (alive(pid) && Date.now() < deadline) await sleep(20);
    if (alive(pid)) {
        send('SIGKILL');
        while (alive(pid)) await sleep(20);
    }
    return true;
}

module.exports = { CHAIN_ID, startAnvil, stopAnvil, isAnvil };
