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

// Whether `pid` is a running (not zombie) anvil process.
function isAnvil(pid) {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        if (state === 'Z' || state === 'X') return false;
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('anvil');
    } catch {
        return false;
    }
}

async function waitReady(child, url, logFile) {
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
            if (Number(await rpc.call('eth_chainId')) === CHAIN_ID) return;
        } catch {
            // not listening yet
        }
        await sleep(50);
    }
    throw new Error(`anvil did not answer on ${url} within ${READY_TIMEOUT_MS / 1000}s`);
}

function spawnAnvil(root, port, logFile) {
    const log = fs.openSync(logFile, 'a');
    const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(CHAIN_ID),
        '--accounts', '10', '--balance', '100000'];
    const child = spawn(findBin(root, 'anvil'), args, { detached: true, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    return child;
}

// Start anvil on `port`, or on a free port (retried) when port is null.
// Returns { pid, port }.
async function startAnvil(root, stateDir, port) {
    const logFile = path.join(stateDir, 'anvil.log');
    for (let attempt = 0; ; attempt++) {
        const p = port || await freePort();
        const child = spawnAnvil(root, p, logFile);
        try {
            await waitReady(child, `http://127.0.0.1:${p}`, logFile);
            child.unref();
            return { pid: child.pid, port: p };
        } catch (e) {
            await stopAnvil(child.pid);
            if (port || !e.anvilExited || attempt >= 4) throw e;
        }
    }
}

// Stop anvil `pid`: SIGTERM, then SIGKILL if it lingers. Returns whether a
// process was signalled.
async function stopAnvil(pid) {
    if (!pid || !isAnvil(pid)) return false;
    const send = (sig) => { try { process.kill(pid, sig); } catch { /* gone */ } };
    send('SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isAnvil(pid) && Date.now() < deadline) await sleep(20);
    if (isAnvil(pid)) {
        send('SIGKILL');
        while (isAnvil(pid)) await sleep(20);
    }
    return true;
}

module.exports = { CHAIN_ID, startAnvil, stopAnvil, isAnvil };
