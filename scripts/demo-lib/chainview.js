'use strict';
// What the demo reads from the devnet's chain: the keeper's actions as the
// protocol recorded them (BackstopInjected, ClawbackTriggered), the feed's
// rounds, and the reserve's state at any block. Plain JSON-RPC through the
// devnet's own client; amounts stay BigInt.

const { Rpc } = require('../devnet-lib/rpc');
const { keccak256 } = require('../devnet-lib/keccak');

const topic = (sig) => '0x' + keccak256(Buffer.from(sig));
const T_INJECT = topic('BackstopInjected(uint256,uint256)');
const T_CLAWBACK = topic('ClawbackTriggered(uint256,uint256)');
const T_ANSWER = topic('AnswerUpdated(int256,uint256,uint256)');
const sel = (sig) => '0x' + keccak256(Buffer.from(sig)).slice(0, 8);
const CALLS = {
    balance: sel('balance()'),
    uncovered: sel('uncoveredDebt()'),
    target: sel('targetBalance()'),
    critical: sel('criticalThreshold()'),
    depletion: sel('depletionThreshold()'),
    available: sel('available()'),
};

const hexNum = (h) => Number(BigInt(h));
const word = (data, i) => BigInt('0x' + data.slice(2 + 64 * i, 66 + 64 * i));

class ChainView {
    constructor(info) {
        this.rpc = new Rpc(info.rpc_http);
        this.c = info.contracts;
    }

    async head() {
        return hexNum(await this.rpc.call('eth_blockNumber'));
    }

    // In blocks [from, to], in chain order: the keeper's actions
    // ({ kind: 'inject'|'clawback', amount, extra: reserveAfter or
    // haircutBps }) and the feed's price updates ({ kind: 'price' }), each
    // with tx, block and index.
    async logs(from, to) {
        if (to < from) return [];
        const logs = await this.rpc.call('eth_getLogs', [{
            fromBlock: '0x' + from.toString(16), toBlock: '0x' + to.toString(16),
            address: [this.c.backstop, this.c.clearinghouse, this.c.feed],
            topics: [[T_INJECT, T_CLAWBACK, T_ANSWER]],
        }]);
        const kinds = { [T_INJECT]: 'inject', [T_CLAWBACK]: 'clawback', [T_ANSWER]: 'price' };
        return logs.map((l) => ({
            kind: kinds[l.topics[0]],
            amount: l.topics[0] === T_ANSWER ? 0n : word(l.data, 0),
            extra: l.topics[0] === T_ANSWER ? 0n : word(l.data, 1),
            tx: l.transactionHash,
            block: hexNum(l.blockNumber),
            index: hexNum(l.logIndex),
        })).sort((a, b) => a.block - b.block || a.index - b.index);
    }

    // Blocks of the feed's price updates in [from, latest].
    async feedBlocks(from) {
        const logs = await this.rpc.call('eth_getLogs', [{
            fromBlock: '0x' + from.toString(16), toBlock: 'latest', address: this.c.feed, topics: [T_ANSWER],
        }]);
        return logs.map((l) => hexNum(l.blockNumber));
    }

    // The reserve's levels (constant in a replay).
    async levels() {
        const r = this.c.reserve;
        const out = await this.rpc.batchOk(['target', 'critical', 'depletion'].map((k) =>
            ['eth_call', [{ to: r, data: CALLS[k] }, 'latest']]));
        return { target: BigInt(out[0]), critical: BigInt(out[1]), depletion: BigInt(out[2]) };
    }

    // Reserve balance, uncovered debt and pool capital now.
    async now() {
        const out = await this.rpc.batchOk([
            ['eth_call', [{ to: this.c.reserve, data: CALLS.balance }, 'latest']],
            ['eth_call', [{ to: this.c.reserve, data: CALLS.uncovered }, 'latest']],
            ['eth_call', [{ to: this.c.backstop, data: CALLS.available }, 'latest']],
        ]);
        return { reserve: BigInt(out[0]), uncovered: BigInt(out[1]), pool: BigInt(out[2]) };
    }

    // Every block in [from, to] with its timestamp, reserve balance and
    // uncovered debt: the chart's exact path (a few hundred blocks).
    async history(from, to) {
        const reqs = [];
        for (let b = from; b <= to; b++) {
            const tag = '0x' + b.toString(16);
            reqs.push(['eth_getBlockByNumber', [tag, false]],
                ['eth_call', [{ to: this.c.reserve, data: CALLS.balance }, tag]],
                ['eth_call', [{ to: this.c.reserve, data: CALLS.uncovered }, tag]]);
        }
        const out = await this.rpc.batchOk(reqs);
        const rows = [];
        for (let i = 0; i < out.length; i += 3) {
            rows.push({
                block: from + i / 3,
                time: hexNum(out[i].timestamp),
                reserve: BigInt(out[i + 1]),
                uncovered: BigInt(out[i + 2]),
            });
        }
        return rows;
    }
}

module.exports = { ChainView };
