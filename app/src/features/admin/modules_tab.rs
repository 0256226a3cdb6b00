//! 功能模块 Modules: one switch per module (super admins only). A module that is off is hidden
//! in the app and refused by the relay; each change is one audit row.

use super::{LoadError, Loading, failure_text};
use crate::api;
use crate::i18n::expect_i18n;
use leptos::prelude::*;
use qiao_model::acl::Module;
use qiao_model::api::ModuleStates;

#[component]
pub fn ModulesTab() -> impl IntoView {
    let i18n = expect_i18n();
    let loaded = LocalResource::new(|| api::get::<ModuleStates>("/api/modules"));
    let reload = Callback::new(move |_| loaded.refetch());
    // What the relay last said: the load's answer, then each change's answer.
    let states = RwSignal::new(None::<ModuleStates>);
    Effect::new(move |_| {
        if let Some(Ok(s)) = loaded.get() {
            states.set(Some(s));
        }
    });
    let busy = RwSignal::new(None::<Module>);
    let error = RwSignal::new(None::<String>);
    // The app's own view of the modules (the sidebar), updated with each answer.
    let app_modules = use_context::<crate::modules::Modules>();
    let set = move |m: Module, on: bool| {
        busy.set(Some(m));
        error.set(None);
        leptos::task::spawn_local(async move {
            let change: ModuleStates = [(m, on)].into_iter().collect();
            match api::put::<_, ModuleStates>("/api/admin/modules", &change).await {
                Ok(s) => {
                    if let Some(app) = app_modules {
                        app.set(s.clone());
                    }
                    states.set(Some(s))
                }
                Err(f) => {
                    error.set(Some(failure_text(i18n, &f)));
                    // Redraw: the switch goes back to where the relay has it.
                    states.update(|_| ());
                }
            }
            busy.set(None);
        });
    };

    view! {
        <section class="admin-section">
            <p class="admin-lead">{move || i18n.t("admin.modules.lead")}</p>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || match (states.get(), loaded.get()) {
                (Some(s), _) => {
                    view! {
                        <ul class="module-list" data-testid="module-list">
                            {Module::ALL
                                .into_iter()
                                .map(|m| {
                                    let on = s.get(&m).copied().unwrap_or(true);
                                    let key = m.as_str();
                                    view! {
                                        <li class="module-item" data-module=key>
                                            <div class="module-text">
                                                <span class="module-name">{move || i18n.t(&format!("admin.module.{key}"))}</span>
                                                <span class="muted">{move || i18n.t(&format!("admin.module.{key}.desc"))}</span>
                                            </div>
                                            <label class="switch">
                                                <input
                                                    type="checkbox"
                                                    role="switch"
                                                    data-testid=format!("module-{key}")
                                                    aria-label=move || i18n.t(&format!("admin.module.{key}"))
                                                    prop:checked=on
                                                    disabled=move || busy.get().is_some()
                                                    on:change=move |ev| set(m, event_target_checked(&ev))
                                                />
                                                <span class="switch-track" aria-hidden="true"></span>
                                                <span class="switch-label">
                                                    {move || i18n.t(if on { "admin.modules.on" } else { "admin.modules.off" })}
                                                </span>
                                            </label>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
                (None, Some(Err(f))) => view! { <LoadError message=failure_text(i18n, &f) retry=reload /> }.into_any(),
                (None, _) => view! { <Loading /> }.into_any(),
            }}
        </section>
    }
}
