'use strict';
// Compile tests/contracts/*.sol with the pinned solc-js (no compiler
// download). The output is cached by a hash of the compiler version, the
// settings and the sources, in $KP_DEVNET_CACHE when set (tests share one),
// else in the state directory; a cache file is written atomically so that
// concurrent starts never read half a file.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const SETTINGS = {
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
};

function readSources(dir) {
    const sources = {};
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.sol')).sort()) {
        sources[f] = { content: fs.readFileSync(path.join(dir, f), 'utf8') };
    }
    if (Object.keys(sources).length === 0) throw new Error(`compile: no .sol files in ${dir}`);
    return sources;
}

function solcVersion(root) {
    const pkg = path.join(root, 'node_modules', 'solc', 'package.json');
    return JSON.parse(fs.readFileSync(pkg, 'utf8')).version;
}

function runSolc(root, sources) {
    const solc = require(path.join(root, 'node_modules', 'solc'));
    const input = { language: 'Solidity', sources, settings: SETTINGS };
    const out = JSON.parse(solc.compile(JSON.stringify(input)));
    const errors = (out.errors || []).filter((e) => e.severity === 'error');
    if (errors.length) throw new Error('compile:\n' + errors.map((e) => e.formattedMessage).join('\n'));
    const artifacts = {};
    for (const file of Object.keys(out.contracts)) {
        for (const [name, c] of Object.entries(out.contracts[file])) {
            if (c.evm.bytecode.object) artifacts[name] = { abi: c.abi, bytecode: '0x' + c.evm.bytecode.object };
        }
    }
    return artifacts;
}

// Returns { ContractName: { abi, bytecode } } for every deployable contract.
function compile(root, cacheDir) {
    const sources = readSources(path.join(root, 'tests', 'contracts'));
    const key = crypto.createHash('sha256')
        .update(JSON.stringify({ v: solcVersion(root), s: SETTINGS, sources }))
        .digest('hex').slice(0, 32);
    const file = path.join(cacheDir, `contracts-${key}.json`);
    try {
        return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
        if (e.code !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
    }
    const artifacts = runSolc(root, sources);
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(artifacts));
    fs.renameSync(tmp, file);
    return artifacts;
}

module.exports = { compile };
