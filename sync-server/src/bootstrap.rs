//! First start: when there is no user, create the super admin and the company-wide channel.

use crate::actions::channels::new_channel_id;
use crate::auth::hash_password;
use crate::error::AppError;
use crate::store::Store;
use qiao_model::acl::Role;
use rand::Rng;

/// What the first start created; the password is printed once and never stored in clear.
pub struct FirstStart {
    pub username: String,
    pub password: String,
}

pub async fn first_start(store: &Store, admin_password: Option<String>) -> Result<Option<FirstStart>, AppError> {
    if store.user_count().await? > 0 {
        store.ensure_all_user_states().await?;
        return Ok(None);
    }
    let password = admin_password.unwrap_or_else(|| {
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::thread_rng();
        (0..16).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
    });
    let admin = store.create_user("admin", "管理员 Admin", &hash_password(&password)?, Role::SuperAdmin).await?;
    store.create_channel(&new_channel_id(), "综合 General", false, admin).await?;
    store.audit(Some(admin), None, "system.first_start", false, "").await?;
    Ok(Some(FirstStart { username: "admin".into(), password }))
}
