// Differential test of the ABI codec against cast (an independent
// implementation): random signatures and values, fixed seed.
//
// For each case: `$KEEPER abi encode` must print exactly what
// `cast calldata` prints, and `$KEEPER abi decode` must print the values
// back (one per line, in keeper's syntax). Every 2nd case also checks that
// `cast decode-calldata` of the same bytes shows the same values (in
// cast's display syntax), every 3rd that encoding keeper's decode output
// again gives the same calldata (processes are the cost of this test).
// Some cases carry one invalid argument: both tools must reject them.
//
// Node stdlib only. Env: KEEPER (keeper binary), PATH with cast.
'use strict';

const { execFile } = require('child_process');
const path = require('path');

const KEEPER = process.env.KEEPER;
const CAST = process.env.CAST ||
  (process.env.KP_SOURCE_DIR
    ? path.join(process.env.KP_SOURCE_DIR, 'node_modules/.bin/cast')
    : 'cast');
const CASES = 300;
const INVALID_EVERY = 8; // every 8th case gets one invalid argument
const PARALLEL = 4;

if (!KEEPER) {
  console.error('KEEPER is not set');
  process.exit(2);
}

// ---- PRNG (mulberry32) ----
let seed = 0x5eed1234;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rand() * n); // 0..n-1
const pick = (a) => a[int(a.length)];
const chance = (p) => rand() < p;

function randBig(bits) {
  let v = 0n;
  for (let i = 0; i < bits; i += 8) v = (v << 8n) | BigInt(int(256));
  return v & ((1n << BigInt(bits)) - 1n);
}
function randBytes(n) {
  return Buffer.from(Array.from({ length: n }, () => int(256)));
}

// ---- Keccak-256 (for EIP-55 checksums in expected output) ----
const RC = [
  0x0000000000000001n, 0x0000000000008082n, 0x800000000000808an,
  0x8000000080008000n, 0x000000000000808bn, 0x0000000080000001n,
  0x8000000080008081n, 0x8000000000008009n, 0x000000000000008an,
  0x0000000000000088n, 0x0000000080008009n, 0x000000008000000an,
  0x000000008000808bn, 0x800000000000008bn, 0x8000000000008089n,
  0x8000000000008003n, 0x8000000000008002n, 0x8000000000000080n,
  0x000000000000800an, 0x800000008000000an, 0x8000000080008081n,
  0x8000000000008080n, 0x0000000080000001n, 0x8000000080008008n,
];
const ROT = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45,
  15, 21, 8, 18, 2, 61, 56, 14];
const M64 = (1n << 64n) - 1n;
const rotl = (x, n) => (n === 0 ? x : ((x << BigInt(n)) | (x >> BigInt(64 - n))) & M64);

function keccakF(s) {
  for (let r = 0; r < 24; r++) {
    const c = [0, 1, 2, 3, 4].map((x) => s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20]);
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (let y = 0; y < 25; y += 5) s[y + x] ^= d;
    }
    const b = new Array(25);
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) {
        b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(s[x + 5 * y], ROT[x + 5 * y]);
      }
    }
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 25; y += 5) {
        s[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & M64 & b[y + (x + 2) % 5]);
      }
    }
    s[0] ^= RC[r];
  }
}

function keccak256(buf) {
  const rate = 136;
  const msg = Buffer.alloc(Math.floor(buf.length / rate) * rate + rate);
  buf.copy(msg);
  msg[buf.length] ^= 0x01;
  msg[msg.length - 1] ^= 0x80;
  const s = new Array(25).fill(0n);
  for (let off = 0; off < msg.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) s[i] ^= msg.readBigUInt64LE(off + 8 * i);
    keccakF(s);
  }
  const out = Buffer.alloc(32);
  for (let i = 0; i < 4; i++) out.writeBigUInt64LE(s[i], 8 * i);
  return out;
}

function checksum(addrBuf) {
  const lower = addrBuf.toString('hex');
  const h = keccak256(Buffer.from(lower, 'ascii')).toString('hex');
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    out += parseInt(h[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  }
  return out;
}

// ---- types ----
function randElementary() {
  switch (int(9)) {
    case 0: return { k: 'uint', n: pick([8, 16, 32, 64, 128, 256, 8 * (1 + int(32))]) };
    case 1: return { k: 'int', n: pick([8, 16, 32, 64, 128, 256, 8 * (1 + int(32))]) };
    case 2: return { k: 'address' };
    case 3: return { k: 'bool' };
    case 4: return { k: 'bytesN', n: 1 + int(32) };
    case 5: return { k: 'bytes' };
    case 6: return { k: 'string' };
    case 7: return { k: 'uint', n: 256 };
    default: return { k: 'string' };
  }
}

function randType(depth) {
  if (depth >= 3 || chance(0.55)) return randElementary();
  switch (int(3)) {
    case 0: return { k: 'farr', len: 1 + int(3), el: randType(depth + 1) };
    case 1: return { k: 'arr', el: randType(depth + 1) };
    default: {
      const m = [];
      for (let i = 1 + int(3); i > 0; i--) m.push(randType(depth + 1));
      return { k: 'tuple', m };
    }
  }
}

function typeName(t, alias) {
  switch (t.k) {
    case 'uint': return alias && t.n === 256 && chance(0.3) ? 'uint' : `uint${t.n}`;
    case 'int': return alias && t.n === 256 && chance(0.3) ? 'int' : `int${t.n}`;
    case 'bytesN': return `bytes${t.n}`;
    case 'farr': return `${typeName(t.el, alias)}[${t.len}]`;
    case 'arr': return `${typeName(t.el, alias)}[]`;
    case 'tuple': return `(${t.m.map((x) => typeName(x, alias)).join(',')})`;
    default: return t.k;
  }
}

// ---- values ----
const CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789 ,;:!?-_.()[]/\'"#=+*é€';

function randString() {
  let s = '';
  for (let n = pick([0, 1, 3, 8, 20, 40]); n > 0; n--) s += pick([...CHARS]);
  return s;
}

function randValue(t) {
  switch (t.k) {
    case 'uint': {
      const r = int(6);
      if (r === 0) return 0n;
      if (r === 1) return (1n << BigInt(t.n)) - 1n;
      const round = BigInt(1 + int(1000)) * 10n ** BigInt(pick([9, 18]));
      if (r === 2 && round < (1n << BigInt(t.n))) return round;
      return randBig(int(t.n) + 1);
    }
    case 'int': {
      const half = 1n << BigInt(t.n - 1);
      const r = int(6);
      if (r === 0) return -half;
      if (r === 1) return half - 1n;
      if (r === 2) return BigInt(int(200) - 100);
      return randBig(t.n) - half;
    }
    case 'address': return randBytes(20);
    case 'bool': return chance(0.5);
    case 'bytesN': return randBytes(t.n);
    case 'bytes': return randBytes(pick([0, 1, 5, 32, 33, 70]));
    case 'string': return randString();
    case 'farr': return Array.from({ length: t.len }, () => randValue(t.el));
    case 'arr': return Array.from({ length: int(4) }, () => randValue(t.el));
    default: return t.m.map(randValue);
  }
}

// ---- rendering in cast's argument syntax ----
function hexOf(buf) {
  const h = buf.toString('hex');
  return chance(0.2) ? h.toUpperCase() : h;
}

function renderUint(v) {
  const r = int(10);
  if (r === 0) return '0x' + v.toString(16);
  if (r === 1) return '0X' + v.toString(16).toUpperCase();
  if (v > 0n && v % 10n ** 18n === 0n && r < 4) return `${v / 10n ** 18n}${pick(['ether', ' ether'])}`;
  if (v > 0n && v % 10n ** 9n === 0n && r < 4) return `${v / 10n ** 9n}${pick(['gwei', ' gwei', 'nano'])}`;
  if (v > 0n && v % 1000n === 0n && r < 5) return `${v / 1000n}e3`;
  return v.toString();
}

function renderInt(v) {
  const mag = v < 0n ? -v : v;
  const sign = v < 0n ? '-' : (chance(0.1) ? '+' : '');
  return sign + renderUint(mag);
}

// Representations of a string that cast reads back exactly.
function stringForms(s, listEnd) {
  const forms = [];
  if (!s.includes('"')) forms.push(`"${s}"`);
  if (!s.includes("'")) forms.push(`'${s}'`);
  const trailingWs = /\s$/u.test(s);
  if (!listEnd) {
    if (!trailingWs && s[0] !== '"' && s[0] !== "'") forms.push(s);
  } else if (s.length > 0 && !trailingWs && !/^[ \t"']/.test(s) &&
             !s.includes(',') && !s.includes(listEnd)) {
    forms.push(s);
  }
  return forms;
}

function sep() {
  return pick([',', ', ', ',  ']);
}

// Returns the text, or null when the value has no representation.
function render(t, v, listEnd) {
  switch (t.k) {
    case 'uint': return renderUint(v);
    case 'int': return renderInt(v);
    case 'address': {
      const r = int(4);
      if (r === 0) return checksum(v);
      if (r === 1) return v.toString('hex');
      return '0x' + hexOf(v);
    }
    case 'bool': return v ? 'true' : 'false';
    case 'bytesN': return (chance(0.8) ? '0x' : '') + hexOf(v);
    case 'bytes': return '0x' + hexOf(v);
    case 'string': {
      const forms = stringForms(v, listEnd);
      return forms.length ? pick(forms) : null;
    }
    case 'farr':
    case 'arr': {
      const parts = v.map((x) => render(t.el, x, ']'));
      if (parts.includes(null)) return null;
      let body = parts.join(sep());
      if (parts.length && chance(0.15)) body += ',';
      return '[' + (chance(0.3) ? ' ' : '') + body + (chance(0.3) ? ' ' : '') + ']';
    }
    default: {
      const parts = t.m.map((mt, i) => render(mt, v[i], ')'));
      if (parts.includes(null)) return null;
      const s = parts.join(pick([',', ', ', ' , ']));
      return (listEnd === null && chance(0.2) ? ' ' : '') + '(' +
        (chance(0.3) ? ' ' : '') + s + (chance(0.3) ? ' ' : '') + ')';
    }
  }
}

// ---- expected outputs ----
// keeper's syntax (abi_value_format).
function fmtKeeper(t, v, listEnd) {
  switch (t.k) {
    case 'uint':
    case 'int': return v.toString();
    case 'address': return checksum(v);
    case 'bool': return String(v);
    case 'bytesN':
    case 'bytes': return '0x' + v.toString('hex');
    case 'string': {
      if (!listEnd && stringForms(v, null).includes(v)) return v;
      if (!v.includes('"')) return `"${v}"`;
      if (!v.includes("'")) return `'${v}'`;
      return v;
    }
    case 'farr':
    case 'arr': return '[' + v.map((x) => fmtKeeper(t.el, x, ']')).join(', ') + ']';
    default: return '(' + t.m.map((mt, i) => fmtKeeper(mt, v[i], ')')).join(', ') + ')';
  }
}

// cast decode-calldata's display syntax (after removing its " [1e18]"
// magnitude notes).
function fmtCast(t, v) {
  switch (t.k) {
    case 'string': return JSON.stringify(v);
    case 'farr':
    case 'arr': return '[' + v.map((x) => fmtCast(t.el, x)).join(', ') + ']';
    case 'tuple': return '(' + t.m.map((mt, i) => fmtCast(mt, v[i])).join(', ') + ')';
    default: return fmtKeeper(t, v, null);
  }
}

function stripNotes(s) {
  return s.replace(/(-?\d+) \[-?\d+(\.\d+)?e-?\d+\]/g, '$1');
}

// An argument both tools must refuse, for an elementary type.
function invalidArg(t) {
  switch (t.k) {
    case 'uint': return pick(['-1', ((1n << BigInt(t.n)) + BigInt(int(5))).toString(), '1.5', '12abc', '']);
    case 'int': return pick([(1n << BigInt(t.n - 1)).toString(), '1.5', '--1', 'x']);
    case 'address': return pick(['0x' + 'ab'.repeat(19) + 'a', '0x' + 'ab'.repeat(21), 'hello', '0X' + 'ab'.repeat(20)]);
    case 'bool': return pick(['yes', 'TRUE', '1', '']);
    case 'bytesN': return '0x' + 'ab'.repeat(t.n + 1);
    case 'bytes': return pick(['0x123', 'hello', '']);
    default: return null;
  }
}

// ---- cases ----
function makeCase(i) {
  for (;;) {
    const n = int(4);
    const types = Array.from({ length: n }, () => randType(1));
    const values = types.map(randValue);
    const args = types.map((t, j) => render(t, values[j], null));
    if (args.includes(null)) continue;
    const canon = `f${i}(${types.map((t) => typeName(t, false)).join(',')})`;
    const spaced = `f${i}( ${types.map((t) => typeName(t, true)).join(' , ')} )`;
    const c = { i, types, values, args, canon, keeperSig: chance(0.5) ? spaced : canon };
    if (i % INVALID_EVERY === INVALID_EVERY - 1) {
      const idx = types.findIndex((t) => invalidArg(t) !== null);
      if (idx < 0) continue;
      c.args[idx] = invalidArg(types[idx]);
      c.invalid = true;
    }
    return c;
  }
}

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      // Only the final newline goes: empty strings print empty lines.
      resolve({ code: err ? (err.code ?? 1) : 0, out: stdout.replace(/\n$/, ''), err: stderr.trim() });
    });
  });
}

async function check(c) {
  const [k, ca] = await Promise.all([
    run(KEEPER, ['abi', 'encode', c.keeperSig, '--', ...c.args]),
    run(CAST, ['calldata', c.canon, ...c.args]),
  ]);
  if (c.invalid) {
    if (k.code === 0 || ca.code === 0) {
      return `invalid input accepted: keeper rc=${k.code} (${k.out || k.err}), cast rc=${ca.code} (${ca.out || ca.err})`;
    }
    return null;
  }
  if (ca.code !== 0) return `cast failed: ${ca.err}`;
  if (k.code !== 0) return `keeper encode failed: ${k.err}`;
  if (k.out !== ca.out) return `encode differs:\n   keeper ${k.out}\n   cast   ${ca.out}`;

  const want = c.types.map((t, j) => fmtKeeper(t, c.values[j], null));
  const d = await run(KEEPER, ['abi', 'decode', c.keeperSig, k.out]);
  if (d.code !== 0) return `keeper decode failed: ${d.err}`;
  if (d.out !== want.join('\n')) {
    return `keeper decode differs:\n   got  ${JSON.stringify(d.out.split('\n'))}\n   want ${JSON.stringify(want)}`;
  }

  if (c.i % 2 === 0 && c.types.length) { // cast refuses an empty list
    const why = await castDecode(c, k.out);
    if (why) return why;
  }
  if (c.i % 3 === 0) {
    const again = await run(KEEPER, ['abi', 'encode', c.canon, '--', ...want]);
    if (again.code !== 0 || again.out !== k.out) {
      return `re-encoding keeper's decode output differs: ${again.err || again.out}`;
    }
  }
  return null;
}

async function castDecode(c, calldata) {
  const cd = await run(CAST, ['decode-calldata', c.canon, calldata]);
  const wantCast = c.types.map((t, j) => fmtCast(t, c.values[j])).join('\n');
  if (cd.code !== 0) return `cast decode-calldata failed: ${cd.err}`;
  if (stripNotes(cd.out) !== wantCast) {
    return `cast decode-calldata differs:\n   got  ${JSON.stringify(stripNotes(cd.out))}\n   want ${JSON.stringify(wantCast)}`;
  }
  return null;
}

async function main() {
  const t0 = Date.now();
  if (checksum(Buffer.from('5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', 'hex')) !==
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed') {
    console.error('self-test: keccak/EIP-55 helper is wrong');
    process.exit(1);
  }
  const cases = Array.from({ length: CASES }, (_, i) => makeCase(i));
  const failures = [];
  let next = 0;
  let passed = 0;
  async function worker() {
    while (next < cases.length) {
      const c = cases[next++];
      const why = await check(c);
      if (why) failures.push({ c, why });
      else passed++;
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  failures.sort((a, b) => a.c.i - b.c.i);
  for (const { c, why } of failures.slice(0, Number(process.env.SHOW_FAILURES || 5))) {
    console.log(`case ${c.i}: ${c.keeperSig} ${JSON.stringify(c.args)}\n  ${why}`);
  }
  const invalid = cases.filter((c) => c.invalid).length;
  console.log(`(${cases.length} cases, ${invalid} with an invalid argument, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  console.log(`${passed} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
}

main();
