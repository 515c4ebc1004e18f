'use strict';
// The chart's data, read back from the chain after the replay (so it is
// exact, not sampled): the reserve and uncovered debt at every block, the
// price at every step, the keeper's actions; then scripts/plot-demo draws
// it with gnuplot.

const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { units } = require('./view');

const M = (v) => (units(v) / 1e6).toFixed(6);
const gpString = (s) => `"${String(s).replace(/["\\]/g, '')}"`;

// Hours since the scenario's start for a block timestamp.
function hoursFn(base, t0) {
    return (ts) => Math.max(0, ts - base + t0) / 3600;
}

// Data for the plot in `dir`. `rows`: ChainView.history over the replay
// (the first row is the block before the first step); `feedBlocks`: the
// replay's price-update blocks, one per step.
function writeData(dir, { rows, steps, feedBlocks, events, levels, title, asset, base, xlabel }) {
    fs.mkdirSync(dir, { recursive: true });
    const byBlock = new Map(rows.map((r) => [r.block, r]));
    const first = byBlock.get(feedBlocks[0]) || rows[0];
    const hours = hoursFn(first.time, steps[0].t);

    const reserve = rows.map((r) => `${hours(r.time).toFixed(4)} ${M(r.reserve)} ${M(-r.uncovered)}`);
    fs.writeFileSync(path.join(dir, 'reserve.dat'), '# hours reserve_musd minus_uncovered_musd\n' + reserve.join('\n') + '\n');

    const price = steps.map((s) => `${(s.t - steps[0].t) / 3600} ${s.price}`);
    fs.writeFileSync(path.join(dir, 'price.dat'), '# hours price\n' + price.join('\n') + '\n');

    const acts = events.map((e) => {
        const at = byBlock.get(e.block);
        const before = byBlock.get(e.block - 1);
        const h = at ? hours(at.time) : 0;
        const from = before ? before.reserve : 0n;
        const to = at ? at.reserve : from;
        const label = `${e.kind === 'inject' ? '+' : 'claw '}${(units(e.amount) / 1e6).toFixed(2)}M`;
        return `${h.toFixed(4)} ${M(from)} ${M(to)} ${e.kind === 'inject' ? 1 : 2} "${label}"`;
    });
    fs.writeFileSync(path.join(dir, 'actions.dat'), '# hours from_musd to_musd kind label\n' + acts.join('\n') + '\n');

    // The same market without a keeper: reserve minus uncovered debt at
    // each step, from the baseline replay's lines (USD with cents).
    const baseRows = (base || []).map((b) => `${(b.t - steps[0].t) / 3600} ${((b.reserve - b.uncovered) / 1e6).toFixed(6)}`);
    fs.writeFileSync(path.join(dir, 'baseline.dat'), '# hours net_musd\n' + baseRows.join('\n') + '\n');

    const lastH = (steps[steps.length - 1].t - steps[0].t) / 3600;
    const maxDebt = rows.reduce((a, r) => (r.uncovered > a ? r.uncovered : a), 0n);
    const nInject = events.filter((e) => e.kind === 'inject').length;
    const nClaw = events.length - nInject;
    const meta = [
        `title = ${gpString(title)}`,
        `asset = ${gpString(asset)}`,
        `xlabel = ${gpString(xlabel || 'market time since the scenario start')}`,
        `xmax = ${lastH}`,
        `xstep = ${[0.25, 0.5, 1, 2, 4, 6, 12, 24, 48].find((x) => lastH / x <= 12) || 96}`,
        `target = ${M(levels.target)}`,
        `critical = ${M(levels.critical)}`,
        `depletion = ${M(levels.depletion)}`,
        `n_inject = ${nInject}`,
        `n_clawback = ${nClaw}`,
        `has_debt = ${maxDebt > 0n ? 1 : 0}`,
        `price_log = ${Math.max(...steps.map((x) => x.price)) / Math.min(...steps.map((x) => x.price)) > 20 ? 1 : 0}`,
        `has_base = ${baseRows.length ? 1 : 0}`,
        `base_final = ${base && base.length ? ((base[base.length - 1].reserve - base[base.length - 1].uncovered) / 1e6).toFixed(6) : 0}`,
    ];
    fs.writeFileSync(path.join(dir, 'meta.gp'), meta.join('\n') + '\n');
}

// Draw `dir`'s data into `png`. Returns null, or why it could not.
function plot(root, dir, png) {
    try {
        execFileSync(path.join(root, 'scripts', 'plot-demo'), [dir, png], { stdio: ['ignore', 'ignore', 'pipe'] });
        return null;
    } catch (e) {
        const err = e.stderr ? e.stderr.toString().trim().split('\n').slice(-2).join(' | ') : e.message;
        return err || 'gnuplot failed';
    }
}

module.exports = { writeData, plot };
