'use strict';
// Formatting for the demo's terminal output: amounts, prices, times, tiers,
// colours (only on a terminal, and never with NO_COLOR).

const COLOR = process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
const SGR = { reset: 0, bold: 1, dim: 2, red: 31, green: 32, yellow: 33, magenta: 35, cyan: 36 };

function paint(style, text) {
    if (!COLOR || !style) return text;
    const codes = style.split(' ').map((s) => SGR[s]).join(';');
    return `\x1b[${codes}m${text}\x1b[0m`;
}

// Base units (BigInt) of a `decimals`-token to a Number of whole tokens,
// for display and charts only (totals stay BigInt).
function units(v, decimals = 6) {
    const d = 10n ** BigInt(decimals);
    return Number(v / d) + Number(v % d) / Number(d);
}

// 1234567.8 -> "1,234,568"
function usd(n) {
    if (n === null || n === undefined || !Number.isFinite(n)) return '?';
    return Math.round(n).toLocaleString('en-US');
}

// 2120000 -> "2.12M", 434000 -> "434k"
function usdShort(n) {
    const a = Math.abs(n);
    if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
    if (a >= 1e3) return `${(n / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
    return `${Math.round(n)}`;
}

// Prices: two decimals from 1 up, four significant digits below.
function price(p) {
    if (!Number.isFinite(p)) return '?';
    if (p >= 1) return p.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return p.toPrecision(4);
}

// Seconds since the scenario's start: "+14h", "+13h30".
function when(t) {
    const h = Math.floor(t / 3600);
    const m = Math.floor((t % 3600) / 60);
    return m ? `+${h}h${String(m).padStart(2, '0')}` : `+${h}h`;
}

function shortHash(h) {
    return typeof h === 'string' && h.length > 14 ? `${h.slice(0, 8)}…${h.slice(-4)}` : String(h || '');
}

const TIER_STYLE = { T1: 'green', amber: 'yellow', T2: 'magenta', T3: 'red bold' };

function tier(t) {
    const s = t || '-';
    return paint(TIER_STYLE[s], s.padEnd(5));
}

// Pad a string that may hold colour codes to a visible width.
function pad(s, width, right = false) {
    // eslint-disable-next-line no-control-regex
    const visible = s.replace(/\x1b\[[0-9;]*m/g, '').length;
    const fill = ' '.repeat(Math.max(0, width - visible));
    return right ? fill + s : s + fill;
}

module.exports = { paint, units, usd, usdShort, price, when, shortHash, tier, pad, COLOR };
