// Differential test of the transaction codec against cast (foundry), an
// independent implementation: for seeded random keys and fields of every
// type (legacy with EIP-155, 2930, 1559), `keeper tx sign` must print the
// same bytes as `cast mktx` (also with calldata from an ABI signature),
// and `keeper tx decode` the same fields, hash and sender as
// `cast decode-transaction`; `keeper address` must agree with
// `cast wallet address`.
//
// Keys are throwaway keys from a fixed-seed PRNG. keeper gets them via a
// 0600 key file or KEEPER_PRIVATE_KEY, never argv; cast has no environment
// variable for a raw key, so it gets these test keys via --private-key.
// Keys are never printed.
'use strict';

const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const KEEPER = process.env.KEEPER;
const CAST = process.env.CAST || 'cast';
const CASES = Number(process.env.TX_DIFF_CASES || 250);
const ADDRESS_CASES = 40;
const JOBS = Math.max(2, Math.min(8, os.cpus().length * 2));
const MAX_REPORTED = 5;

if (!KEEPER) {
  console.error('KEEPER is not set (path of the keeper binary)');
  process.exit(2);
}

// ---- seeded PRNG (splitmix64 over BigInt) ----------------------------

const M64 = (1n << 64n) - 1n;
let seed = 0x5eed2024c0dec0den & M64;

function next64() {
  seed = (seed + 0x9e3779b97f4a7c15n) & M64;
  let z = seed;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

function randInt(n) {
  return Number(next64() % BigInt(n));
}

function randBits(bits) {
  let v = 0n;
  for (let i = 0; i < 4; i++) v = (v << 64n) | next64();
  return bits >= 256 ? v : v & ((1n << BigInt(bits)) - 1n);
}

function randBytes(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Number(next64() & 0xffn);
  return b;
}

const SECP_N =
  0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function randKey() {
  for (;;) {
    const k = randBits(256);
    if (k > 0n && k < SECP_N) return k.toString(16).padStart(64, '0');
  }
}

// A u256 of a random size, edge values included.
function randU256() {
  const r = randInt(10);
  if (r === 0) return 0n;
  if (r === 1) return (1n << 256n) - 1n;
  if (r === 2) return 1n << 64n;
  return randBits(1 + randInt(256));
}

// Fees: alloy (cast) holds them in 128 bits, so stay within that.
function randU128() {
  const r = randInt(8);
  if (r === 0) return 0n;
  if (r === 1) return (1n << 128n) - 1n;
  return randBits(1 + randInt(128));
}

function randU64() {
  const r = randInt(8);
  if (r === 0) return 0n;
  if (r === 1) return M64;
  return randBits(1 + randInt(64));
}

// The same amount in a syntax both tools read: decimal, or a whole
// number of gwei.
function amountArg(v) {
  if (v % 1000000000n === 0n && v > 0n && randInt(2) === 0)
    return `${v / 1000000000n}gwei`;
  return v.toString();
}

function hex(buf) {
  return '0x' + buf.toString('hex');
}

// ---- random cases -----------------------------------------------------

function randAccessList() {
  const list = [];
  const n = randInt(4);
  for (let i = 0; i < n; i++) {
    const keys = [];
    const nk = randInt(3);
    for (let k = 0; k < nk; k++) keys.push(hex(randBytes(32)));
    list.push({ address: hex(randBytes(20)), storageKeys: keys });
  }
  return list;
}

// Chain id 0 means pre-EIP-155 to keeper but v = 35/36 to cast, so it is
// left out. cast turns a 1559 request into a legacy-style one on chains it
// knows to lack EIP-1559 (e.g. 69), so 1559 cases use chains it knows to
// have it, or ids above 2^40 that name no chain.
function randChainId(type) {
  if (type !== '1559') return 1n + randBits(1 + randInt(63));
  if (randInt(4) === 0) return [1n, 31337n, 11155111n][randInt(3)];
  return (1n << 40n) + randBits(63);
}

// Calldata from an ABI signature and cast-syntax arguments.
function randAbiCall() {
  const addr = hex(randBytes(20));
  switch (randInt(3)) {
    case 0:
      return ['transfer(address,uint256)', addr, `${randU256()}`];
    case 1:
      return ['f(uint8,bool,bytes,string)', `${randInt(256)}`,
        randInt(2) ? 'true' : 'false', hex(randBytes(randInt(70))),
        `keeper test ${randInt(1000)}`];
    default:
      return ['g(uint256[],address)',
        `[${Array.from({ length: randInt(4) }, () => randU64()).join(',')}]`,
        addr];
  }
}

function randCase(i) {
  const type = ['legacy', '2930', '1559'][randInt(3)];
  const c = {
    i,
    type,
    key: randKey(),
    chainId: randChainId(type),
    nonce: randU64(),
    gasLimit: randU64(),
    value: randU256(),
    create: randInt(8) === 0,
    to: hex(randBytes(20)),
    data: randInt(3) === 0 ? Buffer.alloc(0) : randBytes(randInt(200)),
    keyFile: randInt(2) === 0,
  };
  if (c.create && c.data.length === 0) c.data = Buffer.from([0x60, 0x00]);
  if (!c.create && randInt(5) === 0) {
    c.abi = randAbiCall();
    c.data = Buffer.alloc(0);
  }
  if (type === '1559') {
    // keeper refuses a tip above the fee cap (cast quietly falls back to
    // a type-1 transaction), so order the pair
    const [a, b] = [randU128(), randU128()];
    c.maxFee = a > b ? a : b;
    c.priorityFee = a > b ? b : a;
  } else {
    c.gasPrice = randU128();
  }
  if (type !== 'legacy' && (type === '2930' || randInt(2) === 0))
    c.accessList = randAccessList();
  return c;
}

// Arguments without the key, for keeper and for reports.
function keeperArgs(c) {
  const a = ['tx', 'sign', '--type', c.type, '--chain-id', `${c.chainId}`,
    '--nonce', `${c.nonce}`, '--gas-limit', `${c.gasLimit}`,
    '--value', amountArg(c.value)];
  if (c.type === '1559')
    a.push('--max-fee', amountArg(c.maxFee),
      '--priority-fee', amountArg(c.priorityFee));
  else
    a.push('--gas-price', amountArg(c.gasPrice));
  if (!c.create) a.push('--to', c.to);
  if (c.accessList) a.push('--access-list', JSON.stringify(c.accessList));
  if (c.data.length > 0) a.push('--data', hex(c.data));
  if (c.abi) a.push('--', ...c.abi);
  return a;
}

function castArgs(c) {
  const a = ['mktx', '--chain', `${c.chainId}`, '--nonce', `${c.nonce}`,
    '--gas-limit', `${c.gasLimit}`, '--value', amountArg(c.value)];
  if (c.type === '1559')
    a.push('--gas-price', amountArg(c.maxFee),
      '--priority-gas-price', amountArg(c.priorityFee));
  else
    a.push('--legacy', '--gas-price', amountArg(c.gasPrice));
  if (c.accessList) a.push('--access-list', JSON.stringify(c.accessList));
  a.push('--private-key', '0x' + c.key);
  if (c.create) a.push('--create', hex(c.data));
  else {
    a.push(c.to);
    if (c.data.length > 0) a.push(hex(c.data));
    if (c.abi) a.push(...c.abi);
  }
  return a;
}

// ---- processes ----------------------------------------------------------

function run(file, args, env) {
  return new Promise((resolve) => {
    execFile(file, args, { env: env || process.env, maxBuffer: 1 << 22 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (err.code ?? 1) : 0, stdout: stdout.trim(),
          stderr: stderr.trim() });
      });
  });
}

async function pool(items, jobs, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }
  await Promise.all(Array.from({ length: jobs }, worker));
  return out;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-txdiff-'));

// Run keeper with the key in a 0600 file or in the environment.
async function keeper(args, key, useFile, tag) {
  const env = { ...process.env };
  delete env.KEEPER_PRIVATE_KEY;
  let file = null;
  if (key !== null && useFile) {
    file = path.join(tmp, `key-${tag}`);
    fs.writeFileSync(file, key + '\n', { mode: 0o600 });
    // before any "--" that starts the ABI arguments
    const at = args.indexOf('--') < 0 ? args.length : args.indexOf('--');
    args = [...args.slice(0, at), '--key-file', file, ...args.slice(at)];
  } else if (key !== null) {
    env.KEEPER_PRIVATE_KEY = key;
  }
  try {
    return await run(KEEPER, args, env);
  } finally {
    if (file) fs.rmSync(file, { force: true });
  }
}

// ---- comparison ---------------------------------------------------------

const lower = (v) => (typeof v === 'string' ? v.toLowerCase() : v);

function normAccessList(list) {
  return JSON.stringify((list || []).map((e) => ({
    address: lower(e.address),
    storageKeys: (e.storageKeys || []).map(lower),
  })));
}

// Fields of our JSON that must equal cast's (cast says "signer" for the
// recovered sender).
function compareDecoded(ours, theirs) {
  const diffs = [];
  const fields = ['type', 'chainId', 'nonce', 'gas', 'gasPrice',
    'maxFeePerGas', 'maxPriorityFeePerGas', 'to', 'value', 'input', 'r', 's',
    'v', 'yParity', 'hash'];
  for (const f of fields) {
    if (lower(ours[f]) !== lower(theirs[f]))
      diffs.push(`${f}: keeper ${ours[f]} cast ${theirs[f]}`);
  }
  if (lower(ours.from) !== lower(theirs.signer))
    diffs.push(`from: keeper ${ours.from} cast ${theirs.signer}`);
  if (ours.type !== '0x0' &&
      normAccessList(ours.accessList) !== normAccessList(theirs.accessList))
    diffs.push('accessList differs');
  return diffs;
}

function parseJson(s) {
  try {
    let v = JSON.parse(s);
    if (typeof v === 'string') v = JSON.parse(v); // cast quotes its JSON
    return v;
  } catch (e) {
    return null;
  }
}

async function checkCase(c) {
  const kargs = keeperArgs(c);
  const [ks, cs] = await Promise.all([
    keeper(kargs, c.key, c.keyFile, c.i),
    run(CAST, castArgs(c)),
  ]);
  const fail = (what) => ({ ok: false, what, args: kargs.join(' ') });
  if (cs.code !== 0) return fail(`cast mktx failed: ${cs.stderr}`);
  if (ks.code !== 0) return fail(`keeper tx sign failed: ${ks.stderr}`);
  if (ks.stdout !== cs.stdout)
    return fail(`raw differs:\n  keeper ${ks.stdout}\n  cast   ${cs.stdout}`);
  const [kd, cd] = await Promise.all([
    keeper(['tx', 'decode', ks.stdout], null, false, c.i),
    run(CAST, ['decode-transaction', cs.stdout]),
  ]);
  if (kd.code !== 0) return fail(`keeper tx decode failed: ${kd.stderr}`);
  const ours = parseJson(kd.stdout);
  const theirs = parseJson(cd.stdout);
  if (!ours || !theirs) return fail('decode output is not JSON');
  const diffs = compareDecoded(ours, theirs);
  if (diffs.length) return fail(`decode differs: ${diffs.join('; ')}`);
  return { ok: true };
}

async function checkAddress(i) {
  const key = randKey();
  const [ka, ca] = await Promise.all([
    keeper(['address'], key, i % 2 === 0, `a${i}`),
    run(CAST, ['wallet', 'address', '--private-key', '0x' + key]),
  ]);
  if (ka.code !== 0 || ca.code !== 0 || ka.stdout !== ca.stdout)
    return { ok: false, what: `address: keeper '${ka.stdout}' ` +
      `(${ka.stderr}) cast '${ca.stdout}'`, args: `address case ${i}` };
  return { ok: true };
}

// Bad input: exit status 2, one error line, nothing on stdout.
const BASE = ['tx', 'sign', '--chain-id', '1', '--nonce', '0',
  '--gas-limit', '21000', '--max-fee', '2gwei', '--priority-fee', '1gwei',
  '--to', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'];
const BAD = [
  ['tx', 'decode', '0x02c0'],
  ['tx', 'decode', 'zz'],
  ['tx', 'decode'],
  ['tx', 'frobnicate'],
  [...BASE.slice(0, -1), '0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed'],
  [...BASE, '--priority-fee', '1'],
  [...BASE.slice(0, 10), '--priority-fee', '3gwei', ...BASE.slice(12)],
  [...BASE, '--gas-price', '1'],
  [...BASE, '--type', '4844'],
  [...BASE, '--nonce-typo', '1'],
  [...BASE, '--value', '1.5wei'],
  [...BASE, '--data', '0xabc'],
  [...BASE, '--type', 'legacy'],
  [...BASE, '--access-list', '{"address":1}'],
  [...BASE, '--', 'transfer(address,uint256)', '0x12', '1'],
  ['tx', 'sign', '--chain-id', '1'],
];

async function checkBad(args, i) {
  const key = randKey();
  const r = await keeper(args, key, false, `b${i}`);
  if (r.code !== 2 || r.stdout !== '' || r.stderr.split('\n').length !== 1 ||
      !r.stderr.startsWith('keeper: error: ') || r.stderr.includes(key))
    return { ok: false, what: `bad input: exit ${r.code}, stdout ` +
      `'${r.stdout}', stderr '${r.stderr}'`, args: args.join(' ') };
  return { ok: true };
}

// A key file readable by others is refused; no key at all is an error.
async function checkKeySources() {
  const file = path.join(tmp, 'key-open');
  fs.writeFileSync(file, randKey() + '\n', { mode: 0o644 });
  fs.chmodSync(file, 0o644);
  const open = await run(KEEPER, ['address', '--key-file', file]);
  const env = { ...process.env };
  delete env.KEEPER_PRIVATE_KEY;
  const none = await run(KEEPER, [...BASE], env);
  fs.rmSync(file, { force: true });
  if (open.code !== 2 || none.code !== 2)
    return { ok: false, what: `key sources: open file exit ${open.code}, ` +
      `no key exit ${none.code}`, args: 'address --key-file (0644)' };
  return { ok: true };
}

async function main() {
  const t0 = Date.now();
  const cases = Array.from({ length: CASES }, (_, i) => randCase(i));
  const addrIdx = Array.from({ length: ADDRESS_CASES }, (_, i) => i);
  const results = [
    ...(await pool(cases, JOBS, checkCase)),
    ...(await pool(addrIdx, JOBS, checkAddress)),
    ...(await pool(BAD.map((a, i) => [a, i]), JOBS,
      ([a, i]) => checkBad(a, i))),
    await checkKeySources(),
  ];
  fs.rmSync(tmp, { recursive: true, force: true });
  const failed = results.filter((r) => !r.ok);
  for (const f of failed.slice(0, MAX_REPORTED))
    console.log(`MISMATCH: ${f.what}\n  args: ${f.args}`);
  const types = { legacy: 0, '2930': 0, '1559': 0 };
  for (const c of cases) types[c.type]++;
  console.log(`types: legacy ${types.legacy}, 2930 ${types['2930']}, ` +
    `1559 ${types['1559']}; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${results.length - failed.length} passed, ` +
    `${failed.length} failed`);
  process.exit(failed.length ? 1 : 0);
}

main().catch((e) => {
  fs.rmSync(tmp, { recursive: true, force: true });
  console.error(e);
  process.exit(1);
});
