//! Helpdesk (报修): employees open IT tickets, helpdesk agents work a queue, admins see the
//! figures.
//!
//! - Each ticket is one Automerge document ([`qiao_model::schema::helpdesk`]), opened from
//!   IndexedDB at start like every other document: a ticket can be read, answered, resolved,
//!   confirmed and rated offline, and merges when the network returns. Only its requester and
//!   the agents can open it (the relay refuses everyone else).
//! - Opening a ticket is the relay's (`POST /api/helpdesk/tickets`): a ticket typed offline goes
//!   into an outbox in localStorage, shown in the list as "waiting to send", and is sent when
//!   the app is online again; its client key makes a retry after a lost answer harmless. A ticket
//!   the relay refuses stays in the outbox with the reason until the person discards it, so
//!   nothing typed is lost.
//! - The list (own tickets; every ticket for an agent) and the relay's recorded times come from
//!   `GET /api/helpdesk/tickets`, cached for offline starts. The status shown is the document's
//!   when it is open (it may be ahead of the relay's list while offline).
//! - [`ticket::TicketPanel`]: the ticket, its replies, files, the agent's and the requester's
//!   actions. [`new_ticket::NewTicket`]: the form. [`stats`]: the figures (super admins) and who
//!   the agents are.

pub mod new_ticket;
pub mod stats;
pub mod ticket;

use crate::api::{self, ApiFailure};
use crate::contexts::RepoRef;
use crate::i18n::{I18n, expect_i18n};
use crate::storage;
use crate::storage::queue::{Queue, Queued, Sent};
use crate::sync::repo::ConnStatus;
use leptos::prelude::*;
use qiao_model::ids::UserId;
use qiao_model::schema::helpdesk::{self, Agent, CreateTicket, Status, TicketList, TicketSummary};
use serde::{Deserialize, Serialize};

const LIST_KEY: &str = "qiao.helpdesk";
const OUTBOX_KEY: &str = "qiao.helpdesk_outbox";
const AGENTS_KEY: &str = "qiao.helpdesk_agents";

/// A ticket typed but not yet created by the relay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub req: CreateTicket,
    pub at: i64,
    /// The relay refused it (kept, with the reason, until discarded).
    #[serde(default)]
    pub error: Option<String>,
}

impl Queued for Draft {
    fn id(&self) -> String {
        self.req.client_key.clone()
    }
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    fn set_error(&mut self, why: String) {
        self.error = Some(why);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Mine,
    Queue,
    Stats,
    Agents,
}

#[derive(Clone, Copy)]
pub struct Helpdesk {
    pub list: RwSignal<TicketList>,
    pub outbox: Queue<Draft>,
    pub agents: RwSignal<Vec<Agent>>,
    /// The open ticket (by id).
    pub selected: RwSignal<Option<String>>,
    pub view: RwSignal<View>,
    /// A ticket just submitted from this device (by client key): selected once created.
    want: RwSignal<Option<String>>,
    repo: RepoRef,
    busy: StoredValue<bool>,
    /// A refresh was asked for while one ran: run once more after it.
    again: StoredValue<bool>,
}

pub fn expect_helpdesk() -> Helpdesk {
    expect_context::<Helpdesk>()
}

impl Helpdesk {
    /// Load the cached list and outbox, open every listed ticket, and talk to the relay
    /// whenever it connects (and every 30 s while online, so a queue fills in by itself).
    pub fn provide(repo: RepoRef) -> Helpdesk {
        let h = Helpdesk {
            list: RwSignal::new(storage::get_json(LIST_KEY).unwrap_or_default()),
            outbox: Queue::load(OUTBOX_KEY.to_string()),
            agents: RwSignal::new(storage::get_json(AGENTS_KEY).unwrap_or_default()),
            selected: RwSignal::new(None),
            view: RwSignal::new(View::Mine),
            want: RwSignal::new(None),
            repo,
            busy: StoredValue::new(false),
            again: StoredValue::new(false),
        };
        if h.list.with_untracked(|l| l.agent) {
            h.view.set(View::Queue);
        }
        provide_context(h);
        let status = repo.with_value(|r| r.status);
        Effect::new(move |_| {
            if status.get() == ConnStatus::Online {
                leptos::task::spawn_local(h.refresh());
            }
        });
        let cb = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            if status.try_get_untracked() == Some(ConnStatus::Online) {
                leptos::task::spawn_local(h.refresh());
            }
        });
        if let Some(w) = web_sys::window() {
            use wasm_bindgen::JsCast;
            let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(cb.as_ref().unchecked_ref(), 30_000);
        }
        cb.forget();
        Effect::new(move |_| {
            let items: Vec<(String, UserId)> =
                h.list.with(|l| l.tickets.iter().map(|t| (t.id.clone(), t.requester)).collect());
            let r = repo.get_value();
            leptos::task::spawn_local(async move {
                for (id, requester) in items {
                    let g = id.clone();
                    r.open(helpdesk::document_id(&id), move || helpdesk::genesis(&g, requester)).await;
                }
            });
        });
        h
    }

    fn online(&self) -> bool {
        self.repo.with_value(|r| r.status.get_untracked()) == ConnStatus::Online
    }

    /// Send the outbox, then fetch the list and the agents.
    pub async fn refresh(self) {
        if self.busy.get_value() {
            self.again.set_value(true);
            return;
        }
        self.busy.set_value(true);
        loop {
            self.again.set_value(false);
            self.fetch().await;
            if !self.again.get_value() {
                break;
            }
        }
        self.busy.set_value(false);
    }

    async fn fetch(self) {
        self.flush().await;
        if let Ok(list) = api::get::<TicketList>("/api/helpdesk/tickets").await {
            storage::set_json(LIST_KEY, &list);
            if self.list.get_untracked() != list {
                self.list.set(list);
            }
        }
        if let Ok(agents) = api::get::<Vec<Agent>>("/api/helpdesk/agents").await {
            storage::set_json(AGENTS_KEY, &agents);
            if self.agents.get_untracked() != agents {
                self.agents.set(agents);
            }
        }
    }

    /// Create every waiting ticket, oldest first; stop at the first network failure.
    async fn flush(self) {
        self.outbox
            .flush(|d: Draft| async move {
                match api::post::<_, TicketSummary>("/api/helpdesk/tickets", &d.req).await {
                    Ok(t) => {
                        self.add(t);
                        Sent::Taken
                    }
                    Err(ApiFailure::Refused(e)) => Sent::Refused(e.message),
                    Err(_) => Sent::Later,
                }
            })
            .await;
    }

    /// A ticket the relay created (listed at once; opened by the effect above).
    fn add(&self, t: TicketSummary) {
        let (id, key) = (t.id.clone(), t.client_key.clone());
        self.list.update(|l| {
            if !l.tickets.iter().any(|x| x.id == t.id) {
                l.tickets.insert(0, t);
            }
        });
        storage::set_json(LIST_KEY, &self.list.get_untracked());
        if self.want.get_untracked().as_deref() == Some(key.as_str()) {
            self.want.set(None);
            self.selected.set(Some(id));
        }
    }

    /// Queue a new ticket and send it now if online. Returns its client key.
    pub fn submit(self, req: CreateTicket) -> String {
        let key = req.client_key.clone();
        self.outbox.push(Draft { req, at: storage::now_ms(), error: None });
        self.want.set(Some(key.clone()));
        if self.online() {
            leptos::task::spawn_local(self.refresh());
        }
        key
    }

    /// The ticket created for client key `key`, once there is one.
    pub fn created(&self, key: &str) -> Option<TicketSummary> {
        self.list.with(|l| l.tickets.iter().find(|t| t.client_key == key).cloned())
    }

    pub fn discard(&self, key: &str) {
        self.outbox.discard(key);
    }

    pub fn summary(&self, id: &str) -> Option<TicketSummary> {
        self.list.with(|l| l.tickets.iter().find(|t| t.id == id).cloned())
    }

    /// The ticket as its document says (tracked), when it is open and filled in.
    pub fn read(&self, t: &TicketSummary) -> Option<helpdesk::Ticket> {
        self.repo.with_value(|r| r.read(t.document, helpdesk::read)).flatten().filter(|x| !x.title.is_empty())
    }

    /// The status to show: the document's when open, else the relay's.
    pub fn status(&self, t: &TicketSummary) -> Status {
        self.read(t).map(|x| x.status).unwrap_or(t.status)
    }

    pub fn agent(&self) -> bool {
        self.list.with(|l| l.agent)
    }

    /// What the sidebar's badge counts: for agents, new tickets nobody has taken; for others,
    /// their resolved tickets waiting for their confirmation.
    pub fn badge(&self, me: UserId) -> usize {
        let agent = self.agent();
        let tickets = self.list.with(|l| l.tickets.clone());
        tickets
            .iter()
            .filter(|t| {
                let s = self.status(t);
                if agent {
                    s == Status::New && t.assignee.is_none()
                } else {
                    t.requester == me && s == Status::Resolved
                }
            })
            .count()
    }
}

/// A status's label.
pub fn status_label(i18n: I18n, s: Status) -> String {
    i18n.t(&format!("helpdesk.status.{}", s.as_str()))
}

pub fn category_label(i18n: I18n, c: &str) -> String {
    i18n.t(&format!("helpdesk.cat.{c}"))
}

/// `MM-DD HH:MM` in local time.
pub fn short_time(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}-{:02} {:02}:{:02}", d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes())
}

/// A duration as people say it: seconds, minutes, hours and minutes, days and hours.
pub fn duration(i18n: I18n, ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if s < 60 {
        i18n.tf("helpdesk.dur.s", &[("n", s.to_string())])
    } else if s < 3600 {
        i18n.tf("helpdesk.dur.m", &[("n", m.to_string())])
    } else if s < 86_400 {
        i18n.tf("helpdesk.dur.hm", &[("h", h.to_string()), ("m", m.to_string())])
    } else {
        i18n.tf("helpdesk.dur.dh", &[("d", d.to_string()), ("h", h.to_string())])
    }
}

#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    let i18n = expect_i18n();
    view! {
        <span class=format!("hd-status hd-status-{}", status.as_str()) data-testid="hd-status" data-status=status.as_str()>
            {move || status_label(i18n, status)}
        </span>
    }
}

#[component]
pub fn HelpdeskPage(sidebar_open: RwSignal<bool>) -> impl IntoView {
    let i18n = expect_i18n();
    let h = expect_helpdesk();
    let me = crate::contexts::expect_session().me.get_untracked().expect("logged in");
    let my_id = me.id;
    let composing = RwSignal::new(false);
    let filter = RwSignal::new(None::<Status>);
    // Opening the page asks the relay for what changed since the last look.
    leptos::task::spawn_local(h.refresh());
    let is_agent = Memo::new(move |_| h.agent());
    let is_admin = Memo::new(move |_| h.list.with(|l| l.admin));
    // Super admins see every ticket's figures, department admins their department's.
    let sees_figures = Memo::new(move |_| h.list.with(|l| l.figures.is_some()));
    // Someone who stopped being an agent falls back to their own tickets.
    Effect::new(move |_| {
        let v = h.view.get();
        if (v == View::Queue && !is_agent.get())
            || (v == View::Stats && !sees_figures.get())
            || (v == View::Agents && !is_admin.get())
        {
            h.view.set(View::Mine);
        }
    });

    let shown = Memo::new(move |_| {
        let view = h.view.get();
        let f = filter.get();
        let mut rows: Vec<(TicketSummary, Status)> = h
            .list
            .get()
            .tickets
            .into_iter()
            .filter(|t| view != View::Mine || t.requester == my_id)
            .map(|t| {
                let s = h.status(&t);
                (t, s)
            })
            .filter(|(_, s)| f.is_none_or(|f| f == *s))
            .collect();
        if view == View::Queue {
            // Unassigned first, then open before done, then newest.
            rows.sort_by(|(a, sa), (b, sb)| {
                a.assignee
                    .is_some()
                    .cmp(&b.assignee.is_some())
                    .then(sa.solved().cmp(&sb.solved()))
                    .then(b.created_at.cmp(&a.created_at))
            });
        }
        rows
    });
    let drafts = Memo::new(move |_| if h.view.get() == View::Mine { h.outbox.items.get() } else { Vec::new() });
    let list_view = move || matches!(h.view.get(), View::Mine | View::Queue);
    let open_id = Memo::new(move |_| h.selected.get().filter(|id| h.summary(id).is_some()));

    let tab = move |v: View, key: &'static str, testid: &'static str| {
        view! {
            <button role="tab" class="segmented-item" data-testid=testid
                aria-selected=move || (h.view.get() == v).to_string()
                on:click=move |_| { h.view.set(v); h.selected.set(None); }
            >{move || i18n.t(key)}</button>
        }
    };

    view! {
        <header class="chat-header hd-header">
            <button class="sidebar-toggle icon-btn" aria-label=move || i18n.t("sidebar.open_menu") data-testid="sidebar-toggle"
                on:click=move |_| sidebar_open.update(|o| *o = !*o)
            ></button>
            <h2 class="chat-title">{move || i18n.t("helpdesk.title")}</h2>
            // Tabs only for those who have more than their own tickets to look at.
            <div class="segmented hd-tabs" role="tablist" hidden=move || !is_agent.get() && !sees_figures.get()>
                {tab(View::Mine, "helpdesk.tab.mine", "hd-tab-mine")}
                <Show when=move || is_agent.get()>{tab(View::Queue, "helpdesk.tab.queue", "hd-tab-queue")}</Show>
                <Show when=move || sees_figures.get()>{tab(View::Stats, "helpdesk.tab.stats", "hd-tab-stats")}</Show>
                <Show when=move || is_admin.get()>{tab(View::Agents, "helpdesk.tab.agents", "hd-tab-agents")}</Show>
            </div>
            <span class="spacer"></span>
            <button class="btn btn-primary btn-sm" data-testid="hd-new" on:click=move |_| composing.set(true)>
                {move || i18n.t("helpdesk.new")}
            </button>
        </header>
        <Show when=move || composing.get()>
            <new_ticket::NewTicket open=composing />
        </Show>
        <Show when=move || h.view.get() == View::Stats>
            <stats::StatsPanel />
        </Show>
        <Show when=move || h.view.get() == View::Agents>
            <stats::AgentsPanel />
        </Show>
        <Show when=move || list_view()>
            <div class="hd-page" class:hd-has-selection=move || h.selected.with(|s| s.is_some())>
                <section class="hd-list-pane" aria-label=move || i18n.t("helpdesk.title")>
                    <div class="hd-filters" role="tablist">
                        <button class="chip-filter" data-testid="hd-filter" data-status="all"
                            aria-selected=move || filter.with(|f| f.is_none()).to_string()
                            on:click=move |_| filter.set(None)>{move || i18n.t("helpdesk.all")}</button>
                        {Status::ALL.into_iter().map(|s| view! {
                            <button class="chip-filter" data-testid="hd-filter" data-status=s.as_str()
                                aria-selected=move || (filter.get() == Some(s)).to_string()
                                on:click=move |_| filter.set(Some(s))>{move || status_label(i18n, s)}</button>
                        }).collect_view()}
                    </div>
                    <ul class="hd-list">
                        <For each=move || drafts.get() key=|d| format!("{d:?}") children=move |d: Draft| {
                            let key = d.req.client_key.clone();
                            let failed = d.error.clone();
                            view! {
                                <li class="hd-item hd-draft" data-testid="hd-draft" data-title=d.req.title.clone()>
                                    <div class="hd-item-top">
                                        <span class="hd-item-title">{d.req.title.clone()}</span>
                                        <span class="chip">{move || i18n.t(if failed.is_some() { "helpdesk.refused" } else { "helpdesk.waiting" })}</span>
                                    </div>
                                    <div class="hd-item-meta muted">
                                        {category_label(i18n, &d.req.category)} " · " {short_time(d.at)}
                                    </div>
                                    {d.error.clone().map(|e| {
                                        let key = key.clone();
                                        view! {
                                            <p class="form-error" role="alert">{e}</p>
                                            <button class="btn btn-ghost btn-sm" on:click=move |_| h.discard(&key)>{move || i18n.t("helpdesk.discard")}</button>
                                        }
                                    })}
                                </li>
                            }
                        } />
                        <For each=move || shown.get() key=|(t, s)| format!("{}|{:?}|{:?}|{}", t.id, s, t.assignee, t.updated_at) children=move |(t, s): (TicketSummary, Status)| {
                            let id = t.id.clone();
                            let id2 = t.id.clone();
                            let assignee = t.assignee.and_then(|a| h.agents.with(|l| l.iter().find(|x| x.id == a).map(|x| x.display_name.clone())));
                            view! {
                                <li>
                                    <button class="hd-item" data-testid="hd-item" data-title=t.title.clone() data-status=s.as_str()
                                        aria-current=move || (h.selected.get().as_deref() == Some(id.as_str())).to_string()
                                        on:click=move |_| h.selected.set(Some(id2.clone()))
                                    >
                                        <span class="hd-item-top">
                                            <span class="hd-item-title">{t.title.clone()}</span>
                                            <StatusBadge status=s />
                                        </span>
                                        <span class="hd-item-meta muted">
                                            <span class="chip">{category_label(i18n, &t.category)}</span>
                                            {t.requester_name.clone()} " · " {short_time(t.created_at)}
                                            {match assignee {
                                                Some(a) => format!(" · → {a}"),
                                                None if s == Status::New => format!(" · {}", i18n.t("helpdesk.unassigned")),
                                                None => String::new(),
                                            }}
                                        </span>
                                    </button>
                                </li>
                            }
                        } />
                    </ul>
                    <Show when=move || shown.with(|s| s.is_empty()) && drafts.with(|d| d.is_empty())>
                        <div class="empty-state hd-empty" data-testid="hd-empty">
                            <h3>{move || i18n.t(if h.view.get() == View::Queue { "helpdesk.empty_queue_title" } else { "helpdesk.empty_title" })}</h3>
                            <p>{move || i18n.t(if h.view.get() == View::Queue { "helpdesk.empty_queue_body" } else { "helpdesk.empty_body" })}</p>
                        </div>
                    </Show>
                </section>
                <section class="hd-detail-pane">
                    // Rebuilt only when another ticket is chosen: a reply being typed survives
                    // the list's refreshes.
                    {move || match open_id.get() {
                        Some(id) => view! { <ticket::TicketPanel id=id /> }.into_any(),
                        None => view! {
                            <div class="empty-state hd-empty">
                                <h3>{move || i18n.t("helpdesk.pick_title")}</h3>
                                <p>{move || i18n.t("helpdesk.pick_body")}</p>
                            </div>
                        }.into_any(),
                    }}
                </section>
            </div>
        </Show>
    }
}
