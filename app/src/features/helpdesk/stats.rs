//! For super admins (every ticket) and department admins (their department's people's tickets): the helpdesk's figures for a period (tickets opened, 问题解决率, median
//! first-response and resolution times, average rating, per category, with a bar chart drawn
//! here as SVG) and who the helpdesk agents are. The figures are the relay's
//! (`GET /api/helpdesk/stats`), computed from the times it recorded with its own clock, so they
//! need the network; the page says so offline.

use super::{category_label, duration, expect_helpdesk};
use crate::api;
use crate::i18n::{I18n, expect_i18n};
use crate::storage::now_ms;
use leptos::prelude::*;
use qiao_model::ids::UserId;
use qiao_model::schema::helpdesk::{Agent, Counts, Figures, SetAgents};

const DAY: i64 = 86_400_000;

fn pct(v: Option<f64>) -> String {
    v.map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn dur(i18n: I18n, v: Option<i64>) -> String {
    v.map(|ms| duration(i18n, ms)).unwrap_or_else(|| "—".into())
}

fn stars(v: Option<f64>) -> String {
    v.map(|r| format!("{r:.1} / 5")).unwrap_or_else(|| "—".into())
}

#[component]
pub fn StatsPanel() -> impl IntoView {
    let i18n = expect_i18n();
    // Days back from now; 0: everything.
    let period = RwSignal::new(30i64);
    let figures = RwSignal::new(None::<Result<Figures, String>>);
    Effect::new(move |_| {
        let days = period.get();
        let to = now_ms() + 1;
        let from = if days == 0 { 0 } else { to - days * DAY };
        leptos::task::spawn_local(async move {
            let r = api::get::<Figures>(&format!("/api/helpdesk/stats?from={from}&to={to}")).await;
            // A late answer for a period no longer chosen is dropped.
            if period.get_untracked() == days {
                figures.set(Some(r.map_err(|e| match e {
                    api::ApiFailure::Offline => i18n.t("helpdesk.stats_offline"),
                    other => other.message(),
                })));
            }
        });
    });
    let card = move |label: &'static str, value: String, testid: &'static str| {
        view! {
            <div class="hd-stat" data-testid=testid>
                <span class="hd-stat-value">{value}</span>
                <span class="hd-stat-label muted">{move || i18n.t(label)}</span>
            </div>
        }
    };
    let h = super::expect_helpdesk();
    let department = move || h.list.with(|l| l.figures == Some(qiao_model::schema::helpdesk::FiguresScope::Department));
    view! {
        <div class="hd-stats-page" data-testid="hd-stats">
            <Show when=department>
                <p class="muted hd-scope-note" data-testid="hd-stats-scope">{move || i18n.t("helpdesk.stats_department")}</p>
            </Show>
            <div class="hd-filters" role="tablist">
                {[(7i64, "helpdesk.period.7"), (30, "helpdesk.period.30"), (90, "helpdesk.period.90"), (0, "helpdesk.period.all")]
                    .into_iter().map(|(d, key)| view! {
                        <button class="chip-filter" data-testid="hd-period" data-days=d.to_string()
                            aria-selected=move || (period.get() == d).to_string()
                            on:click=move |_| period.set(d)>{move || i18n.t(key)}</button>
                    }).collect_view()}
            </div>
            {move || match figures.get() {
                None => view! { <p class="muted">{i18n.t("helpdesk.loading")}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                Some(Ok(f)) => {
                    let a = f.all.clone();
                    view! {
                        <div class="hd-stat-grid">
                            {card("helpdesk.stat.opened", a.opened.to_string(), "hd-stat-opened")}
                            {card("helpdesk.stat.rate", pct(a.resolution_rate), "hd-stat-rate")}
                            {card("helpdesk.stat.first_response", dur(i18n, a.median_first_response_ms), "hd-stat-first")}
                            {card("helpdesk.stat.resolution", dur(i18n, a.median_resolution_ms), "hd-stat-resolution")}
                            {card("helpdesk.stat.rating", stars(a.average_rating), "hd-stat-rating")}
                        </div>
                        <p class="muted hd-stat-note">{i18n.tf("helpdesk.stat.note", &[("solved", a.solved.to_string()), ("opened", a.opened.to_string()), ("rated", a.rated.to_string())])}</p>
                        <section class="hd-section">
                            <h4>{i18n.t("helpdesk.per_category")}</h4>
                            <Chart rows=f.per_category.clone() />
                            <div class="hd-table-wrap">
                                <table class="hd-table" data-testid="hd-stat-table">
                                    <thead><tr>
                                        <th>{i18n.t("helpdesk.category")}</th>
                                        <th>{i18n.t("helpdesk.stat.opened")}</th>
                                        <th>{i18n.t("helpdesk.stat.solved")}</th>
                                        <th>{i18n.t("helpdesk.stat.rate")}</th>
                                        <th>{i18n.t("helpdesk.stat.first_response")}</th>
                                        <th>{i18n.t("helpdesk.stat.resolution")}</th>
                                        <th>{i18n.t("helpdesk.stat.rating")}</th>
                                    </tr></thead>
                                    <tbody>
                                        {f.per_category.into_iter().map(|(c, n)| view! {
                                            <tr data-testid="hd-stat-row" data-category=c.clone()>
                                                <th scope="row">{category_label(i18n, &c)}</th>
                                                <td>{n.opened}</td>
                                                <td>{n.solved}</td>
                                                <td>{pct(n.resolution_rate)}</td>
                                                <td>{dur(i18n, n.median_first_response_ms)}</td>
                                                <td>{dur(i18n, n.median_resolution_ms)}</td>
                                                <td>{stars(n.average_rating)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        </section>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// Opened and solved tickets per category, as horizontal bars.
#[component]
fn Chart(rows: Vec<(String, Counts)>) -> impl IntoView {
    let i18n = expect_i18n();
    let max = rows.iter().map(|(_, c)| c.opened).max().unwrap_or(0).max(1) as f64;
    const ROW: f64 = 34.0;
    const LEFT: f64 = 96.0;
    const WIDTH: f64 = 300.0;
    let height = ROW * rows.len() as f64 + 28.0;
    view! {
        <figure class="hd-chart" data-testid="hd-chart">
            <svg viewBox=format!("0 0 {} {height}", LEFT + WIDTH + 40.0) role="img" aria-label=move || i18n.t("helpdesk.per_category")>
                {rows.iter().enumerate().map(|(i, (c, n))| {
                    let y = 8.0 + i as f64 * ROW;
                    let w_open = WIDTH * n.opened as f64 / max;
                    let w_solved = WIDTH * n.solved as f64 / max;
                    view! {
                        <g data-testid="hd-chart-row" data-category=c.clone() data-opened=n.opened.to_string() data-solved=n.solved.to_string()>
                            <text class="hd-chart-label" x=(LEFT - 8.0).to_string() y=(y + 15.0).to_string() text-anchor="end">{category_label(i18n, c)}</text>
                            <rect class="hd-bar-opened" x=LEFT.to_string() y=y.to_string() width=w_open.max(1.0).to_string() height="11" rx="2"></rect>
                            <rect class="hd-bar-solved" x=LEFT.to_string() y=(y + 13.0).to_string() width=w_solved.max(1.0).to_string() height="11" rx="2"></rect>
                            <text class="hd-chart-value" x=(LEFT + w_open.max(1.0) + 6.0).to_string() y=(y + 10.0).to_string()>{n.opened}</text>
                            <text class="hd-chart-value" x=(LEFT + w_solved.max(1.0) + 6.0).to_string() y=(y + 23.0).to_string()>{n.solved}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption class="hd-legend">
                <span class="hd-key hd-key-opened"></span>{move || i18n.t("helpdesk.stat.opened")}
                <span class="hd-key hd-key-solved"></span>{move || i18n.t("helpdesk.stat.solved")}
            </figcaption>
        </figure>
    }
}

/// Who the helpdesk agents are (super admins always are; the rest are named here).
#[component]
pub fn AgentsPanel() -> impl IntoView {
    let i18n = expect_i18n();
    let h = expect_helpdesk();
    let people = crate::features::chat::people::expect_people();
    let pick = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let save = move |named: Vec<UserId>| {
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::put::<_, Vec<Agent>>("/api/helpdesk/agents", &SetAgents { users: named }).await {
                Ok(a) => h.agents.set(a),
                Err(api::ApiFailure::Offline) => error.set(Some(i18n.t("helpdesk.agents_offline"))),
                Err(e) => error.set(Some(e.message())),
            }
            leptos::task::spawn_local(h.refresh());
        });
    };
    let named = move || h.agents.with(|l| l.iter().filter(|a| !a.super_admin).map(|a| a.id).collect::<Vec<_>>());
    let candidates = Memo::new(move |_| {
        let current: Vec<UserId> = h.agents.with(|l| l.iter().map(|a| a.id).collect());
        people
            .list
            .with(|l| l.iter().filter(|u| !current.contains(&u.id)).map(|u| (u.id, u.name.clone())).collect::<Vec<_>>())
    });
    view! {
        <div class="hd-stats-page" data-testid="hd-agents">
            <p class="muted">{move || i18n.t("helpdesk.agents_intro")}</p>
            <ul class="hd-agent-list">
                <For each=move || h.agents.get() key=|a| (a.id, a.super_admin) children=move |a: Agent| {
                    let id = a.id;
                    view! {
                        <li class="hd-agent" data-testid="hd-agent" data-id=a.id.0.to_string()>
                            <span class="avatar">{a.display_name.chars().next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default()}</span>
                            <span class="hd-agent-name">{a.display_name.clone()}</span>
                            {if a.super_admin {
                                view! { <span class="chip">{move || i18n.t("helpdesk.super_admin")}</span> }.into_any()
                            } else {
                                view! {
                                    <button class="btn btn-ghost btn-sm" data-testid="hd-agent-remove"
                                        on:click=move |_| save(named().into_iter().filter(|x| *x != id).collect())
                                    >{move || i18n.t("helpdesk.remove")}</button>
                                }.into_any()
                            }}
                        </li>
                    }
                } />
            </ul>
            <form class="hd-agent-add" on:submit=move |ev| {
                ev.prevent_default();
                let Ok(v) = pick.get_untracked().parse::<i64>() else { return };
                let mut n = named();
                n.push(UserId(v));
                pick.set(String::new());
                save(n);
            }>
                <select class="select select-sm" data-testid="hd-agent-pick" prop:value=move || pick.get()
                    on:change=move |ev| pick.set(event_target_value(&ev))>
                    <option value="">{move || i18n.t("helpdesk.pick_person")}</option>
                    {move || candidates.get().into_iter().map(|(id, name)| view! { <option value=id.0.to_string()>{name}</option> }).collect_view()}
                </select>
                <button type="submit" class="btn btn-primary btn-sm" data-testid="hd-agent-add" disabled=move || pick.with(|p| p.is_empty())>
                    {move || i18n.t("helpdesk.add_agent")}
                </button>
            </form>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </div>
    }
}
