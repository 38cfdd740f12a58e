//! The engine a host drives: one model, one live session. Plain Rust; the
//! WASM facade (`wasm.rs`) and the CLI are thin layers over it.

use crate::error::{Error, Result};
use crate::model::Model;
use crate::rank::{recommend, BlendWeights, RecommendOptions, Recommendations};
use crate::session::{EventKind, Session};
use crate::slots::{page, Page, PageRequest};
use serde::Deserialize;

/// Longest item id accepted in an event (ids are short codes in practice).
pub const MAX_ITEM_ID_LEN: usize = 256;

/// The part of the bundle's offer policy this engine reads today.
#[derive(Debug, Default, Deserialize)]
struct PolicyRanking {
    #[serde(default)]
    ranking: BlendWeights,
}

#[derive(Debug)]
pub struct Engine {
    model: Model,
    session: Session,
    weights: BlendWeights,
}

/// Validate one event and record it in `session`.
pub(crate) fn record_event(model: &Model, session: &mut Session, kind: &str, item: &str) -> Result<Tracked> {
    let kind = EventKind::parse(kind)?;
    if item.is_empty() || item.len() > MAX_ITEM_ID_LEN {
        return Err(Error::InvalidEvent(format!("item id must be 1..={MAX_ITEM_ID_LEN} bytes")));
    }
    match model.catalog.row(item) {
        Some(row) => {
            session.record(kind, row);
            Ok(Tracked::Known)
        }
        None => {
            session.record_unknown();
            Ok(Tracked::UnknownItem)
        }
    }
}

/// Whether a tracked event's item was known to the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracked {
    Known,
    UnknownItem,
}

impl Engine {
    pub fn load(bundle_bytes: &[u8]) -> Result<Engine> {
        Engine::new(Model::load(bundle_bytes)?)
    }

    pub fn new(model: Model) -> Result<Engine> {
        let policy: PolicyRanking = serde_json::from_str(&model.policy_json)
            .map_err(|e| Error::BundleInvalid(format!("policy.ranking: {e}")))?;
        let w = policy.ranking;
        if ![w.model, w.copurchase, w.popularity].iter().all(|x| x.is_finite() && *x >= 0.0) {
            return Err(Error::BundleInvalid("policy.ranking weights must be finite and >= 0".into()));
        }
        Ok(Engine { model, session: Session::new(), weights: w })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn weights(&self) -> &BlendWeights {
        &self.weights
    }

    /// Record one event. An unknown event type or a malformed id is an
    /// error and changes nothing; an unknown item is skipped and counted.
    pub fn track(&mut self, kind: &str, item: &str) -> Result<Tracked> {
        record_event(&self.model, &mut self.session, kind, item)
    }

    pub fn recommend(&self, opts: &RecommendOptions) -> Result<Recommendations> {
        recommend(&self.model, &self.session, opts, &self.weights)
    }

    /// All the slots of one page (ranking, similar, bought together,
    /// bundles, offer) for the live session.
    pub fn page(&self, req: &PageRequest) -> Result<Page> {
        page(&self.model, &self.session, req, &self.weights)
    }

    /// Forget the session (a new visit).
    pub fn reset(&mut self) {
        self.session = Session::new();
    }
}
