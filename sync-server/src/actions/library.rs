//! The file library (文件库): folders, files with versions, approval and deletion, each request
//! checked against [`qiao_model::library::Caller`]'s rules for the folder's place.
//!
//! A file reaches the library in two steps: it is uploaded like any other file (resumable, its
//! SHA-256 checked; scope [`FileScope::Folder`], so only people who may upload into that folder
//! can start it), then added to the folder ([`do_add_file`]), which makes it a new file or the
//! next version of one. In a folder that needs approval the version waits (`pending`) unless the
//! uploader may approve it themselves. Every answer is shaped for the caller: versions they may
//! not see are left out, files with none are not listed, folders they may not read answer 404
//! like folders that do not exist.

use crate::AppState;
use crate::actions::channels::refuse;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::store::library::{self as rows, EntryRow, FolderRow, VersionRow};
use crate::store::{Access, AuditRecord, UserRow, audit_tx, now_ms};
use qiao_model::acl::{Actor, Module, Role};
use qiao_model::api::{FileInfo, FileScope};
use qiao_model::audit::Event;
use qiao_model::ids::{DeptId, ProjectId, UserId};
use qiao_model::library::{
    AddFile, Caller, FileBrief, Folder, FolderChange, FolderListing, Library, LibraryFile, MAX_FOLDER_DEPTH, MAX_NOTE,
    NewFolder, Place, PlaceChoice, Review, Status, clean_folder_name,
};
use qiao_model::schema::tasks;
use std::collections::HashMap;

/// Someone looking at the library: what the rules need to know about them, with the projects'
/// access looked up once each.
pub struct Viewer {
    pub me: UserId,
    actor: Actor,
    chain: Vec<DeptId>,
    projects: HashMap<ProjectId, Access>,
}

impl Viewer {
    pub async fn new(state: &AppState, user: &UserRow) -> Result<Viewer, AppError> {
        Ok(Viewer {
            me: user.me.id,
            actor: Actor { role: user.me.role, dept: user.dept.clone() },
            chain: state.store.dept_chain(user.dept.as_ref()).await?,
            projects: HashMap::new(),
        })
    }

    async fn of(state: &AppState, who: &AuthUser) -> Result<Viewer, AppError> {
        Viewer::new(state, &who.user).await
    }

    /// The rules for `place` (a project's board access looked up the first time).
    pub async fn caller(&mut self, state: &AppState, place: &Place) -> Result<Caller<'_>, AppError> {
        let access = match place {
            Place::Project(p) => match self.projects.get(p) {
                Some(a) => *a,
                None => {
                    let a = state.store.access(self.me, tasks::board_id(p)).await?.0;
                    self.projects.insert(p.clone(), a);
                    a
                }
            },
            _ => Access::None,
        };
        Ok(Caller {
            actor: &self.actor,
            dept_chain: &self.chain,
            project_read: access >= Access::Read,
            project_write: access >= Access::Write,
        })
    }
}

/// Whether `me` (under the rules `c`) sees version `v` of an entry in `place`: approved versions
/// everyone who reads the folder; the others their uploader and the approvers.
fn sees(me: UserId, c: &Caller<'_>, place: &Place, v: &VersionRow) -> bool {
    v.version.status == Status::Approved
        || v.version.file.owner == me
        || c.may_approve(place, v.by_dept.as_ref()).is_ok()
}

fn not_found(what: &str) -> AppError {
    AppError::NotFound(format!("no {what} you may see"))
}

/// Folder `id` if the caller may read it (404 otherwise, like a folder that does not exist).
async fn readable_folder(state: &AppState, v: &mut Viewer, id: &str) -> Result<FolderRow, AppError> {
    match state.store.library_folder(id).await? {
        Some(f) if v.caller(state, &f.place).await?.may_read(&f.place) => Ok(f),
        _ => Err(not_found("folder")),
    }
}

/// A folder as `v` sees it, with the counts from `entries` (every entry of every folder, or just
/// this folder's).
async fn folder_view(
    state: &AppState,
    v: &mut Viewer,
    f: &FolderRow,
    entries: &[&EntryRow],
) -> Result<Folder, AppError> {
    let me = v.me;
    let c = v.caller(state, &f.place).await?;
    let (mut files, mut pending) = (0, 0);
    for e in entries {
        if e.versions.iter().any(|x| sees(me, &c, &f.place, x)) {
            files += 1;
        }
        pending += e
            .versions
            .iter()
            .filter(|x| x.version.status == Status::Pending && c.may_approve(&f.place, x.by_dept.as_ref()).is_ok())
            .count() as u32;
    }
    Ok(Folder {
        id: f.id.clone(),
        name: f.name.clone(),
        place: f.place.clone(),
        place_name: f.place_name.clone(),
        parent: f.parent.clone(),
        needs_approval: f.needs_approval,
        created_by: f.created_by,
        created_at: f.created_at,
        files,
        pending,
        may_upload: c.may_upload(&f.place),
        may_manage: c.may_manage(&f.place).is_ok(),
    })
}

/// Who added each version of `e`, with their department (deleting `e` deletes them all).
fn uploaders(e: &EntryRow) -> Vec<(UserId, Option<&DeptId>)> {
    e.versions.iter().map(|x| (x.version.file.owner, x.by_dept.as_ref())).collect()
}

/// An entry as `v` sees it; `None` when no version of it is theirs to see.
async fn file_view(
    state: &AppState,
    v: &mut Viewer,
    place: &Place,
    e: &EntryRow,
) -> Result<Option<LibraryFile>, AppError> {
    let me = v.me;
    let c = v.caller(state, place).await?;
    let seen: Vec<&VersionRow> = e.versions.iter().filter(|x| sees(me, &c, place, x)).collect();
    if seen.is_empty() {
        return Ok(None);
    }
    let may_review =
        seen.iter().any(|x| x.version.status == Status::Pending && c.may_approve(place, x.by_dept.as_ref()).is_ok());
    Ok(Some(LibraryFile {
        id: e.id.clone(),
        folder: e.folder.clone(),
        name: e.name.clone(),
        owner: e.owner,
        owner_name: e.owner_name.clone(),
        created_at: e.created_at,
        may_delete: c.may_delete(me, place, &uploaders(e)).is_ok(),
        may_review,
        versions: seen.into_iter().map(|x| x.version.clone()).collect(),
    }))
}

/// `GET /api/library`: every folder the caller may read, and where they may create folders.
pub async fn library(state: &AppState, who: &AuthUser) -> Result<Library, AppError> {
    super::modules::require(state, Module::Files).await?;
    let mut v = Viewer::of(state, who).await?;
    let folders = state.store.library_folders().await?;
    let entries = state.store.library_all_entries().await?;
    let mut by_folder: HashMap<&str, Vec<&EntryRow>> = HashMap::new();
    for e in &entries {
        by_folder.entry(e.folder.as_str()).or_default().push(e);
    }
    let mut out = Library::default();
    for f in &folders {
        if !v.caller(state, &f.place).await?.may_read(&f.place) {
            continue;
        }
        let es = by_folder.get(f.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        out.folders.push(folder_view(state, &mut v, f, es).await?);
        for e in es {
            if let Some(lf) = file_view(state, &mut v, &f.place, e).await?
                && let Some(newest) = lf.versions.first()
            {
                out.files.push(FileBrief {
                    id: lf.id.clone(),
                    folder: lf.folder.clone(),
                    name: lf.name.clone(),
                    size: newest.file.size,
                    updated_at: newest.file.created_at,
                    by_name: newest.by_name.clone(),
                    waiting: lf.may_review,
                });
            }
        }
    }
    // Where new top folders may go: the company (super admins), departments (their admins; super
    // admins every one), projects (their members).
    let depts = state.store.department_names().await?;
    let dept = |d: DeptId| {
        let name = depts.iter().find(|(id, _)| *id == d).map(|(_, n)| n.clone()).unwrap_or_default();
        PlaceChoice { place: Place::Dept(d), name }
    };
    match who.user.me.role {
        Role::SuperAdmin => {
            out.may_create_in.push(PlaceChoice { place: Place::Company, name: String::new() });
            out.may_create_in.extend(depts.iter().map(|(d, _)| dept(d.clone())));
        }
        Role::DeptAdmin => out.may_create_in.extend(who.user.dept.clone().map(dept)),
        Role::Employee => {}
    }
    for p in state.store.projects_for(who.id()).await? {
        if p.member {
            out.may_create_in.push(PlaceChoice { place: Place::Project(p.id), name: p.name });
        }
    }
    Ok(out)
}

/// `GET /api/library/folders/{id}`: the folder and the files in it the caller may see.
pub async fn listing(state: &AppState, who: &AuthUser, id: &str) -> Result<FolderListing, AppError> {
    super::modules::require(state, Module::Files).await?;
    let mut v = Viewer::of(state, who).await?;
    let f = readable_folder(state, &mut v, id).await?;
    let entries = state.store.library_entries(&f.id).await?;
    let refs: Vec<&EntryRow> = entries.iter().collect();
    let folder = folder_view(state, &mut v, &f, &refs).await?;
    let mut files = Vec::new();
    for e in &entries {
        files.extend(file_view(state, &mut v, &f.place, e).await?);
    }
    Ok(FolderListing { folder, files })
}

fn folder_name(name: &str) -> Result<String, AppError> {
    clean_folder_name(name).ok_or_else(|| AppError::BadRequest("a folder needs a name".into()))
}

/// Whether `name` is taken among the folders of `place` under `parent` (other than `except`).
async fn name_taken(
    state: &AppState,
    place: &Place,
    parent: Option<&str>,
    name: &str,
    except: Option<&str>,
) -> Result<bool, AppError> {
    Ok(state
        .store
        .library_folders()
        .await?
        .iter()
        .any(|f| &f.place == place && f.parent.as_deref() == parent && f.name == name && Some(f.id.as_str()) != except))
}

/// `POST /api/library/folders`.
pub async fn do_create_folder(state: &AppState, who: &AuthUser, req: &NewFolder) -> Result<Folder, AppError> {
    super::modules::require_for(state, Module::Files, who.id(), Some(&who.ip), "file.folder_create").await?;
    let name = folder_name(&req.name)?;
    let mut v = Viewer::of(state, who).await?;
    let place = match (&req.parent, &req.place) {
        (Some(parent), _) => {
            let p = readable_folder(state, &mut v, parent).await?;
            let mut depth = 1;
            let mut up = p.parent.clone();
            while let Some(id) = up {
                depth += 1;
                up = state.store.library_folder(&id).await?.and_then(|f| f.parent);
            }
            if depth >= MAX_FOLDER_DEPTH {
                return Err(AppError::BadRequest(format!("folders nest at most {MAX_FOLDER_DEPTH} deep")));
            }
            p.place
        }
        (None, Some(place)) => {
            let exists = match place {
                Place::Company => true,
                Place::Dept(d) => state.store.department_names().await?.iter().any(|(id, _)| id == d),
                Place::Project(p) => {
                    v.caller(state, place).await?.may_read(place) && state.store.project_facts(p).await?.is_some()
                }
            };
            if !exists {
                return Err(not_found("department or project"));
            }
            place.clone()
        }
        (None, None) => {
            return Err(AppError::BadRequest("say where the folder goes: a place or a parent folder".into()));
        }
    };
    if let Err(why) = v.caller(state, &place).await?.may_manage(&place) {
        let err = AppError::Forbidden(format!("you may not create folders here: {why}"));
        return Err(refuse(state, who, Event::FileFolderCreate, place_target(&place), err).await);
    }
    if name_taken(state, &place, req.parent.as_deref(), &name, None).await? {
        return Err(AppError::Conflict(format!("there is a folder named {name} here already")));
    }
    let row = FolderRow {
        id: super::files::new_file_id().replacen('f', "d", 1),
        name,
        place,
        place_name: String::new(),
        parent: req.parent.clone(),
        needs_approval: req.needs_approval,
        created_by: who.id(),
        created_at: now_ms(),
    };
    let mut tx = state.store.begin().await?;
    rows::insert_folder_tx(&mut tx, &row).await?;
    let rec = AuditRecord::ok(Event::FileFolderCreate)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("folder:{}", row.id))
        .detail(format!("{} in {}{}", row.name, place_target(&row.place), approval_note(row.needs_approval)));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    let row = state.store.library_folder(&row.id).await?.ok_or_else(|| not_found("folder"))?;
    folder_view(state, &mut v, &row, &[]).await
}

fn place_target(p: &Place) -> String {
    match p {
        Place::Company => "company".into(),
        Place::Dept(d) => format!("dept:{d}"),
        Place::Project(p) => format!("project:{p}"),
    }
}

fn approval_note(on: bool) -> &'static str {
    if on { ", files need approval" } else { "" }
}

/// A folder the caller may manage, or the refusal (audited as `event`).
async fn managed_folder(
    state: &AppState,
    who: &AuthUser,
    v: &mut Viewer,
    id: &str,
    event: Event,
) -> Result<FolderRow, AppError> {
    let f = readable_folder(state, v, id).await?;
    if let Err(why) = v.caller(state, &f.place).await?.may_manage(&f.place) {
        let err = AppError::Forbidden(format!("you may not change this folder: {why}"));
        return Err(refuse(state, who, event, format!("folder:{id}"), err).await);
    }
    Ok(f)
}

/// `PATCH /api/library/folders/{id}`: rename, or turn approval on or off (versions already
/// waiting keep waiting).
pub async fn do_change_folder(
    state: &AppState,
    who: &AuthUser,
    id: &str,
    req: &FolderChange,
) -> Result<Folder, AppError> {
    super::modules::require_for(state, Module::Files, who.id(), Some(&who.ip), "file.folder_change").await?;
    let mut v = Viewer::of(state, who).await?;
    let f = managed_folder(state, who, &mut v, id, Event::FileFolderChange).await?;
    let name = match &req.name {
        Some(n) => folder_name(n)?,
        None => f.name.clone(),
    };
    if name != f.name && name_taken(state, &f.place, f.parent.as_deref(), &name, Some(id)).await? {
        return Err(AppError::Conflict(format!("there is a folder named {name} here already")));
    }
    let approval = req.needs_approval.unwrap_or(f.needs_approval);
    let mut tx = state.store.begin().await?;
    rows::update_folder_tx(&mut tx, id, &name, approval).await?;
    let rec = AuditRecord::ok(Event::FileFolderChange)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("folder:{id}"))
        .detail(format!("{name}{}", approval_note(approval)));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    let row = state.store.library_folder(id).await?.ok_or_else(|| not_found("folder"))?;
    let entries = state.store.library_entries(id).await?;
    let refs: Vec<&EntryRow> = entries.iter().collect();
    folder_view(state, &mut v, &row, &refs).await
}

/// `DELETE /api/library/folders/{id}`: only an empty folder (409 otherwise).
pub async fn do_delete_folder(state: &AppState, who: &AuthUser, id: &str) -> Result<(), AppError> {
    super::modules::require_for(state, Module::Files, who.id(), Some(&who.ip), "file.folder_delete").await?;
    let mut v = Viewer::of(state, who).await?;
    let f = managed_folder(state, who, &mut v, id, Event::FileFolderDelete).await?;
    let mut tx = state.store.begin().await?;
    if !rows::delete_empty_folder_tx(&mut tx, id).await? {
        return Err(AppError::Conflict("the folder is not empty: move or delete what is in it first".into()));
    }
    let rec =
        AuditRecord::ok(Event::FileFolderDelete).by(who.id()).ip(&who.ip).target(format!("folder:{id}")).detail(f.name);
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(())
}

/// What a version `who` adds to `f` starts as: pending in a folder with approval, unless they
/// may approve it themselves (an approver's own version needs nobody else's approval).
fn new_version_status(f: &FolderRow, c: &Caller<'_>, who: &AuthUser) -> Status {
    if f.needs_approval && c.may_approve(&f.place, who.user.dept.as_ref()).is_err() {
        Status::Pending
    } else {
        Status::Approved
    }
}

/// `POST /api/library/folders/{id}/files`: put an uploaded file into the folder.
pub async fn do_add_file(
    state: &AppState,
    who: &AuthUser,
    folder: &str,
    req: &AddFile,
) -> Result<LibraryFile, AppError> {
    super::modules::require_for(state, Module::Files, who.id(), Some(&who.ip), "file.add").await?;
    let mut v = Viewer::of(state, who).await?;
    let f = readable_folder(state, &mut v, folder).await?;
    let c = v.caller(state, &f.place).await?;
    if !c.may_upload(&f.place) {
        let err = AppError::Forbidden("you may not add files to this folder".into());
        return Err(refuse(state, who, Event::FileAdd, format!("folder:{folder}"), err).await);
    }
    let status = new_version_status(&f, &c, who);
    let file: FileInfo = match state.store.file(&req.file).await? {
        Some(x) if x.owner == who.id() && x.scope == FileScope::Folder(f.id.clone()) => x,
        _ => return Err(AppError::NotFound("no file of yours uploaded into this folder".into())),
    };
    // The file it becomes a version of: the one named, or else one of the same name here —
    // either only if the caller sees it. A file still waiting for someone else's approval is not
    // joined (that would tell them it exists, and make their version part of another's file):
    // the upload becomes a file of its own beside it.
    let candidates = match &req.entry {
        Some(e) => vec![e.clone()],
        None => state.store.library_entries_named(&f.id, &file.name).await?,
    };
    let mut target = None;
    for id in candidates {
        if let Some(e) = state.store.library_entry(&id).await?
            && e.folder == f.id
            && !e.deleted
            && file_view(state, &mut v, &f.place, &e).await?.is_some()
        {
            target = Some(id);
            break;
        }
    }
    if req.entry.is_some() && target.is_none() {
        return Err(not_found("file in this folder"));
    }
    let mut tx = state.store.begin().await?;
    if rows::file_in_library_tx(&mut tx, &file.id).await? {
        return Err(AppError::Conflict("this upload is in the library already".into()));
    }
    let entry = match target {
        Some(e) => e,
        None => {
            let id = super::files::new_file_id().replacen('f', "e", 1);
            rows::insert_entry_tx(&mut tx, &id, &f.id, &file.name, who.id(), now_ms()).await?;
            id
        }
    };
    let n = rows::insert_version_tx(&mut tx, &entry, &file.id, status).await?;
    let rec = AuditRecord::ok(Event::FileAdd)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("file:{}", file.id))
        .detail(format!("{} as version {n} of entry {entry} in folder:{} ({})", file.name, f.id, status.as_str()));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    if status == Status::Pending {
        tell_approvers(state, &f, &entry, &file.name, who).await?;
    }
    entry_for(state, &mut v, &f, &entry).await
}

async fn entry_for(state: &AppState, v: &mut Viewer, f: &FolderRow, entry: &str) -> Result<LibraryFile, AppError> {
    let e = state.store.library_entry(entry).await?.ok_or_else(|| not_found("file"))?;
    file_view(state, v, &f.place, &e).await?.ok_or_else(|| not_found("file"))
}

/// Entry `id` that is not deleted, in a folder the caller may read, with that folder.
async fn readable_entry(state: &AppState, v: &mut Viewer, id: &str) -> Result<(EntryRow, FolderRow), AppError> {
    let e = state.store.library_entry(id).await?.filter(|e| !e.deleted).ok_or_else(|| not_found("file"))?;
    let f = readable_folder(state, v, &e.folder).await.map_err(|_| not_found("file"))?;
    Ok((e, f))
}

/// `POST /api/library/files/{id}/versions/{n}/restore`: make an earlier version the newest again,
/// as a new version over the same bytes (history is kept, not rewritten). It goes through
/// approval like any new version.
pub async fn do_restore(state: &AppState, who: &AuthUser, entry: &str, n: u32) -> Result<LibraryFile, AppError> {
    super::modules::require_for(state, Module::Files, who.id(), Some(&who.ip), "file.add").await?;
    let mut v = Viewer::of(state, who).await?;
    let (e, f) = readable_entry(state, &mut v, entry).await?;
    let c = v.caller(state, &f.place).await?;
    let Some(old) = e.versions.iter().find(|x| x.version.n == n && sees(who.id(), &c, &f.place, x)) else {
        return Err(not_found("version"));
    };
    if old.version.status != Status::Approved {
        return Err(AppError::Conflict("only an approved version can be restored".into()));
    }
    if !c.may_upload(&f.place) {
        let err = AppError::Forbidden("you may not add versions in this folder".into());
        return Err(refuse(state, who, Event::FileAdd, format!("entry:{entry}"), err).await);
    }
    let status = new_version_status(&f, &c, who);
    let file = FileInfo {
        id: super::files::new_file_id(),
        scope: FileScope::Folder(f.id.clone()),
        owner: who.id(),
        created_at: now_ms(),
        ..old.version.file.clone()
    };
    let mut tx = state.store.begin().await?;
    crate::store::files::insert_file_tx(&mut tx, &file).await?;
    let to = rows::insert_version_tx(&mut tx, entry, &file.id, status).await?;
    let rec = AuditRecord::ok(Event::FileAdd)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("file:{}", file.id))
        .detail(format!("{}: version {n} restored as version {to} ({})", e.name, status.as_str()));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    if status == Status::Pending {
        tell_approvers(state, &f, entry, &file.name, who).await?;
    }
    entry_for(state, &mut v, &f, entry).await
}

/// `POST /api/library/files/{id}/versions/{n}/review`.
pub async fn do_review(
    state: &AppState,
    who: &AuthUser,
    entry: &str,
    n: u32,
    req: &Review,
) -> Result<LibraryFile, AppError> {
    super::modules::require_for(state, Module::Files, who.id(), Some(&who.ip), "file.review").await?;
    let mut v = Viewer::of(state, who).await?;
    let (e, f) = readable_entry(state, &mut v, entry).await?;
    let Some(version) = e.versions.iter().find(|x| x.version.n == n) else { return Err(not_found("version")) };
    let c = v.caller(state, &f.place).await?;
    if let Err(why) = c.may_approve(&f.place, version.by_dept.as_ref()) {
        // Someone who cannot see the version is told it does not exist.
        if !sees(who.id(), &c, &f.place, version) {
            return Err(not_found("version"));
        }
        let err = AppError::Forbidden(format!("you may not review this file: {why}"));
        return Err(refuse(state, who, Event::FileReview, format!("file:{}", version.version.file.id), err).await);
    }
    let note: String = req.note.trim().chars().filter(|c| !c.is_control() || *c == '\n').take(MAX_NOTE).collect();
    let status = if req.approve { Status::Approved } else { Status::Rejected };
    let mut tx = state.store.begin().await?;
    if !rows::review_tx(&mut tx, entry, n, status, who.id(), &note, now_ms()).await? {
        return Err(AppError::Conflict(format!("version {n} is not waiting for review any more")));
    }
    let rec = AuditRecord::ok(Event::FileReview)
        .by(who.id())
        .ip(&who.ip)
        .target(format!("file:{}", version.version.file.id))
        .detail(format!("version {n} of {} {}", e.name, status.as_str()));
    audit_tx(&mut tx, &rec).await?;
    tx.commit().await?;
    // Its uploader hears the decision.
    state.registry.notify(crate::push::Event::Notify {
        users: vec![version.version.file.owner],
        payload: crate::push::Payload {
            kind: if req.approve { "approved" } else { "rejected" },
            title: version.version.file.name.clone(),
            place: f.name.clone(),
            body: note.clone(),
            tag: format!("lib:{entry}"),
            url: format!("/?folder={}", f.id),
        },
    });
    entry_for(state, &mut v, &f, entry).await
}

/// `DELETE /api/library/files/{id}`: one's own file, or another's by the matrix.
pub async fn do_delete_file(state: &AppState, who: &AuthUser, entry: &str) -> Result<(), AppError> {
    super::modules::require_for(state, Module::Files, who.id(), Some(&who.ip), "file.delete").await?;
    let mut v = Viewer::of(state, who).await?;
    let (e, f) = readable_entry(state, &mut v, entry).await?;
    if file_view(state, &mut v, &f.place, &e).await?.is_none() {
        return Err(not_found("file"));
    }
    let c = v.caller(state, &f.place).await?;
    if let Err(why) = c.may_delete(who.id(), &f.place, &uploaders(&e)) {
        let err = AppError::Forbidden(format!("you may not delete this file: {why}"));
        return Err(refuse(state, who, Event::FileDelete, format!("entry:{entry}"), err).await);
    }
    let mut tx = state.store.begin().await?;
    if rows::delete_entry_tx(&mut tx, entry, who.id(), now_ms()).await? {
        let rec = AuditRecord::ok(Event::FileDelete).by(who.id()).ip(&who.ip).target(format!("entry:{entry}")).detail(
            format!("{} ({} versions) from folder:{}, added by user:{}", e.name, e.versions.len(), f.id, e.owner.0),
        );
        audit_tx(&mut tx, &rec).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Tell the people who may approve a version `by` (of `by_dept`) added to `f` that it waits.
async fn tell_approvers(
    state: &AppState,
    f: &FolderRow,
    entry: &str,
    name: &str,
    by: &AuthUser,
) -> Result<(), AppError> {
    let dept = match &f.place {
        Place::Company => None,
        place => qiao_model::library::file_dept(place, by.user.dept.as_ref()).cloned(),
    };
    let mut users = Vec::new();
    for u in state.store.approver_candidates(dept.as_ref()).await? {
        let Some(row) = state.store.user_by_id(u).await? else { continue };
        let mut v = Viewer::new(state, &row).await?;
        let c = v.caller(state, &f.place).await?;
        if u != by.id() && c.may_read(&f.place) && c.may_approve(&f.place, by.user.dept.as_ref()).is_ok() {
            users.push(u);
        }
    }
    state.registry.notify(crate::push::Event::Notify {
        users,
        payload: crate::push::Payload {
            kind: "approval",
            title: name.to_string(),
            place: f.name.clone(),
            body: by.user.me.display_name.clone(),
            tag: format!("lib:{entry}"),
            url: format!("/?folder={}", f.id),
        },
    });
    Ok(())
}

/// What `user` may do with the files of folder `id` (upload: write; read: read). Nothing while the
/// files module is off: like a chat file while chat is off, a library file is then not served.
pub async fn folder_access(state: &AppState, user: UserId, id: &str) -> Result<Access, AppError> {
    if !state.store.module_enabled(Module::Files).await? {
        return Ok(Access::None);
    }
    let (Some(row), Some(f)) = (state.store.user_by_id(user).await?, state.store.library_folder(id).await?) else {
        return Ok(Access::None);
    };
    let mut v = Viewer::new(state, &row).await?;
    let c = v.caller(state, &f.place).await?;
    Ok(if c.may_upload(&f.place) {
        Access::Write
    } else if c.may_read(&f.place) {
        Access::Read
    } else {
        Access::None
    })
}

/// Whether `user` may download stored file `file` of a folder, all in one look: the files
/// module is on, they may read the folder, and the file is a version they may see of a file that
/// is not deleted — or their own upload not yet added.
pub async fn may_download(state: &AppState, user: UserId, file: &FileInfo) -> Result<bool, AppError> {
    let FileScope::Folder(folder) = &file.scope else { return Ok(false) };
    if !state.store.module_enabled(Module::Files).await? {
        return Ok(false);
    }
    let (Some(row), Some(f)) = (state.store.user_by_id(user).await?, state.store.library_folder(folder).await?) else {
        return Ok(false);
    };
    let mut v = Viewer::new(state, &row).await?;
    let c = v.caller(state, &f.place).await?;
    if !c.may_read(&f.place) {
        return Ok(false);
    }
    Ok(match state.store.library_entry_of_file(&file.id).await? {
        None => file.owner == user,
        Some(e) if e.deleted => false,
        Some(e) => {
            e.versions.iter().find(|x| x.version.file.id == file.id).is_some_and(|x| sees(user, &c, &f.place, x))
        }
    })
}
