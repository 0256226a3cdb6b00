//! Calls to the relay's REST API. The session cookie rides along (same origin); no token is
//! ever handled by the app's code.

use qiao_model::api::ApiError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

#[derive(Clone, Debug, PartialEq)]
pub enum ApiFailure {
    /// The network is down or the server unreachable: the app keeps working from local data.
    Offline,
    /// The session is gone: log in again.
    Unauthorized,
    /// The server refused, with its reason.
    Refused(ApiError),
}

impl ApiFailure {
    pub fn message(&self) -> String {
        match self {
            ApiFailure::Offline => "offline".into(),
            ApiFailure::Unauthorized => "unauthorized".into(),
            ApiFailure::Refused(e) => e.message.clone(),
        }
    }
}

/// `body`: (content type, text).
async fn call(method: &str, path: &str, body: Option<(&str, String)>) -> Result<String, ApiFailure> {
    let body = body.map(|(t, b)| (t, wasm_bindgen::JsValue::from_str(&b)));
    call_with(method, path, body).await
}

/// `body`: (content type, any fetch body: text, Blob, bytes).
async fn call_with(
    method: &str,
    path: &str,
    body: Option<(&str, wasm_bindgen::JsValue)>,
) -> Result<String, ApiFailure> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = web_sys::Headers::new().map_err(|_| ApiFailure::Offline)?;
    if let Some((content_type, b)) = &body {
        let _ = headers.set("content-type", content_type);
        init.set_body(b);
    }
    init.set_headers(&headers);
    let req = Request::new_with_str_and_init(path, &init).map_err(|_| ApiFailure::Offline)?;
    let window = web_sys::window().ok_or(ApiFailure::Offline)?;
    let resp: Response =
        JsFuture::from(window.fetch_with_request(&req)).await.map_err(|_| ApiFailure::Offline)?.unchecked_into();
    let text = JsFuture::from(resp.text().map_err(|_| ApiFailure::Offline)?)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    match resp.status() {
        200..=299 => Ok(text),
        401 => Err(ApiFailure::Unauthorized),
        // A service worker or proxy answering for an unreachable server.
        502..=504 => Err(ApiFailure::Offline),
        status => Err(ApiFailure::Refused(
            serde_json::from_str(&text).unwrap_or(ApiError { code: "http".into(), message: format!("HTTP {status}") }),
        )),
    }
}

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiFailure> {
    serde_json::from_str(text)
        .map_err(|e| ApiFailure::Refused(ApiError { code: "decode".into(), message: e.to_string() }))
}

fn json<B: Serialize>(body: &B) -> Option<(&'static str, String)> {
    Some(("application/json", serde_json::to_string(body).unwrap_or_default()))
}

/// `PUT` raw bytes (a Blob or a slice of one), answered with JSON.
pub async fn put_blob<T: DeserializeOwned>(path: &str, blob: &web_sys::Blob) -> Result<T, ApiFailure> {
    decode(&call_with("PUT", path, Some(("application/octet-stream", blob.into()))).await?)
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    decode(&call("GET", path, None).await?)
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    decode(&call("POST", path, json(body)).await?)
}

pub async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    decode(&call("PATCH", path, json(body)).await?)
}

pub async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    decode(&call("PUT", path, json(body)).await?)
}

/// POST a text as is (an uploaded CSV or JSON file) and decode the JSON answer.
pub async fn post_text<T: DeserializeOwned>(path: &str, content_type: &str, text: String) -> Result<T, ApiFailure> {
    decode(&call("POST", path, Some((content_type, text))).await?)
}

/// POST without a body and decode the JSON answer.
pub async fn post_bare<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    decode(&call("POST", path, None).await?)
}

/// A POST whose answer has no body (204).
pub async fn post_no_content<B: Serialize>(path: &str, body: &B) -> Result<(), ApiFailure> {
    call("POST", path, Some(("application/json", serde_json::to_string(body).unwrap_or_default()))).await.map(|_| ())
}

pub async fn delete(path: &str) -> Result<(), ApiFailure> {
    call("DELETE", path, None).await.map(|_| ())
}

pub async fn post_empty(path: &str) -> Result<(), ApiFailure> {
    call("POST", path, None).await.map(|_| ())
}
