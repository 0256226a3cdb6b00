//! Roles and the permission matrix (权限分级), as pure functions.
//!
//! The relay calls these to enforce; the app calls the same functions only to decide what to
//! show. Matrix from the product brief:
//!
//! | role             | create groups        | delete others' files | edit knowledge base | system settings |
//! |------------------|----------------------|----------------------|---------------------|-----------------|
//! | super admin      | yes                  | yes                  | yes                 | yes             |
//! | department admin | yes (own department) | yes (own department) | yes (own department)| no              |
//! | employee         | yes (≤ 5 people)     | no                   | no                  | no              |

use crate::ids::DeptId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SuperAdmin,
    DeptAdmin,
    Employee,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::DeptAdmin => "dept_admin",
            Role::Employee => "employee",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "super_admin" => Some(Role::SuperAdmin),
            "dept_admin" => Some(Role::DeptAdmin),
            "employee" => Some(Role::Employee),
            _ => None,
        }
    }
}

/// Largest group an employee may create (the matrix's "at most 5 people").
pub const EMPLOYEE_GROUP_LIMIT: usize = 5;

/// Who is acting: enough to decide any rule of the matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub role: Role,
    pub dept: Option<DeptId>,
}

/// Why something was refused, as shown to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("your role may not do this")]
    Role,
    #[error("only within your own department")]
    OtherDepartment,
    #[error("employees may create groups of at most {EMPLOYEE_GROUP_LIMIT} people")]
    GroupTooLarge,
    #[error("not on your own account")]
    OwnAccount,
}

fn same_dept(actor: &Actor, dept: Option<&DeptId>) -> bool {
    matches!((&actor.dept, dept), (Some(a), Some(b)) if a == b)
}

/// Create a group of `members` people (the creator included) in department `dept`
/// (`None`: a cross-department group).
pub fn create_group(actor: &Actor, members: usize, dept: Option<&DeptId>) -> Result<(), Denied> {
    match actor.role {
        Role::SuperAdmin => Ok(()),
        Role::DeptAdmin if same_dept(actor, dept) => Ok(()),
        _ if members <= EMPLOYEE_GROUP_LIMIT => Ok(()),
        _ => Err(Denied::GroupTooLarge),
    }
}

/// Create a public channel everyone in the company can join.
pub fn create_public_channel(actor: &Actor) -> Result<(), Denied> {
    match actor.role {
        Role::SuperAdmin | Role::DeptAdmin => Ok(()),
        Role::Employee => Err(Denied::Role),
    }
}

/// Delete a file someone else uploaded, held in department `dept`.
pub fn delete_others_file(actor: &Actor, dept: Option<&DeptId>) -> Result<(), Denied> {
    match actor.role {
        Role::SuperAdmin => Ok(()),
        Role::DeptAdmin if same_dept(actor, dept) => Ok(()),
        Role::DeptAdmin => Err(Denied::OtherDepartment),
        Role::Employee => Err(Denied::Role),
    }
}

/// Edit a knowledge-base space owned by department `dept` (`None`: the company-wide space).
pub fn edit_knowledge_base(actor: &Actor, dept: Option<&DeptId>) -> Result<(), Denied> {
    delete_others_file(actor, dept)
}

/// Change system settings (modules, login, retention).
pub fn system_settings(actor: &Actor) -> Result<(), Denied> {
    match actor.role {
        Role::SuperAdmin => Ok(()),
        _ => Err(Denied::Role),
    }
}

/// Manage (deactivate, reactivate, edit) the account of someone with role `target_role` in
/// department `target_dept`. Super admins manage everyone but themselves (`is_self`: nobody
/// locks themselves out); department admins manage the employees of their own department.
pub fn manage_user(
    actor: &Actor,
    target_role: Role,
    target_dept: Option<&DeptId>,
    is_self: bool,
) -> Result<(), Denied> {
    if is_self {
        return Err(Denied::OwnAccount);
    }
    match actor.role {
        Role::SuperAdmin => Ok(()),
        Role::DeptAdmin if target_role != Role::Employee => Err(Denied::Role),
        Role::DeptAdmin if same_dept(actor, target_dept) => Ok(()),
        Role::DeptAdmin => Err(Denied::OtherDepartment),
        Role::Employee => Err(Denied::Role),
    }
}

/// Mention everyone in a conversation (`@所有人`): admins only, so a company-wide channel is
/// not one keystroke away from notifying thousands.
pub fn mention_all(actor: &Actor) -> Result<(), Denied> {
    match actor.role {
        Role::SuperAdmin | Role::DeptAdmin => Ok(()),
        Role::Employee => Err(Denied::Role),
    }
}

/// Publish an announcement to `dept` (`None`: the whole company): super admins to anyone,
/// department admins to their own department.
pub fn publish_announcement(actor: &Actor, dept: Option<&DeptId>) -> Result<(), Denied> {
    match actor.role {
        Role::SuperAdmin => Ok(()),
        Role::DeptAdmin if same_dept(actor, dept) => Ok(()),
        Role::DeptAdmin => Err(Denied::OtherDepartment),
        Role::Employee => Err(Denied::Role),
    }
}

/// Read the audit log, export it, import the org chart: the super admin's, like system settings.
pub fn administer(actor: &Actor) -> Result<(), Denied> {
    system_settings(actor)
}

/// The modules a super admin can turn on and off (功能模块启用). An off module is hidden in the
/// app and refused by the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    Chat,
    Kb,
    Tasks,
    Announcements,
    Files,
    Suggestions,
    Meetings,
    Helpdesk,
}

impl Module {
    pub const ALL: [Module; 8] = [
        Module::Chat,
        Module::Kb,
        Module::Tasks,
        Module::Announcements,
        Module::Files,
        Module::Suggestions,
        Module::Meetings,
        Module::Helpdesk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Module::Chat => "chat",
            Module::Kb => "kb",
            Module::Tasks => "tasks",
            Module::Announcements => "announcements",
            Module::Files => "files",
            Module::Suggestions => "suggestions",
            Module::Meetings => "meetings",
            Module::Helpdesk => "helpdesk",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Module::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(role: Role, dept: &str) -> Actor {
        Actor { role, dept: Some(DeptId(dept.into())) }
    }

    #[test]
    fn the_matrix() {
        let sales = DeptId("sales".into());
        let eng = DeptId("eng".into());
        let sa = a(Role::SuperAdmin, "it");
        let da = a(Role::DeptAdmin, "sales");
        let em = a(Role::Employee, "sales");
        // create groups
        assert!(create_group(&sa, 500, None).is_ok());
        assert!(create_group(&da, 100, Some(&sales)).is_ok());
        assert_eq!(create_group(&da, 100, Some(&eng)), Err(Denied::GroupTooLarge));
        assert!(create_group(&em, 5, None).is_ok());
        assert_eq!(create_group(&em, 6, Some(&sales)), Err(Denied::GroupTooLarge));
        // delete others' files
        assert!(delete_others_file(&sa, Some(&eng)).is_ok());
        assert!(delete_others_file(&da, Some(&sales)).is_ok());
        assert_eq!(delete_others_file(&da, Some(&eng)), Err(Denied::OtherDepartment));
        assert_eq!(delete_others_file(&em, Some(&sales)), Err(Denied::Role));
        // knowledge base
        assert!(edit_knowledge_base(&da, Some(&sales)).is_ok());
        assert_eq!(edit_knowledge_base(&da, None), Err(Denied::OtherDepartment));
        assert_eq!(edit_knowledge_base(&em, Some(&sales)), Err(Denied::Role));
        // system settings
        assert!(system_settings(&sa).is_ok());
        assert_eq!(system_settings(&da), Err(Denied::Role));
        assert_eq!(system_settings(&em), Err(Denied::Role));
    }

    /// role × same/other department × target role → may manage the account?
    #[test]
    fn manage_user_matrix() {
        let (sales, eng) = (DeptId("sales".into()), DeptId("eng".into()));
        let sa = a(Role::SuperAdmin, "it");
        let da = a(Role::DeptAdmin, "sales");
        let em = a(Role::Employee, "sales");
        let cases: &[(&Actor, Role, &DeptId, Result<(), Denied>)] = &[
            (&sa, Role::Employee, &sales, Ok(())),
            (&sa, Role::DeptAdmin, &eng, Ok(())),
            (&sa, Role::SuperAdmin, &eng, Ok(())),
            (&da, Role::Employee, &sales, Ok(())),
            (&da, Role::Employee, &eng, Err(Denied::OtherDepartment)),
            (&da, Role::DeptAdmin, &sales, Err(Denied::Role)),
            (&da, Role::SuperAdmin, &sales, Err(Denied::Role)),
            (&em, Role::Employee, &sales, Err(Denied::Role)),
            (&em, Role::Employee, &eng, Err(Denied::Role)),
        ];
        for (actor, target, dept, want) in cases {
            assert_eq!(manage_user(actor, *target, Some(dept), false), *want, "{actor:?} on {target:?} in {dept:?}");
        }
        assert_eq!(manage_user(&sa, Role::SuperAdmin, None, true), Err(Denied::OwnAccount));
        assert_eq!(manage_user(&da, Role::Employee, None, false), Err(Denied::OtherDepartment));
        assert!(administer(&sa).is_ok());
        assert_eq!(administer(&da), Err(Denied::Role));
    }

    #[test]
    fn module_names_round_trip() {
        for m in Module::ALL {
            assert_eq!(Module::parse(m.as_str()), Some(m));
        }
        assert_eq!(Module::parse("games"), None);
    }

    #[test]
    fn role_names_round_trip() {
        for r in [Role::SuperAdmin, Role::DeptAdmin, Role::Employee] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
