'use strict';
// scripts/demo [BUILD_DIR]: the keeper on the embedded devnet, through a
// crash replay, shown as it happens (docs/demo.md).
//
//   1. an alert receiver (tests/keeper/alert_receiver.js) on a free port;
//   2. two devnets seeded for the scenario: the keeper's, whose keeper.yaml
//      points the webhook channel at the receiver, and a baseline that
//      replays the same market with no keeper, for comparison;
//   3. `keeper run` on the first one's config (JSON log to a file), until
//      /readyz answers;
//   4. the replay, paced, with one row per step and the keeper's actions
//      under it (transaction hashes from the chain's events);
//   5. the baseline replay (unpaced), a summary, and a chart read back
//      from the chain (scripts/plot-demo).
// Everything started is stopped by pid at the end, on failure and on
// Ctrl-C. State, logs and the chart go to BUILD_DIR/demo/.

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { Procs, stopLeftovers, isAlive, sleep } = require('./procs');
const { ChainView } = require('./chainview');
const { Live, parseKv } = require('./live');
const K = require('./keeper');
const V = require('./view');
const chart = require('./chart');
const { scenarioAsset } = require('../devnet-lib/keeperconfig');
const { loadScenario } = require('../devnet-lib/scenario');
const { compile } = require('../devnet-lib/compile');

const ROOT = path.resolve(__dirname, '..', '..');
const DEVNET = path.join(ROOT, 'scripts', 'devnet');
const DEVNET_MARK = path.join('devnet-lib', 'main.js');
const RECEIVER = path.join(ROOT, 'tests', 'keeper', 'alert_receiver.js');
const SCENARIO = process.env.DEMO_SCENARIO || 'black-thursday-2020';
const SPEED = Number(process.env.DEMO_SPEED || 3600);
const READY_TIMEOUT_MS = 30000;
const PROTOCOL = 'devnet'; // protocol.name in the devnet's keeper.yaml
const DEVNETS = ['devnet', 'baseline']; // state dirs under BUILD_DIR/demo

const USAGE = 'usage: scripts/demo [BUILD_DIR]   (BUILD_DIR/keeper from `make keeper`; default: build)';

let procs = null;
let demoDir = null;
let cleaning = null;
let interrupted = false;

const out = (s = '') => { if (!interrupted) process.stdout.write(s + '\n'); };
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const rel = (p) => {
    const r = path.relative(process.cwd(), p);
    return r && !r.startsWith('..') ? r : p;
};
const lastLines = (file, n = 3) => {
    try {
        return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n    ');
    } catch {
        return '';
    }
};
const stateDir = (name) => path.join(demoDir, name);

// Run a short-lived child to its end; stdout and stderr to `logFile`.
function runChild(name, cmd, args, logFile, marker) {
    const fd = fs.openSync(logFile, 'a');
    const child = procs.start(name, cmd, args, { stdio: ['ignore', fd, fd], marker });
    fs.closeSync(fd);
    return new Promise((resolve) => {
        child.once('exit', (code, sig) => resolve(sig ? 128 : code));
        child.once('error', () => resolve(127));
    }).then(async (code) => {
        await procs.stop(name);
        return code;
    });
}

// ---- the pieces ----------------------------------------------------------

async function startReceiver(onAlert) {
    const log = fs.createWriteStream(path.join(demoDir, 'alerts.jsonl'));
    const errFd = fs.openSync(path.join(demoDir, 'alert-receiver.err'), 'a');
    const child = procs.start('alert-receiver', process.execPath, [RECEIVER],
        { stdio: ['pipe', 'pipe', errFd], marker: 'alert_receiver.js' });
    fs.closeSync(errFd);
    const rl = readline.createInterface({ input: child.stdout });
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('alert receiver did not start')), 10000);
        child.once('exit', () => reject(new Error('alert receiver exited')));
        rl.on('line', (line) => {
            const m = /^PORT (\d+)$/.exec(line);
            if (m) {
                clearTimeout(timer);
                resolve(Number(m[1]));
                return;
            }
            log.write(line + '\n');
            try {
                onAlert(JSON.parse(line));
            } catch {
                // not a record
            }
        });
    });
}

// `scripts/devnet start` into stateDir(name). Returns devnet.json.
async function startDevnet(name, hookUrl) {
    const dir = stateDir(name);
    const log = path.join(demoDir, `${name}.log`);
    const args = ['start', '--state-dir', dir, '--scenario', SCENARIO];
    if (hookUrl) args.push('--alert-webhook', hookUrl);
    const code = await runChild(`start-${name}`, DEVNET, args, log, DEVNET_MARK);
    if (code !== 0) throw new Error(`devnet start (${name}) failed (exit ${code}):\n    ${lastLines(log)}`);
    return JSON.parse(fs.readFileSync(path.join(dir, 'devnet.json'), 'utf8'));
}

async function startKeeper(bin, statusBase) {
    const log = path.join(demoDir, 'keeper.log');
    const cfg = path.join(stateDir('devnet'), 'keeper.yaml');
    if (!fs.existsSync(cfg)) throw new Error(`devnet start wrote no ${cfg}`);
    const fd = fs.openSync(log, 'a');
    procs.start('keeper', bin, ['run', '-c', cfg, '--log-format', 'json'], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    const k = procs.get('keeper');
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await K.ready(statusBase))) {
        if (k.exited !== null) throw new Error(`keeper exited (${k.exited}):\n    ${lastLines(log)}`);
        if (Date.now() > deadline) throw new Error(`keeper not ready within ${READY_TIMEOUT_MS / 1000} s:\n    ${lastLines(log)}`);
        await sleep(100);
    }
    return { log, cfg };
}

// Replay the scenario under the live view. Resolves when every row is out.
async function replay(live) {
    const errFile = path.join(demoDir, 'scenario.err');
    const errFd = fs.openSync(errFile, 'a');
    const child = procs.start('scenario', DEVNET,
        ['scenario', SCENARIO, '--state-dir', stateDir('devnet'), '--speed', String(SPEED)],
        { stdio: ['ignore', 'pipe', errFd], marker: DEVNET_MARK });
    fs.closeSync(errFd);
    const lines = fs.createWriteStream(path.join(demoDir, 'scenario.out'));
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (l) => {
        lines.write(l + '\n');
        live.onScenarioLine(l);
    });
    const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(sig ? 128 : code)));
    const closed = new Promise((resolve) => rl.once('close', resolve));
    let code = null;
    Promise.all([exited, closed]).then(([c]) => {
        code = c;
        live.scenarioDone = true;
    });
    await live.run();
    await procs.stop('scenario');
    if (code !== 0) throw new Error(`scenario replay failed (exit ${code}):\n    ${lastLines(errFile)}`);
}

// The same scenario on the baseline devnet, no keeper, as fast as it goes.
// Returns its steps, or null (the demo goes on without the comparison).
async function baseline(started) {
    const outFile = path.join(demoDir, 'baseline.out');
    if (!(await started)) return null;
    const code = await runChild('baseline-scenario', DEVNET, ['scenario', SCENARIO, '--state-dir', stateDir('baseline')],
        outFile, DEVNET_MARK);
    if (code !== 0) return null;
    const lines = fs.readFileSync(outFile, 'utf8').split('\n');
    const steps = lines.filter((l) => l.startsWith('step=')).map(parseKv).map((kv) => ({
        t: Number(kv.t), reserve: Number(kv.reserve), uncovered: Number(kv.uncovered), state: kv.state,
    }));
    return steps.length ? steps : null;
}

// ---- the summary ---------------------------------------------------------

function withoutKeeper(base) {
    if (base) {
        const low = base.reduce((a, s) => (s.reserve < a.reserve ? s : a), base[0]);
        const empty = base.find((s) => s.reserve === 0);
        const last = base[base.length - 1];
        const lowest = empty ? `reserve empty from ${V.when(empty.t)}` : `lowest reserve ${V.usd(low.reserve)} at ${V.when(low.t)}`;
        return `${lowest}, ${V.usd(last.uncovered)} USD of bad debt left uncovered at the end ` +
            '(the same market replayed on a second devnet with no keeper)';
    }
    try { // the figures measured when the scenario was made
        const text = fs.readFileSync(path.join(ROOT, 'tests', 'scenarios', 'README.md'), 'utf8');
        const cells = text.split('\n').find((l) => l.startsWith(`| ${SCENARIO} |`)).split('|').map((c) => c.trim());
        return `lowest reserve ${cells[5]}, ${cells[6]} (tests/scenarios/README.md)`;
    } catch {
        return null;
    }
}

function alertCounts(recs) {
    const by = {};
    let bad = 0;
    for (const r of recs) {
        const st = (r.body && r.body.status) || 'unparsed';
        by[st] = (by[st] || 0) + 1;
        if (r.errors && r.errors.length) bad++;
    }
    const parts = [];
    if (by.firing) parts.push(`${by.firing} firing`);
    if (by.resolved) parts.push(`${by.resolved} resolved`);
    if (by.event) parts.push(`${by.event} notices`);
    if (recs.length) parts.push(bad ? `${bad} MALFORMED` : 'all well-formed');
    return `${recs.length}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

function logCounts(file) {
    let lines = 0;
    const lv = {};
    try {
        for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
            if (!l) continue;
            lines++;
            const m = /"level":"(\w+)"/.exec(l);
            if (m) lv[m[1]] = (lv[m[1]] || 0) + 1;
        }
    } catch {
        // no log
    }
    return `${lines} lines, ${lv.warn || 0} warnings, ${lv.error || 0} errors`;
}

// For each injection: blocks since the reserve fell below critical, and
// whether all of them were the same market step's (its liquidations).
function reactions(rows, events, feedBlocks, critical) {
    const byBlock = new Map(rows.map((x) => [x.block, x]));
    const res = [];
    for (const e of events.filter((x) => x.kind === 'inject')) {
        let b = e.block - 1;
        if (!byBlock.has(b) || byBlock.get(b).reserve >= critical) continue;
        while (byBlock.has(b - 1) && byBlock.get(b - 1).reserve < critical) b--;
        const stepStart = Math.max(...feedBlocks.filter((f) => f <= e.block));
        res.push({ blocks: e.block - b, sameStep: b >= stepStart });
    }
    return res;
}

function summary(r) {
    const { steps, events, fin, levels, rows, hours } = r;
    const pxs = steps.map((s) => s.price);
    const low = steps.reduce((a, s) => (s.price < a.price ? s : a), steps[0]);
    const minRow = rows.reduce((a, x) => (x.reserve < a.reserve ? x : a), rows[0]);
    const inj = events.filter((e) => e.kind === 'inject');
    const claw = events.filter((e) => e.kind === 'clawback');
    const sum = (l) => l.reduce((a, e) => a + e.amount, 0n);
    const lab = (s) => V.paint('bold', s.padEnd(16));
    const sl = r.scenarioSummary || {};

    out();
    out(V.paint('bold', `Summary: ${SCENARIO}, ${steps.length} steps, ` +
        `${Math.round((steps[steps.length - 1].t - steps[0].t) / 3600)} h of market replayed in ${secs(r.replayMs)}`));
    out(`  ${lab('price')}${V.price(pxs[0])} -> low ${V.price(low.price)} (${V.when(low.t)}) -> ${V.price(pxs[pxs.length - 1])}`);
    if (sl.liquidations) out(`  ${lab('market')}${sl.liquidations} liquidations, ${V.usd(Number(sl.bad_debt))} USD of bad debt charged to the reserve`);
    out(`  ${lab('lowest reserve')}${V.usd(V.units(minRow.reserve))} at ${V.when(Math.round(hours(minRow.time) * 3600))} ` +
        `(target ${V.usd(V.units(levels.target))}, critical ${V.usd(V.units(levels.critical))}, depletion ${V.usd(V.units(levels.depletion))})`);
    out(`  ${lab('injections')}${inj.length ? `${inj.length}, ${V.usd(V.units(sum(inj)))} USD in all from the backstop pool ` +
        `(${V.usd(V.units(fin.pool))} left in it)` : 'none'}`);
    const react = reactions(rows, events, r.feedBlocks, levels.critical);
    if (react.length) {
        const same = react.every((x) => x.sameStep) ? ' (blocks of the same step\'s liquidations)' : '';
        const n = react.map((x) => x.blocks);
        const blocks = n.length > 1 && n.every((x) => x === n[0]) ? `${n[0]} blocks, each time,` : `${n.join(', ')} block(s)`;
        out(`  ${lab('reaction')}${blocks} after the reserve fell below critical${same}`);
    }
    const wire = [...r.wireUs.values()].map((us) => (us / 1000).toFixed(1));
    if (wire.length) out(`  ${lab('')}${wire.join(', ')} ms from the keeper's decision to its signed transaction on the wire`);
    out(`  ${lab('clawbacks')}${claw.length ? `${claw.length}, ${V.usd(V.units(sum(claw)))} USD in all` : 'none'}`);
    if (r.failures.length) out(`  ${lab('failed actions')}${r.failures.length} (see above, and the keeper log)`);
    out(`  ${lab('final state')}reserve ${V.usd(V.units(fin.reserve))}, uncovered debt ${V.usd(V.units(fin.uncovered))}, ` +
        `keeper tier ${r.finalTier || '- (no evaluation)'}`);
    out(`  ${lab('alerts sent')}${alertCounts(r.alerts)} to the webhook receiver`);
    const ref = withoutKeeper(r.base);
    if (ref) out(`  ${lab('without keeper')}${ref}`);
    if (!r.evaluates) {
        out();
        out(V.paint('yellow', '  This keeper build reports no evaluation (no "decision" in its log, last_evaluation null in'));
        out(V.paint('yellow', '  /status): it watched the chain but cannot act yet, so the reserve was left to the market.'));
    }
}

// ---- main ----------------------------------------------------------------

async function cleanup() {
    if (cleaning) return cleaning;
    cleaning = (async () => {
        if (!procs) return;
        const names = ['scenario', 'baseline-scenario', 'keeper', 'alert-receiver', ...DEVNETS.map((n) => `start-${n}`)];
        for (const name of names) await procs.stop(name);
        for (const name of DEVNETS) {
            if (!fs.existsSync(path.join(stateDir(name), 'anvil.pid'))) continue;
            await runChild(`stop-${name}`, DEVNET, ['stop', '--state-dir', stateDir(name)],
                path.join(demoDir, `${name}.log`), DEVNET_MARK);
        }
    })();
    return cleaning;
}

// From the synchronous exit path: SIGKILL an anvil still recorded.
function killAnvilsNow() {
    for (const name of demoDir ? DEVNETS : []) {
        try {
            const pid = Number(fs.readFileSync(path.join(stateDir(name), 'anvil.pid'), 'utf8'));
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
            if (pid > 0 && isAlive(pid) && cmd.includes('anvil')) process.kill(pid, 'SIGKILL');
        } catch {
            // no devnet, or already gone
        }
    }
}

async function prepare(build) {
    const bin = path.join(build, 'keeper');
    try {
        fs.accessSync(bin, fs.constants.X_OK);
    } catch {
        throw new Error(`no keeper binary at ${bin}: build it first (make keeper, or make demo)`);
    }
    if (!(SPEED > 0)) throw new Error(`bad DEMO_SPEED ${process.env.DEMO_SPEED}`);
    demoDir = path.join(build, 'demo');
    fs.mkdirSync(demoDir, { recursive: true });
    // A previous demo killed before its cleanup: stop what it left.
    await stopLeftovers(path.join(demoDir, 'demo.pids'));
    procs = new Procs(path.join(demoDir, 'demo.pids'));
    cleaning = null;
    await cleanup();
    cleaning = null;
    fs.rmSync(demoDir, { recursive: true, force: true });
    fs.mkdirSync(demoDir, { recursive: true });
    procs = new Procs(path.join(demoDir, 'demo.pids'));
    // One compiler cache per build dir, as the tests use: contracts are
    // compiled once, not at every demo.
    process.env.KP_DEVNET_CACHE = process.env.KP_DEVNET_CACHE || path.join(build, 'devnet-cache');
    return bin;
}

function describe(sc) {
    const first = fs.readFileSync(sc.file, 'utf8').split('\n')[0];
    return (/^#\s*[^:]+:\s*(.*)$/.exec(first) || [])[1] || SCENARIO;
}

async function main(argv) {
    if (argv[0] === '-h' || argv[0] === '--help') {
        out(USAGE);
        return;
    }
    if (argv.length > 1 || (argv[0] && argv[0].startsWith('-'))) throw new Error(USAGE);
    const t0 = Date.now();
    const sc = loadScenario(ROOT, SCENARIO); // fails early on a bad DEMO_SCENARIO
    const bin = await prepare(path.resolve(argv[0] || 'build'));
    const asset = scenarioAsset(sc);
    const desc = describe(sc);
    out(V.paint('bold', `Backstop Keeper demo: ${desc}`));
    out(V.paint('dim', `  a local devnet (anvil + the reference perpetuals protocol), the keeper, and a replay of ${SCENARIO}`));
    out();

    let live = null;
    const early = [];
    const rxPort = await startReceiver((rec) => (live ? live.onAlert(rec) : early.push(rec)));

    const tDev = Date.now();
    // Compile the contracts once (a first run only), not in both starts.
    compile(ROOT, process.env.KP_DEVNET_CACHE);
    const baseStarted = startDevnet('baseline', null).then(() => true, () => false);
    const info = await startDevnet('devnet', `http://127.0.0.1:${rxPort}/hook/demo`);
    const devMs = Date.now() - tDev;
    out(`  devnet      up in ${secs(devMs)}: anvil on ${info.rpc_http}, protocol deployed, market seeded for ${SCENARIO}`);
    const statusBase = `http://127.0.0.1:${info.metrics_port}`;
    const tK = Date.now();
    const keeper = await startKeeper(bin, statusBase);
    const readyMs = Date.now() - tK;
    out(`  keeper      ready in ${secs(readyMs)}: ${rel(bin)} run -c ${rel(keeper.cfg)}`);
    out(`              status ${statusBase}/status, metrics ${statusBase}/metrics`);
    out(`  alerts      its webhook channel posts to a receiver on 127.0.0.1:${rxPort}`);
    const span = (sc.points[sc.points.length - 1].t - sc.points[0].t) / 3600;
    out(`  replay      ${sc.points.length} steps, ${Math.round(span)} h of market at ${SPEED / 3600} h per second`);
    out();

    const chain = new ChainView(info);
    const levels = await chain.levels();
    const fromBlock = (await chain.head()) + 1;
    const kp = procs.get('keeper');
    live = new Live({
        chain, statusBase, protocol: PROTOCOL, asset, out, fromBlock, keeperLog: keeper.log,
        keeperExit: () => (kp.exited === null ? null : `exit ${kp.exited}`),
    });
    live.header();
    for (const rec of early) live.onAlert(rec);
    const tR = Date.now();
    await replay(live);
    const replayMs = Date.now() - tR;
    const tW = Date.now();
    await live.settle();

    // Final state and the chart's data, then stop the keeper.
    const fin = await chain.now();
    const feedBlocks = (await chain.feedBlocks(fromBlock)).slice(-live.steps.length);
    const rows = await chain.history(feedBlocks[0] - 1, await chain.head());
    await procs.stop('keeper');
    const base = await baseline(baseStarted);
    await procs.stop('alert-receiver');

    const firstTs = (rows.find((x) => x.block === feedBlocks[0]) || rows[0]).time;
    const lastDecision = live.decisions[live.decisions.length - 1];
    const ev = K.evaluation(live.status);
    summary({
        steps: live.steps, events: live.events, failures: live.failures, alerts: live.alerts, fin, levels,
        rows, feedBlocks, hours: (ts) => Math.max(0, ts - firstTs) / 3600, replayMs, base,
        scenarioSummary: live.summaryLine, wireUs: live.wireUs,
        finalTier: (lastDecision && lastDecision.tier) || (ev && ev.tier) || null,
        evaluates: Boolean(lastDecision || ev),
    });

    const png = path.join(demoDir, `${SCENARIO}.png`);
    chart.writeData(path.join(demoDir, 'chart'), {
        rows, steps: live.steps, feedBlocks, events: live.events, levels, asset, base,
        title: `Backstop Keeper on the devnet: ${desc}`,
        xlabel: `market time since the scenario's start (the demo replayed it at ${SPEED / 3600} h per second)`,
    });
    await cleanup();
    const err = chart.plot(ROOT, path.join(demoDir, 'chart'), png);
    const wrapMs = Date.now() - tW;
    const lab = (s) => V.paint('bold', s.padEnd(16));
    out();
    out(`  ${lab('chart')}${err ? V.paint('red', `not drawn: ${err}`) : rel(png)}`);
    out(`  ${lab('keeper log')}${rel(keeper.log)} (JSON lines: ${logCounts(keeper.log)})`);
    out(`  ${lab('more')}${rel(path.join(demoDir, 'alerts.jsonl'))} (alerts as received), ` +
        `${rel(path.join(demoDir, 'scenario.out'))} (the replay's own lines)`);
    out(`  ${lab('time')}${secs(Date.now() - t0)} in all: devnets ${secs(devMs)}, keeper ready ${secs(readyMs)}, ` +
        `replay ${secs(replayMs)}, baseline, summary and chart ${secs(wrapMs)}; everything stopped`);
    if (err) process.exitCode = 1;
}

function onSignal(sig) {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\ndemo: ${sig}: stopping everything\n`);
    cleanup().finally(() => process.exit(130));
}

process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGHUP', () => onSignal('SIGHUP'));
process.on('exit', () => {
    if (procs) procs.killAllNow();
    killAnvilsNow();
});

main(process.argv.slice(2)).then(() => cleanup()).then(() => process.exit(process.exitCode || 0), async (e) => {
    if (interrupted) return; // the signal handler exits
    process.stderr.write(`demo: error: ${e.message}\n`);
    await cleanup().catch(() => {});
    process.exit(1);
});
