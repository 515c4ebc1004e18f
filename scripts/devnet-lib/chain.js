'use strict';
// Transactions from anvil's unlocked accounts (dev accounts and
// impersonated traders): one at a time with a clear revert reason, or many
// at once as JSON-RPC batches, for speed. Both wait for the receipt
// (eth_sendTransactionSync).

const { encodeArgs, revertReason } = require('./rpc');

// Gas for batched txs: ample, so that anvil skips estimating each one.
const BATCH_GAS = 1000000n;

function describe(err) {
    const data = err && err.data;
    const reason = revertReason(typeof data === 'string' ? data : data && data.data);
    return reason ? `${err.message} (${reason})` : (err && err.message) || String(err);
}

class Chain {
    constructor(rpc) {
        this.rpc = rpc;
    }

    async view(contract, name, ...args) {
        const out = await this.rpc.call('eth_call', [{ to: contract.address, data: contract.data(name, ...args) }, 'latest']);
        return contract.decode(name, out);
    }

    // Many eth_calls in one batch: calls = [[contract, name, ...args], ...].
    async views(calls) {
        const reqs = calls.map(([c, name, ...args]) => ['eth_call', [{ to: c.address, data: c.data(name, ...args) }, 'latest']]);
        const outs = await this.rpc.batchOk(reqs);
        return outs.map((out, i) => calls[i][0].decode(calls[i][1], out));
    }

    // Send one transaction and wait for its receipt. Throws with the revert
    // reason when it would fail (anvil estimates gas first).
    async send(from, to, data, what) {
        let receipt;
        try {
            receipt = await this.rpc.call('eth_sendTransactionSync', [{ from, to, data }]);
        } catch (e) {
            throw new Error(`${what || 'transaction'} failed: ${describe(e.rpc || e)}`);
        }
        if (receipt.status !== '0x1') throw new Error(`${what || 'transaction'} reverted (${receipt.transactionHash})`);
        return receipt;
    }

    // Send txs = [{from, to, data, gas?}] fast, and return their receipts in
    // order ({error} for a tx refused before mining). Txs go in rounds, one
    // JSON-RPC batch each, holding at most one tx per sender: anvil can
    // strand a tx whose nonce arrives while its predecessor is being mined.
    // A sender's txs run in list order; txs of different senders must not
    // depend on each other.
    async sendMany(txs) {
        const queues = new Map();
        txs.forEach((t, i) => {
            const key = t.from.toLowerCase();
            if (!queues.has(key)) queues.set(key, []);
            queues.get(key).push(i);
        });
        const out = new Array(txs.length);
        for (let round = 0; ; round++) {
            const ids = [...queues.values()].filter((q) => round < q.length).map((q) => q[round]);
            if (ids.length === 0) return out;
            const reqs = ids.map((i) => {
                const t = txs[i];
                const gas = '0x' + (t.gas || BATCH_GAS).toString(16);
                return ['eth_sendTransactionSync', [{ from: t.from, to: t.to, data: t.data, gas }]];
            });
            const sent = await this.rpc.batch(reqs);
            sent.forEach((r, k) => { out[ids[k]] = r.error ? { error: describe(r.error) } : r.result; });
        }
    }

    // Like sendMany, but every tx must succeed.
    async sendAll(txs, what) {
        const receipts = await this.sendMany(txs);
        receipts.forEach((r, i) => {
            if (r.error || r.status !== '0x1') {
                throw new Error(`${what}: tx ${i + 1}/${txs.length} failed: ${r.error || 'reverted ' + r.transactionHash}`);
            }
        });
        return receipts;
    }

    async deploy(from, artifact, args, name) {
        const ctor = artifact.abi.find((i) => i.type === 'constructor');
        const types = ctor ? ctor.inputs.map((p) => p.type) : [];
        const data = artifact.bytecode + encodeArgs(types, args);
        const receipt = await this.send(from, undefined, data, `deploy ${name}`);
        return receipt.contractAddress;
    }
}

module.exports = { Chain };
