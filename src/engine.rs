//! The engine a host drives: one model, one live session. Plain Rust; the
//! WASM facade (`wasm.rs`) and the CLI are thin layers over it.

use crate::decide::compile::{compile, Policy};
use crate::decide::state::{check_key, ShopperState, Trials};
use crate::decide::{attribute_purchase, record_feedback, Decider, Decision, Feedback, OfferRequest, Priors};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::rank::{recommend, BlendWeights, RecommendOptions, Recommendations};
use crate::session::{EventKind, Session};
use crate::slots::{page, Page, PageRequest};
use std::collections::HashMap;

/// Longest item id accepted in an event (ids are short codes in practice).
pub const MAX_ITEM_ID_LEN: usize = 256;
/// Policies one engine holds (the bundle's and the store's own).
const MAX_POLICIES: usize = 16;
/// Shopper key of an engine whose host has not set one.
const ANONYMOUS: &str = "anonymous";

pub struct Engine {
    model: Model,
    session: Session,
    /// The bundle's policy first, then those the host added.
    policies: Vec<Policy>,
    active: usize,
    state: ShopperState,
    priors: Priors,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("items", &self.model.manifest.item_count)
            .field("policy", &self.policy().id)
            .finish()
    }
}

/// Parse and check a policy against `model`.
pub fn load_policy(model: &Model, json: &str) -> Result<Policy> {
    compile(&crate::decide::policy::parse(json)?, model)
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
        let policy =
            load_policy(&model, &model.policy_json).map_err(|e| Error::BundleInvalid(format!("default {e}")))?;
        Ok(Engine {
            model,
            session: Session::new(),
            policies: vec![policy],
            active: 0,
            state: ShopperState::new(ANONYMOUS),
            priors: Priors::new(),
        })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The blend of `recommend()`, from the active policy.
    pub fn weights(&self) -> &BlendWeights {
        &self.policy().ranking
    }

    /// The active policy.
    pub fn policy(&self) -> &Policy {
        &self.policies[self.active]
    }

    /// A policy by id (the active one when `None`).
    pub fn policy_by_id(&self, id: Option<&str>) -> Result<&Policy> {
        match id {
            None => Ok(self.policy()),
            Some(id) => self.policies.iter().find(|p| p.id == id).ok_or_else(|| {
                Error::UnknownPolicy(format!(
                    "{:?} (known: {})",
                    id.chars().take(64).collect::<String>(),
                    self.policy_ids().join(", ")
                ))
            }),
        }
    }

    pub fn policy_ids(&self) -> Vec<&str> {
        self.policies.iter().map(|p| p.id.as_str()).collect()
    }

    /// Check a store's policy and make it the active one (replacing a
    /// policy of the same id). A bad policy changes nothing.
    pub fn use_policy(&mut self, json: &str) -> Result<&str> {
        let policy = load_policy(&self.model, json)?;
        match self.policies.iter().position(|p| p.id == policy.id) {
            Some(i) => {
                self.policies[i] = policy;
                self.active = i;
            }
            None if self.policies.len() >= MAX_POLICIES => {
                return Err(Error::InvalidOptions(format!("an engine holds at most {MAX_POLICIES} policies")))
            }
            None => {
                self.policies.push(policy);
                self.active = self.policies.len() - 1;
            }
        }
        Ok(&self.policies[self.active].id)
    }

    /// Record one event. An unknown event type or a malformed id is an
    /// error and changes nothing; an unknown item is skipped and counted.
    pub fn track(&mut self, kind: &str, item: &str) -> Result<Tracked> {
        record_event(&self.model, &mut self.session, kind, item)
    }

    /// `track` at host time `now` (ms): a purchase of an item an offer
    /// showed in this session is also recorded as that offer's take.
    pub fn track_at(&mut self, kind: &str, item: &str, now: f64) -> Result<Tracked> {
        let tracked = self.track(kind, item)?;
        if kind == "purchase" && tracked == Tracked::Known && now.is_finite() {
            attribute_purchase(&self.policies[self.active], &mut self.state, item, now);
        }
        Ok(tracked)
    }

    pub fn recommend(&self, opts: &RecommendOptions) -> Result<Recommendations> {
        recommend(&self.model, &self.session, opts, self.weights())
    }

    /// All the slots of one page (ranking, similar, bought together,
    /// bundles) for the live session.
    pub fn page(&self, req: &PageRequest) -> Result<Page> {
        page(&self.model, &self.session, req, self.weights())
    }

    /// One offer (or the fallback, or none) for a slot of the active
    /// policy, with its trace; records the impression for caps.
    pub fn next_best_offer(&mut self, req: &OfferRequest, now: f64) -> Result<Decision> {
        let decider = Decider { model: &self.model, policy: &self.policies[self.active], priors: &self.priors };
        decider.decide(&self.session, &mut self.state, req, now)
    }

    /// The shopper clicked, dismissed or bought an offer they were shown.
    pub fn feedback(&mut self, fb: &Feedback, now: f64) -> Result<()> {
        record_feedback(&self.policies[self.active], &mut self.state, fb, now)
    }

    /// Seed the bandits' priors with aggregate outcomes:
    /// `{"offerId": {"shown": n, "taken": k}}` (replaces earlier priors).
    pub fn load_priors(&mut self, json: &str) -> Result<usize> {
        let priors: HashMap<String, Trials> =
            serde_json::from_str(json).map_err(|e| Error::InvalidOptions(format!("priors: {e}")))?;
        if let Some((id, _)) = priors.iter().find(|(_, t)| t.taken > t.shown) {
            return Err(Error::InvalidOptions(format!("priors: offer {id:?} has more takes than shows")));
        }
        let n = priors.len();
        self.priors = priors;
        Ok(n)
    }

    /// The shopper's decisioning state as JSON, for the host to keep.
    pub fn export_state(&self) -> String {
        self.state.export()
    }

    /// Restore exported state; a bad one is refused and changes nothing.
    pub fn import_state(&mut self, json: &str) -> Result<()> {
        self.state = ShopperState::import(json)?;
        Ok(())
    }

    /// Start fresh state for a shopper (a new device or a cleared one).
    pub fn set_shopper_key(&mut self, key: &str) -> Result<()> {
        check_key(key).map_err(Error::InvalidOptions)?;
        self.state = ShopperState::new(key);
        Ok(())
    }

    pub fn priors(&self) -> &Priors {
        &self.priors
    }

    pub fn state(&self) -> &ShopperState {
        &self.state
    }

    /// Forget the session (a new visit); caps count a new session.
    pub fn reset(&mut self) {
        self.session = Session::new();
        self.state.session = self.state.session.saturating_add(1);
    }
}
