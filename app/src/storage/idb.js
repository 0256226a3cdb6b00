// IndexedDB for Qiao's documents, used from Rust through wasm-bindgen (storage/idb.rs).
//
// One object store, `chunks`: {key, doc, bytes}. Every write appends a new chunk under a fresh
// key, so two tabs writing the same document never overwrite each other. Compaction replaces the
// chunks it read with one snapshot in a single transaction; chunks written meanwhile by another
// tab are not among those it deletes, so nothing is lost. A BroadcastChannel tells other tabs of
// the app which chunk was just written.

const DB_NAME = "qiao";
const DB_VERSION = 1;
let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("chunks")) {
          const s = db.createObjectStore("chunks", { keyPath: "key" });
          s.createIndex("doc", "doc", { unique: false });
        }
      };
      req.onsuccess = () => {
        const db = req.result;
        // Another tab upgraded or deleted the database: let go so it can proceed.
        db.onversionchange = () => { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = () => { dbPromise = null; reject(req.error); };
    });
  }
  return dbPromise;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function newChunkKey(doc) {
  const rand = crypto.getRandomValues(new Uint32Array(2));
  return `${doc}:${Date.now().toString(36).padStart(9, "0")}-${rand[0].toString(36)}${rand[1].toString(36)}`;
}

export async function putChunk(doc, key, bytes) {
  const db = await openDb();
  const tx = db.transaction("chunks", "readwrite");
  tx.objectStore("chunks").put({ key, doc, bytes });
  await done(tx);
}

/** All chunks of a document as [[key, bytes], ...] in key order. */
export async function loadChunks(doc) {
  const db = await openDb();
  const tx = db.transaction("chunks", "readonly");
  const rows = await request(tx.objectStore("chunks").index("doc").getAll(IDBKeyRange.only(doc)));
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return rows.map((r) => [r.key, r.bytes]);
}

export async function getChunk(key) {
  const db = await openDb();
  const tx = db.transaction("chunks", "readonly");
  const row = await request(tx.objectStore("chunks").get(key));
  return row ? row.bytes : null;
}

/** Put `snapshot` under `newKey` and delete `oldKeys`, atomically. */
export async function replaceChunks(doc, newKey, snapshot, oldKeys) {
  const db = await openDb();
  const tx = db.transaction("chunks", "readwrite");
  const s = tx.objectStore("chunks");
  s.put({ key: newKey, doc, bytes: snapshot });
  for (const k of oldKeys) s.delete(k);
  await done(tx);
}

/** Delete every chunk of one document (access to it was withdrawn). */
export async function deleteDoc(doc) {
  const db = await openDb();
  const tx = db.transaction("chunks", "readwrite");
  const index = tx.objectStore("chunks").index("doc");
  const req = index.openKeyCursor(IDBKeyRange.only(doc));
  req.onsuccess = () => {
    const cursor = req.result;
    if (cursor) {
      tx.objectStore("chunks").delete(cursor.primaryKey);
      cursor.continue();
    }
  };
  await done(tx);
}

export async function clearAll() {
  const db = await openDb();
  const tx = db.transaction("chunks", "readwrite");
  tx.objectStore("chunks").clear();
  await done(tx);
}

/** Run `fn` (returning a promise) holding the named Web Lock, or skip it (resolve false) when
 *  another tab holds it. Without Web Locks (old browsers) it just runs. */
export async function withLockIfAvailable(name, fn) {
  if (!navigator.locks) { await fn(); return true; }
  return navigator.locks.request(name, { ifAvailable: true }, async (lock) => {
    if (!lock) return false;
    await fn();
    return true;
  });
}

let channel = null;
export function announceChunk(doc, key) {
  if (!channel) channel = new BroadcastChannel("qiao-chunks");
  channel.postMessage({ doc, key });
}

/** Call `cb(doc, key)` for chunks other tabs write. */
export function onForeignChunk(cb) {
  const c = new BroadcastChannel("qiao-chunks");
  c.onmessage = (ev) => { if (ev.data && ev.data.doc && ev.data.key) cb(ev.data.doc, ev.data.key); };
}
