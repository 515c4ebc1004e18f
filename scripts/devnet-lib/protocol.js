'use strict';
// The reference protocol on the devnet: who is who, deployment and wiring,
// and handles on the deployed contracts.

const { Contract } = require('./rpc');

const USD = 1000000n; // 6 decimals
const PRICE_DECIMALS = 8;
const MAX_UINT = (1n << 256n) - 1n;

// Anvil's well-known dev accounts (mnemonic "test test ... junk"). Only the
// keeper's key is ever written out (to the 0600 key file); the others send
// through anvil's unlocked accounts.
const ACCOUNTS = {
    admin: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', // deployer, oracle, fee collector
    keeper: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    lp: '0x90F79bf6EB2c4f870365E785982E1f101E93b906', // backstop pool LP
    // The market's liquidation bots (dev accounts 2 and 4-9).
    liquidators: [
        '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65',
        '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc', '0x976EA74026E726554dB657fA54763abd0C3a0aa9',
        '0x14dC79964da2C08b23698B3D3cc7Ca32193d9955', '0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f',
        '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720',
    ],
};
const KEEPER_DEV_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

// Reserve thresholds and capital, in whole USD (documented in docs/devnet.md).
const CAPITAL = {
    reserveTarget: 2000000n,
    reserveCritical: 1000000n,
    reserveDepletion: 250000n,
    backstopPool: 5000000n,
    vault: 200000000n, // clearinghouse's own liquidity (counterparty of all trades)
};

const ROLE_KEEPER = '0x' + require('./keccak').keccak256(Buffer.from('KEEPER_ROLE'));

function handles(artifacts, addrs) {
    return {
        usd: new Contract('MockUSD', artifacts.MockUSD.abi, addrs.usd),
        feed: new Contract('PriceFeed', artifacts.PriceFeed.abi, addrs.feed),
        clearinghouse: new Contract('Clearinghouse', artifacts.Clearinghouse.abi, addrs.clearinghouse),
        reserve: new Contract('ReserveFund', artifacts.ReserveFund.abi, addrs.reserve),
        backstop: new Contract('BackstopPool', artifacts.BackstopPool.abi, addrs.backstop),
    };
}

async function deployAll(chain, artifacts, price8) {
    const { admin } = ACCOUNTS;
    const d = (name, args) => chain.deploy(admin, artifacts[name], args, name);
    const addrs = {};
    addrs.usd = await d('MockUSD', [admin]);
    addrs.feed = await d('PriceFeed', [admin, PRICE_DECIMALS, 'DEVNET / USD', price8]);
    addrs.reserve = await d('ReserveFund', [admin, addrs.usd, CAPITAL.reserveTarget * USD,
        CAPITAL.reserveCritical * USD, CAPITAL.reserveDepletion * USD]);
    addrs.clearinghouse = await d('Clearinghouse', [admin, addrs.usd, addrs.feed, addrs.reserve]);
    addrs.backstop = await d('BackstopPool', [admin, addrs.usd, addrs.reserve]);
    return addrs;
}

async function wire(chain, c) {
    const { admin, keeper, lp } = ACCOUNTS;
    const tx = (from, contract, name, ...args) => ({ from, to: contract.address, data: contract.data(name, ...args) });
    await chain.sendAll([
        tx(admin, c.reserve, 'setClearinghouse', c.clearinghouse.address),
        tx(admin, c.clearinghouse, 'grantRole', ROLE_KEEPER, keeper),
        tx(admin, c.backstop, 'grantRole', ROLE_KEEPER, keeper),
        tx(admin, c.usd, 'approve', c.clearinghouse.address, MAX_UINT),
        tx(admin, c.usd, 'approve', c.reserve.address, MAX_UINT),
        tx(lp, c.usd, 'approve', c.backstop.address, MAX_UINT),
    ], 'wiring');
}

// Deploy and wire the protocol with the feed at price8. Returns the handles.
async function deployProtocol(chain, artifacts, price8) {
    const addrs = await deployAll(chain, artifacts, price8);
    const c = handles(artifacts, addrs);
    await wire(chain, c);
    return c;
}

// Set the reserve to exactly `reserveStart` USD (settling uncovered debt
// first) and top up the backstop pool to its capital: the venue as it
// stood before the session's market moves.
async function recapitalise(chain, c, reserveStart) {
    const { admin, lp } = ACCOUNTS;
    const [bal, debt, avail] = await chain.views([
        [c.reserve, 'balance'], [c.reserve, 'uncoveredDebt'], [c.backstop, 'available']]);
    const txs = [];
    if (reserveStart > bal || debt > 0n) {
        const add = reserveStart - bal + debt;
        txs.push([admin, c.usd, 'mint', admin, add], [admin, c.reserve, 'fund', add]);
    } else if (bal > reserveStart) {
        txs.push([admin, c.reserve, 'withdraw', admin, bal - reserveStart]);
    }
    const poolCap = CAPITAL.backstopPool * USD;
    if (avail < poolCap) {
        txs.push([admin, c.usd, 'mint', lp, poolCap - avail], [lp, c.backstop, 'deposit', poolCap - avail]);
    }
    // One at a time: the LP's deposit needs the admin's mint first.
    for (const [from, contract, name, ...args] of txs) {
        await chain.send(from, contract.address, contract.data(name, ...args), `recapitalise: ${name}`);
    }
}

module.exports = { USD, PRICE_DECIMALS, ACCOUNTS, KEEPER_DEV_KEY, CAPITAL, handles, deployProtocol, recapitalise };
