'use strict';
// Keccak-256 (the Ethereum variant: padding byte 0x01), for function
// selectors, event topics and addresses. Only a few dozen short inputs are
// hashed per run, so BigInt lanes are fast enough and keep this short.

const MASK = (1n << 64n) - 1n;
const RATE = 136; // bytes, for a 256-bit capacity of 512

const RC = [
    0x0000000000000001n, 0x0000000000008082n, 0x800000000000808an, 0x8000000080008000n,
    0x000000000000808bn, 0x0000000080000001n, 0x8000000080008081n, 0x8000000000008009n,
    0x000000000000008an, 0x0000000000000088n, 0x0000000080008009n, 0x000000008000000an,
    0x000000008000808bn, 0x800000000000008bn, 0x8000000000008089n, 0x8000000000008003n,
    0x8000000000008002n, 0x8000000000000080n, 0x000000000000800an, 0x800000008000000an,
    0x8000000080008081n, 0x8000000000008080n, 0x0000000080000001n, 0x8000000080008008n,
];
// Rotation offsets r[x + 5y].
const ROT = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];

function rotl(v, n) {
    const s = BigInt(n);
    return n === 0 ? v : ((v << s) | (v >> (64n - s))) & MASK;
}

function permute(a) {
    for (let round = 0; round < 24; round++) {
        const c = [0, 1, 2, 3, 4].map((x) => a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20]);
        for (let x = 0; x < 5; x++) {
            const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
            for (let y = 0; y < 25; y += 5) a[x + y] ^= d;
        }
        const b = new Array(25);
        for (let x = 0; x < 5; x++) {
            for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], ROT[x + 5 * y]);
        }
        for (let x = 0; x < 5; x++) {
            for (let y = 0; y < 25; y += 5) a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & MASK & b[(x + 2) % 5 + y]);
        }
        a[0] ^= RC[round];
    }
}

// Returns the digest of `data` (a Buffer) as 64 lowercase hex digits.
function keccak256(data) {
    const padLen = RATE - (data.length % RATE);
    const msg = Buffer.concat([data, Buffer.alloc(padLen)]);
    msg[data.length] ^= 0x01;
    msg[msg.length - 1] ^= 0x80;
    const a = new Array(25).fill(0n);
    for (let off = 0; off < msg.length; off += RATE) {
        for (let i = 0; i < RATE / 8; i++) a[i] ^= msg.readBigUInt64LE(off + 8 * i);
        permute(a);
    }
    const out = Buffer.alloc(32);
    for (let i = 0; i < 4; i++) out.writeBigUInt64LE(a[i], 8 * i);
    return out.toString('hex');
}

module.exports = { keccak256 };
