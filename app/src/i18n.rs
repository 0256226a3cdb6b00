//! Two languages, zh-CN and en, for every string. The dictionaries are `locales/*.json` (flat
//! key → text); the locale defaults to the browser's language and can be switched in the UI
//! (kept in localStorage). `t` reads the locale signal, so text re-renders on a switch.

use leptos::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    ZhCn,
    En,
}

impl Locale {
    pub fn code(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
    fn from_code(code: &str) -> Self {
        if code.to_ascii_lowercase().starts_with("zh") { Locale::ZhCn } else { Locale::En }
    }
}

/// Each feature area may keep its strings in its own pair of files (`locales/<area>.<locale>.json`;
/// chat and the shell use `locales/<locale>.json`); they are merged here.
fn merged(files: &[&str]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for f in files {
        out.extend(serde_json::from_str::<HashMap<String, String>>(f).unwrap_or_default());
    }
    out
}

fn dict(locale: Locale) -> &'static HashMap<String, String> {
    static ZH: OnceLock<HashMap<String, String>> = OnceLock::new();
    static EN: OnceLock<HashMap<String, String>> = OnceLock::new();
    match locale {
        Locale::ZhCn => ZH.get_or_init(|| {
            merged(&[
                include_str!("../locales/zh-CN.json"),
                include_str!("../locales/admin.zh-CN.json"),
                include_str!("../locales/tasks.zh-CN.json"),
                include_str!("../locales/kb.zh-CN.json"),
                include_str!("../locales/announcements.zh-CN.json"),
                include_str!("../locales/helpdesk.zh-CN.json"),
                include_str!("../locales/library.zh-CN.json"),
                include_str!("../locales/suggestions.zh-CN.json"),
                include_str!("../locales/surveys.zh-CN.json"),
            ])
        }),
        Locale::En => EN.get_or_init(|| {
            merged(&[
                include_str!("../locales/en.json"),
                include_str!("../locales/admin.en.json"),
                include_str!("../locales/tasks.en.json"),
                include_str!("../locales/kb.en.json"),
                include_str!("../locales/announcements.en.json"),
                include_str!("../locales/helpdesk.en.json"),
                include_str!("../locales/library.en.json"),
                include_str!("../locales/suggestions.en.json"),
                include_str!("../locales/surveys.en.json"),
            ])
        }),
    }
}

#[derive(Clone, Copy)]
pub struct I18n {
    pub locale: RwSignal<Locale>,
}

impl I18n {
    /// The text for `key` in the current locale (tracked), falling back to the key itself.
    pub fn t(&self, key: &str) -> String {
        dict(self.locale.get()).get(key).cloned().unwrap_or_else(|| key.to_string())
    }
    /// `t` with `{name}` placeholders filled in.
    pub fn tf(&self, key: &str, args: &[(&str, String)]) -> String {
        let mut s = self.t(key);
        for (k, v) in args {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }
    pub fn set(&self, locale: Locale) {
        crate::storage::set("qiao.locale", locale.code());
        set_document_lang(locale);
        self.locale.set(locale);
    }
}

fn set_document_lang(locale: Locale) {
    if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = el.set_attribute("lang", locale.code());
    }
}

pub fn provide_i18n() -> I18n {
    let saved = crate::storage::get("qiao.locale");
    let browser = web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_else(|| "zh-CN".into());
    let locale = Locale::from_code(saved.as_deref().unwrap_or(&browser));
    set_document_lang(locale);
    let i18n = I18n { locale: RwSignal::new(locale) };
    provide_context(i18n);
    i18n
}

pub fn expect_i18n() -> I18n {
    expect_context::<I18n>()
}
