//! Audit event codes (操作日志审计), grouped by domain.
//!
//! Every row of the relay's audit log names one [`Event`] by its stable code (`"auth.login"`,
//! `"user.deactivate"`, …); the part before the dot is its [`Domain`]. The codes are what the
//! admin console filters on and what a CSV export shows, so they never change meaning: add new
//! events rather than renaming old ones.

use serde::{Deserialize, Serialize};

/// The areas events belong to; also the prefix of every code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    Auth,
    Session,
    Sync,
    Channel,
    User,
    Directory,
    Settings,
    Module,
    Audit,
    Admin,
    Request,
    System,
    File,
    Project,
    Kb,
    Suggestion,
    Helpdesk,
}

macro_rules! events {
    ($( $domain:ident { $( $(#[$m:meta])* $variant:ident = $code:literal, )* } )*) => {
        /// One kind of audited action. See the module docs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Event {
            $( $( $(#[$m])* $variant, )* )*
        }

        impl Event {
            /// Every event, grouped by domain in declaration order.
            pub const ALL: &'static [Event] = &[ $( $( Event::$variant, )* )* ];

            /// The stable code stored in the log.
            pub fn as_str(self) -> &'static str {
                match self { $( $( Event::$variant => $code, )* )* }
            }

            pub fn domain(self) -> Domain {
                match self { $( $( Event::$variant => Domain::$domain, )* )* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $( $( $code => Some(Event::$variant), )* )* _ => None }
            }
        }
    };
}

events! {
    Auth {
        /// A login attempt (refused: wrong credentials or inactive account).
        AuthLogin = "auth.login",
        AuthLogout = "auth.logout",
        /// Someone changed their own password (refused: the current one was wrong, or the new
        /// one too weak); their other sessions end.
        AuthPasswordChange = "auth.password_change",
        /// A single sign-on login through the OpenID Connect provider (refused: unknown or
        /// deactivated account, a forged, replayed or expired state, a token that does not
        /// check out, or the provider said no).
        AuthOidcLogin = "auth.oidc_login",
    }
    Session {
        /// `POST /api/sessions/logout-others`.
        SessionLogoutOthers = "session.logout_others",
    }
    Sync {
        /// A sync frame for a document the user may not read.
        SyncRead = "sync.read",
        /// A change the user may not make (read-only document, foreign actor, authorship rule).
        SyncWrite = "sync.write",
        /// A sync connection refused because its person holds `--max-connections-per-user`
        /// already (audited at most once a minute per person).
        SyncConnectionLimit = "sync.connection_limit",
    }
    Channel {
        ChannelCreate = "channel.create",
        /// Someone added to a conversation (or joining a public channel).
        ChannelMemberAdd = "channel.member_add",
        /// Someone removed from a conversation (or leaving it).
        ChannelMemberRemove = "channel.member_remove",
        ChannelArchive = "channel.archive",
    }
    User {
        /// An account added from the command line.
        UserAdd = "user.add",
        /// An account created by an HR import.
        UserCreate = "user.create",
        /// Name, department, position, manager or role changed (HR import).
        UserUpdate = "user.update",
        UserDeactivate = "user.deactivate",
        UserReactivate = "user.reactivate",
    }
    Directory {
        DirectoryImportPreview = "directory.import_preview",
        DirectoryImportApply = "directory.import_apply",
        DepartmentCreate = "directory.department_create",
    }
    Settings {
        /// Module toggles changed; before/after hold the whole map.
        SettingsModules = "settings.modules",
        /// Settings the app reads (offline-cache expiry).
        SettingsClient = "settings.client",
        /// File settings (the upload size limit).
        SettingsFiles = "settings.files",
        /// Single sign-on (OpenID Connect) settings; the client secret appears only as
        /// "set"/"unset"/"changed", never itself.
        SettingsOidc = "settings.oidc",
    }
    Module {
        /// An action refused because its module is turned off.
        ModuleDisabled = "module.disabled",
    }
    Audit {
        AuditExport = "audit.export",
        AuditVerify = "audit.verify",
    }
    Admin {
        /// An admin endpoint refused to a user without the role.
        AdminAccess = "admin.access",
    }
    Request {
        /// A state-changing request or websocket upgrade from a foreign `Origin`.
        RequestForeignOrigin = "request.foreign_origin",
    }
    System {
        SystemFirstStart = "system.first_start",
    }
    File {
        /// An upload announced (refused: the caller may not write the conversation).
        FileUpload = "file.upload",
        /// An upload completed into a stored file (refused: the bytes did not hash to the
        /// announced SHA-256).
        FileStore = "file.store",
        /// A download refused (no such file, or the caller may not read its conversation).
        /// Allowed downloads are not logged: image previews would flood the log.
        FileDownload = "file.download",
        /// Uploads nobody touched for a while (`--abandoned-upload-hours`) were swept; the detail
        /// says how many.
        FileUploadSwept = "file.upload_swept",
        /// A folder of the file library created (refused: the caller may not manage that place).
        FileFolderCreate = "file.folder_create",
        /// A library folder renamed, or its approval step turned on or off.
        FileFolderChange = "file.folder_change",
        /// An empty library folder deleted.
        FileFolderDelete = "file.folder_delete",
        /// A stored file put into a library folder, as a new file or a new version.
        FileAdd = "file.add",
        /// A pending version accepted or rejected.
        FileReview = "file.review",
        /// A library file deleted (refused: someone else's, outside the caller's rights).
        FileDelete = "file.delete",
    }
    Project {
        ProjectCreate = "project.create",
        /// Someone added to a project (its board becomes writable for them).
        ProjectMemberAdd = "project.member_add",
        /// Someone removed from a project; their live sync of its board ends.
        ProjectMemberRemove = "project.member_remove",
    }
    Kb {
        /// A knowledge-base space created (company-wide or a department's).
        KbSpaceCreate = "kb.space_create",
        /// Someone granted (or refused) the right to edit a space they could only read.
        KbEditorAdd = "kb.editor_add",
    }
    Suggestion {
        /// A signed suggestion filed (anonymous ones are never audited: see
        /// `qiao_model::schema::suggestions`).
        SuggestionSubmit = "suggestion.submit",
    }
    Helpdesk {
        /// A helpdesk ticket opened (its document registered; refused: bad input).
        HelpdeskTicketCreate = "helpdesk.ticket_create",
        /// A super admin changed who the helpdesk agents are.
        HelpdeskAgents = "helpdesk.agents",
        /// A ticket, its list entry or its figures refused to someone who may not see them.
        HelpdeskRead = "helpdesk.read",
    }
}

impl Domain {
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Auth => "auth",
            Domain::Session => "session",
            Domain::Sync => "sync",
            Domain::Channel => "channel",
            Domain::User => "user",
            Domain::Directory => "directory",
            Domain::Settings => "settings",
            Domain::Module => "module",
            Domain::Audit => "audit",
            Domain::Admin => "admin",
            Domain::Request => "request",
            Domain::System => "system",
            Domain::File => "file",
            Domain::Project => "project",
            Domain::Kb => "kb",
            Domain::Suggestion => "suggestion",
            Domain::Helpdesk => "helpdesk",
        }
    }

    /// The events of this domain.
    pub fn events(self) -> impl Iterator<Item = Event> {
        Event::ALL.iter().copied().filter(move |e| e.domain() == self)
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Event::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown audit event {s}")))
    }
}

/// How an audited action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Outcome::Ok),
            "refused" => Some(Outcome::Refused),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_round_trip_and_carry_their_domain() {
        let mut seen = HashSet::new();
        for e in Event::ALL {
            assert!(seen.insert(e.as_str()), "duplicate code {e}");
            assert_eq!(Event::parse(e.as_str()), Some(*e));
            let (prefix, rest) = e.as_str().split_once('.').expect("domain.name");
            assert_eq!(prefix, e.domain().as_str(), "{e}");
            assert!(!rest.is_empty() && !rest.contains('.'));
        }
        assert_eq!(Event::parse("nope"), None);
    }

    #[test]
    fn every_domain_has_events() {
        for d in [
            Domain::Auth,
            Domain::Session,
            Domain::Sync,
            Domain::Channel,
            Domain::User,
            Domain::Directory,
            Domain::Settings,
            Domain::Module,
            Domain::Audit,
            Domain::Admin,
            Domain::Request,
            Domain::System,
            Domain::File,
            Domain::Project,
            Domain::Kb,
            Domain::Suggestion,
            Domain::Helpdesk,
        ] {
            assert!(d.events().next().is_some(), "{d:?}");
        }
    }
}
