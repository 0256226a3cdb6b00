//! The file library (文件库): folders of the company, of a department or of a project, holding
//! files with versions, some folders with an approval step. What the app and the relay exchange,
//! and who may do what, as pure functions.
//!
//! A library file is an entry (its name and place) with numbered versions; each version is a
//! stored file ([`crate::api::FileInfo`], scope [`crate::api::FileScope::Folder`]) uploaded the
//! usual resumable way and then added to the entry. In a folder that needs approval a new version
//! is `pending` until an approver accepts or rejects it: until then only its uploader and the
//! approvers see (and may download) it, and everyone else keeps seeing the latest approved
//! version. Old versions are kept and stay downloadable.
//!
//! Who may do what (the relay enforces every rule; the app uses the same functions to decide what
//! to show):
//!
//! | folder of        | read                         | upload        | manage folders            | approve                          |
//! |------------------|------------------------------|---------------|---------------------------|----------------------------------|
//! | the company      | everyone                     | everyone      | super admins              | super admins                     |
//! | a department     | its people (sub-departments too), super admins | same | its admins, super admins | its admins, super admins   |
//! | a project        | who may read its board       | its members   | its members               | admins of the uploader's department, super admins |
//!
//! Deleting a file someone else added follows the matrix's "delete others' files": super admins
//! anywhere, department admins only for files of their department (the folder's department, or
//! for company and project folders the department of whoever added the file); employees only
//! their own files. A file is someone else's as soon as someone else added a version of it.

use crate::acl::{self, Actor, Denied, Role};
use crate::api::FileInfo;
use crate::ids::{DeptId, ProjectId, UserId};
use serde::{Deserialize, Serialize};

/// Longest folder name, in characters.
pub const MAX_FOLDER_NAME: usize = 80;

/// Deepest nesting of folders (a top folder is depth 1).
pub const MAX_FOLDER_DEPTH: usize = 6;

/// Whose a folder is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Place {
    Company,
    Dept(DeptId),
    Project(ProjectId),
}

/// What the relay knows about the caller and a folder's place, to decide the rules.
#[derive(Clone, Debug)]
pub struct Caller<'a> {
    pub actor: &'a Actor,
    /// The caller's department and its parents up to the top.
    pub dept_chain: &'a [DeptId],
    /// For a project folder: may the caller read / write the project's board.
    pub project_read: bool,
    pub project_write: bool,
}

impl Caller<'_> {
    fn super_admin(&self) -> bool {
        self.actor.role == Role::SuperAdmin
    }

    /// May see the folder and its approved files.
    pub fn may_read(&self, place: &Place) -> bool {
        match place {
            Place::Company => true,
            Place::Dept(d) => self.super_admin() || self.dept_chain.contains(d),
            Place::Project(_) => self.project_read,
        }
    }

    /// May add files and new versions.
    pub fn may_upload(&self, place: &Place) -> bool {
        match place {
            Place::Company => true,
            Place::Dept(_) => self.may_read(place),
            Place::Project(_) => self.project_write,
        }
    }

    /// May create folders here, rename them, turn approval on or off, delete empty ones.
    pub fn may_manage(&self, place: &Place) -> Result<(), Denied> {
        match place {
            Place::Company => acl::system_settings(self.actor),
            Place::Dept(d) => acl::edit_knowledge_base(self.actor, Some(d)),
            Place::Project(_) if self.project_write || self.super_admin() => Ok(()),
            Place::Project(_) => Err(Denied::Role),
        }
    }

    /// May accept or reject a version added by someone of `uploader_dept`.
    pub fn may_approve(&self, place: &Place, uploader_dept: Option<&DeptId>) -> Result<(), Denied> {
        match place {
            Place::Company => acl::system_settings(self.actor),
            _ => acl::delete_others_file(self.actor, file_dept(place, uploader_dept)),
        }
    }

    /// May delete a file whose versions were added by `uploaders` (each with their department).
    /// Deleting takes every version with it, so each version someone else added needs the
    /// matrix's "delete others' files" for that version's department; one's own need nothing.
    pub fn may_delete(&self, me: UserId, place: &Place, uploaders: &[(UserId, Option<&DeptId>)]) -> Result<(), Denied> {
        if !self.may_read(place) && self.actor.role != Role::SuperAdmin {
            return Err(Denied::Role);
        }
        for (who, dept) in uploaders {
            if *who != me {
                acl::delete_others_file(self.actor, file_dept(place, *dept))?;
            }
        }
        Ok(())
    }
}

/// The department a file belongs to for the matrix: a department folder's own, otherwise the
/// department of the person who added it.
pub fn file_dept<'a>(place: &'a Place, person_dept: Option<&'a DeptId>) -> Option<&'a DeptId> {
    match place {
        Place::Dept(d) => Some(d),
        _ => person_dept,
    }
}

/// A folder name as stored: trimmed, without control characters or path separators, at most
/// [`MAX_FOLDER_NAME`] characters; `None` when nothing is left.
pub fn clean_folder_name(name: &str) -> Option<String> {
    let s: String = name
        .chars()
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
        .take(MAX_FOLDER_NAME)
        .collect::<String>()
        .trim()
        .to_string();
    (!s.is_empty()).then_some(s)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Approved,
    Pending,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Approved => "approved",
            Status::Pending => "pending",
            Status::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approved" => Some(Status::Approved),
            "pending" => Some(Status::Pending),
            "rejected" => Some(Status::Rejected),
            _ => None,
        }
    }
}

/// A folder as the caller sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    pub id: String,
    pub name: String,
    pub place: Place,
    /// The department's or project's name ("" for the company).
    pub place_name: String,
    pub parent: Option<String>,
    pub needs_approval: bool,
    pub created_by: UserId,
    pub created_at: i64,
    /// Files (not deleted) the caller can see here.
    pub files: u32,
    /// Versions waiting for the caller's approval here.
    pub pending: u32,
    pub may_upload: bool,
    pub may_manage: bool,
}

/// One version of a library file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// 1, 2, … in the order they were added.
    pub n: u32,
    pub file: FileInfo,
    pub by_name: String,
    pub status: Status,
    pub reviewed_by_name: Option<String>,
    pub reviewed_at: Option<i64>,
    /// The reviewer's note (why it was rejected).
    pub note: String,
}

/// A file in a folder, with the versions the caller may see, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryFile {
    pub id: String,
    pub folder: String,
    pub name: String,
    pub owner: UserId,
    pub owner_name: String,
    pub created_at: i64,
    pub versions: Vec<Version>,
    pub may_delete: bool,
    /// May accept or reject its pending versions.
    pub may_review: bool,
}

impl LibraryFile {
    /// The version everyone sees: the newest approved one (the newest of all for its uploader
    /// and approvers, who see pending versions too, is `versions[0]`).
    pub fn current(&self) -> Option<&Version> {
        self.versions.iter().find(|v| v.status == Status::Approved)
    }
}

/// A file in brief, for finding it by name across every folder (offline too: the app keeps
/// the last answer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileBrief {
    pub id: String,
    pub folder: String,
    pub name: String,
    pub size: u64,
    /// When its newest version the caller sees was added, and by whom.
    pub updated_at: i64,
    pub by_name: String,
    /// A version of it waits for the caller's approval.
    #[serde(default)]
    pub waiting: bool,
}

/// `GET /api/library`: every folder the caller may read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    pub folders: Vec<Folder>,
    /// Every file the caller may see, in brief.
    #[serde(default)]
    pub files: Vec<FileBrief>,
    /// Where the caller may create top folders.
    pub may_create_in: Vec<PlaceChoice>,
}

/// A place offered for a new folder, with its department's or project's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceChoice {
    pub place: Place,
    pub name: String,
}

/// `GET /api/library/folders/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderListing {
    pub folder: Folder,
    pub files: Vec<LibraryFile>,
}

/// `POST /api/library/folders`: a top folder (`place`) or a subfolder (`parent`, whose place it
/// takes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewFolder {
    pub name: String,
    #[serde(default)]
    pub place: Option<Place>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub needs_approval: bool,
}

/// `PATCH /api/library/folders/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderChange {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub needs_approval: Option<bool>,
}

/// `POST /api/library/folders/{id}/files`: put an uploaded file (of this folder's scope, uploaded
/// by the caller) into the folder: as a new version of `entry`, or else of the file of the same
/// name there, or else as a new file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddFile {
    pub file: String,
    #[serde(default)]
    pub entry: Option<String>,
}

/// `POST /api/library/files/{id}/versions/{n}/review`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub approve: bool,
    #[serde(default)]
    pub note: String,
}

/// Longest review note, in characters.
pub const MAX_NOTE: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, dept: &str) -> Actor {
        Actor { role, dept: Some(DeptId(dept.into())) }
    }

    fn caller<'a>(a: &'a Actor, chain: &'a [DeptId], member: bool) -> Caller<'a> {
        Caller { actor: a, dept_chain: chain, project_read: member, project_write: member }
    }

    #[test]
    fn the_matrix_for_files() {
        let sales = DeptId("sales".into());
        let east = DeptId("east".into());
        let eng = DeptId("eng".into());
        let dept = Place::Dept(sales.clone());
        let project = Place::Project(ProjectId("p".into()));
        let (me, other) = (UserId(1), UserId(2));

        let sup = actor(Role::SuperAdmin, "eng");
        let sales_admin = actor(Role::DeptAdmin, "sales");
        let eng_admin = actor(Role::DeptAdmin, "eng");
        let emp = actor(Role::Employee, "east");
        let (c_sup, c_sadm, c_eadm) = (
            caller(&sup, std::slice::from_ref(&eng), false),
            caller(&sales_admin, std::slice::from_ref(&sales), true),
            caller(&eng_admin, std::slice::from_ref(&eng), false),
        );
        let chain = [east.clone(), sales.clone()];
        let c_emp = caller(&emp, &chain, true);

        // Reading: a department's folder for its people (a sub-department's too) and super admins.
        assert!(c_sup.may_read(&dept) && c_sadm.may_read(&dept) && c_emp.may_read(&dept));
        assert!(!c_eadm.may_read(&dept));
        assert!(c_eadm.may_read(&Place::Company));
        assert!(!c_eadm.may_read(&project) && c_emp.may_read(&project));

        // Managing folders.
        assert!(c_sup.may_manage(&Place::Company).is_ok());
        assert!(c_sadm.may_manage(&Place::Company).is_err());
        assert!(c_sadm.may_manage(&dept).is_ok());
        assert_eq!(c_eadm.may_manage(&dept), Err(Denied::OtherDepartment));
        assert_eq!(c_emp.may_manage(&dept), Err(Denied::Role));
        assert!(c_emp.may_manage(&project).is_ok(), "project members organise their folders");

        // Deleting: own files always; others' by the matrix.
        assert!(c_emp.may_delete(me, &dept, &[(me, Some(&east))]).is_ok());
        assert_eq!(c_emp.may_delete(me, &dept, &[(other, Some(&east))]), Err(Denied::Role));
        // A file of one's own with a version someone else added is partly theirs.
        assert_eq!(c_emp.may_delete(me, &dept, &[(other, Some(&east)), (me, Some(&east))]), Err(Denied::Role));
        assert!(c_sadm.may_delete(me, &dept, &[(other, Some(&east))]).is_ok());
        assert_eq!(c_eadm.may_delete(me, &dept, &[(other, Some(&eng))]), Err(Denied::Role), "cannot even read it");
        assert!(c_sup.may_delete(me, &dept, &[(other, None)]).is_ok());
        // In a project folder the file's department is its uploader's.
        let c_eadm_member = caller(&eng_admin, std::slice::from_ref(&eng), true);
        assert!(c_eadm_member.may_delete(me, &project, &[(other, Some(&eng))]).is_ok());
        assert_eq!(c_eadm_member.may_delete(me, &project, &[(other, Some(&sales))]), Err(Denied::OtherDepartment));

        // Approving.
        assert!(c_sadm.may_approve(&dept, Some(&east)).is_ok());
        assert!(c_eadm.may_approve(&dept, Some(&eng)).is_err());
        assert!(c_emp.may_approve(&dept, Some(&east)).is_err());
        assert!(c_sadm.may_approve(&Place::Company, Some(&sales)).is_err());
        assert!(c_sup.may_approve(&Place::Company, None).is_ok());
    }

    #[test]
    fn folder_names() {
        assert_eq!(clean_folder_name("  制度 / 2026 \n").as_deref(), Some("制度  2026"));
        assert_eq!(clean_folder_name(" / "), None);
        assert_eq!(clean_folder_name(&"文".repeat(200)).map(|s| s.chars().count()), Some(MAX_FOLDER_NAME));
    }

    #[test]
    fn place_wire_shape() {
        let p = Place::Dept(DeptId("d1".into()));
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"kind":"dept","id":"d1"}"#);
        assert_eq!(serde_json::to_string(&Place::Company).unwrap(), r#"{"kind":"company"}"#);
    }
}
