//! Which modules are on (功能模块启用), as the relay says: an off module's entry disappears from
//! the sidebar (the relay refuses it regardless). Cached for offline starts; fetched whenever the
//! relay connects and every few minutes, and updated at once when a super admin changes them here.

use crate::api;
use crate::storage;
use crate::sync::repo::ConnStatus;
use leptos::prelude::*;
use qiao_model::acl::Module;
use qiao_model::api::ModuleStates;

#[derive(Clone, Copy)]
pub struct Modules(pub RwSignal<ModuleStates>);

impl Modules {
    /// Whether `m` is on (a module the relay has not mentioned is on).
    pub fn on(&self, m: Module) -> bool {
        self.0.with(|s| s.get(&m).copied().unwrap_or(true))
    }

    pub fn set(&self, states: ModuleStates) {
        storage::set_json("qiao.modules", &states);
        if self.0.get_untracked() != states {
            self.0.set(states);
        }
    }

    async fn refresh(self) {
        if let Ok(s) = api::get::<ModuleStates>("/api/modules").await {
            self.set(s);
        }
    }
}

pub fn provide(status: RwSignal<ConnStatus>) -> Modules {
    let m = Modules(RwSignal::new(storage::get_json("qiao.modules").unwrap_or_default()));
    provide_context(m);
    Effect::new(move |_| {
        if status.get() == ConnStatus::Online {
            leptos::task::spawn_local(m.refresh());
        }
    });
    let cb = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
        if status.try_get_untracked() == Some(ConnStatus::Online) {
            leptos::task::spawn_local(m.refresh());
        }
    });
    if let Some(w) = web_sys::window() {
        use wasm_bindgen::JsCast;
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(cb.as_ref().unchecked_ref(), 120_000);
    }
    cb.forget();
    m
}

pub fn expect_modules() -> Modules {
    expect_context::<Modules>()
}
