"use strict";
// A stand-in for the npm package `isomorphic-ws`, installed in its place through the `overrides`
// field of ../package.json ("isomorphic-ws": "file:./ws-with-session").
//
// Why: @automerge/automerge-repo-network-websocket opens its socket with
// `new WebSocket(url)` imported from "isomorphic-ws" and has no way to pass headers. The Qiao
// relay accepts a websocket upgrade only with a session: the `qiao_session` cookie (browsers) or
// an `Authorization: Bearer <token>` header (scripts). Tokens never travel in URLs.
//
// What: the real isomorphic-ws on Node is `module.exports = require("ws")`. This is the same `ws`
// class, subclassed so that every socket it opens carries `Authorization: Bearer <token>`. The
// stock automerge-repo client code is used unmodified; only the module it gets its WebSocket
// class from is swapped.
//
// Which token:
//   1. the token registered for that exact URL with `setSessionToken(url, token)` — lets several
//      independent Repos in one process connect as different users (give each its own URL, e.g.
//      ws://host/sync?as=alice; the relay ignores the query);
//   2. otherwise process.env.QIAO_TOKEN, read when the socket is created (reconnects included);
//   3. otherwise no header: the relay answers the upgrade with 401.
//
// `WebSocket.sockets` is an EventEmitter that emits "socket" for every socket created, so a
// test can watch close codes and reasons the stock adapter only writes to its debug log.

const { EventEmitter } = require("events");
const WS = require("ws");

const tokens = new Map();
const sockets = new EventEmitter();

function tokenFor(address) {
  const key = String(address);
  if (tokens.has(key)) return tokens.get(key);
  return process.env.QIAO_TOKEN || undefined;
}

class SessionWebSocket extends WS {
  constructor(address, protocols, options) {
    // ws accepts (address, options) as well as (address, protocols, options).
    if (protocols && typeof protocols === "object" && !Array.isArray(protocols)) {
      options = protocols;
      protocols = undefined;
    }
    const token = tokenFor(address);
    const headers = { ...(options && options.headers) };
    if (token && !Object.keys(headers).some(h => h.toLowerCase() === "authorization")) {
      headers.Authorization = `Bearer ${token}`;
    }
    super(address, protocols, { ...options, headers });
    this.qiaoUrl = String(address);
    sockets.emit("socket", this);
  }

  /** Use `token` for sockets opened to exactly `url` (null/undefined: forget it). */
  static setSessionToken(url, token) {
    if (token == null) tokens.delete(String(url));
    else tokens.set(String(url), token);
  }

  static get sockets() {
    return sockets;
  }
}

module.exports = SessionWebSocket;
// Named exports as `ws` has them, for code that imports { WebSocket } from "isomorphic-ws".
module.exports.WebSocket = SessionWebSocket;
module.exports.default = SessionWebSocket;
