//! The company directory (组织架构) as a synced, read-only Automerge document.
//!
//! There is one directory document, with the fixed id [`document_id`]. Everyone may read it (so
//! the app can browse the org chart offline); nobody may write it over sync. The relay alone
//! writes it, under an actor of the reserved [`SERVER_USER`] (no account has user id 0), each
//! time the directory changes: [`reconcile`] edits the document towards the relay's tables,
//! touching only what differs, so a change of one person's position is one small change.
//!
//! ```text
//! ROOT { kind: "directory",
//!        departments: { "<dept id>": { name: str, parent: str|null, path: str } },
//!        users: { "<user id>": { username: str, employee_id: str|null, name: str,
//!                                department: str|null, position: str, manager: int|null,
//!                                role: str, status: str } } }
//! ```

use super::read::{map_at, scalar};
use crate::acl::Role;
use crate::api::{Department, DirectoryUser, UserStatus};
use crate::ids::{DeptId, DocumentId, UserId};
use automerge::transaction::Transactable;
use automerge::{AutomergeError, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};

/// The user id in the actor of the relay's own changes. Real accounts start at 1.
pub const SERVER_USER: UserId = UserId(0);

/// The directory document's id, the same on every replica.
pub fn document_id() -> DocumentId {
    DocumentId::derived(&["directory"])
}

fn ensure_map<T: Transactable>(tx: &mut T, obj: &ObjId, key: &str) -> Result<(ObjId, bool), AutomergeError> {
    match map_at(tx, obj, key) {
        Some(id) => Ok((id, false)),
        None => Ok((tx.put_object(obj, key, ObjType::Map)?, true)),
    }
}

/// Put `value` unless it is already there; whether it wrote.
fn set<T: Transactable>(tx: &mut T, obj: &ObjId, key: &str, value: ScalarValue) -> Result<bool, AutomergeError> {
    if scalar(tx, obj, key).as_ref() == Some(&value) {
        return Ok(false);
    }
    tx.put(obj, key, value)?;
    Ok(true)
}

fn opt_str(v: Option<&str>) -> ScalarValue {
    v.map(ScalarValue::from).unwrap_or(ScalarValue::Null)
}

/// Make the document hold exactly `departments` and `users`. Returns whether anything changed
/// (the caller commits only then).
pub fn reconcile<T: Transactable>(
    tx: &mut T,
    departments: &[Department],
    users: &[DirectoryUser],
) -> Result<bool, AutomergeError> {
    let mut changed = set(tx, &ROOT, "kind", "directory".into())?;

    let (depts_obj, created) = ensure_map(tx, &ROOT, "departments")?;
    changed |= created;
    for d in departments {
        let (o, created) = ensure_map(tx, &depts_obj, d.id.as_str())?;
        changed |= created;
        changed |= set(tx, &o, "name", d.name.as_str().into())?;
        changed |= set(tx, &o, "parent", opt_str(d.parent.as_ref().map(DeptId::as_str)))?;
        changed |= set(tx, &o, "path", d.path.as_str().into())?;
    }
    let keep: std::collections::HashSet<&str> = departments.iter().map(|d| d.id.as_str()).collect();
    let gone: Vec<String> = tx.keys(&depts_obj).filter(|k| !keep.contains(k.as_str())).collect();
    for k in gone {
        tx.delete(&depts_obj, k.as_str())?;
        changed = true;
    }

    let (users_obj, created) = ensure_map(tx, &ROOT, "users")?;
    changed |= created;
    for u in users {
        let key = u.id.0.to_string();
        let (o, created) = ensure_map(tx, &users_obj, &key)?;
        changed |= created;
        changed |= set(tx, &o, "username", u.username.as_str().into())?;
        changed |= set(tx, &o, "employee_id", opt_str(u.employee_id.as_deref()))?;
        changed |= set(tx, &o, "name", u.name.as_str().into())?;
        changed |= set(tx, &o, "department", opt_str(u.department.as_ref().map(DeptId::as_str)))?;
        changed |= set(tx, &o, "position", u.position.as_str().into())?;
        let manager = u.manager.map(|m| ScalarValue::Int(m.0)).unwrap_or(ScalarValue::Null);
        changed |= set(tx, &o, "manager", manager)?;
        changed |= set(tx, &o, "role", u.role.as_str().into())?;
        changed |= set(tx, &o, "status", u.status.as_str().into())?;
    }
    let keep: std::collections::HashSet<String> = users.iter().map(|u| u.id.0.to_string()).collect();
    let gone: Vec<String> = tx.keys(&users_obj).filter(|k| !keep.contains(k)).collect();
    for k in gone {
        tx.delete(&users_obj, k.as_str())?;
        changed = true;
    }
    Ok(changed)
}

fn get_str(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<String> {
    match scalar(doc, obj, key)? {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

fn get_int(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<i64> {
    match scalar(doc, obj, key)? {
        ScalarValue::Int(i) => Some(i),
        ScalarValue::Uint(u) => i64::try_from(u).ok(),
        _ => None,
    }
}

/// The departments and people a directory document holds, sorted by id. Entries that do not
/// parse are skipped.
pub fn read(doc: &impl ReadDoc) -> (Vec<Department>, Vec<DirectoryUser>) {
    let mut departments = Vec::new();
    if let Some(obj) = map_at(doc, &ROOT, "departments") {
        for k in doc.keys(&obj) {
            let Some(o) = map_at(doc, &obj, &k) else { continue };
            let (Some(name), Some(path)) = (get_str(doc, &o, "name"), get_str(doc, &o, "path")) else { continue };
            departments.push(Department { id: DeptId(k), name, parent: get_str(doc, &o, "parent").map(DeptId), path });
        }
    }
    let mut users = Vec::new();
    if let Some(obj) = map_at(doc, &ROOT, "users") {
        for k in doc.keys(&obj) {
            let (Ok(id), Some(o)) = (k.parse::<i64>(), map_at(doc, &obj, &k)) else { continue };
            let role = get_str(doc, &o, "role").and_then(|r| Role::parse(&r));
            let status = get_str(doc, &o, "status").and_then(|s| UserStatus::parse(&s));
            let (Some(username), Some(name), Some(role), Some(status)) =
                (get_str(doc, &o, "username"), get_str(doc, &o, "name"), role, status)
            else {
                continue;
            };
            users.push(DirectoryUser {
                id: UserId(id),
                username,
                employee_id: get_str(doc, &o, "employee_id"),
                name,
                department: get_str(doc, &o, "department").map(DeptId),
                position: get_str(doc, &o, "position").unwrap_or_default(),
                manager: get_int(doc, &o, "manager").map(UserId),
                role,
                status,
            });
        }
    }
    departments.sort_by(|a, b| a.id.cmp(&b.id));
    users.sort_by_key(|u| u.id);
    (departments, users)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::AutoCommit;

    fn dept(id: &str, name: &str, parent: Option<&str>, path: &str) -> Department {
        Department {
            id: DeptId(id.into()),
            name: name.into(),
            parent: parent.map(|p| DeptId(p.into())),
            path: path.into(),
        }
    }

    fn user(id: i64, name: &str, dept: Option<&str>, manager: Option<i64>) -> DirectoryUser {
        DirectoryUser {
            id: UserId(id),
            username: format!("u{id}"),
            employee_id: Some(format!("E{id}")),
            name: name.into(),
            department: dept.map(|d| DeptId(d.into())),
            position: "工程师".into(),
            manager: manager.map(UserId),
            role: Role::Employee,
            status: UserStatus::Active,
        }
    }

    #[test]
    fn reconcile_writes_reads_back_and_is_idempotent() {
        let depts =
            vec![dept("d1", "销售 Sales", None, "销售 Sales"), dept("d2", "East", Some("d1"), "销售 Sales/East")];
        let users = vec![user(1, "李雷", Some("d2"), None), user(2, "韩梅梅", Some("d1"), Some(1))];
        let mut doc = AutoCommit::new();
        assert!(reconcile(&mut doc, &depts, &users).unwrap());
        doc.commit();
        assert_eq!(read(&doc), (depts.clone(), users.clone()));
        let heads = doc.get_heads();
        assert!(!reconcile(&mut doc, &depts, &users).unwrap(), "nothing to change the second time");
        doc.commit();
        assert_eq!(doc.get_heads(), heads, "no empty change either");
    }

    #[test]
    fn reconcile_changes_only_what_differs_and_removes_what_is_gone() {
        let depts = vec![dept("d1", "Sales", None, "Sales"), dept("d2", "Eng", None, "Eng")];
        let mut users = vec![user(1, "A", Some("d1"), None), user(2, "B", Some("d2"), None)];
        let mut doc = AutoCommit::new();
        reconcile(&mut doc, &depts, &users).unwrap();
        doc.commit();
        users[1].status = UserStatus::Deactivated;
        users.remove(0);
        assert!(reconcile(&mut doc, &depts[1..], &users).unwrap());
        assert!(doc.pending_ops() <= 3, "one put and two deletes, got {}", doc.pending_ops());
        doc.commit();
        assert_eq!(read(&doc), (depts[1..].to_vec(), users));
    }
}
