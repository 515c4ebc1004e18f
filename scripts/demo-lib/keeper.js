'use strict';
// Reading the keeper while it runs: /readyz and /status on its metrics
// port. /status is read defensively: a keeper without the evaluation engine
// has "last_evaluation": null and no "actions", and the demo then says so
// instead of guessing.

const fs = require('fs');
const { units } = require('./view');

const TIMEOUT_MS = 1500;

async function get(base, path) {
    const res = await fetch(base + path, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    return { status: res.status, text };
}

async function ready(base) {
    try {
        return (await get(base, '/readyz')).status === 200;
    } catch {
        return false;
    }
}

// The protocol's entry of /status, or null.
async function protocolStatus(base, name) {
    try {
        const { status, text } = await get(base, '/status');
        if (status !== 200) return null;
        const doc = JSON.parse(text);
        const list = Array.isArray(doc.protocols) ? doc.protocols : [];
        return list.find((p) => p && p.name === name) || list[0] || null;
    } catch {
        return null;
    }
}

// An amount from /status as a Number of tokens: base units as a digit
// string (or a safe integer) with `decimals`, or a decimal string.
function amount(v, decimals) {
    if (v === null || v === undefined || v === '') return null;
    if (typeof v === 'string' && /^\d+$/.test(v)) return units(BigInt(v), decimals);
    if (typeof v === 'number' && Number.isInteger(v)) return units(BigInt(v), decimals);
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
}

// last_evaluation, normalised: { block, tier, action, amount, reason, key,
// priceState } or null.
function evaluation(p) {
    const e = p && p.last_evaluation;
    if (!e || typeof e !== 'object') return null;
    const dec = Number.isInteger(e.decimals) ? e.decimals : 6;
    const d = e.decision && typeof e.decision === 'object' ? e.decision : {};
    return {
        block: Number(e.block),
        tier: typeof e.tier === 'string' ? e.tier : null,
        action: typeof d.action === 'string' ? d.action : null,
        amount: amount(d.amount, dec),
        reason: typeof d.reason === 'string' ? d.reason : '',
        key: typeof d.key === 'string' ? d.key : '',
        health: e.health,
        priceState: e.price && typeof e.price === 'object' ? e.price.state : null,
        decimals: dec,
    };
}

function actions(p) {
    return p && Array.isArray(p.actions) ? p.actions.filter((a) => a && typeof a === 'object') : [];
}

// States after which an action changes no more.
const TERMINAL = /confirm|fail|revert|reject|drop|done|success|mined|error|abandon|skip|cancel|expire|dry/i;
const FAILED = /fail|revert|reject|drop|error|abandon|expire/i;

const isTerminal = (a) => TERMINAL.test(String(a.state || ''));
const isFailed = (a) => FAILED.test(String(a.state || ''));

// The keeper's JSON log, read as it grows: its "decision" lines (one per
// evaluation: block, tier, action, amount, reason, price_state), "action"
// lines (an action's state: sent, confirmed, failed, ...) and the
// transaction manager's "broadcast" events (decision_to_wire_us). Amounts
// in the log are decimal token strings.
class LogTail {
    constructor(file) {
        this.file = file;
        this.offset = 0;
        this.rest = '';
    }

    // Returns the records appended since the last call.
    read() {
        let fd;
        try {
            fd = fs.openSync(this.file, 'r');
        } catch {
            return [];
        }
        const recs = [];
        try {
            const size = fs.fstatSync(fd).size;
            if (size <= this.offset) return recs;
            const buf = Buffer.alloc(size - this.offset);
            fs.readSync(fd, buf, 0, buf.length, this.offset);
            this.offset = size;
            const lines = (this.rest + buf.toString('utf8')).split('\n');
            this.rest = lines.pop();
            for (const l of lines) {
                try {
                    recs.push(JSON.parse(l));
                } catch {
                    // not a JSON line (e.g. a message before the logger)
                }
            }
        } finally {
            fs.closeSync(fd);
        }
        return recs;
    }
}

const tokens = (v) => (v === undefined || v === null || v === '' ? null : Number(v));

module.exports = { ready, protocolStatus, evaluation, actions, amount, isTerminal, isFailed, LogTail, tokens };
