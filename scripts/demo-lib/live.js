'use strict';
// The live view of a replay: one row per scenario step (market time, price,
// reserve after the step's liquidations, uncovered debt, liquidations, the
// reserve's level, the keeper's tier and what it decided), and under it, as
// they happen, the keeper's actions as the chain recorded them (with
// transaction hashes), actions that failed, and the pages sent.
//
// Sources: the scenario's own step lines; the chain's logs (price updates,
// BackstopInjected, ClawbackTriggered); the keeper's JSON log, which has a
// "decision" line per evaluation and an "action" line per state of an
// action; /status as a fallback. A step's row waits (at most ROW_WAIT_MS)
// until the keeper has evaluated the step's last block and finished what it
// decided, so that the row shows the keeper's answer to that step.

const K = require('./keeper');
const V = require('./view');
const { sleep } = require('./procs');

const TICK_MS = 100;
const ROW_WAIT_MS = 1500;
const SETTLE_MS = 10000; // after the replay, at most
const TIER_RANK = { T1: 0, amber: 1, T2: 2, T3: 3 };
const FINAL = new Set(['confirmed', 'failed', 'simulated_revert', 'dry_run']);
const BAD = new Set(['failed', 'simulated_revert']);
const STATE_STYLE = { ok: 'green', critical: 'yellow', depleted: 'red', exhausted: 'red bold' };
const INDENT = ' '.repeat(13);

// "step=3 t=14400 price=172.93 reserve=... state=ok" -> object
function parseKv(line) {
    const o = {};
    for (const tok of line.trim().split(/\s+/)) {
        const i = tok.indexOf('=');
        if (i > 0) o[tok.slice(0, i)] = tok.slice(i + 1);
    }
    return o;
}

const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

// An injection sized to the volatility-loaded target (the policy's
// target x (sigma_EWMA / sigma_long)^beta, capped) rather than the
// on-chain one says so: otherwise it reads as an over-injection.
function loadedTarget(d) {
    const m = /needed to reach (\d+(?:\.\d+)?)/.exec(d.reason || '');
    if (!m || !(Number(m[1]) > Number(d.target))) return '';
    return ` (volatility-loaded target ${V.usd(K.tokens(m[1]))})`;
}

class Live {
    // ctx: { chain (ChainView), statusBase, protocol, asset, out, fromBlock,
    //        keeperLog, keeperExit (() => null while it runs, else how it ended) }
    constructor(ctx) {
        Object.assign(this, ctx);
        this.log = new K.LogTail(ctx.keeperLog);
        this.queue = []; // scenario lines not handled yet
        this.steps = [];
        this.summaryLine = null;
        this.pending = null; // the step whose row waits for the keeper
        this.held = []; // lines to print after the pending row
        this.events = []; // keeper actions seen on chain
        this.lastFeedBlock = 0;
        this.decisions = []; // the keeper's evaluations, from its log
        this.acts = new Map(); // action key -> latest "action" log record
        this.wireUs = new Map(); // action key -> decision-to-wire microseconds
        this.failures = [];
        this.alerts = [];
        this.newAlerts = []; // not shown yet
        this.lastLogBlock = ctx.fromBlock - 1;
        this.status = null;
        this.scenarioDone = false;
        this.stepOpen = false; // a step's price is out, its row is not
    }

    header() {
        const h = `  ${V.pad('time', 7)}${V.pad(this.asset, 10, true)}${V.pad('reserve', 12, true)}` +
            `${V.pad('uncovered', 11, true)}${V.pad('liq', 5, true)}  ${V.pad('level', 10)}${V.pad('tier', 6)}keeper`;
        this.out(V.paint('bold', h));
    }

    onScenarioLine(line) {
        this.queue.push(line);
    }

    // Pages are shown from the poll loop, after the chain's logs up to
    // now: a page about a step then goes under that step's row.
    onAlert(rec) {
        this.alerts.push(rec);
        this.newAlerts.push(rec);
    }

    showAlert(rec) {
        const b = rec.body || {};
        if (b.status !== 'firing' && b.status !== 'resolved') return; // notices mirror the action lines
        const what = b.status === 'resolved' ? 'resolved' : b.severity;
        const style = b.status === 'resolved' ? 'green' : (b.severity === 'critical' ? 'red' : 'yellow');
        this.emit(`${INDENT}${V.paint(style, `page ${what}:`)} ${clip(this.pageText(b), 100)}`);
    }

    // Lines about a step go under its row: from the step's price update
    // until the row is out, they wait.
    // A page's summary, shorter: its first clause, no protocol prefix, no
    // repeated tier, amounts rounded ("devnet: tier T2: T2: reserve 988061.667411 < ..."
    // -> "tier T2: reserve 988,062 < ...").
    pageText(b) {
        return String(b.summary || b.key || '')
            .split('; ')[0] // the condition; what the keeper does about it is shown apart
            .replace(new RegExp(`^${this.protocol}: `), '')
            .replace(/^tier (\S+): \1: /, 'tier $1: ')
            .replace(/(?<![\d.])\d{4,}(\.\d+)?/g, (m) => V.usd(Number(m)));
    }

    emit(line) {
        if (this.pending || this.stepOpen) this.held.push(line);
        else this.out(line);
    }

    // ---- inputs ----

    readLog() {
        for (const r of this.log.read()) {
            if (r.msg === 'decision' && r.block !== undefined) {
                this.decisions.push(r);
            } else if (r.msg === 'action' && r.key) {
                this.acts.set(r.key, r);
                if (BAD.has(r.state)) this.onFailed(r);
            } else if (r.msg === 'transaction manager' && r.event === 'broadcast' && r.key) {
                if (!this.wireUs.has(r.key) && r.decision_to_wire_us !== undefined) this.wireUs.set(r.key, Number(r.decision_to_wire_us));
            }
        }
    }

    onFailed(r) {
        this.failures.push(r);
        const amt = K.tokens(r.amount);
        this.emit(`${INDENT}${V.paint('red', `x ${r.action} ${amt !== null ? V.usd(amt) : ''} ${r.state}`)}` +
            `${r.detail ? ': ' + clip(r.detail, 80) : ''}${r.tx_hash ? `  tx ${r.tx_hash}` : ''}`);
    }

    async pollChain() {
        let head;
        try {
            head = await this.chain.head();
        } catch {
            return;
        }
        const logs = await this.chain.logs(this.lastLogBlock + 1, head).catch(() => null);
        if (!logs) return;
        this.lastLogBlock = head;
        for (const e of logs) {
            if (e.kind === 'price') {
                this.lastFeedBlock = e.block;
                this.stepOpen = true;
                continue;
            }
            e.step = this.steps.length;
            this.events.push(e);
            const amount = V.usd(V.units(e.amount));
            const what = e.kind === 'inject'
                ? `${V.paint('cyan', `injected ${amount}`)} from the backstop pool: reserve now ${V.usd(V.units(e.extra))}`
                : `${V.paint('red', `clawed back ${amount}`)}: a ${(Number(e.extra) / 100).toFixed(2)}% haircut of positive PnL`;
            this.emit(`${INDENT}-> ${what}`);
            this.emit(`${INDENT}   tx ${e.tx} (block ${e.block})`);
        }
    }

    async poll() {
        const gone = this.keeperExit ? this.keeperExit() : null;
        if (gone !== null && !this.keeperGone) {
            this.keeperGone = true;
            this.emit(V.paint('red bold', `  the keeper stopped (${gone}): its last lines are in ${this.keeperLog}`));
        }
        const alerts = this.newAlerts.splice(0);
        this.readLog();
        await this.pollChain();
        this.readLog();
        for (const rec of alerts) this.showAlert(rec);
        if (this.decisions.length === 0) this.status = await K.protocolStatus(this.statusBase, this.protocol);
    }

    // ---- rows ----

    // An action decided but not final yet.
    busy() {
        for (const d of this.decisions) {
            if (!d.action || d.action === 'none' || !d.key) continue;
            const a = this.acts.get(d.key);
            if (!a || !FINAL.has(a.state)) return true;
        }
        return false;
    }

    async takeLine() {
        const line = this.queue.shift();
        if (line.startsWith('summary ')) {
            this.summaryLine = parseKv(line);
            return;
        }
        if (!line.startsWith('step=')) return; // e.g. a session setup line
        const kv = parseKv(line);
        const s = {
            n: Number(kv.step), t: Number(kv.t), price: Number(kv.price),
            reserve: Number(kv.reserve), uncovered: Number(kv.uncovered), oi: Number(kv.oi),
            liquidations: Number(kv.liquidations), shortfall: Number(kv.shortfall), state: kv.state,
        };
        this.steps.push(s);
        await this.poll();
        s.feedBlock = this.lastFeedBlock;
        this.pending = { s, head: this.lastLogBlock, since: Date.now() };
    }

    // The keeper's answer to step s: its evaluations since the step's
    // price update.
    stepDecisions(s) {
        return this.decisions.filter((d) => Number(d.block) >= s.feedBlock);
    }

    keeperCell(s, ds) {
        if (ds.length === 0) {
            const ev = K.evaluation(this.status);
            if (ev) return V.paint('dim', ev.reason ? clip(ev.reason, 50) : '-');
            return V.paint('dim', this.decisions.length ? '(no evaluation yet)' : '(the keeper reports no evaluation)');
        }
        const acts = ds.filter((d) => d.action && d.action !== 'none');
        if (acts.length) return acts.map((d) => `${d.action} ${V.usd(K.tokens(d.amount))}${loadedTarget(d)}`).join(', ');
        const stale = ds.find((d) => d.price_state && d.price_state !== 'fresh');
        if (stale) return V.paint('yellow', `no action: price ${stale.price_state}`);
        const worst = ds.reduce((a, d) => (TIER_RANK[d.tier] > TIER_RANK[a.tier] ? d : a), ds[0]);
        if (TIER_RANK[worst.tier] >= 2 && worst.reason) {
            const why = worst.reason.split('; ').slice(1).join('; ') || worst.reason;
            return V.paint('yellow', `no action: ${clip(why, 50)}`);
        }
        return V.paint('dim', '-');
    }

    stepRow(s, ds) {
        const worst = ds.length ? ds.reduce((a, d) => (TIER_RANK[d.tier] > TIER_RANK[a] ? d.tier : a), ds[0].tier) : null;
        const ev = ds.length ? null : K.evaluation(this.status);
        s.tier = worst || (ev && ev.tier) || null;
        s.decisions = ds;
        const level = V.paint(STATE_STYLE[s.state], V.pad(s.state || '?', 10));
        return `  ${V.pad(V.when(s.t), 7)}${V.pad(V.price(s.price), 10, true)}${V.pad(V.usd(s.reserve), 12, true)}` +
            `${V.pad(V.usd(s.uncovered), 11, true)}${V.pad(String(s.liquidations), 5, true)}  ${level}` +
            `${V.tier(s.tier)} ${this.keeperCell(s, ds)}`;
    }

    // Print the pending row once the keeper has answered (or the wait is
    // over), then what was held back.
    finishRow(force) {
        const p = this.pending;
        const ds = this.stepDecisions(p.s);
        const evaluates = this.decisions.length > 0 || K.evaluation(this.status) !== null;
        const answered = ds.some((d) => Number(d.block) >= p.head) && !this.busy();
        const waited = Date.now() - p.since >= ROW_WAIT_MS || this.queue.some((l) => l.startsWith('step='));
        if (!force && evaluates && !answered && !waited) return;
        this.out(this.stepRow(p.s, ds));
        this.pending = null;
        this.stepOpen = false;
        for (const l of this.held) this.out(l);
        this.held = [];
    }

    // Run until the scenario has ended and every step's row is out (the
    // caller prints the header first).
    async run() {
        for (;;) {
            if (this.pending) {
                await this.poll();
                this.finishRow(false);
            } else if (this.queue.length) {
                await this.takeLine();
                continue;
            } else if (this.scenarioDone) {
                break;
            } else {
                await this.poll();
            }
            await sleep(TICK_MS);
        }
    }

    // After the replay: let the keeper finish what it started (an action
    // in flight, the evaluation of the last block), printing as it goes.
    async settle() {
        const deadline = Date.now() + SETTLE_MS;
        let quiet = 0;
        while (Date.now() < deadline && quiet < 5) {
            await sleep(TICK_MS * 2);
            await this.poll();
            const last = this.decisions.length ? Number(this.decisions[this.decisions.length - 1].block) : null;
            const caughtUp = last === null ? this.decisions.length === 0 : last >= this.lastLogBlock;
            quiet = caughtUp && !this.busy() ? quiet + 1 : 0;
        }
        if (this.pending) this.finishRow(true);
        this.status = await K.protocolStatus(this.statusBase, this.protocol);
    }
}

module.exports = { Live, parseKv };
