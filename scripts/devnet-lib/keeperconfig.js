'use strict';
// DIR/keeper.yaml: a keeper configuration for this devnet that `keeper run`
// accepts as is (docs/config.md has every key; docs/devnet.md and
// docs/demo.md say why the values below were chosen).
//
// Time on a devnet. A replay compresses hours of market into seconds: each
// step sets the next block's timestamp to the scenario's clock, so chain
// time runs ahead of the wall clock by up to the scenario's span (40 h for
// Black Thursday). The keeper's clock is the later of the wall clock and
// the chain's time as far as its oracles have read it (proto_clock,
// keeper/daemon_int.h), so it jumps with the replay: a price published at a step is judged against the
// chain's time, never "from the future", and ages by one step's interval
// until the next step publishes. max_age is therefore the scenario's
// longest step plus an hour (at least 2 h, a usual Chainlink heartbeat
// allowance): every replayed price is fresh when the keeper acts on it,
// and a feed that stops updating for longer than that still goes stale.
// (A keeper judging by the wall clock alone would refuse a replay's
// prices once they run more than max_age ahead of it.)

const fs = require('fs');
const net = require('net');
const path = require('path');
const { CAPITAL } = require('./protocol');

const HOUR = 3600;
const MAX_AGE_MARGIN_S = HOUR; // on top of the longest step
const MAX_AGE_MIN_S = 2 * HOUR;
const MAX_AGE_CAP_S = 7 * 24 * HOUR; // the config's upper bound
const WEBHOOK_URL_FILE = 'alert-webhook.url';

// A TCP port on 127.0.0.1 that was free a moment ago.
function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

// The asset a scenario prices, from its first comment line
// ("# black-thursday-2020: ETH/USD, ..." or "... ETH-like at 2,000").
function scenarioAsset(sc) {
    let head = '';
    try {
        head = fs.readFileSync(sc.file, 'utf8').split('\n', 4).filter((l) => l.startsWith('#')).join(' ');
    } catch {
        // a scenario we cannot re-read: the default below
    }
    const m = /\b([A-Z]{2,10})\/USD\b/.exec(head) || /\b([A-Z]{2,10})-like\b/.exec(head);
    return m ? `${m[1]}/USD` : 'ETH/USD';
}

// max_age in whole hours: the scenario's longest interval between two
// price updates plus a margin, at least MAX_AGE_MIN_S, at most the
// config's bound.
function maxAgeFor(sc) {
    let gap = 0;
    for (let i = 1; i < sc.points.length; i++) gap = Math.max(gap, sc.points[i].t - sc.points[i - 1].t);
    const s = Math.max(MAX_AGE_MIN_S, Math.ceil((gap + MAX_AGE_MARGIN_S) / HOUR) * HOUR);
    return `${Math.min(s, MAX_AGE_CAP_S) / HOUR}h`;
}

function isLoopbackUrl(url) {
    try {
        const h = new URL(url).hostname;
        return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
    } catch {
        return false;
    }
}

// The alert channel's url value. A loopback URL may be written inline (a
// local relay, docs/config.md "Secrets"); any other webhook URL is treated
// as carrying a token: it goes to a 0600 file next to keeper.yaml, and the
// config references it.
function webhookUrlValue(dir, url) {
    const p = path.join(dir, WEBHOOK_URL_FILE);
    fs.rmSync(p, { force: true });
    if (isLoopbackUrl(url)) return scalar(url);
    fs.writeFileSync(p, url + '\n', { mode: 0o600 });
    return `\${file:${WEBHOOK_URL_FILE}}`;
}

// A YAML scalar: plain when that is unambiguous, else double-quoted (a
// JSON string is a valid YAML double-quoted scalar).
function scalar(v) {
    return /^[A-Za-z0-9_/.][A-Za-z0-9_/.:@%+=,~-]*$/.test(v) ? v : JSON.stringify(v);
}

// "key: value\t# why" -> the comment at a fixed column.
const COMMENT_COL = 36;
function align(line) {
    const i = line.indexOf('\t# ');
    if (i < 0) return line;
    return line.slice(0, i).padEnd(COMMENT_COL - 1) + ' ' + line.slice(i + 1);
}

function alertsSection(dir, alertWebhook) {
    if (!alertWebhook) {
        fs.rmSync(path.join(dir, WEBHOOK_URL_FILE), { force: true });
        return [
            'alerts:',
            '  channels: []\t# devnet start --alert-webhook URL adds a webhook',
        ];
    }
    return [
        'alerts:',
        '  channels:',
        '    - name: devnet-webhook',
        '      type: webhook\t# the generic JSON webhook (docs/alerts.md)',
        `      url: ${webhookUrlValue(dir, alertWebhook)}`,
        '      min_severity: info\t# everything: the devnet is for watching',
    ];
}

function render(dir, info, sc, alertWebhook, metricsPort) {
    const asset = scenarioAsset(sc);
    const c = info.contracts;
    const oracle = asset.toLowerCase().replace(/[^a-z0-9]+/g, '_');
    const pool = `${CAPITAL.backstopPool}e6`;
    return [
        `# Keeper configuration for the devnet in ${dir}, written by`,
        `# \`scripts/devnet start\` (scenario ${sc.name}). Check it with`,
        '#   keeper check-config -c keeper.yaml',
        '# Keys: docs/config.md. Why these values: docs/demo.md.',
        '',
        'protocol:',
        '  name: devnet',
        `  description: Reference perpetuals protocol on the local devnet (${sc.name})`,
        '',
        'chain:',
        `  chain_id: ${info.chain_id}`,
        '  rpc:',
        '    - name: anvil',
        `      url: ${scalar(info.rpc_http)}`,
        '  ws:',
        '    - name: anvil-ws',
        `      url: ${scalar(info.rpc_ws)}`,
        '  max_lag_blocks: 3',
        '  request_timeout: 5s',
        '  poll_interval: 250ms\t# a replay step takes a few blocks and ~2s',
        '  confirmations: 0\t# one node, automine: no reorgs to wait out',
        '',
        'signer:',
        `  key_file: ${scalar(info.keeper_key_file)}\t# anvil dev account 1, mode 0600`,
        '  min_balance: 1ether',
        '',
        'oracles:',
        `  - name: ${oracle}`,
        '    type: chainlink',
        `    address: ${c.feed}`,
        `    asset: ${asset}`,
        `    max_age: ${maxAgeFor(sc)}\t# the scenario's longest step + 1h (docs/demo.md)`,
        '    heartbeat: 10s\t# re-read period; the feed moves only during replays',
        '    ewma_lambda: 0.94',
        '',
        'reserve:',
        '  contracts:',
        `    reserve: ${c.reserve}`,
        `    clearinghouse: ${c.clearinghouse}`,
        `    backstop: ${c.backstop}`,
        '  decimals: 6',
        '',
        'strategies:',
        '  inject:',
        '    enabled: true',
        '    epoch: 1d',
        `    epoch_budget: ${pool}\t# the whole backstop pool`,
        '    cooldown: 1s\t# shorter than one replay step',
        '  clawback:',
        '    enabled: true',
        '    cooldown: 1s',
        '    require_approval: false\t# no human watches a devnet',
        '  amber_health: 1.5',
        '  stress_move: 20%',
        '',
        'tx:',
        '  gas_limit_margin: 20%',
        '  max_fee: 100gwei',
        '  priority_fee: 1gwei',
        '  replace_after_blocks: 3',
        '  fee_bump: 12.5%',
        '',
        ...alertsSection(dir, alertWebhook),
        '',
        'metrics:',
        `  listen: 127.0.0.1:${metricsPort}`,
        '',
        'log:',
        '  level: info',
        '  format: text',
        '',
    ].map(align).join('\n');
}

// Write DIR/keeper.yaml for the devnet described by `info` (devnet.json's
// content), started for scenario `sc`; a webhook alert channel when
// `alertWebhook` is set. Picks the keeper's metrics port and records it in
// info.metrics_port. Returns the file's path.
async function writeKeeperConfig(dir, info, sc, alertWebhook) {
    const port = await freePort();
    info.metrics_port = port;
    const p = path.join(dir, 'keeper.yaml');
    const tmp = `${p}.tmp`;
    fs.writeFileSync(tmp, render(dir, info, sc, alertWebhook, port), { mode: 0o644 });
    fs.renameSync(tmp, p);
    return p;
}

module.exports = { writeKeeperConfig, scenarioAsset, maxAgeFor, isLoopbackUrl };
