//! Reading fields of a document's maps, forgiving about what is missing or of another type: a
//! document merged from any replica may hold anything, and a reader shows what it can (an empty
//! string, 0, false) rather than fail. Every schema reads through these.

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};

/// The map at `key` in `obj`, if that is a map.
pub(crate) fn map_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

/// The scalar at `key` in `obj`, if that is a scalar.
pub(crate) fn scalar(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => Some(s.into_owned()),
        _ => None,
    }
}

/// A string field; "" when absent or not a string.
pub(crate) fn str_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> String {
    match scalar(doc, obj, key) {
        Some(ScalarValue::Str(s)) => s.to_string(),
        _ => String::new(),
    }
}

/// An integer field (signed or unsigned as written); 0 when absent or not an integer.
pub(crate) fn int_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> i64 {
    match scalar(doc, obj, key) {
        Some(ScalarValue::Int(i)) => i,
        Some(ScalarValue::Uint(u)) => i64::try_from(u).unwrap_or(i64::MAX),
        _ => 0,
    }
}

/// A number field, integers included; 0 when absent or not a number.
pub(crate) fn f64_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> f64 {
    match scalar(doc, obj, key) {
        Some(ScalarValue::F64(f)) => f,
        Some(ScalarValue::Int(i)) => i as f64,
        Some(ScalarValue::Uint(u)) => u as f64,
        _ => 0.0,
    }
}

/// Whether a field is `true`.
pub(crate) fn bool_at(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> bool {
    matches!(scalar(doc, obj, key), Some(ScalarValue::Boolean(true)))
}
