#!/usr/bin/env node
/*
 * alert_receiver.js - a local HTTP receiver for the keeper/alert tests.
 *
 * Listens on 127.0.0.1 on a free port, prints "PORT <n>" on stdout, then
 * one JSON line per request it receives, before answering it:
 *
 *   {"seq":1,"t":12.5,"method":"POST","path":"/pd/t1","kind":"pagerduty",
 *    "status":202,"errors":[],"body":{...}}
 *
 * "t" is milliseconds since start; "body" is the parsed JSON (null if it
 * did not parse, then "raw" holds the text). Each request is checked
 * against the documented shape of its API, chosen by the path:
 *
 *   /pd/...     PagerDuty Events API v2 (/v2/enqueue): routing_key,
 *               event_action, dedup_key, and for a trigger the payload's
 *               summary, source, severity, timestamp, custom_details...
 *   /slack/...  Slack incoming webhook: "text", optional Block Kit blocks
 *   /hook/...   the keeper's generic webhook JSON (docs/alerts.md)
 *
 * A request that fails its checks is answered 400 with the errors (as the
 * real services answer a malformed event), else as the real service does
 * (PagerDuty 202 + JSON, Slack 200 "ok", webhook 200). Prefixes script
 * misbehaviour, counted per full path:
 *
 *   /fail/<n>/<code>/...   the first n requests get <code>, then normal
 *   /always/<code>/...     every request gets <code>; the reply echoes
 *                          the path and the body (to test log redaction)
 *   /hang/...              never answered
 *
 * Node's standard library only. Exits on SIGTERM or when stdin closes.
 */
'use strict';

const http = require('http');

const T0 = process.hrtime.bigint();
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ISO8601 =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;
const BODY_MAX = 1024 * 1024;
const PD_BODY_MAX = 512 * 1024; /* "Events API payloads are limited to 512 KB" */

const counts = new Map();
let seq = 0;

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStr = (v) => typeof v === 'string';
const chars = (s) => [...s].length;

function onlyKeys(obj, allowed, where, errs) {
  for (const k of Object.keys(obj))
    if (!allowed.includes(k)) errs.push(`${where}: unknown field "${k}"`);
}

function checkString(v, where, errs, { min = 1, max = Infinity } = {}) {
  if (!isStr(v)) {
    errs.push(`${where}: must be a string`);
    return;
  }
  const n = chars(v);
  if (n < min)
    errs.push(min === 1 ? `${where}: must not be empty`
                        : `${where}: shorter than ${min} characters (${n})`);
  if (n > max) errs.push(`${where}: longer than ${max} characters (${n})`);
}

function checkTimestamp(v, where, errs) {
  if (!isStr(v) || !ISO8601.test(v) || Number.isNaN(Date.parse(v)))
    errs.push(`${where}: must be an ISO 8601 timestamp`);
}

/* PagerDuty Events API v2, "Send an Alert Event". */
function validatePagerDuty(b, raw, errs) {
  if (Buffer.byteLength(raw) > PD_BODY_MAX) errs.push('body: over 512 KB');
  onlyKeys(b, ['routing_key', 'event_action', 'dedup_key', 'payload',
               'images', 'links', 'client', 'client_url'], 'event', errs);
  checkString(b.routing_key, 'routing_key', errs, { min: 32, max: 32 });
  if (!['trigger', 'acknowledge', 'resolve'].includes(b.event_action))
    errs.push('event_action: must be trigger, acknowledge or resolve');
  if (b.dedup_key !== undefined || b.event_action !== 'trigger')
    checkString(b.dedup_key, 'dedup_key', errs, { max: 255 });
  for (const k of ['client', 'client_url'])
    if (b[k] !== undefined) checkString(b[k], k, errs);
  if (b.event_action !== 'trigger') return;
  const p = b.payload;
  if (!isObj(p)) {
    errs.push('payload: required object for a trigger');
    return;
  }
  onlyKeys(p, ['summary', 'source', 'severity', 'timestamp', 'component',
               'group', 'class', 'custom_details'], 'payload', errs);
  checkString(p.summary, 'payload.summary', errs, { max: 1024 });
  checkString(p.source, 'payload.source', errs);
  if (!SEVERITIES.includes(p.severity))
    errs.push('payload.severity: must be critical, error, warning or info');
  if (p.timestamp !== undefined)
    checkTimestamp(p.timestamp, 'payload.timestamp', errs);
  for (const k of ['component', 'group', 'class'])
    if (p[k] !== undefined) checkString(p[k], `payload.${k}`, errs);
  if (p.custom_details !== undefined && !isObj(p.custom_details))
    errs.push('payload.custom_details: must be an object');
}

/* Slack's &, < and > must arrive escaped: the keeper sends no links or
 * mentions, so a bare < or > would be unescaped text (or a "<!channel>"). */
function checkMrkdwn(s, where, errs) {
  if (/[<>]/.test(s)) errs.push(`${where}: unescaped < or >`);
  if (/&(?!amp;|lt;|gt;)/.test(s)) errs.push(`${where}: unescaped &`);
}

function checkTextObject(t, where, errs, max) {
  if (!isObj(t)) {
    errs.push(`${where}: must be a text object`);
    return;
  }
  if (!['mrkdwn', 'plain_text'].includes(t.type))
    errs.push(`${where}.type: must be mrkdwn or plain_text`);
  checkString(t.text, `${where}.text`, errs, { max });
  if (t.type === 'mrkdwn' && isStr(t.text)) checkMrkdwn(t.text, where, errs);
}

function validateBlock(bl, where, errs) {
  if (!isObj(bl)) {
    errs.push(`${where}: must be an object`);
    return;
  }
  if (bl.block_id !== undefined)
    checkString(bl.block_id, `${where}.block_id`, errs, { max: 255 });
  switch (bl.type) {
  case 'section':
    if (bl.text === undefined && bl.fields === undefined)
      errs.push(`${where}: section needs text or fields`);
    if (bl.text !== undefined)
      checkTextObject(bl.text, `${where}.text`, errs, 3000);
    break;
  case 'context':
    if (!Array.isArray(bl.elements) || bl.elements.length < 1 ||
        bl.elements.length > 10)
      errs.push(`${where}.elements: 1 to 10 elements`);
    else
      bl.elements.forEach((e, i) =>
        checkTextObject(e, `${where}.elements[${i}]`, errs, 3000));
    break;
  case 'header':
    checkTextObject(bl.text, `${where}.text`, errs, 150);
    break;
  case 'divider':
    break;
  default:
    errs.push(`${where}.type: unknown block type ${JSON.stringify(bl.type)}`);
  }
}

/* Slack incoming webhook message. */
function validateSlack(b, raw, errs) {
  onlyKeys(b, ['text', 'blocks', 'mrkdwn', 'thread_ts'], 'message', errs);
  checkString(b.text, 'text', errs, { max: 40000 });
  if (isStr(b.text)) checkMrkdwn(b.text, 'text', errs);
  if (b.blocks === undefined) return;
  if (!Array.isArray(b.blocks) || b.blocks.length > 50) {
    errs.push('blocks: must be an array of at most 50 blocks');
    return;
  }
  b.blocks.forEach((bl, i) => validateBlock(bl, `blocks[${i}]`, errs));
}

/* The keeper's generic webhook, version 1 (docs/alerts.md). */
function validateWebhook(b, raw, errs) {
  onlyKeys(b, ['version', 'status', 'key', 'dedup_key', 'severity',
               'summary', 'protocol', 'source', 'details', 'timestamp'],
           'alert', errs);
  if (b.version !== 1) errs.push('version: must be 1');
  if (!['firing', 'resolved', 'event'].includes(b.status))
    errs.push('status: must be firing, resolved or event');
  checkString(b.key, 'key', errs, { max: 512 });
  checkString(b.dedup_key, 'dedup_key', errs, { max: 255 });
  if (!SEVERITIES.includes(b.severity))
    errs.push('severity: must be critical, error, warning or info');
  checkString(b.summary, 'summary', errs, { min: 0, max: 1024 });
  checkString(b.protocol, 'protocol', errs);
  checkString(b.source, 'source', errs);
  checkTimestamp(b.timestamp, 'timestamp', errs);
  if (!isObj(b.details)) {
    errs.push('details: must be an object');
    return;
  }
  for (const [k, v] of Object.entries(b.details))
    if (v !== null && !isStr(v))
      errs.push(`details.${k}: must be a string or null`);
}

const KINDS = {
  pd: ['pagerduty', validatePagerDuty],
  slack: ['slack', validateSlack],
  hook: ['webhook', validateWebhook],
};

/* Strip the scripting prefixes off the path. */
function parseScript(segs) {
  const s = { failN: 0, failCode: 0, always: 0, hang: false };
  for (;;) {
    if (segs[0] === 'fail' && segs.length >= 3) {
      s.failN = Number(segs[1]);
      s.failCode = Number(segs[2]);
      segs = segs.slice(3);
    } else if (segs[0] === 'always' && segs.length >= 2) {
      s.always = Number(segs[1]);
      segs = segs.slice(2);
    } else if (segs[0] === 'hang') {
      s.hang = true;
      segs = segs.slice(1);
    } else {
      return [s, segs];
    }
  }
}

function normalReply(kind, errs, body) {
  if (errs.length > 0) {
    if (kind === 'slack') return [400, 'text/plain', 'invalid_payload'];
    return [400, 'application/json', JSON.stringify({
      status: 'invalid event', message: 'Event object is invalid',
      errors: errs })];
  }
  if (kind === 'pagerduty')
    return [202, 'application/json', JSON.stringify({
      status: 'success', message: 'Event processed',
      dedup_key: body.dedup_key })];
  if (kind === 'slack') return [200, 'text/plain', 'ok'];
  return [200, 'application/json', '{"ok":true}'];
}

function handle(req, raw, res) {
  const url = new URL(req.url, 'http://x');
  const [script, segs] = parseScript(url.pathname.split('/').filter(Boolean));
  const [kind, validate] = KINDS[segs[0]] || ['unknown', null];
  const n = (counts.get(url.pathname) || 0) + 1;
  const errs = [];
  let body = null;

  counts.set(url.pathname, n);
  if (req.method !== 'POST') errs.push(`method: ${req.method}, want POST`);
  if (!/^application\/json\b/.test(req.headers['content-type'] || ''))
    errs.push('content-type: want application/json');
  try {
    body = JSON.parse(raw);
  } catch (e) {
    errs.push(`body: not JSON (${e.message})`);
  }
  if (!validate) errs.push(`path: unknown kind "${segs[0]}"`);
  else if (isObj(body)) validate(body, raw, errs);
  else if (body !== null) errs.push('body: must be a JSON object');

  let [status, type, text] = normalReply(kind, errs, body || {});
  if (script.always)
    [status, type, text] = [script.always, 'text/plain',
                            `${url.pathname} ${raw}`];
  else if (n <= script.failN)
    [status, type, text] = [script.failCode, 'text/plain', 'scripted failure'];

  const rec = {
    seq: ++seq, t: Number(process.hrtime.bigint() - T0) / 1e6,
    method: req.method, path: url.pathname, kind,
    status: script.hang ? 0 : status, errors: errs, body,
  };
  if (body === null) rec.raw = raw;
  process.stdout.write(JSON.stringify(rec) + '\n');
  if (script.hang) return; /* the client's timeout ends it */
  res.writeHead(status, { 'Content-Type': type });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= BODY_MAX) chunks.push(c);
  });
  req.on('end', () => {
    if (size > BODY_MAX) {
      res.writeHead(413).end();
      return;
    }
    handle(req, Buffer.concat(chunks).toString('utf8'), res);
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
