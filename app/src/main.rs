//! Qiao's browser app. Mounting only; see [`app`].

mod api;
mod app;
mod cache_expiry;
mod contexts;
mod features;
mod i18n;
mod modules;
mod push;
mod storage;
mod sync;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
