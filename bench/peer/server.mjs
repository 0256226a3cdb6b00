// The peer Qiao's relay is benchmarked against: a stock automerge-repo sync server, built like
// automerge/automerge-repo-sync-server (src/server.js) — a Repo with NodeWSServerAdapter and
// NodeFSStorageAdapter, sharePolicy false ("we only sync documents they already know about and
// can ask for by ID") — on plain node:http instead of express, since it serves nothing else.
//
//   node server.mjs --port 3030 --data-dir /tmp/peer-data [--host 127.0.0.1] [--share-policy true]
//
// Started and stopped by qiao-bench (scripts/bench.sh). GET / answers "ok" once listening.
// SIGINT/SIGTERM flush every document to storage (at most 10 s), then exit 0.

import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import { WebSocketServer } from "ws";
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";

function args(argv) {
  const out = { port: 3030, host: "127.0.0.1", dataDir: ".amrg", sharePolicy: false };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    if (k === "--port") out.port = parseInt(v, 10);
    else if (k === "--host") out.host = v;
    else if (k === "--data-dir") out.dataDir = v;
    else if (k === "--share-policy") out.sharePolicy = v === "true";
    else throw new Error(`unknown option ${k}`);
  }
  return out;
}

const opts = args(process.argv.slice(2));
fs.mkdirSync(opts.dataDir, { recursive: true });

const wss = new WebSocketServer({ noServer: true });
const repo = new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(opts.dataDir),
  peerId: `storage-server-${os.hostname()}`,
  sharePolicy: async () => opts.sharePolicy,
});

const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("ok\n");
});
server.on("upgrade", (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, ws => wss.emit("connection", ws, request));
});
server.listen(opts.port, opts.host, () => {
  console.log(`automerge-repo peer listening on http://${opts.host}:${opts.port}/ (data in ${opts.dataDir})`);
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: flushing documents`);
  server.close();
  const flush = repo.flush().catch(e => console.log(`flush failed: ${e && e.message ? e.message : e}`));
  await Promise.race([flush, new Promise(r => setTimeout(r, 10_000))]);
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
