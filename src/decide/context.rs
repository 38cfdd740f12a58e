//! What the host says about a request (`channel`, `device`, `locale`,
//! `loggedIn`…): checked against the fields the policy declares, so a
//! misspelt or mistyped field is an error the caller sees, never a
//! predicate that silently fails.

use super::terms::{ContextField, ContextMatch, ContextType};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

const MAX_FIELDS: usize = 32;
const MAX_TEXT: usize = 64;

/// One context value as the request sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    Boolean(bool),
    Number(f64),
    Text(String),
}

impl ContextValue {
    /// Whether this value satisfies `m` (a type mismatch never does).
    pub fn matches(&self, m: &ContextMatch) -> bool {
        match (self, m) {
            (ContextValue::Boolean(v), ContextMatch::Boolean(want)) => v == want,
            (ContextValue::Text(v), ContextMatch::Text(want)) => v == want,
            (ContextValue::Text(v), ContextMatch::OneOf(want)) => want.contains(v),
            (ContextValue::Number(v), ContextMatch::Number(r)) => r.contains(*v),
            _ => false,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        if let ContextValue::Text(t) = self {
            Some(t)
        } else {
            None
        }
    }
}

impl std::fmt::Display for ContextValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContextValue::Boolean(b) => write!(f, "{b}"),
            ContextValue::Number(n) => write!(f, "{n}"),
            ContextValue::Text(t) => write!(f, "{t}"),
        }
    }
}

/// The context as the request sends it: any JSON, checked by `parse`.
pub type RawContext = BTreeMap<String, serde_json::Value>;
/// The context checked against the policy.
pub type Context = BTreeMap<String, ContextValue>;

/// Check a request's context against the policy's declared fields: each
/// field declared, of its type, a string among its values. The error
/// names the field (`context.loggedIn`).
pub fn parse(raw: &RawContext, declared: &BTreeMap<String, ContextField>) -> Result<Context> {
    if raw.len() > MAX_FIELDS {
        return Err(Error::InvalidRequest(format!("context: {} fields, more than {MAX_FIELDS}", raw.len())));
    }
    let mut out = Context::new();
    for (name, json) in raw {
        let at = format!("context.{}", crate::error::truncate(name, 64));
        let field = declared.get(name).ok_or_else(|| {
            let known: Vec<&str> = declared.keys().map(String::as_str).collect();
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            Error::InvalidRequest(format!("{at}: the policy declares no such context field (declared: {known})"))
        })?;
        let value = match (field.kind, json) {
            (ContextType::Boolean, serde_json::Value::Bool(b)) => ContextValue::Boolean(*b),
            (ContextType::Number, serde_json::Value::Number(n)) => ContextValue::Number(
                n.as_f64()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| Error::InvalidRequest(format!("{at}: must be a finite number")))?,
            ),
            (ContextType::String, serde_json::Value::String(t)) => ContextValue::Text(t.clone()),
            (kind, _) => {
                return Err(Error::InvalidRequest(format!("{at}: expected a {}", kind.name())));
            }
        };
        if let ContextValue::Text(t) = &value {
            if t.len() > MAX_TEXT {
                return Err(Error::InvalidRequest(format!("{at}: at most {MAX_TEXT} bytes")));
            }
            if field.values.as_ref().is_some_and(|vs| !vs.contains(t)) {
                let values = field.values.as_deref().unwrap_or_default().join(", ");
                return Err(Error::InvalidRequest(format!(
                    "{at}: {:?} is not one of the declared values ({values})",
                    crate::error::truncate(t, 64)
                )));
            }
        }
        out.insert(name.clone(), value);
    }
    Ok(out)
}
