//! Surveys (问卷): one company document holding every survey's definition; the answers never
//! enter a document.
//!
//! ```text
//! ROOT { kind: "surveys",
//!        items: { "<id>": { title: str, description: str,
//!                           questions: str (JSON: [Question]), depts: str (JSON: [dept id], [] = everyone),
//!                           anonymous: bool, close_at: int (ms, 0: no date), closed: bool,
//!                           author: int, author_name: str, ts: int (ms), deleted: bool } } }
//! ```
//!
//! Why a document: an admin builds a survey offline like anything else, and staff see the surveys
//! addressed to them offline (and answer them into the app's outbox). Everyone reads the whole
//! document — survey questions are not secret, and one company document needs no per-survey
//! access list; the app shows each person the surveys addressed to them. What is private are
//! the answers and the results: those live only in the relay's database, sent by REST
//! (`POST /api/surveys/{id}/answers`) and shown only to the survey's author and super admins.
//!
//! Only publishers write: super admins for anyone, a department admin for their own department
//! only ([`may_create`]); a survey is changed by its author or a super admin, and what the
//! answers depend on — the questions, the audience, anonymity — is fixed in the change that
//! creates it ([`validate`]), so an anonymous survey cannot later be turned into a named one.
//!
//! The questions are one JSON string rather than Automerge objects: a survey's questions are
//! written once, together, and validating one string is simpler and stricter than validating an
//! object tree op by op.

use super::read::{bool_at as b_at, int_at as i_at, map_at, str_at as s_at};
use crate::acl::{Actor, Denied, Role};
use crate::actor::{self, GENESIS_ACTOR};
use crate::ids::{DeptId, DocumentId, UserId};
use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ExpandedChange, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
pub const MAX_QUESTIONS: usize = 50;
pub const MAX_OPTIONS: usize = 20;
pub const MAX_QUESTION_CHARS: usize = 300;
pub const MAX_OPTION_CHARS: usize = 100;
pub const MAX_TEXT_ANSWER_CHARS: usize = 5_000;

pub fn document_id() -> DocumentId {
    DocumentId::derived(&["surveys"])
}

pub fn genesis() -> AutoCommit {
    super::from_genesis(|doc| {
        doc.put(ROOT, "kind", "surveys").expect("put on root");
        doc.put_object(ROOT, "items", ObjType::Map).expect("put on root");
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One of `options`.
    Single,
    /// Any of `options` (at least one when required).
    Multiple,
    /// 1 to 5 stars.
    Rating,
    /// Free text.
    Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub title: String,
    #[serde(default)]
    pub required: bool,
    /// The choices of a single or multiple choice question; empty for the others.
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Survey {
    pub id: String,
    pub title: String,
    pub description: String,
    pub questions: Vec<Question>,
    /// The departments it is addressed to (with their sub-departments); empty: everyone.
    pub depts: Vec<DeptId>,
    pub anonymous: bool,
    /// When it closes by itself (ms); 0: only by the close button.
    pub close_at: i64,
    pub closed: bool,
    pub author: UserId,
    pub author_name: String,
    pub ts: i64,
    pub deleted: bool,
}

impl Survey {
    /// Whether answers are still taken at `now_ms`.
    pub fn is_open(&self, now_ms: i64) -> bool {
        !self.closed && !self.deleted && (self.close_at == 0 || now_ms < self.close_at)
    }

    /// Whether it is addressed to someone whose department is the first of `chain`, the rest
    /// being its parent departments up to the top (a survey for Sales reaches Sales/East).
    pub fn addressed_to(&self, chain: &[DeptId]) -> bool {
        self.depts.is_empty() || self.depts.iter().any(|d| chain.contains(d))
    }

    /// Who sees the results: the author and super admins.
    pub fn may_see_results(&self, user: UserId, role: Role) -> bool {
        self.author == user || role == Role::SuperAdmin
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SurveyError {
    #[error("a title is 1 to {MAX_TITLE_CHARS} characters")]
    Title,
    #[error("a description is at most {MAX_DESCRIPTION_CHARS} characters")]
    Description,
    #[error("a survey has 1 to {MAX_QUESTIONS} questions")]
    QuestionCount,
    #[error("question {0}: the question is 1 to {MAX_QUESTION_CHARS} characters")]
    QuestionTitle(usize),
    #[error(
        "question {0}: a choice question has 2 to {MAX_OPTIONS} distinct, non-empty options of at most {MAX_OPTION_CHARS} characters"
    )]
    Options(usize),
    #[error("question {0}: only choice questions have options")]
    StrayOptions(usize),
    #[error("two questions share an id")]
    DuplicateId,
    #[error("the questions are not readable")]
    Unreadable,
    #[error("no such survey")]
    Missing,
    #[error("this is not the surveys document")]
    NotSurveys,
}

/// Check a survey's title, description and questions (the app before publishing, [`validate`]
/// on every change).
pub fn check_definition(title: &str, description: &str, questions: &[Question]) -> Result<(), SurveyError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(SurveyError::Title);
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(SurveyError::Description);
    }
    check_questions(questions)
}

pub fn check_questions(questions: &[Question]) -> Result<(), SurveyError> {
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        return Err(SurveyError::QuestionCount);
    }
    let mut ids = BTreeSet::new();
    for (i, q) in questions.iter().enumerate() {
        let n = i + 1;
        if q.id.is_empty() || q.id.len() > 40 || !ids.insert(q.id.as_str()) {
            return Err(SurveyError::DuplicateId);
        }
        let t = q.title.trim();
        if t.is_empty() || t.chars().count() > MAX_QUESTION_CHARS {
            return Err(SurveyError::QuestionTitle(n));
        }
        match q.kind {
            QuestionKind::Single | QuestionKind::Multiple => {
                let distinct: BTreeSet<&str> = q.options.iter().map(|o| o.trim()).collect();
                let ok = (2..=MAX_OPTIONS).contains(&q.options.len())
                    && distinct.len() == q.options.len()
                    && q.options.iter().all(|o| !o.trim().is_empty() && o.chars().count() <= MAX_OPTION_CHARS);
                if !ok {
                    return Err(SurveyError::Options(n));
                }
            }
            QuestionKind::Rating | QuestionKind::Text if !q.options.is_empty() => {
                return Err(SurveyError::StrayOptions(n));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `actor` may address a survey to `depts` (empty: everyone): super admins anyone,
/// department admins their own department only, employees nobody.
pub fn may_create(actor: &Actor, depts: &[DeptId]) -> Result<(), Denied> {
    match actor.role {
        Role::SuperAdmin => Ok(()),
        Role::DeptAdmin if !depts.is_empty() && depts.iter().all(|d| Some(d) == actor.dept.as_ref()) => Ok(()),
        Role::DeptAdmin => Err(Denied::OtherDepartment),
        Role::Employee => Err(Denied::Role),
    }
}

// --- reading and writing the document -----------------------------------------------------------

fn read_item(doc: &impl ReadDoc, id: &str, o: &ObjId) -> Option<Survey> {
    let questions: Vec<Question> = serde_json::from_str(&s_at(doc, o, "questions")).ok()?;
    let depts: Vec<String> = serde_json::from_str(&s_at(doc, o, "depts")).ok()?;
    Some(Survey {
        id: id.to_string(),
        title: s_at(doc, o, "title"),
        description: s_at(doc, o, "description"),
        questions,
        depts: depts.into_iter().map(DeptId).collect(),
        anonymous: b_at(doc, o, "anonymous"),
        close_at: i_at(doc, o, "close_at"),
        closed: b_at(doc, o, "closed"),
        author: UserId(i_at(doc, o, "author")),
        author_name: s_at(doc, o, "author_name"),
        ts: i_at(doc, o, "ts"),
        deleted: b_at(doc, o, "deleted"),
    })
}

/// Every survey that is not deleted, newest first.
pub fn list(doc: &impl ReadDoc) -> Vec<Survey> {
    let Some(items) = map_at(doc, &ROOT, "items") else { return Vec::new() };
    let mut out: Vec<Survey> = doc
        .map_range(&items, ..)
        .filter_map(|item| match Value::from(item.value.clone()) {
            Value::Object(ObjType::Map) => read_item(doc, &item.key, &item.id()),
            _ => None,
        })
        .filter(|s| !s.deleted)
        .collect();
    out.sort_by(|a, b| b.ts.cmp(&a.ts).then_with(|| a.id.cmp(&b.id)));
    out
}

/// One survey, deleted or not.
pub fn get(doc: &impl ReadDoc, id: &str) -> Option<Survey> {
    let items = map_at(doc, &ROOT, "items")?;
    let o = map_at(doc, &items, id)?;
    read_item(doc, id, &o)
}

fn commit(doc: &mut AutoCommit, now_ms: i64) {
    doc.commit_with(CommitOptions::default().with_time(now_ms / 1000));
}

/// Publish `s` (checked with [`check_definition`] first).
pub fn publish(doc: &mut AutoCommit, s: &Survey, now_ms: i64) -> Result<(), SurveyError> {
    check_definition(&s.title, &s.description, &s.questions)?;
    let items = map_at(doc, &ROOT, "items").ok_or(SurveyError::NotSurveys)?;
    let questions = serde_json::to_string(&s.questions).map_err(|_| SurveyError::Unreadable)?;
    let depts: Vec<&str> = s.depts.iter().map(|d| d.0.as_str()).collect();
    let depts = serde_json::to_string(&depts).map_err(|_| SurveyError::Unreadable)?;
    let o = doc.put_object(&items, &s.id, ObjType::Map).expect("put");
    doc.put(&o, "title", s.title.trim()).expect("put");
    doc.put(&o, "description", s.description.trim()).expect("put");
    doc.put(&o, "questions", questions).expect("put");
    doc.put(&o, "depts", depts).expect("put");
    doc.put(&o, "anonymous", s.anonymous).expect("put");
    doc.put(&o, "close_at", s.close_at).expect("put");
    doc.put(&o, "closed", false).expect("put");
    doc.put(&o, "author", s.author.0).expect("put");
    doc.put(&o, "author_name", s.author_name.as_str()).expect("put");
    doc.put(&o, "ts", s.ts).expect("put");
    doc.put(&o, "deleted", false).expect("put");
    commit(doc, now_ms);
    Ok(())
}

fn item(doc: &AutoCommit, id: &str) -> Result<ObjId, SurveyError> {
    let items = map_at(doc, &ROOT, "items").ok_or(SurveyError::NotSurveys)?;
    map_at(doc, &items, id).ok_or(SurveyError::Missing)
}

/// Stop taking answers now (the close button).
pub fn close(doc: &mut AutoCommit, id: &str, now_ms: i64) -> Result<(), SurveyError> {
    let o = item(doc, id)?;
    doc.put(&o, "closed", true).expect("put");
    commit(doc, now_ms);
    Ok(())
}

pub fn delete(doc: &mut AutoCommit, id: &str, now_ms: i64) -> Result<(), SurveyError> {
    let o = item(doc, id)?;
    doc.put(&o, "deleted", true).expect("put");
    commit(doc, now_ms);
    Ok(())
}

// --- who may change what ----------------------------------------------------------------------

/// What the sender may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Powers {
    /// May publish surveys (super admins, department admins).
    pub publish: bool,
    /// May change anyone's survey (super admins).
    pub moderate: bool,
    /// A department admin's department: the only audience they may address. `None` with
    /// `publish`: any audience (super admin).
    pub only_dept: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("the surveys document's fixed fields cannot be changed")]
    Root,
    #[error("your role may not create surveys")]
    NotPublisher,
    #[error("a department admin addresses surveys to their own department only")]
    OtherDepartment,
    #[error("only its author or a super admin changes a survey")]
    OthersSurvey,
    #[error("a survey's questions, audience and anonymity are set when it is created")]
    Frozen,
    #[error("invalid survey: {0}")]
    Invalid(SurveyError),
}

fn items_object() -> &'static OpId {
    static ID: OnceLock<OpId> = OnceLock::new();
    ID.get_or_init(|| super::genesis_object(&mut genesis(), "items"))
}

/// Fields that only the change creating a survey may set.
const FROZEN: [&str; 3] = ["questions", "depts", "anonymous"];

pub fn validate(change: &ExpandedChange, user: UserId, powers: &Powers) -> Result<(), Violation> {
    if change.actor_id.to_bytes() == GENESIS_ACTOR {
        return Ok(());
    }
    let items = items_object();
    // The objects this change creates: their frozen fields may be set here, and only here.
    let made: BTreeSet<OpId> = change
        .operations
        .iter()
        .enumerate()
        .filter(|(_, op)| matches!(op.action, OpType::Make(_)))
        .map(|(i, _)| OpId::new(change.start_op.get() + i as u64, &change.actor_id))
        .collect();
    for op in &change.operations {
        if !powers.publish {
            return Err(Violation::NotPublisher);
        }
        let ObjectId::Id(target) = &op.obj else { return Err(Violation::Root) };
        if target == items {
            match op.action {
                OpType::Make(ObjType::Map) => continue,
                _ => return Err(Violation::Root),
            }
        }
        let owner = actor::user_of(target.actor());
        if owner != Some(user) && !powers.moderate {
            return Err(Violation::OthersSurvey);
        }
        let (Key::Map(k), OpType::Put(v)) = (&op.key, &op.action) else { return Err(Violation::Root) };
        let k = k.as_str();
        if FROZEN.contains(&k) && !made.contains(target) {
            return Err(Violation::Frozen);
        }
        match (k, v) {
            ("questions", ScalarValue::Str(s)) => {
                let qs: Vec<Question> =
                    serde_json::from_str(s).map_err(|_| Violation::Invalid(SurveyError::Unreadable))?;
                check_questions(&qs).map_err(Violation::Invalid)?;
            }
            ("depts", ScalarValue::Str(s)) => {
                let ds: Vec<String> =
                    serde_json::from_str(s).map_err(|_| Violation::Invalid(SurveyError::Unreadable))?;
                if let Some(d) = &powers.only_dept
                    && (ds.is_empty() || ds.iter().any(|x| x != d))
                {
                    return Err(Violation::OtherDepartment);
                }
            }
            ("title", ScalarValue::Str(s)) if s.trim().is_empty() || s.chars().count() > MAX_TITLE_CHARS => {
                return Err(Violation::Invalid(SurveyError::Title));
            }
            ("description", ScalarValue::Str(s)) if s.chars().count() > MAX_DESCRIPTION_CHARS => {
                return Err(Violation::Invalid(SurveyError::Description));
            }
            ("title" | "description" | "author_name", ScalarValue::Str(_)) => {}
            ("anonymous" | "closed" | "deleted", ScalarValue::Boolean(_)) => {}
            ("close_at" | "ts", ScalarValue::Int(_)) => {}
            ("author", ScalarValue::Int(a)) if *a == user.0 || owner != Some(user) => {}
            ("author", _) => return Err(Violation::OthersSurvey),
            _ => return Err(Violation::Root),
        }
    }
    Ok(())
}

// --- answers and results ----------------------------------------------------------------------

/// One answer to one question. Choices are option indexes; a rating is 1 to 5.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Answer {
    pub question: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `POST /api/surveys/{id}/answers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SubmitAnswers {
    pub answers: Vec<Answer>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("“{0}” needs an answer")]
    Required(String),
    #[error("“{0}”: that is not one of its options")]
    BadChoice(String),
    #[error("“{0}”: pick exactly one option")]
    OneChoice(String),
    #[error("“{0}”: a rating is 1 to 5")]
    BadRating(String),
    #[error("“{0}”: an answer is at most {MAX_TEXT_ANSWER_CHARS} characters")]
    TooLong(String),
    #[error("an answer to a question this survey does not have")]
    UnknownQuestion,
    #[error("two answers to the same question")]
    Twice,
}

/// Check `answers` against the survey's questions; returns them in question order, empty
/// answers dropped and texts trimmed.
pub fn check_answers(survey: &Survey, answers: &[Answer]) -> Result<Vec<Answer>, AnswerError> {
    let mut by_q: BTreeMap<&str, &Answer> = BTreeMap::new();
    for a in answers {
        if !survey.questions.iter().any(|q| q.id == a.question) {
            return Err(AnswerError::UnknownQuestion);
        }
        if by_q.insert(a.question.as_str(), a).is_some() {
            return Err(AnswerError::Twice);
        }
    }
    let mut out = Vec::new();
    for q in &survey.questions {
        let name = || q.title.clone();
        let a = by_q.get(q.id.as_str());
        let clean = match (q.kind, a) {
            (_, None) => None,
            (QuestionKind::Single | QuestionKind::Multiple, Some(a)) => {
                let set: BTreeSet<u32> = a.choices.iter().copied().collect();
                if set.iter().any(|c| *c as usize >= q.options.len()) || set.len() != a.choices.len() {
                    return Err(AnswerError::BadChoice(name()));
                }
                if q.kind == QuestionKind::Single && set.len() > 1 {
                    return Err(AnswerError::OneChoice(name()));
                }
                (!set.is_empty()).then(|| Answer {
                    question: q.id.clone(),
                    choices: set.into_iter().collect(),
                    ..Default::default()
                })
            }
            (QuestionKind::Rating, Some(a)) => match a.rating {
                None => None,
                Some(r @ 1..=5) => Some(Answer { question: q.id.clone(), rating: Some(r), ..Default::default() }),
                Some(_) => return Err(AnswerError::BadRating(name())),
            },
            (QuestionKind::Text, Some(a)) => {
                let t = a.text.as_deref().unwrap_or("").trim();
                if t.chars().count() > MAX_TEXT_ANSWER_CHARS {
                    return Err(AnswerError::TooLong(name()));
                }
                (!t.is_empty()).then(|| Answer {
                    question: q.id.clone(),
                    text: Some(t.to_string()),
                    ..Default::default()
                })
            }
        };
        match clean {
            Some(c) => out.push(c),
            None if q.required => return Err(AnswerError::Required(name())),
            None => {}
        }
    }
    Ok(out)
}

/// One question's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct QuestionResult {
    pub question: String,
    /// How many answered this question.
    pub answered: u32,
    /// Choice questions: how many picked each option, in option order.
    #[serde(default)]
    pub counts: Vec<u32>,
    /// Rating questions: how many gave 1, 2, 3, 4, 5 stars.
    #[serde(default)]
    pub ratings: [u32; 5],
    /// Rating questions: the mean of the ratings given (`None` before any).
    #[serde(default)]
    pub average: Option<f64>,
    /// Text questions: the answers.
    #[serde(default)]
    pub texts: Vec<String>,
}

/// `GET /api/surveys/{id}/results`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct SurveyResults {
    pub survey: String,
    /// Answers received.
    pub responses: u32,
    /// People the survey is addressed to (active accounts in its departments now).
    pub targeted: u32,
    /// How many of the targeted have answered (the response rate's numerator).
    pub answered_targeted: u32,
    pub questions: Vec<QuestionResult>,
}

impl SurveyResults {
    /// Answered / targeted, 0 to 1.
    pub fn response_rate(&self) -> f64 {
        if self.targeted == 0 { 0.0 } else { self.answered_targeted as f64 / self.targeted as f64 }
    }
}

/// Count `responses` (each one person's checked answers) per question.
pub fn tally(survey: &Survey, responses: &[Vec<Answer>], targeted: u32, answered_targeted: u32) -> SurveyResults {
    let mut questions: Vec<QuestionResult> = survey
        .questions
        .iter()
        .map(|q| QuestionResult { question: q.id.clone(), counts: vec![0; q.options.len()], ..Default::default() })
        .collect();
    for response in responses {
        for a in response {
            let Some(i) = survey.questions.iter().position(|q| q.id == a.question) else { continue };
            let r = &mut questions[i];
            r.answered += 1;
            for c in &a.choices {
                if let Some(n) = r.counts.get_mut(*c as usize) {
                    *n += 1;
                }
            }
            if let Some(s @ 1..=5) = a.rating {
                r.ratings[s as usize - 1] += 1;
            }
            if let Some(t) = &a.text {
                r.texts.push(t.clone());
            }
        }
    }
    for r in &mut questions {
        let n: u32 = r.ratings.iter().sum();
        if n > 0 {
            let sum: u32 = r.ratings.iter().enumerate().map(|(i, c)| (i as u32 + 1) * c).sum();
            r.average = Some(sum as f64 / n as f64);
        }
    }
    SurveyResults {
        survey: survey.id.clone(),
        responses: responses.len() as u32,
        targeted,
        answered_targeted,
        questions,
    }
}

fn csv_field(s: &str) -> String {
    // Quote always; a leading = + - @ is prefixed with ' so a spreadsheet does not run it.
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The results as CSV: a UTF-8 byte order mark (Excel then reads Chinese right), a header row,
/// one row per response, one column per question (choices by their text, joined with "; ").
/// `respondents` names each response's author; `None` for an anonymous survey, which has no
/// respondent column at all.
pub fn csv(survey: &Survey, responses: &[Vec<Answer>], respondents: Option<&[String]>) -> String {
    let mut out = String::from("\u{feff}");
    let mut header: Vec<String> = Vec::new();
    if respondents.is_some() {
        header.push(csv_field("respondent"));
    }
    header.extend(survey.questions.iter().map(|q| csv_field(&q.title)));
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for (i, response) in responses.iter().enumerate() {
        let mut row: Vec<String> = Vec::new();
        if let Some(names) = respondents {
            row.push(csv_field(names.get(i).map(String::as_str).unwrap_or("")));
        }
        for q in &survey.questions {
            let cell = match response.iter().find(|a| a.question == q.id) {
                None => String::new(),
                Some(a) => match q.kind {
                    QuestionKind::Single | QuestionKind::Multiple => a
                        .choices
                        .iter()
                        .filter_map(|c| q.options.get(*c as usize).cloned())
                        .collect::<Vec<_>>()
                        .join("; "),
                    QuestionKind::Rating => a.rating.map(|r| r.to_string()).unwrap_or_default(),
                    QuestionKind::Text => a.text.clone().unwrap_or_default(),
                },
            };
            row.push(csv_field(&cell));
        }
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::actor_for;

    fn doc(user: i64) -> AutoCommit {
        let mut d = genesis();
        d.set_actor(actor_for(UserId(user), [1; 8]));
        d
    }

    fn q(id: &str, kind: QuestionKind, options: &[&str], required: bool) -> Question {
        Question {
            id: id.into(),
            kind,
            title: format!("问题 {id}"),
            required,
            options: options.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn survey(id: &str, author: i64, depts: &[&str]) -> Survey {
        Survey {
            id: id.into(),
            title: "食堂满意度".into(),
            description: "匿名填写".into(),
            questions: vec![
                q("q1", QuestionKind::Single, &["好", "一般", "差"], true),
                q("q2", QuestionKind::Rating, &[], true),
                q("q3", QuestionKind::Text, &[], false),
                q("q4", QuestionKind::Multiple, &["早餐", "午餐", "晚餐"], false),
            ],
            depts: depts.iter().map(|d| DeptId(d.to_string())).collect(),
            author: UserId(author),
            author_name: "HR".into(),
            ts: 1_000,
            ..Default::default()
        }
    }

    const SUPER: Powers = Powers { publish: true, moderate: true, only_dept: None };
    const EMPLOYEE: Powers = Powers { publish: false, moderate: false, only_dept: None };

    fn last(d: &mut AutoCommit) -> ExpandedChange {
        d.get_last_local_change().unwrap().decode()
    }

    #[test]
    fn publish_read_back_and_who_may() {
        let mut d = doc(1);
        publish(&mut d, &survey("v1", 1, &[]), 1_000).unwrap();
        validate(&last(&mut d), UserId(1), &SUPER).unwrap();
        assert_eq!(validate(&last(&mut d), UserId(1), &EMPLOYEE), Err(Violation::NotPublisher));
        let s = get(&d, "v1").unwrap();
        assert_eq!(s.questions.len(), 4);
        assert!(s.addressed_to(&[]));
        let dept_admin = Powers { publish: true, moderate: false, only_dept: Some("sales".into()) };
        let mut e = doc(5);
        publish(&mut e, &survey("v2", 5, &["sales"]), 1_000).unwrap();
        validate(&last(&mut e), UserId(5), &dept_admin).unwrap();
        publish(&mut e, &survey("v3", 5, &[]), 1_000).unwrap();
        assert_eq!(validate(&last(&mut e), UserId(5), &dept_admin), Err(Violation::OtherDepartment));
        // Someone else's survey: no; the author closes theirs.
        let mut f = d.fork().with_actor(actor_for(UserId(5), [5; 8]));
        close(&mut f, "v1", 2_000).unwrap();
        assert_eq!(validate(&last(&mut f), UserId(5), &dept_admin), Err(Violation::OthersSurvey));
        close(&mut d, "v1", 2_000).unwrap();
        validate(&last(&mut d), UserId(1), &SUPER).unwrap();
        assert!(!get(&d, "v1").unwrap().is_open(0));
    }

    #[test]
    fn anonymity_and_questions_are_fixed_at_creation() {
        let mut d = doc(1);
        publish(&mut d, &survey("v1", 1, &[]), 1_000).unwrap();
        let o = item(&d, "v1").unwrap();
        d.put(&o, "anonymous", true).unwrap();
        commit(&mut d, 2_000);
        assert_eq!(validate(&last(&mut d), UserId(1), &SUPER), Err(Violation::Frozen));
        d.put(&o, "questions", "[]").unwrap();
        commit(&mut d, 2_000);
        assert_eq!(validate(&last(&mut d), UserId(1), &SUPER), Err(Violation::Frozen));
    }

    #[test]
    fn answers_are_checked_and_tallied() {
        let s = survey("v1", 1, &["sales"]);
        assert!(s.addressed_to(&[DeptId("east".into()), DeptId("sales".into())]));
        assert!(!s.addressed_to(&[DeptId("eng".into())]));
        let a = |q: &str| Answer { question: q.into(), ..Default::default() };
        let one = vec![
            Answer { choices: vec![0], ..a("q1") },
            Answer { rating: Some(4), ..a("q2") },
            Answer { text: Some("  菜太咸  ".into()), ..a("q3") },
        ];
        let one = check_answers(&s, &one).unwrap();
        assert_eq!(one[2].text.as_deref(), Some("菜太咸"));
        let two = check_answers(
            &s,
            &[
                Answer { choices: vec![2], ..a("q1") },
                Answer { rating: Some(5), ..a("q2") },
                Answer { choices: vec![0, 1], ..a("q4") },
            ],
        )
        .unwrap();
        assert!(matches!(check_answers(&s, &[Answer { choices: vec![0], ..a("q1") }]), Err(AnswerError::Required(_))));
        assert!(matches!(
            check_answers(&s, &[Answer { choices: vec![0, 1], ..a("q1") }, Answer { rating: Some(3), ..a("q2") }]),
            Err(AnswerError::OneChoice(_))
        ));
        assert!(matches!(
            check_answers(&s, &[Answer { choices: vec![0], ..a("q1") }, Answer { rating: Some(6), ..a("q2") }]),
            Err(AnswerError::BadRating(_))
        ));
        let r = tally(&s, &[one.clone(), two.clone()], 3, 2);
        assert_eq!(r.questions[0].counts, [1, 0, 1]);
        assert_eq!(r.questions[1].ratings, [0, 0, 0, 1, 1]);
        assert_eq!(r.questions[1].average, Some(4.5));
        assert_eq!(r.questions[2].texts, ["菜太咸"]);
        assert_eq!(r.questions[3].counts, [1, 1, 0]);
        assert!((r.response_rate() - 2.0 / 3.0).abs() < 1e-9);
        let c = csv(&s, &[one, two], None);
        assert!(c.starts_with('\u{feff}'));
        let lines: Vec<&str> = c.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "\"问题 q1\",\"问题 q2\",\"问题 q3\",\"问题 q4\"");
        assert_eq!(lines[1], "\"好\",\"4\",\"菜太咸\",\"\"");
        assert_eq!(lines[2], "\"差\",\"5\",\"\",\"早餐; 午餐\"");
    }
}
