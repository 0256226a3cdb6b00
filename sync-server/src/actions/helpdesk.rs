//! Helpdesk (报修): opening tickets, listing them, naming the agents, the figures.
//!
//! Who is what: the requester is whoever opened a ticket; helpdesk agents (IT staff) are the
//! people a super admin names (`PUT /api/helpdesk/agents`) plus every super admin. A ticket's
//! document and its files are the requester's and the agents' only (the store's `access`); its
//! list entry likewise: an employee lists their own tickets, an agent every ticket, and a ticket
//! someone may not see answers 404 like one that does not exist. The figures are the super
//! admins'. The ticket's own fields are written over sync, under the rules of
//! [`qiao_model::schema::helpdesk::validate`].
//!
//! Opening a ticket is one transaction (document registered, index row, audit row) followed by
//! the relay writing the title, category and description into the document under its own actor
//! ([`crate::sync::registry::Registry::server_change`]). A creation retried with the same client
//! key (the app's outbox after a lost answer) returns the ticket made the first time.

use super::channels::refuse;
use crate::AppState;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::helpdesk::{NewTicket, create_ticket_tx, set_agents_tx};
use crate::store::{AuditRecord, audit_tx, now_ms};
use qiao_model::acl::{Module, Role};
use qiao_model::audit::Event;
use qiao_model::ids::UserId;
use qiao_model::schema::helpdesk::{self, Agent, CreateTicket, Figures, TicketList, TicketSummary};
use rand::RngCore;

/// At most this many agents named (besides super admins).
pub const MAX_AGENTS: usize = 200;

fn new_ticket_id() -> String {
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    format!("t{}", hex::encode(b))
}

pub async fn do_create(state: &AppState, who: &AuthUser, req: &CreateTicket) -> Result<TicketSummary, AppError> {
    super::modules::require_for(state, Module::Helpdesk, who.id(), Some(&who.ip), "helpdesk.ticket_create").await?;
    let key = req.client_key.trim();
    if key.is_empty() || key.len() > 64 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(AppError::BadRequest("client_key is 1 to 64 letters, digits, '-' or '_'".into()));
    }
    if let Some(existing) = state.store.ticket_by_key(who.id(), key).await? {
        return Ok(existing);
    }
    if let Err(e) = helpdesk::check_new(req) {
        return Err(AppError::BadRequest(e.to_string()));
    }
    let id = new_ticket_id();
    let doc = helpdesk::document_id(&id);
    let now = now_ms();
    let title = req.title.trim();
    let mut tx = state.store.begin().await?;
    let row = NewTicket { id: &id, doc, requester: who.id(), client_key: key, title, category: &req.category, now };
    create_ticket_tx(&mut tx, &row).await?;
    let rec = AuditRecord::ok(Event::HelpdeskTicketCreate)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("ticket:{id}"))
        .detail(format!("{} ({})", title, req.category));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    let name = who.user.me.display_name.clone();
    let fields = req.clone();
    state
        .registry
        .server_change(doc, move |d| {
            let mut tx = d.transaction();
            helpdesk::fill(&mut tx, &fields, &name, now).map_err(|e| AppError::BadRequest(e.to_string()))?;
            tx.commit();
            Ok(())
        })
        .await?;
    // The agents hear of it (those whose app is closed; an open app lists it by itself).
    let agents: Vec<_> =
        state.store.helpdesk_agents().await?.into_iter().map(|a| a.id).filter(|a| *a != who.id()).collect();
    state.registry.notify(crate::push::Event::Notify {
        users: agents,
        payload: crate::push::Payload {
            kind: "ticket",
            title: title.to_string(),
            place: req.category.clone(),
            body: who.user.me.display_name.clone(),
            tag: format!("t:{id}"),
            url: format!("/?ticket={id}"),
        },
    });
    state.store.ticket(&id).await?.ok_or_else(|| AppError::Internal("ticket vanished".into()))
}

/// The tickets `who` may see, and what they are to the helpdesk.
pub async fn list(state: &AppState, who: &AuthUser) -> Result<TicketList, AppError> {
    if !state.store.module_enabled(Module::Helpdesk).await? {
        return Ok(TicketList::default());
    }
    let agent = state.store.helpdesk_agent(who.id()).await?;
    let tickets = state.store.tickets(if agent { None } else { Some(who.id()) }).await?;
    Ok(TicketList {
        agent,
        admin: who.user.me.role == Role::SuperAdmin,
        figures: helpdesk::figures_scope(&who.actor()),
        tickets,
    })
}

/// One ticket's list entry, for its requester and the agents; anyone else: 404 (audited).
pub async fn one(state: &AppState, who: &AuthUser, id: &str) -> Result<TicketSummary, AppError> {
    super::modules::require_for(state, Module::Helpdesk, who.id(), Some(&who.ip), "helpdesk.read").await?;
    if let Some(t) = state.store.ticket(id).await?
        && (t.requester == who.id() || state.store.helpdesk_agent(who.id()).await?)
    {
        return Ok(t);
    }
    let shown: String = id.chars().take(80).collect();
    let err = AppError::NotFound(format!("no ticket {shown}"));
    Err(refuse(state, who, Event::HelpdeskRead, format!("ticket:{shown}"), err).await)
}

/// The agents; anyone may ask (the app offers them when assigning and shows who answers).
pub async fn agents(state: &AppState) -> Result<Vec<Agent>, AppError> {
    state.store.helpdesk_agents().await
}

/// A super admin names the agents (super admins are agents anyway).
pub async fn do_set_agents(state: &AppState, who: &AuthUser, users: &[UserId]) -> Result<Vec<Agent>, AppError> {
    if who.user.me.role != Role::SuperAdmin {
        let err = AppError::Forbidden("only a super admin names the helpdesk agents".into());
        return Err(refuse(state, who, Event::HelpdeskAgents, "helpdesk:agents".into(), err).await);
    }
    let mut users: Vec<UserId> = users.to_vec();
    users.sort();
    users.dedup();
    if users.len() > MAX_AGENTS {
        return Err(AppError::BadRequest(format!("at most {MAX_AGENTS} agents")));
    }
    for u in &users {
        if !state.store.user_exists_active(*u).await? {
            return Err(AppError::BadRequest(format!("no active user {u}")));
        }
    }
    let before: Vec<UserId> = state.store.helpdesk_agents().await?.into_iter().map(|a| a.id).collect();
    let mut tx = state.store.begin().await?;
    set_agents_tx(&mut tx, &users, now_ms()).await?;
    let rec = AuditRecord::ok(Event::HelpdeskAgents)
        .by(who.id())
        .ip(&who.ip)
        .target("helpdesk:agents".to_string())
        .after(serde_json::json!({ "agents": users }));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    // Someone who stopped being an agent stops syncing other people's tickets at once.
    let after: Vec<UserId> = state.store.helpdesk_agents().await?.into_iter().map(|a| a.id).collect();
    for gone in before.into_iter().filter(|u| !after.contains(u)) {
        state
            .registry
            .revoke(gone, move |k| matches!(k, crate::store::DocKind::Ticket { requester, .. } if *requester != gone))
            .await;
    }
    state.store.helpdesk_agents().await
}

/// The figures of the tickets opened in [from, to): super admins only.
pub async fn figures(state: &AppState, who: &AuthUser, from: i64, to: i64) -> Result<Figures, AppError> {
    super::modules::require_for(state, Module::Helpdesk, who.id(), Some(&who.ip), "helpdesk.read").await?;
    let dept = match helpdesk::figures_scope(&who.actor()) {
        Some(helpdesk::FiguresScope::All) => None,
        Some(helpdesk::FiguresScope::Department) => who.user.dept.clone(),
        None => {
            let err = AppError::Forbidden("the helpdesk figures are for admins".into());
            return Err(refuse(state, who, Event::HelpdeskRead, "helpdesk:stats".into(), err).await);
        }
    };
    if from >= to {
        return Err(AppError::BadRequest("the period's start must come before its end".into()));
    }
    Ok(helpdesk::figures(&state.store.ticket_times(dept.as_ref()).await?, from, to))
}
