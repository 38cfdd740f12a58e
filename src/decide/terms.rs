//! The terms a policy is written in, below its offers and its predicates:
//! ranges, the host's context fields and what they must match, the limits
//! on ids, lists and amounts, and an error that names the field.

use crate::error::{Error, Result};
use serde::Deserialize;

/// Longest id (of an offer, slot, rule, segment, context field or value).
pub(super) const MAX_ID_LEN: usize = 64;
/// Most entries in one list (of items, categories, conditions, values).
pub(super) const MAX_LIST: usize = 1000;
/// Largest amount a policy may name (a value, a threshold): far above any
/// price, small enough that sums of them stay exact in f64 cents.
pub(super) const MAX_AMOUNT: f64 = 1e9;

/// Inclusive bounds; either may be absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Range {
    pub fn contains(&self, x: f64) -> bool {
        self.min.is_none_or(|m| x >= m) && self.max.is_none_or(|m| x <= m)
    }
}

/// A context field the host may send: its type and, for a string, the
/// values it may take (any when absent).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContextField {
    #[serde(rename = "type")]
    pub kind: ContextType,
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ContextType {
    String,
    Boolean,
    Number,
}

/// What one context field must be.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub enum ContextMatch {
    Boolean(bool),
    Text(String),
    OneOf(Vec<String>),
    Number(Range),
}

impl TryFrom<serde_json::Value> for ContextMatch {
    type Error = String;

    fn try_from(v: serde_json::Value) -> std::result::Result<Self, String> {
        use serde_json::Value;
        let texts = |xs: &[Value]| xs.iter().map(|x| x.as_str().map(str::to_string)).collect::<Option<Vec<_>>>();
        match &v {
            Value::Bool(b) => Ok(ContextMatch::Boolean(*b)),
            Value::String(t) => Ok(ContextMatch::Text(t.clone())),
            Value::Array(xs) => texts(xs).map(ContextMatch::OneOf).ok_or_else(|| "a list of strings".to_string()),
            _ => numbers(&v, ["min", "max"])
                .map(|[min, max]| ContextMatch::Number(Range { min, max }))
                .ok_or_else(|| "a boolean, a string, a list of strings or { min, max }".to_string()),
        }
    }
}

/// An object of the `keys` only, each absent or a number.
pub(super) fn numbers<const N: usize>(v: &serde_json::Value, keys: [&str; N]) -> Option<[Option<f64>; N]> {
    let object = v.as_object()?;
    if object.keys().any(|k| !keys.contains(&k.as_str())) {
        return None;
    }
    let mut out = [None; N];
    for (slot, key) in out.iter_mut().zip(keys) {
        *slot = match object.get(key) {
            None => None,
            Some(x) => Some(x.as_f64()?),
        };
    }
    Some(out)
}

impl ContextType {
    /// The type's name as the policy writes it.
    pub fn name(self) -> &'static str {
        match self {
            ContextType::String => "string",
            ContextType::Boolean => "boolean",
            ContextType::Number => "number",
        }
    }
}

/// A policy error at `path` (`offers[2].caps.perDay`).
pub(super) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidPolicy { path: path.into(), message: message.into() }
}

pub(super) fn check_id(path: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(invalid(path, format!("an id must be 1..={MAX_ID_LEN} bytes")));
    }
    Ok(())
}

pub(super) fn check_limit(path: &str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(invalid(path, format!("{len} entries, more than the {max} accepted")));
    }
    Ok(())
}
