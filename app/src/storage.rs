//! Local persistence: Automerge chunks in IndexedDB ([`idb`]) and small settings in localStorage.

pub mod idb;
pub mod queue;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn get(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok()?
}

pub fn set(key: &str, value: &str) {
    if let Some(s) = local_storage() {
        let _ = s.set_item(key, value);
    }
}

pub fn remove(key: &str) {
    if let Some(s) = local_storage() {
        let _ = s.remove_item(key);
    }
}

/// Remove every `qiao.` key (logout).
pub fn clear_qiao_keys() {
    let Some(s) = local_storage() else { return };
    let n = s.length().unwrap_or(0);
    let keys: Vec<String> = (0..n).filter_map(|i| s.key(i).ok().flatten()).filter(|k| k.starts_with("qiao.")).collect();
    for k in keys {
        let _ = s.remove_item(&k);
    }
}

pub fn get_json<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    serde_json::from_str(&get(key)?).ok()
}

pub fn set_json<T: serde::Serialize>(key: &str, value: &T) {
    if let Ok(s) = serde_json::to_string(value) {
        set(key, &s);
    }
}

/// `n` random bytes from the browser's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let _ = getrandom::getrandom(&mut out);
    out
}

pub fn random_hex<const N: usize>() -> String {
    random_bytes::<N>().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Wait `ms` milliseconds (a browser timer).
pub async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

pub fn is_online() -> bool {
    web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true)
}
