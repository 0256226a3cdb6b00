//! A thin wrapper over the browser WebSocket: binary frames in, status changes out.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

pub struct Socket {
    ws: WebSocket,
    // Kept alive as long as the socket; dropped (and detached) with it.
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut()>,
}

impl Socket {
    /// Open `/sync` on the page's own origin. The session cookie authenticates it.
    pub fn open(
        on_open: impl FnMut() + 'static,
        mut on_frame: impl FnMut(Vec<u8>) + 'static,
        on_close: impl FnMut() + 'static,
    ) -> Result<Self, JsValue> {
        let loc = web_sys::window().ok_or("no window")?.location();
        let scheme = if loc.protocol()? == "https:" { "wss" } else { "ws" };
        let ws = WebSocket::new(&format!("{scheme}://{}/sync", loc.host()?))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_open = Closure::<dyn FnMut()>::new(on_open);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Ok(buf) = ev.data().dyn_into::<js_sys::ArrayBuffer>() {
                on_frame(js_sys::Uint8Array::new(&buf).to_vec());
            }
        });
        let on_close = Closure::<dyn FnMut()>::new(on_close);
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self { ws, _on_open: on_open, _on_message: on_message, _on_close: on_close })
    }

    pub fn send(&self, bytes: &[u8]) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_u8_array(bytes).is_ok()
    }

    pub fn close(&self) {
        self.ws.set_onclose(None);
        self.ws.set_onmessage(None);
        let _ = self.ws.close();
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.close();
    }
}
