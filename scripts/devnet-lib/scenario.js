'use strict';
// Scenario files and their replay.
//
// A scenario is a CSV: optional comment lines starting with '#', among them
// at most one "# params: key=value ..." line (session parameters, see
// market.js), then the header "t_seconds,price" and one row per step, with
// t strictly increasing from any origin and the price in USD.
//
// Each step: set the next block's timestamp to the scenario's clock, publish
// the price, let the liquidation bots act, charge the fees of the step's
// synthetic volume, and print one line of protocol state.

const fs = require('fs');
const path = require('path');
const { ACCOUNTS, PRICE_DECIMALS } = require('./protocol');
const { liquidateAll } = require('./market');

const MAX_ROWS = 10000;
const MAX_FILE = 1 << 20;
// Synthetic volume of a step: open interest * daily_turnover * days, times
// 1 + min(VOLUME_SHOCK * |log return|, VOLUME_SHOCK_MAX), since crashes
// bring several times the usual volume.
const VOLUME_SHOCK = 20;
const VOLUME_SHOCK_MAX = 4;

function parsePrice(s, where) {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
    if (!m) throw new Error(`${where}: bad price "${s}"`);
    const frac = (m[2] || '').padEnd(PRICE_DECIMALS + 1, '0');
    let v = BigInt(m[1] + frac.slice(0, PRICE_DECIMALS));
    if (frac[PRICE_DECIMALS] >= '5') v += 1n; // round half up at 8 decimals
    if (v <= 0n) throw new Error(`${where}: price must be positive`);
    return v;
}

function parseParams(text, where) {
    const out = {};
    for (const tok of text.trim().split(/\s+/).filter(Boolean)) {
        const m = /^([a-z_]+)=([0-9.eE+-]+)$/.exec(tok);
        if (!m || !Number.isFinite(Number(m[2]))) throw new Error(`${where}: bad parameter "${tok}"`);
        out[m[1]] = Number(m[2]);
    }
    return out;
}

function parseCsv(text, file) {
    const points = [];
    let params = {};
    let header = false;
    text.split(/\r?\n/).forEach((raw, i) => {
        const line = raw.trim();
        const where = `${file}:${i + 1}`;
        if (line === '') return;
        if (line.startsWith('#')) {
            const m = /^#\s*params:(.*)$/.exec(line);
            if (m) params = parseParams(m[1], where);
            return;
        }
        if (!header) {
            if (line.replace(/\s/g, '').toLowerCase() !== 't_seconds,price') throw new Error(`${where}: expected header "t_seconds,price"`);
            header = true;
            return;
        }
        const cells = line.split(',').map((x) => x.trim());
        if (cells.length !== 2 || !/^\d+$/.test(cells[0])) throw new Error(`${where}: expected "t_seconds,price"`);
        const t = Number(cells[0]);
        if (points.length && t <= points[points.length - 1].t) throw new Error(`${where}: t_seconds must increase`);
        if (points.length >= MAX_ROWS) throw new Error(`${where}: more than ${MAX_ROWS} rows`);
        points.push({ t, price: cells[1], price8: parsePrice(cells[1], where) });
    });
    if (points.length === 0) throw new Error(`${file}: no rows`);
    return { params, points };
}

function scenarioDir(root) {
    return path.join(root, 'tests', 'scenarios');
}

function listScenarios(root) {
    return fs.readdirSync(scenarioDir(root)).filter((f) => f.endsWith('.csv')).map((f) => f.slice(0, -4)).sort();
}

// Load a scenario by name (tests/scenarios/NAME.csv) or by file path.
function loadScenario(root, arg) {
    const isFile = arg.endsWith('.csv') || arg.includes('/');
    if (!isFile && !/^[a-z0-9][a-z0-9-]*$/.test(arg)) throw new Error(`bad scenario name "${arg}"`);
    const file = isFile ? arg : path.join(scenarioDir(root), `${arg}.csv`);
    let st;
    try {
        st = fs.statSync(file);
    } catch {
        const known = isFile ? '' : ` (known: ${listScenarios(root).join(', ')})`;
        throw new Error(`no scenario ${arg}${known}`);
    }
    if (st.size > MAX_FILE) throw new Error(`${file}: larger than ${MAX_FILE} bytes`);
    const { params, points } = parseCsv(fs.readFileSync(file, 'utf8'), file);
    return { name: isFile ? path.basename(file, '.csv') : arg, file: path.resolve(file), params, points };
}

// ---- replay ------------------------------------------------------------

function usd(v) {
    const neg = v < 0n;
    const a = neg ? -v : v;
    const cents = a / 10000n;
    return `${neg ? '-' : ''}${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
}

function stateOf(s, thresholds) {
    if (s.uncovered > 0n) return 'exhausted';
    if (s.reserve < thresholds.depletion) return 'depleted';
    if (s.reserve < thresholds.critical) return 'critical';
    return 'ok';
}

function stepVolume(params, prev, point, oi) {
    if (!prev) return 0n;
    const days = (point.t - prev.t) / 86400;
    const move = Math.abs(Math.log(Number(point.price8) / Number(prev.price8)));
    const shock = 1 + Math.min(VOLUME_SHOCK * move, VOLUME_SHOCK_MAX);
    const perUsd = Math.round(params.daily_turnover * days * shock * 1e6);
    return (oi * BigInt(perUsd)) / 1000000n;
}

async function readState(chain, c) {
    const [reserve, uncovered, oi] = await chain.views([
        [c.reserve, 'balance'], [c.reserve, 'uncoveredDebt'], [c.clearinghouse, 'openInterest']]);
    return { reserve, uncovered, oi };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Make the next block carry `wanted` (or the first second after the head,
// when blocks from others, e.g. the keeper, already went past it).
// Returns the timestamp set.
async function nextTimestamp(rpc, wanted, last) {
    if (wanted > last) {
        try {
            await rpc.call('evm_setNextBlockTimestamp', [wanted]);
            return wanted;
        } catch {
            // the head is already at or past `wanted`
        }
    }
    const head = await rpc.call('eth_getBlockByNumber', ['latest', false]);
    const ts = Math.max(wanted, Number(head.timestamp) + 1);
    await rpc.call('evm_setNextBlockTimestamp', [ts]);
    return ts;
}

async function runStep(chain, c, ctx, prev, point, oi) {
    const { admin } = ACCOUNTS;
    await chain.send(admin, c.feed.address, c.feed.data('updateAnswer', point.price8), 'updateAnswer');
    const liq = await liquidateAll(chain, c);
    const volume = stepVolume(ctx.params, prev, point, oi);
    if ((volume * ctx.feeBps) / 10000n > 0n) {
        await chain.send(admin, c.clearinghouse.address, c.clearinghouse.data('recordVolume', volume), 'recordVolume');
    }
    return liq;
}

// Replay `sc` on the devnet. `out` receives each printed line. Returns the
// summary object.
async function replay(chain, c, sc, params, { speed = 0, out = console.log } = {}) {
    const [critical, depletion, feeBps] = await chain.views([
        [c.reserve, 'criticalThreshold'], [c.reserve, 'depletionThreshold'], [c.clearinghouse, 'tradingFeeBps']]);
    const ctx = { params, feeBps };
    const thresholds = { critical, depletion };
    const head = await chain.rpc.call('eth_getBlockByNumber', ['latest', false]);
    const base = Number(head.timestamp) + 1;
    const t0 = sc.points[0].t;
    const wall0 = Date.now();
    const sum = { scenario: sc.name, steps: 0, liquidations: 0, bad_debt: 0n, min_reserve: null, max_uncovered: 0n };
    let prev = null;
    let last = base - 1;
    let s;
    for (const point of sc.points) {
        if (speed > 0) await sleep(wall0 + ((point.t - t0) * 1000) / speed - Date.now());
        last = await nextTimestamp(chain.rpc, base + point.t - t0, last);
        const liq = await runStep(chain, c, ctx, prev, point, s ? s.oi : 0n);
        s = await readState(chain, c);
        sum.steps++;
        sum.liquidations += liq.count;
        sum.bad_debt += liq.shortfall;
        if (sum.min_reserve === null || s.reserve < sum.min_reserve) sum.min_reserve = s.reserve;
        if (s.uncovered > sum.max_uncovered) sum.max_uncovered = s.uncovered;
        out(`step=${sum.steps} t=${point.t - t0} price=${point.price} reserve=${usd(s.reserve)} ` +
            `uncovered=${usd(s.uncovered)} oi=${usd(s.oi)} liquidations=${liq.count} ` +
            `shortfall=${usd(liq.shortfall)} state=${stateOf(s, thresholds)}`);
        prev = point;
    }
    Object.assign(sum, {
        final_reserve: s.reserve,
        final_uncovered: s.uncovered,
        below_critical: sum.min_reserve < critical,
        exhausted: sum.max_uncovered > 0n,
        elapsed_s: (Date.now() - wall0) / 1000,
    });
    out(`summary scenario=${sum.scenario} steps=${sum.steps} liquidations=${sum.liquidations} ` +
        `bad_debt=${usd(sum.bad_debt)} min_reserve=${usd(sum.min_reserve)} final_reserve=${usd(sum.final_reserve)} ` +
        `uncovered=${usd(sum.final_uncovered)} below_critical=${sum.below_critical ? 'yes' : 'no'} ` +
        `exhausted=${sum.exhausted ? 'yes' : 'no'} elapsed=${sum.elapsed_s.toFixed(2)}s`);
    return sum;
}

module.exports = { loadScenario, listScenarios, parseCsv, replay, usd };
