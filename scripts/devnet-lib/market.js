'use strict';
// The market around the protocol: a seeded population of traders, the
// liquidation bots, and sessions (one scenario's starting state).
//
// Traders are plain addresses (0x7ade...<n>) that anvil impersonates, so no
// trader key exists anywhere. A session closes the previous population,
// sets the feed to the scenario's first price, recapitalises the reserve
// and the backstop pool, and opens a fresh population there.

const { ACCOUNTS, CAPITAL, USD, recapitalise } = require('./protocol');

const MAX_UINT = (1n << 256n) - 1n;
const SIZE_SCALE = 10n ** 20n; // notional(USD 6dp) = size(18dp) * price(8dp) / 1e20
const TRADER_GAS_ETH = 10n ** 19n; // 10 ETH for gas, per trader

// Session parameters: defaults, and the bounds a scenario's "# params:"
// line must respect. Amounts in whole USD.
const PARAMS = {
    traders: { def: 120, min: 1, max: 400 },
    notional: { def: 50000000, min: 1000, max: 1e12 },
    long_share: { def: 0.5, min: 0, max: 1 },
    min_leverage: { def: 2, min: 1, max: 50 },
    max_leverage: { def: 50, min: 1, max: 50 },
    daily_turnover: { def: 2, min: 0, max: 100 }, // synthetic volume / open interest, per day
    reserve_start: { def: 1600000, min: 0, max: 1e12 },
    seed: { def: 1, min: 0, max: 2 ** 31 },
};

function sessionParams(overrides) {
    const out = {};
    for (const [k, spec] of Object.entries(PARAMS)) {
        const v = k in overrides ? overrides[k] : spec.def;
        if (!Number.isFinite(v) || v < spec.min || v > spec.max) {
            throw new Error(`parameter ${k}=${v} out of range [${spec.min}, ${spec.max}]`);
        }
        out[k] = v;
    }
    for (const k of Object.keys(overrides)) if (!(k in PARAMS)) throw new Error(`unknown parameter ${k}`);
    if (out.min_leverage > out.max_leverage) throw new Error('min_leverage > max_leverage');
    out.traders = Math.floor(out.traders);
    return out;
}

// Deterministic PRNG (mulberry32): the same seed gives the same venue.
function rng(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function traderAddress(i) {
    return '0x7ade' + (i + 1).toString(16).padStart(36, '0');
}

// Sizes follow a capped Pareto law (a few whales, many small accounts);
// leverage is log-uniform over [min, max], so most accounts sit at modest
// leverage with a tail up to the venue's maximum.
function drawSide(rand, count, notionalUsd, p) {
    const weights = [];
    for (let i = 0; i < count; i++) weights.push(Math.min(20, Math.pow(1 - rand(), -1 / 1.6)));
    const sum = weights.reduce((a, b) => a + b, 0);
    const lo = Math.log(p.min_leverage);
    const hi = Math.log(p.max_leverage);
    return weights.map((w) => ({
        usd: Math.max(1, Math.round((notionalUsd * w) / sum)),
        leverage: Math.exp(lo + rand() * (hi - lo)),
    }));
}

// Returns [{address, size, margin, fee, leverage}] for price8 (feed units).
function population(p, price8, imBps, feeBps) {
    const rand = rng(p.seed);
    let longs = Math.round(p.traders * p.long_share);
    if (p.long_share > 0 && longs === 0) longs = 1;
    if (p.long_share < 1 && longs === p.traders && p.traders > 1) longs = p.traders - 1;
    const sides = [
        drawSide(rand, longs, p.notional * p.long_share, p).map((x) => ({ ...x, sign: 1n })),
        drawSide(rand, p.traders - longs, p.notional * (1 - p.long_share), p).map((x) => ({ ...x, sign: -1n })),
    ];
    const mixed = [];
    for (let i = 0; i < Math.max(sides[0].length, sides[1].length); i++) {
        if (i < sides[0].length) mixed.push(sides[0][i]);
        if (i < sides[1].length) mixed.push(sides[1][i]);
    }
    return mixed.map((x, i) => {
        const abs = (BigInt(x.usd) * USD * SIZE_SCALE) / price8;
        const notional = (abs * price8) / SIZE_SCALE;
        const lev100 = BigInt(Math.max(100, Math.floor(x.leverage * 100)));
        let margin = (notional * 100n + lev100 - 1n) / lev100;
        const im = (notional * imBps + 9999n) / 10000n;
        if (margin < im) margin = im;
        return { address: traderAddress(i), size: x.sign * abs, margin, fee: (notional * feeBps) / 10000n, leverage: x.leverage };
    }).filter((t) => t.size !== 0n);
}

const call = (from, contract, name, ...args) => ({ from, to: contract.address, data: contract.data(name, ...args) });

// Open the population's positions at the current feed price.
async function seedTraders(chain, c, p, price8) {
    const [im, fee] = await chain.views([[c.clearinghouse, 'initialMarginBps'], [c.clearinghouse, 'tradingFeeBps']]);
    const pop = population(p, price8, im, fee);
    await chain.rpc.batchOk(pop.flatMap((t) => [
        ['anvil_impersonateAccount', [t.address]],
        ['anvil_setBalance', [t.address, '0x' + TRADER_GAS_ETH.toString(16)]],
    ]));
    await chain.sendAll([
        {
            ...call(ACCOUNTS.admin, c.usd, 'mintBatch', pop.map((t) => t.address), pop.map((t) => t.margin + t.fee)),
            gas: BigInt(100000 + 40000 * pop.length),
        },
        ...pop.map((t) => call(t.address, c.usd, 'approve', c.clearinghouse.address, MAX_UINT)),
    ], 'funding traders');
    await chain.sendAll(pop.map((t) => call(t.address, c.clearinghouse, 'openPosition', t.size, t.margin)), 'opening positions');
    return pop;
}

// Play the market's liquidation bots: liquidate every liquidatable
// position now. Returns { count, shortfall } (shortfall in USD units).
// A liquidation that fails (someone else got there first) is skipped.
async function liquidateAll(chain, c) {
    const targets = await chain.view(c.clearinghouse, 'liquidatableTraders');
    const bots = ACCOUNTS.liquidators;
    const receipts = await chain.sendMany(targets.map((t, i) => call(bots[i % bots.length], c.clearinghouse, 'liquidate', t)));
    const topic = c.clearinghouse.topic('Liquidated');
    const chAddr = c.clearinghouse.address.toLowerCase();
    let count = 0;
    let shortfall = 0n;
    for (const r of receipts) {
        if (r.error || r.status !== '0x1') continue;
        for (const log of r.logs) {
            if (log.address.toLowerCase() !== chAddr || log.topics[0] !== topic) continue;
            count++;
            shortfall += c.clearinghouse.decodeLog('Liquidated', log).shortfall;
        }
    }
    return { count, shortfall };
}

// Close every open position: liquidate what must be, close the rest.
async function closeAll(chain, c) {
    await liquidateAll(chain, c);
    const open = await chain.view(c.clearinghouse, 'traders');
    await chain.rpc.batchOk(open.map((t) => ['anvil_impersonateAccount', [t]]));
    await chain.sendAll(open.map((t) => call(t, c.clearinghouse, 'closePosition')), 'closing positions');
}

// Start a session for scenario `sc` ({name, params, points}). Returns the
// population.
async function newSession(chain, c, sc) {
    const p = sessionParams(sc.params);
    const price8 = sc.points[0].price8;
    await closeAll(chain, c);
    // With no position open, the clearinghouse holds only its vault.
    const vault = await chain.view(c.usd, 'balanceOf', c.clearinghouse.address);
    if (vault < CAPITAL.vault * USD) {
        await chain.send(ACCOUNTS.admin, c.usd.address, c.usd.data('mint', c.clearinghouse.address, CAPITAL.vault * USD - vault), 'refill vault');
    }
    await chain.send(ACCOUNTS.admin, c.feed.address, c.feed.data('updateAnswer', price8), 'set opening price');
    await recapitalise(chain, c, BigInt(Math.round(p.reserve_start)) * USD);
    const have = await chain.view(c.usd, 'balanceOf', ACCOUNTS.admin);
    const floor = 100000000n * USD; // the fee collector's float for synthetic volume
    if (have < floor) await chain.send(ACCOUNTS.admin, c.usd.address, c.usd.data('mint', ACCOUNTS.admin, floor - have), 'fee float');
    return seedTraders(chain, c, p, price8);
}

module.exports = { PARAMS, sessionParams, population, liquidateAll, newSession };
