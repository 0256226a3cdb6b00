//! Bindings to `idb.js`: IndexedDB chunk storage shared safely between tabs.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/storage/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = newChunkKey)]
    fn new_chunk_key_js(doc: &str) -> String;
    #[wasm_bindgen(js_name = putChunk)]
    fn put_chunk_js(doc: &str, key: &str, bytes: Uint8Array) -> js_sys::Promise;
    #[wasm_bindgen(js_name = loadChunks)]
    fn load_chunks_js(doc: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = getChunk)]
    fn get_chunk_js(key: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = replaceChunks)]
    fn replace_chunks_js(doc: &str, new_key: &str, snapshot: Uint8Array, old_keys: Array) -> js_sys::Promise;
    #[wasm_bindgen(js_name = deleteDoc)]
    fn delete_doc_js(doc: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = clearAll)]
    fn clear_all_js() -> js_sys::Promise;
    #[wasm_bindgen(js_name = withLockIfAvailable)]
    fn with_lock_js(name: &str, f: &js_sys::Function) -> js_sys::Promise;
    #[wasm_bindgen(js_name = announceChunk)]
    pub fn announce_chunk(doc: &str, key: &str);
    #[wasm_bindgen(js_name = onForeignChunk)]
    fn on_foreign_chunk_js(cb: &js_sys::Function);
}

pub type IdbResult<T> = Result<T, String>;

fn err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "IndexedDB error".into())
}

pub fn new_chunk_key(doc: &str) -> String {
    new_chunk_key_js(doc)
}

pub async fn put_chunk(doc: &str, key: &str, bytes: &[u8]) -> IdbResult<()> {
    JsFuture::from(put_chunk_js(doc, key, Uint8Array::from(bytes))).await.map(|_| ()).map_err(err)
}

/// Every chunk of `doc`, as (key, bytes), oldest first.
pub async fn load_chunks(doc: &str) -> IdbResult<Vec<(String, Vec<u8>)>> {
    let v = JsFuture::from(load_chunks_js(doc)).await.map_err(err)?;
    let rows: Array = v.unchecked_into();
    Ok(rows
        .iter()
        .filter_map(|row| {
            let row: Array = row.unchecked_into();
            let key = row.get(0).as_string()?;
            let bytes = Uint8Array::new(&row.get(1)).to_vec();
            Some((key, bytes))
        })
        .collect())
}

pub async fn get_chunk(key: &str) -> IdbResult<Option<Vec<u8>>> {
    let v = JsFuture::from(get_chunk_js(key)).await.map_err(err)?;
    Ok(if v.is_null() || v.is_undefined() { None } else { Some(Uint8Array::new(&v).to_vec()) })
}

pub async fn replace_chunks(doc: &str, new_key: &str, snapshot: &[u8], old_keys: &[String]) -> IdbResult<()> {
    let keys: Array = old_keys.iter().map(|k| JsValue::from_str(k)).collect();
    JsFuture::from(replace_chunks_js(doc, new_key, Uint8Array::from(snapshot), keys)).await.map(|_| ()).map_err(err)
}

pub async fn delete_doc(doc: &str) -> IdbResult<()> {
    JsFuture::from(delete_doc_js(doc)).await.map(|_| ()).map_err(err)
}

pub async fn clear_all() -> IdbResult<()> {
    JsFuture::from(clear_all_js()).await.map(|_| ()).map_err(err)
}

/// Run `f` under the named Web Lock if no other tab holds it; `Ok(false)` when skipped.
pub async fn with_lock_if_available<F>(name: &str, f: F) -> IdbResult<bool>
where
    F: std::future::Future<Output = ()> + 'static,
{
    let fut = std::cell::RefCell::new(Some(f));
    let cb = Closure::once_into_js(move || -> js_sys::Promise {
        let f = fut.borrow_mut().take().expect("lock callback runs once");
        wasm_bindgen_futures::future_to_promise(async move {
            f.await;
            Ok(JsValue::UNDEFINED)
        })
    });
    let v = JsFuture::from(with_lock_js(name, cb.unchecked_ref())).await.map_err(err)?;
    Ok(v.as_bool().unwrap_or(false))
}

/// Call `cb(doc, key)` whenever another tab writes a chunk.
pub fn on_foreign_chunk(cb: impl Fn(String, String) + 'static) {
    let c = Closure::<dyn Fn(String, String)>::new(cb);
    on_foreign_chunk_js(c.as_ref().unchecked_ref());
    c.forget(); // lives as long as the page
}
