// A qiao-server process for browser tests: free loopback port, temporary data dir, the built app
// from <repo>/dist, a known admin password. start / stop (graceful) / kill (-9) / restart keep
// the same port and data dir, so open pages can reconnect to "the same server".
//
//   const server = new QiaoServer();          // or t.startServer() inside a spec
//   await server.start();                     // first start creates admin + "综合 General"
//   await server.addUser("bob", "bobpassword1", "Bob", "employee");
//   await server.kill(); await server.start(); // crash and come back with the same data
//   await server.cleanup();                   // stop and delete the data dir
//
// Environment: QIAO_BIN (server binary, default <repo>/target/debug/qiao-server),
// QIAO_E2E_DIST_DIR (built app, default <repo>/dist). Other QIAO_* variables of the calling shell
// are not passed to the server, so a developer's settings cannot change what a test sees.

import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const DEFAULT_BIN = path.resolve(REPO_ROOT, process.env.QIAO_BIN || "target/debug/qiao-server");
export const DEFAULT_DIST = path.resolve(REPO_ROOT, process.env.QIAO_E2E_DIST_DIR || "dist");
export const DEFAULT_ADMIN_PASSWORD = "admin-e2e-password";

const sleep = ms => new Promise(r => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function serverEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("QIAO_")) delete env[k];
  return { ...env, ...extra };
}

export class QiaoServer {
  /**
   * @param {object} [o]
   * @param {string} [o.bin] server binary
   * @param {string|null} [o.distDir] the built app; null: API only (no --dist-dir)
   * @param {string} [o.adminPassword]
   * @param {string} [o.dataDir] default: a new temporary directory, deleted by cleanup()
   * @param {number} [o.port] default: a free port, kept across restarts
   * @param {string[]} [o.args] extra `serve` flags (e.g. ["--max-frame-bytes", "65536"])
   * @param {object} [o.env] extra environment (e.g. { RUST_LOG: "qiao_server=debug" })
   */
  constructor(o = {}) {
    this.bin = o.bin || DEFAULT_BIN;
    this.distDir = o.distDir === undefined ? DEFAULT_DIST : o.distDir;
    this.adminPassword = o.adminPassword || DEFAULT_ADMIN_PASSWORD;
    this.ownsDataDir = !o.dataDir;
    this.dataDir = o.dataDir || mkdtempSync(path.join(tmpdir(), "qiao-e2e-"));
    this.port = o.port || null;
    this.args = o.args || [];
    this.env = o.env || {};
    this.proc = null;
    this.started = 0; // how many times start() succeeded
    this.output = []; // the last lines of stdout+stderr, across restarts
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }
  /** Absolute URL on this server. */
  url(p = "/") {
    return new URL(p, this.base).toString();
  }
  get running() {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }
  get pid() {
    return this.proc ? this.proc.pid : null;
  }

  #keep(prefix, data) {
    for (const line of data.toString().split("\n")) if (line) this.output.push(`${prefix}${line}`);
    if (this.output.length > 2000) this.output.splice(0, this.output.length - 2000);
  }

  /** Start (or start again) and wait until /api/health answers. */
  async start({ timeoutMs = 20_000 } = {}) {
    if (this.running) throw new Error("server already running");
    if (!existsSync(this.bin)) throw new Error(`no server binary at ${this.bin}: run \`cargo build -p qiao-server\` or set QIAO_BIN`);
    if (!this.port) this.port = await freePort();
    const end = Date.now() + timeoutMs;
    for (;;) {
      const args = ["serve", "--addr", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir, "--admin-password", this.adminPassword];
      if (this.distDir) args.push("--dist-dir", this.distDir);
      args.push(...this.args);
      this.#keep("# ", `--- start #${this.started + 1}: ${this.bin} ${args.join(" ")}`);
      const proc = spawn(this.bin, args, { stdio: ["ignore", "pipe", "pipe"], env: serverEnv(this.env) });
      this.proc = proc;
      proc.stdout.on("data", d => this.#keep("", d));
      proc.stderr.on("data", d => this.#keep("", d));
      proc.exited = new Promise(r => proc.once("exit", (code, signal) => r({ code, signal })));
      const up = await this.#waitHealthy(proc, end);
      if (up === true) {
        this.started++;
        return this;
      }
      await Promise.race([proc.exited, sleep(500)]); // let its last words arrive
      // After a kill the old socket may linger for a moment: retry "address in use" until the deadline.
      const inUse = this.output.slice(-5).some(l => /address already in use|AddrInUse/i.test(l));
      if (!(inUse && Date.now() < end)) {
        if (this.running) proc.kill("SIGKILL");
        throw new Error(`qiao-server did not come up (${up}). Last output:\n${this.output.slice(-20).join("\n")}`);
      }
      await sleep(200);
    }
  }

  async #waitHealthy(proc, end) {
    while (Date.now() < end) {
      if (proc.exitCode !== null || proc.signalCode !== null) return `exited with ${proc.exitCode ?? proc.signalCode}`;
      try {
        const r = await fetch(`${this.base}/api/health`, { signal: AbortSignal.timeout(1000) });
        if (r.ok && proc.exitCode === null) return true;
      } catch {
        /* not yet */
      }
      await sleep(50);
    }
    return "timed out waiting for /api/health";
  }

  /** Graceful stop (SIGINT, as Ctrl-C), SIGKILL after `graceMs`. */
  async stop({ graceMs = 5000 } = {}) {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGINT");
    const done = await Promise.race([proc.exited, sleep(graceMs).then(() => null)]);
    if (!done) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }

  /** kill -9: no shutdown of any kind. The data dir stays, so start() brings it back. */
  async kill() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGKILL");
    await proc.exited;
  }

  /** Stop (or kill -9 with { hard: true }) and start again on the same port and data dir. */
  async restart({ hard = false, downMs = 0 } = {}) {
    if (hard) await this.kill();
    else await this.stop();
    if (downMs) await sleep(downMs);
    return this.start();
  }

  /**
   * Provision a user through the CLI (`qiao-server user add`). Call it after the first start():
   * the first start creates the admin and the General channel only while there are no users.
   */
  addUser(username, password, name = username, role = "employee") {
    if (!this.started) {
      return Promise.reject(new Error("addUser before the first start() would stop the server from creating admin and the General channel"));
    }
    const args = ["user", "add", "--data-dir", this.dataDir, "--username", username, "--password", password, "--name", name, "--role", role];
    return new Promise((resolve, reject) => {
      execFile(this.bin, args, { timeout: 30_000, env: serverEnv({}) }, (err, stdout, stderr) => {
        if (err) reject(new Error(`user add ${username} failed: ${(stderr || err.message).trim()}`));
        else {
          const m = /\(id (\d+)\)/.exec(stdout);
          resolve({ username, password, name, role, id: m ? Number(m[1]) : undefined });
        }
      });
    });
  }

  /** A JSON request to the API. Throws with status and body on a non-2xx answer. */
  async api(method, p, { token, body, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    if (body !== undefined) h["Content-Type"] = "application/json";
    const r = await fetch(this.url(p), { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) {
      const e = new Error(`${method} ${p} → ${r.status} ${text}`);
      e.status = r.status;
      throw e;
    }
    return text ? JSON.parse(text) : null;
  }

  /** Log in through the API: { token, expires_at, user }. */
  login(username, password) {
    return this.api("POST", "/api/auth/login", { body: { username, password } });
  }

  saveLog(file) {
    writeFileSync(file, this.output.join("\n") + "\n");
  }

  /** Stop and delete the data dir (only one this object created, and not with { keepData }). */
  async cleanup({ keepData = false } = {}) {
    await this.stop({ graceMs: 2000 });
    if (this.ownsDataDir && !keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
