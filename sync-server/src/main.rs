//! `qiao-server`: run the relay, or manage users from the command line.

use axum::serve::ListenerExt;
use clap::{Parser, Subcommand};
use qiao_model::acl::Role;
use qiao_server::config::Config;
use qiao_server::{AppState, app, auth, bootstrap, store::Store};
use std::net::SocketAddr;

#[derive(Parser)]
#[command(name = "qiao-server", version, about = "Qiao (桥) relay server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app, the API and the sync websocket.
    Serve {
        #[arg(long, env = "QIAO_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Password for the super admin created on first start (default: random, printed once).
        #[arg(long, env = "QIAO_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: Option<String>,
        #[command(flatten)]
        config: Config,
    },
    /// Manage accounts without the UI (for scripts and tests).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, env = "QIAO_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        name: Option<String>,
        /// super_admin, dept_admin or employee.
        #[arg(long, default_value = "employee")]
        role: String,
        #[arg(long, env = "QIAO_DATA_DIR", default_value = "data")]
        data_dir: std::path::PathBuf,
    },
    /// Add `count` employees named `<prefix>00000`, `<prefix>00001`, … sharing one password, in
    /// one transaction: seeding for load tests and staging (the chat benchmark's 10,000-member
    /// channel). The password is hashed once, so this takes seconds where an HR import of as
    /// many people hashes a password per person. Real people come in through the HR import.
    AddMany {
        #[arg(long)]
        prefix: String,
        #[arg(long)]
        count: usize,
        #[arg(long, env = "QIAO_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, env = "QIAO_DATA_DIR", default_value = "data")]
        data_dir: std::path::PathBuf,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "qiao_server=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    qiao_server::sync::contain::install_quiet_hook();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve { addr, admin_password, config } => {
            let state = AppState::new(config).await?;
            if let Some(first) = bootstrap::first_start(&state.store, admin_password).await? {
                println!("First start: created the super admin.");
                println!("  username: {}", first.username);
                println!("  password: {}   (shown once; change it after logging in)", first.password);
                qiao_server::actions::directory::publish(&state).await?;
            }
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let local = listener.local_addr()?;
            // Sync frames are small and often back to back: without TCP_NODELAY, Nagle holds the
            // second one until the first is acknowledged, and a close frame held that way is lost
            // when the socket is dropped with unread input (an oversized frame).
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            println!("Qiao is running at http://{local}/");
            axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
        Command::User { command: UserCommand::Add { username, password, name, role, data_dir } } => {
            let role = Role::parse(&role).ok_or("role must be super_admin, dept_admin or employee")?;
            if username.trim().is_empty() || password.len() < 8 {
                return Err("a username and a password of at least 8 characters are required".into());
            }
            let store = Store::open(&data_dir).await?;
            let hash = auth::hash_password(&password)?;
            let display = name.unwrap_or_else(|| username.clone());
            let id = store.create_user(username.trim(), &display, &hash, role).await?;
            store.audit(None, None, "user.add", false, &format!("{id} {username} via cli")).await?;
            println!("added user {username} (id {id})");
        }
        Command::User { command: UserCommand::AddMany { prefix, count, password, data_dir } } => {
            if prefix.trim().is_empty() || password.len() < 8 || count == 0 || count > 100_000 {
                return Err("a prefix, 1 to 100,000 users and a password of at least 8 characters are required".into());
            }
            let store = Store::open(&data_dir).await?;
            let hash = auth::hash_password(&password)?;
            let now = qiao_server::store::now_ms();
            let mut tx = store.begin().await?;
            let (mut first, mut last) = (0i64, 0i64);
            for i in 0..count {
                let username = format!("{}{i:05}", prefix.trim());
                let id = sqlx::query(
                    "INSERT INTO users (username, display_name, password_hash, role, created_at) VALUES (?, ?, ?, 'employee', ?)",
                )
                .bind(&username)
                .bind(&username)
                .bind(&hash)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .last_insert_rowid();
                if i == 0 {
                    first = id;
                }
                last = id;
            }
            tx.commit().await?;
            store.audit(None, None, "user.add", false, &format!("{count} users {prefix}* via cli add-many")).await?;
            println!("added {count} users {prefix}{:05}..{prefix}{:05} (ids {first}..{last})", 0, count - 1);
        }
    }
    Ok(())
}
