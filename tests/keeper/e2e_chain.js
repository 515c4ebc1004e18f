#!/usr/bin/env node
/*
 * e2e_chain.js - what happened on a devnet chain, for the keeper's
 * end-to-end tests (backstop_e2e.test.sh). Reads the chain over JSON-RPC
 * (Node's fetch, batches) and prints one JSON object:
 *
 *   node e2e_chain.js DEVNET_JSON FROM_BLOCK
 *
 *   {"head": N, "keeper": "0x...",
 *    "keeper_txs": [{"hash","block","nonce","to","selector","status"}],
 *    "injections": [{"block","tx","from","amount","reserve_after"}],
 *    "clawbacks":  [{"block","tx","from","amount","pool_before"}],
 *    "crossings":  [{"block","reserve","burst_end","inject_block",
 *                    "wait_blocks","raw_blocks"}]}
 *
 * A crossing is a block where the reserve fund's balance() went below
 * criticalThreshold(). On the devnet every transaction is its own block
 * (automine), and a replay step is a burst of them (price update,
 * liquidations, fees) sent faster than any outside keeper can interleave:
 * on a real chain such a burst is one or two blocks. So the keeper's delay
 * is counted from the end of the burst that crossed (the last block, from
 * the crossing on, holding no keeper transaction and no price update of
 * the next step): wait_blocks = inject_block - burst_end (1: the very next
 * block), raw_blocks = inject_block - crossing block. Crossings that the
 * same burst undid (fees lifting the reserve back) are left out.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = process.env.KP_SOURCE_DIR || path.resolve(__dirname, '..', '..');
const { keccak256 } = require(path.join(ROOT, 'scripts', 'devnet-lib', 'keccak'));

const BATCH = 200;

const sel = (sig) => '0x' + keccak256(Buffer.from(sig)).slice(0, 8);
const topic = (sig) => '0x' + keccak256(Buffer.from(sig));

let rpcUrl;
let nextId = 1;

async function post(body) {
    const res = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
}

async function call(method, params) {
    const r = await post({ jsonrpc: '2.0', id: nextId++, method, params });
    if (r.error) throw new Error(`${method}: ${r.error.message}`);
    return r.result;
}

// [[method, params], ...] -> results in order (errors throw).
async function batch(reqs) {
    const out = [];
    for (let i = 0; i < reqs.length; i += BATCH) {
        const part = reqs.slice(i, i + BATCH).map(([method, params]) => ({ jsonrpc: '2.0', id: nextId++, method, params }));
        const replies = await post(part);
        const byId = new Map(replies.map((r) => [r.id, r]));
        for (const q of part) {
            const r = byId.get(q.id);
            if (!r || r.error) throw new Error(`${q.method}: ${r ? r.error.message : 'no reply'}`);
            out.push(r.result);
        }
    }
    return out;
}

const hex = (n) => '0x' + n.toString(16);
const word = (data, i) => BigInt('0x' + data.slice(2 + 64 * i, 2 + 64 * (i + 1)));

async function viewsAt(to, data, blocks) {
    const res = await batch(blocks.map((b) => ['eth_call', [{ to, data }, hex(b)]]));
    return res.map((r) => BigInt(r));
}

async function logs(address, sig, from, to) {
    return call('eth_getLogs', [{ address, topics: [topic(sig)], fromBlock: hex(from), toBlock: hex(to) }]);
}

async function main() {
    const [devnetJson, fromArg] = process.argv.slice(2);
    const info = JSON.parse(fs.readFileSync(devnetJson, 'utf8'));
    const c = info.contracts;
    const keeper = info.keeper_address.toLowerCase();
    const feed = c.feed.toLowerCase();
    rpcUrl = info.rpc_http;
    const from = Number(fromArg);
    const head = Number(await call('eth_blockNumber', []));
    const numbers = [];
    for (let b = from; b <= head; b++) numbers.push(b);

    const blocks = await batch(numbers.map((b) => ['eth_getBlockByNumber', [hex(b), true]]));
    const updateAnswer = sel('updateAnswer(int256)');
    const info2 = blocks.map((blk) => ({
        number: Number(blk.number),
        keeper: blk.transactions.some((t) => t.from.toLowerCase() === keeper),
        priceUpdate: blk.transactions.some((t) => (t.to || '').toLowerCase() === feed && t.input.startsWith(updateAnswer)),
        txs: blk.transactions,
    }));

    const keeperTxs = [];
    for (const b of info2) {
        for (const t of b.txs) {
            if (t.from.toLowerCase() !== keeper) continue;
            keeperTxs.push({ hash: t.hash, block: b.number, nonce: Number(t.nonce), to: t.to, selector: t.input.slice(0, 10) });
        }
    }
    const receipts = await batch(keeperTxs.map((t) => ['eth_getTransactionReceipt', [t.hash]]));
    receipts.forEach((r, i) => { keeperTxs[i].status = r ? Number(r.status) : null; });

    const txFrom = new Map(info2.flatMap((b) => b.txs.map((t) => [t.hash, t.from.toLowerCase()])));
    const injLogs = await logs(c.backstop, 'BackstopInjected(uint256,uint256)', from, head);
    const injections = injLogs.map((l) => ({
        block: Number(l.blockNumber), tx: l.transactionHash, from: txFrom.get(l.transactionHash) || null,
        amount: word(l.data, 0).toString(), reserve_after: word(l.data, 1).toString(),
    }));
    const clawLogs = await logs(c.clearinghouse, 'ClawbackTriggered(uint256,uint256)', from, head);
    const pools = await viewsAt(c.backstop, sel('available()'), clawLogs.map((l) => Math.max(0, Number(l.blockNumber) - 1)));
    const clawbacks = clawLogs.map((l, i) => ({
        block: Number(l.blockNumber), tx: l.transactionHash, from: txFrom.get(l.transactionHash) || null,
        amount: word(l.data, 0).toString(), pool_before: pools[i].toString(),
    }));

    const reserve = await viewsAt(c.reserve, sel('balance()'), numbers);
    const critical = await viewsAt(c.reserve, sel('criticalThreshold()'), numbers);
    const below = numbers.map((_, i) => reserve[i] < critical[i]);
    const crossings = [];
    for (let i = 1; i < numbers.length; i++) {
        if (!below[i] || below[i - 1]) continue;
        let end = i;
        while (end + 1 < numbers.length && !info2[end + 1].keeper && !info2[end + 1].priceUpdate) end++;
        if (!below[end]) continue; // the burst itself lifted it back
        const inj = injections.find((x) => x.block > numbers[i]);
        crossings.push({
            block: numbers[i], reserve: reserve[i].toString(), burst_end: numbers[end],
            inject_block: inj ? inj.block : null,
            wait_blocks: inj ? inj.block - numbers[end] : null,
            raw_blocks: inj ? inj.block - numbers[i] : null,
        });
    }
    process.stdout.write(JSON.stringify({ head, keeper, keeper_txs: keeperTxs, injections, clawbacks, crossings }) + '\n');
}

main().catch((e) => {
    process.stderr.write(`e2e_chain: ${e.message}\n`);
    process.exit(1);
});
