#!/usr/bin/env node
/*
 * tls_server.js - a TLS node for the chain/ TLS tests: JSON-RPC over
 * HTTPS and subscriptions over WSS, on two ports of 127.0.0.1.
 *
 *   node tls_server.js DIR
 *
 * DIR holds good.pem/good.key (a certificate for 127.0.0.1 and localhost)
 * and other.pem/other.key (one for other.example only, from the same CA).
 * The first port serves the good certificate, the second the other one.
 * Prints "PORT <good> <other>" on stdout once both listen, then nothing.
 *
 * HTTPS: a POST of a JSON-RPC request is answered 200 with
 * {"jsonrpc":"2.0","id":<id>,"result":...}: eth_chainId gives "0x7a69",
 * any other method "tls:<method>". Anything else gets 400.
 *
 * WSS (the 'upgrade' event, RFC 6455 by hand: Sec-WebSocket-Accept =
 * base64(sha1(key + GUID)); client frames masked, ours not): a text
 * message eth_subscribe is answered with the subscription id, then one
 * eth_subscription notification is pushed for it. Pings get pongs, a
 * close gets a close.
 *
 * Node's standard library only. Exits on SIGTERM or when stdin closes.
 */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const path = require('path');

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const BODY_MAX = 1024 * 1024;
const SUB_ID = '0x9cef478923ff08bf67fde6c64013158d';

function rpcReply(id, result) {
  return JSON.stringify({ jsonrpc: '2.0', id, result });
}

function onRequest(req, res) {
  const chunks = [];
  let size = 0;

  req.on('data', (c) => {
    size += c.length;
    if (size > BODY_MAX) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    let msg = null;

    try {
      msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      msg = null;
    }
    if (req.method !== 'POST' || msg === null || typeof msg.method !== 'string') {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('bad request\n');
      return;
    }
    const result = msg.method === 'eth_chainId' ? '0x7a69' : `tls:${msg.method}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(rpcReply(msg.id, result));
  });
}

/* ---- WebSocket ---------------------------------------------------------- */

function frame(opcode, payload) {
  const len = payload.length;
  let head;

  if (len < 126) {
    head = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/* One frame from the front of buf: {fin, opcode, payload, used}, or null
 * if incomplete. Throws on a frame the client must not send. */
function parseFrame(buf) {
  if (buf.length < 2) return null;
  const fin = (buf[0] & 0x80) !== 0;
  const opcode = buf[0] & 0x0f;
  if ((buf[1] & 0x80) === 0) throw new Error('unmasked client frame');
  let len = buf[1] & 0x7f;
  let off = 2;

  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    const big = buf.readBigUInt64BE(2);
    if (big > BigInt(BODY_MAX)) throw new Error('frame too large');
    len = Number(big);
    off = 10;
  }
  if (len > BODY_MAX) throw new Error('frame too large');
  if (buf.length < off + 4 + len) return null;
  const mask = buf.subarray(off, off + 4);
  const payload = Buffer.alloc(len);
  for (let i = 0; i < len; i++) payload[i] = buf[off + 4 + i] ^ mask[i & 3];
  return { fin, opcode, payload, used: off + 4 + len };
}

function onText(socket, text) {
  let msg;

  try {
    msg = JSON.parse(text);
  } catch (e) {
    return;
  }
  if (msg.method !== 'eth_subscribe') {
    socket.write(frame(1, Buffer.from(rpcReply(msg.id, `tls:${msg.method}`))));
    return;
  }
  socket.write(frame(1, Buffer.from(rpcReply(msg.id, SUB_ID))));
  const note = {
    jsonrpc: '2.0',
    method: 'eth_subscription',
    params: { subscription: SUB_ID, result: { number: '0x2a' } },
  };
  socket.write(frame(1, Buffer.from(JSON.stringify(note))));
}

/* Returns: false once the connection is to be dropped. */
function onFrame(socket, st, f) {
  switch (f.opcode) {
    case 0x0: /* continuation */
    case 0x1: /* text */
      st.parts.push(f.payload);
      if (f.fin) {
        onText(socket, Buffer.concat(st.parts).toString('utf8'));
        st.parts = [];
      }
      return true;
    case 0x8:
      socket.end(frame(0x8, Buffer.alloc(0)));
      return false;
    case 0x9:
      socket.write(frame(0xa, f.payload));
      return true;
    case 0xa:
      return true;
    default:
      socket.destroy();
      return false;
  }
}

function onUpgrade(req, socket) {
  const key = req.headers['sec-websocket-key'];

  if (!key || (req.headers.upgrade || '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  const st = { buf: Buffer.alloc(0), parts: [] };
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    st.buf = Buffer.concat([st.buf, chunk]);
    try {
      for (let f; (f = parseFrame(st.buf)) !== null; ) {
        st.buf = st.buf.subarray(f.used);
        if (!onFrame(socket, st, f)) return;
      }
    } catch (e) {
      socket.destroy();
    }
  });
}

/* ---- main --------------------------------------------------------------- */

function serve(dir, name) {
  const server = https.createServer(
    {
      cert: fs.readFileSync(path.join(dir, `${name}.pem`)),
      key: fs.readFileSync(path.join(dir, `${name}.key`)),
    },
    onRequest,
  );
  server.on('upgrade', onUpgrade);
  /* A client that refuses our certificate is what the tests expect. */
  server.on('tlsClientError', () => {});
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function main() {
  const dir = process.argv[2];

  if (!dir) {
    process.stderr.write('usage: tls_server.js DIR\n');
    process.exit(2);
  }
  const good = await serve(dir, 'good');
  const other = await serve(dir, 'other');
  process.stdout.write(`PORT ${good} ${other}\n`);
}

process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
main().catch((e) => {
  process.stderr.write(`tls_server: ${e.message}\n`);
  process.exit(1);
});
