'use strict';
// Transactions from anvil's unlocked accounts (dev accounts and
// impersonated traders): one at a time with a clear revert reason, or many
// at once as JSON-RPC batches with explicit nonces, for speed.

const { encodeArgs, revertReason } = require('./rpc');

// Gas for batched txs: anvil would estimate each against a state that the
// batch's earlier txs have not reached yet, so give every tx ample gas.
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

    // Send txs = [{from, to, data, gas?}] in one batch with explicit nonces
    // (per sender, in list order), then wait for every receipt. Returns the
    // receipts in order; a tx rejected before mining yields {error}. Txs of
    // one call must not depend on each other across senders.
    async sendMany(txs) {
        if (txs.length === 0) return [];
        const senders = [...new Set(txs.map((t) => t.from.toLowerCase()))];
        const counts = await this.rpc.batchOk(senders.map((s) => ['eth_getTransactionCount', [s, 'pending']]));
        const nonce = new Map(senders.map((s, i) => [s, BigInt(counts[i])]));
        const reqs = txs.map((t) => {
            const key = t.from.toLowerCase();
            const n = nonce.get(key);
            nonce.set(key, n + 1n);
            const tx = { from: t.from, to: t.to, data: t.data, nonce: '0x' + n.toString(16) };
            tx.gas = '0x' + (t.gas || BATCH_GAS).toString(16);
            return ['eth_sendTransactionSync', [tx]];
        });
        const sent = await this.rpc.batch(reqs);
        return sent.map((s) => (s.error ? { error: describe(s.error) } : s.result));
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
