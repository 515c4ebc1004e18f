'use strict';
// JSON-RPC over HTTP (node's global fetch, keep-alive) and the small ABI
// codec the devnet needs: static words, strings and arrays of words. Amounts
// are BigInt throughout; floating point never touches money.

const { keccak256 } = require('./keccak');

const MAX_BATCH = 500;
// DEVNET_PROFILE=1: time spent per RPC method, printed on exit to stderr.
const PROFILE = process.env.DEVNET_PROFILE ? new Map() : null;
if (PROFILE) {
    process.on('exit', () => {
        for (const [k, v] of [...PROFILE].sort((a, b) => b[1].ms - a[1].ms)) {
            process.stderr.write(`profile ${k} n=${v.n} ms=${v.ms.toFixed(1)}\n`);
        }
    });
} // requests per HTTP batch, to keep replies bounded

class RpcError extends Error {
    constructor(method, err) {
        super(`${method}: ${err.message || JSON.stringify(err)}`);
        this.rpc = err;
    }
}

class Rpc {
    constructor(url) {
        this.url = url;
        this.nextId = 1;
    }

    async post(body) {
        const t0 = PROFILE ? process.hrtime.bigint() : 0n;
        try {
            return await this.postNow(body);
        } finally {
            if (PROFILE) {
                const key = Array.isArray(body) ? `batch:${body[0] && body[0].method}` : body.method;
                const e = PROFILE.get(key) || { n: 0, ms: 0 };
                e.n++;
                e.ms += Number(process.hrtime.bigint() - t0) / 1e6;
                PROFILE.set(key, e);
            }
        }
    }

    async postNow(body) {
        const res = await fetch(this.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
        });
        if (!res.ok) throw new Error(`rpc: HTTP ${res.status} from ${this.url}`);
        return res.json();
    }

    async call(method, params = []) {
        const reply = await this.post({ jsonrpc: '2.0', id: this.nextId++, method, params });
        if (reply.error) throw new RpcError(method, reply.error);
        return reply.result;
    }

    // Send many requests as JSON-RPC batches. Returns [{result}|{error}] in
    // request order (replies may come back in any order).
    async batch(reqs) {
        const out = [];
        for (let i = 0; i < reqs.length; i += MAX_BATCH) {
            const part = reqs.slice(i, i + MAX_BATCH).map(([method, params]) =>
                ({ jsonrpc: '2.0', id: this.nextId++, method, params }));
            const replies = await this.post(part);
            const byId = new Map(replies.map((r) => [r.id, r]));
            for (const q of part) {
                const r = byId.get(q.id);
                out.push(r && !r.error ? { result: r.result } : { error: r ? r.error : { message: 'no reply' } });
            }
        }
        return out;
    }

    // Like batch(), but any error is fatal.
    async batchOk(reqs) {
        const out = await this.batch(reqs);
        out.forEach((r, i) => { if (r.error) throw new RpcError(reqs[i][0], r.error); });
        return out.map((r) => r.result);
    }
}

// ---- ABI ---------------------------------------------------------------

const TWO256 = 1n << 256n;

function word(v) {
    return v.toString(16).padStart(64, '0');
}

function encodeStatic(type, v) {
    if (type === 'address') return word(BigInt(v));
    if (type === 'bool') return word(v ? 1n : 0n);
    if (type === 'bytes32') {
        if (!/^0x[0-9a-fA-F]{64}$/.test(v)) throw new Error('abi: bytes32 needs 32 bytes of hex');
        return v.slice(2).toLowerCase();
    }
    if (/^uint\d*$/.test(type)) {
        const x = BigInt(v);
        if (x < 0n || x >= TWO256) throw new Error(`abi: ${type} out of range`);
        return word(x);
    }
    if (/^int\d*$/.test(type)) {
        const x = BigInt(v);
        if (x >= TWO256 / 2n || x < -TWO256 / 2n) throw new Error(`abi: ${type} out of range`);
        return word(x < 0n ? x + TWO256 : x);
    }
    throw new Error(`abi: unsupported type ${type}`);
}

// The tail of a dynamic value: a string, or an array of a static type.
function encodeTail(type, v) {
    if (type === 'string') {
        const bytes = Buffer.from(String(v), 'utf8');
        const padded = Buffer.concat([bytes, Buffer.alloc((32 - (bytes.length % 32)) % 32)]);
        return word(BigInt(bytes.length)) + padded.toString('hex');
    }
    const inner = type.slice(0, -2);
    return word(BigInt(v.length)) + v.map((x) => encodeStatic(inner, x)).join('');
}

function encodeArgs(types, values) {
    if (types.length !== values.length) throw new Error('abi: argument count');
    const heads = [];
    const tails = [];
    let offset = 32 * types.length;
    types.forEach((type, i) => {
        if (type !== 'string' && !type.endsWith('[]')) { heads.push(encodeStatic(type, values[i])); return; }
        const tail = encodeTail(type, values[i]);
        heads.push(word(BigInt(offset)));
        tails.push(tail);
        offset += tail.length / 2;
    });
    return heads.join('') + tails.join('');
}

function readWord(hex, i) {
    return BigInt('0x' + hex.slice(64 * i, 64 * i + 64));
}

function decodeStatic(type, w) {
    if (type === 'address') return '0x' + word(w).slice(24);
    if (type === 'bool') return w !== 0n;
    if (type === 'bytes32') return '0x' + word(w);
    if (/^int\d*$/.test(type)) return w >= TWO256 / 2n ? w - TWO256 : w;
    if (/^uint\d*$/.test(type)) return w;
    throw new Error(`abi: unsupported type ${type}`);
}

function decodeResult(types, data) {
    const hex = data.startsWith('0x') ? data.slice(2) : data;
    return types.map((type, i) => {
        if (type === 'address[]') {
            const at = Number(readWord(hex, i)) / 32;
            const n = Number(readWord(hex, at));
            const out = [];
            for (let k = 0; k < n; k++) out.push(decodeStatic('address', readWord(hex, at + 1 + k)));
            return out;
        }
        if (type === 'string') {
            const at = Number(readWord(hex, i)) / 32;
            const n = Number(readWord(hex, at));
            return Buffer.from(hex.slice(64 * (at + 1), 64 * (at + 1) + 2 * n), 'hex').toString('utf8');
        }
        return decodeStatic(type, readWord(hex, i));
    });
}

// Revert reason of an Error(string) payload, or the raw data.
function revertReason(data) {
    if (typeof data !== 'string') return '';
    if (data.startsWith('0x08c379a0')) return decodeResult(['string'], data.slice(10))[0];
    return data;
}

// A contract's calldata encoder and result decoder, built from solc's ABI.
class Contract {
    constructor(name, abi, address) {
        this.name = name;
        this.address = address;
        this.fns = new Map();
        this.events = new Map();
        for (const item of abi) {
            const ins = (item.inputs || []).map((p) => p.type);
            const sig = `${item.name}(${ins.join(',')})`;
            if (item.type === 'function') {
                this.fns.set(item.name, {
                    ins,
                    outs: item.outputs.map((p) => p.type),
                    selector: keccak256(Buffer.from(sig)).slice(0, 8),
                });
            } else if (item.type === 'event') {
                this.events.set(item.name, { topic: '0x' + keccak256(Buffer.from(sig)), inputs: item.inputs });
            }
        }
    }

    fn(name) {
        const f = this.fns.get(name);
        if (!f) throw new Error(`${this.name} has no function ${name}`);
        return f;
    }

    data(name, ...args) {
        const f = this.fn(name);
        return '0x' + f.selector + encodeArgs(f.ins, args);
    }

    decode(name, result) {
        const outs = decodeResult(this.fn(name).outs, result);
        return outs.length === 1 ? outs[0] : outs;
    }

    topic(event) {
        return this.events.get(event).topic;
    }

    // Decode the non-indexed fields of one of this contract's logs.
    decodeLog(event, log) {
        const ev = this.events.get(event);
        const types = ev.inputs.filter((p) => !p.indexed).map((p) => p.type);
        const values = decodeResult(types, log.data);
        const out = {};
        ev.inputs.filter((p) => !p.indexed).forEach((p, i) => { out[p.name] = values[i]; });
        return out;
    }
}

module.exports = { Rpc, RpcError, Contract, encodeArgs, decodeResult, revertReason };
