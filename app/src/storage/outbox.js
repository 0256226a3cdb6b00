// The file outbox: files chosen for upload, kept in IndexedDB (as Blobs) until their message is
// sent, so a file queued offline or half uploaded survives a reload or a closed browser. A
// separate database from the documents' (`qiao`), so neither's upgrades wait on the other.
//
// Records: {key, channel, name, size, mime, blob, created, uploadId?, sha256?, thumb?, file?}.
// Also the browser-side helpers an upload needs: SHA-256 of a Blob and an image thumbnail.

const DB_NAME = "qiao-files";
let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore("outbox", { keyPath: "key" });
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = () => { dbPromise = null; reject(req.error); };
    });
  }
  return dbPromise;
}

function run(mode, f) {
  return openDb().then(db => new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", mode);
    let result;
    const req = f(tx.objectStore("outbox"));
    if (req) req.onsuccess = () => { result = req.result; };
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  }));
}

export function putItem(item) { return run("readwrite", s => s.put(item)); }
export function listItems() {
  return run("readonly", s => s.getAll()).then(rows => (rows || []).sort((a, b) => a.created - b.created));
}
export function deleteItem(key) { return run("readwrite", s => s.delete(key)); }
/** Merge `patch` (a plain object) into the record under `key`. */
export function patchItem(key, patch) {
  return openDb().then(db => new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", "readwrite");
    const store = tx.objectStore("outbox");
    const get = store.get(key);
    get.onsuccess = () => { if (get.result) store.put(Object.assign(get.result, patch)); };
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  }));
}
export function clearAll() {
  dbPromise = null;
  return new Promise(resolve => {
    const req = indexedDB.deleteDatabase(DB_NAME);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

/** SHA-256 of a Blob, lowercase hex. */
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, "0")).join("");
}

/** A JPEG preview at most `max` pixels on its longer side: {blob, width, height} of the
 *  original, or null when the browser cannot decode the image. */
export async function thumbnail(blob, max) {
  let bitmap;
  try { bitmap = await createImageBitmap(blob); } catch { return null; }
  const scale = Math.min(1, max / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const out = await new Promise(resolve => canvas.toBlob(resolve, "image/jpeg", 0.82));
  const result = out ? { blob: out, width: bitmap.width, height: bitmap.height } : null;
  bitmap.close();
  return result;
}
