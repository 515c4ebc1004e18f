'use strict';
// scripts/devnet: the embedded devnet (anvil + the reference protocol).
//
//   devnet start --state-dir DIR [--port N] [--alert-webhook URL] [--scenario S]
//   devnet scenario NAME|FILE.csv --state-dir DIR [--speed X]
//   devnet stop --state-dir DIR
//   devnet list
//
// State in DIR: devnet.json (endpoints, addresses, keeper), keeper.key
// (0600), keeper.yaml (a keeper config for this devnet, keeperconfig.js),
// anvil.pid, anvil.log, session.json (the current market session),
// last-scenario.json (the last replay's summary).

const fs = require('fs');
const path = require('path');
const { startAnvil, stopAnvil, isAnvil, CHAIN_ID } = require('./anvil');
const { compile } = require('./compile');
const { Rpc } = require('./rpc');
const { Chain } = require('./chain');
const { ACCOUNTS, KEEPER_DEV_KEY, handles, deployProtocol } = require('./protocol');
const { newSession, sessionParams } = require('./market');
const { loadScenario, listScenarios, replay, usd } = require('./scenario');
const { writeKeeperConfig } = require('./keeperconfig');

const ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_SCENARIO = 'calm';

const USAGE = `usage: devnet start --state-dir DIR [--port N] [--alert-webhook URL] [--scenario NAME|FILE.csv]
       devnet scenario NAME|FILE.csv --state-dir DIR [--speed X]
       devnet stop --state-dir DIR
       devnet list`;

class UsageError extends Error {}

// Set by a signal during start: the exit status is then 130 whichever path
// (the handler or the failing start) exits first.
let interrupted = false;

// Parse "--opt value" pairs and positionals against `known` option names.
function parseArgs(argv, known) {
    const opts = {};
    const pos = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith('--')) { pos.push(a); continue; }
        const [name, inline] = a.slice(2).split(/=(.*)/s);
        if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
        const v = inline !== undefined ? inline : argv[++i];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        opts[name] = v;
    }
    return { opts, pos };
}

function stateDirOf(opts) {
    if (!opts['state-dir']) throw new UsageError('--state-dir DIR is required');
    return path.resolve(opts['state-dir']);
}

const file = (dir, name) => path.join(dir, name);

function readJson(p) {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
}

function writeJson(p, obj, mode = 0o644) {
    const tmp = `${p}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(obj, null, 2) + '\n', { mode });
    fs.renameSync(tmp, p);
}

function runningPid(dir) {
    try {
        const pid = Number(fs.readFileSync(file(dir, 'anvil.pid'), 'utf8'));
        return pid > 0 && isAnvil(pid) ? pid : 0;
    } catch {
        return 0;
    }
}

function cacheDir(dir) {
    return process.env.KP_DEVNET_CACHE || file(dir, 'build');
}

function writeKeyFile(dir) {
    const p = file(dir, 'keeper.key');
    fs.rmSync(p, { force: true });
    fs.writeFileSync(p, KEEPER_DEV_KEY + '\n', { mode: 0o600 });
    fs.chmodSync(p, 0o600);
    return p;
}

async function deployAndSeed(dir, port, scenario) {
    const rpcUrl = `http://127.0.0.1:${port}`;
    const chain = new Chain(new Rpc(rpcUrl));
    const artifacts = compile(ROOT, cacheDir(dir));
    const deployBlock = Number(await chain.rpc.call('eth_blockNumber'));
    const c = await deployProtocol(chain, artifacts, scenario.points[0].price8);
    await newSession(chain, c, scenario);
    writeJson(file(dir, 'session.json'), { scenario: scenario.name, file: scenario.file, fresh: true });
    const info = {
        rpc_http: rpcUrl,
        rpc_ws: `ws://127.0.0.1:${port}`,
        chain_id: CHAIN_ID,
        contracts: Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.address])),
        keeper_address: ACCOUNTS.keeper,
        keeper_key_file: writeKeyFile(dir),
        admin_address: ACCOUNTS.admin,
        deploy_block: deployBlock,
    };
    return info;
}

async function cmdStart(argv) {
    const { opts, pos } = parseArgs(argv, ['state-dir', 'port', 'alert-webhook', 'scenario']);
    if (pos.length) throw new UsageError(`unexpected argument ${pos[0]}`);
    const dir = stateDirOf(opts);
    let port = null;
    if (opts.port !== undefined) {
        port = Number(opts.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`bad --port ${opts.port}`);
    }
    if (opts['alert-webhook'] !== undefined && !/^https?:\/\/\S+$/.test(opts['alert-webhook'])) {
        throw new UsageError('--alert-webhook must be an http(s) URL');
    }
    const scenario = loadScenario(ROOT, opts.scenario || DEFAULT_SCENARIO);
    sessionParams(scenario.params);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const old = runningPid(dir);
    if (old) throw new Error(`a devnet is already running from ${dir} (pid ${old}); stop it first`);
    for (const stale of ['devnet.json', 'session.json', 'last-scenario.json']) fs.rmSync(file(dir, stale), { force: true });
    compile(ROOT, cacheDir(dir)); // fail before starting anything

    // From the moment anvil exists, any failure or signal stops it again.
    const pidFile = file(dir, 'anvil.pid');
    let spawned = 0;
    let stopping = false;
    const abort = async () => {
        stopping = true;
        let pid;
        do { // a retry may spawn another anvil while we stop this one
            pid = spawned;
            await stopAnvil(pid, true);
        } while (pid !== spawned);
        fs.rmSync(pidFile, { force: true });
    };
    const onSignal = () => {
        interrupted = true;
        abort().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let info;
    try {
        const anvil = await startAnvil(ROOT, dir, port, (pid) => {
            spawned = pid;
            if (stopping) process.kill(pid, 'SIGKILL');
            else fs.writeFileSync(pidFile, `${pid}\n`);
        });
        info = await deployAndSeed(dir, anvil.port, scenario);
        // DIR/keeper.yaml; it adds metrics_port to info.
        await writeKeeperConfig(dir, info, scenario, opts['alert-webhook']);
        writeJson(file(dir, 'devnet.json'), info);
    } catch (e) {
        await abort();
        throw e;
    }
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
}

async function cmdScenario(argv) {
    const { opts, pos } = parseArgs(argv, ['state-dir', 'speed']);
    if (pos.length !== 1) throw new UsageError('scenario needs exactly one NAME or FILE.csv');
    const dir = stateDirOf(opts);
    const speed = opts.speed === undefined ? 0 : Number(opts.speed);
    if (!Number.isFinite(speed) || speed < 0) throw new UsageError(`bad --speed ${opts.speed}`);
    const sc = loadScenario(ROOT, pos[0]);
    const params = sessionParams(sc.params);
    if (!runningPid(dir)) throw new Error(`no devnet running from ${dir} (run: devnet start --state-dir ${dir})`);
    const info = readJson(file(dir, 'devnet.json'));
    const chain = new Chain(new Rpc(info.rpc_http));
    const c = handles(compile(ROOT, cacheDir(dir)), info.contracts);

    let session = {};
    try { session = readJson(file(dir, 'session.json')); } catch { /* none yet */ }
    if (session.file !== sc.file || !session.fresh) {
        const pop = await newSession(chain, c, sc);
        console.log(`setup scenario=${sc.name} traders=${pop.length} price=${sc.points[0].price}`);
    }
    writeJson(file(dir, 'session.json'), { scenario: sc.name, file: sc.file, fresh: false });
    const sum = await replay(chain, c, sc, params, { speed });
    const asJson = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, typeof v === 'bigint' ? usd(v) : v]));
    writeJson(file(dir, 'last-scenario.json'), asJson);
}

async function cmdStop(argv) {
    const { opts, pos } = parseArgs(argv, ['state-dir']);
    if (pos.length) throw new UsageError(`unexpected argument ${pos[0]}`);
    const dir = stateDirOf(opts);
    const pid = runningPid(dir);
    if (pid) await stopAnvil(pid);
    fs.rmSync(file(dir, 'anvil.pid'), { force: true });
    console.log(pid ? `devnet stopped (pid ${pid})` : 'devnet not running');
}

async function main(argv) {
    const [cmd, ...rest] = argv;
    switch (cmd) {
    case 'start': return cmdStart(rest);
    case 'scenario': return cmdScenario(rest);
    case 'stop': return cmdStop(rest);
    case 'list': console.log(listScenarios(ROOT).join('\n')); return undefined;
    case '-h': case '--help': case 'help': console.log(USAGE); return undefined;
    default: throw new UsageError(cmd ? `unknown command ${cmd}` : 'missing command');
    }
}

main(process.argv.slice(2)).then(() => process.exit(0), (e) => {
    if (interrupted) process.exit(130);
    process.stderr.write(`devnet: error: ${e.message}\n`);
    if (e instanceof UsageError) process.stderr.write(USAGE + '\n');
    process.exit(e instanceof UsageError ? 2 : 1);
});
