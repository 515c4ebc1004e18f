'use strict';
// The demo's child processes: started in their own process groups (so a
// Ctrl-C reaches the demo only, and the demo stops each one in order),
// remembered by pid in DIR/demo.pids, stopped by pid. A pid is signalled
// only while /proc shows the process we started (its command line holds
// our marker), so a recycled pid is never hit.

const { spawn } = require('child_process');
const fs = require('fs');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cmdline(pid) {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
        return '';
    }
}

function isAlive(pid) {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        return state !== 'Z' && state !== 'X';
    } catch {
        return false;
    }
}

const isOurs = (pid, marker) => isAlive(pid) && cmdline(pid).includes(marker);

function signal(pid, sig) {
    try {
        process.kill(pid, sig);
    } catch {
        // already gone
    }
}

class Procs {
    constructor(pidFile) {
        this.pidFile = pidFile;
        this.list = []; // { name, pid, marker, child }
    }

    save() {
        const text = this.list.map((p) => `${p.name} ${p.pid} ${p.marker}\n`).join('');
        fs.writeFileSync(this.pidFile, text);
    }

    // Start `cmd args` with stdio as given; `marker` must appear in its
    // command line (the script or binary path). Returns the child.
    start(name, cmd, args, { stdio, env, marker = cmd } = {}) {
        const child = spawn(cmd, args, { stdio, env: env || process.env, detached: true });
        if (!child.pid) throw new Error(`cannot start ${name} (${cmd})`);
        const rec = { name, pid: child.pid, marker, child, exited: null };
        child.once('exit', (code, sig) => { rec.exited = sig || code; });
        child.once('error', () => { rec.exited = rec.exited === null ? 'error' : rec.exited; });
        this.list.push(rec);
        this.save();
        return child;
    }

    get(name) {
        return this.list.find((p) => p.name === name);
    }

    // SIGTERM, then SIGKILL after `graceMs`. Our own children cannot be
    // recycled until reaped, so `exited` is the truth for them.
    async stop(name, graceMs = 5000) {
        const p = this.get(name);
        if (!p) return;
        const alive = () => p.exited === null && isAlive(p.pid);
        if (alive()) {
            signal(p.pid, 'SIGTERM');
            const deadline = Date.now() + graceMs;
            while (alive() && Date.now() < deadline) await sleep(25);
            if (alive()) signal(p.pid, 'SIGKILL');
            while (alive()) await sleep(25);
        }
        this.list = this.list.filter((x) => x !== p);
        this.save();
    }

    // Last resort from a synchronous exit path: SIGKILL whatever is left.
    killAllNow() {
        for (const p of this.list) if (p.exited === null && isAlive(p.pid)) signal(p.pid, 'SIGKILL');
    }
}

// Processes a previous demo left behind (it was killed before it could
// clean up): SIGTERM each one still running as recorded.
async function stopLeftovers(pidFile) {
    let text = '';
    try {
        text = fs.readFileSync(pidFile, 'utf8');
    } catch {
        return 0;
    }
    let n = 0;
    for (const line of text.split('\n')) {
        const m = /^(\S+) (\d+) (.+)$/.exec(line);
        if (!m || !isOurs(Number(m[2]), m[3])) continue;
        const pid = Number(m[2]);
        signal(pid, 'SIGTERM');
        for (let i = 0; i < 100 && isOurs(pid, m[3]); i++) await sleep(50);
        if (isOurs(pid, m[3])) signal(pid, 'SIGKILL');
        n++;
    }
    fs.rmSync(pidFile, { force: true });
    return n;
}

module.exports = { Procs, stopLeftovers, isAlive, sleep };
