//! What every shopper of one store shares: the loaded model, the store's
//! policies, the priors and boosts released from every shopper's reports,
//! and the reporting settings. One per page in a browser, one per isolate
//! at the edge. It answers for any session and shopper state it is handed
//! and keeps none: a page's `Engine` pairs it with one shopper, the HTTP
//! endpoint (`api.rs`) hands it each request's.

use crate::aggregates::released::{boosts, Released};
use crate::day::check_clock;
use crate::decide::cart::{cart_lines, price_cart, CartPrice, LineIn};
use crate::decide::compile::compile;
use crate::decide::state::ShopperState;
use crate::decide::Policy;
use crate::decide::{Decider, Decision, OfferRequest};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::page::{page, Page, PageRequest};
use crate::priors::{parse_priors, Boosts, Priors};
use crate::rank::{recommend, BlendWeights, RecommendOptions, Recommendations};
use crate::report::mechanism::ReportSettings;
use crate::session::{EventKind, Session};

pub use crate::catalog::MAX_ITEM_ID_LEN;
/// Policies one store holds (the bundle's and the store's own).
const MAX_POLICIES: usize = 16;

/// Whether a tracked event's item was known to the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracked {
    Known,
    UnknownItem,
}

#[derive(Debug, Clone)]
pub struct Store {
    model: Model,
    /// The bundle's policy first, then those the host added.
    policies: Vec<Policy>,
    active: usize,
    priors: Priors,
    boosts: Boosts,
    reporting: ReportSettings,
}

/// Parse and check a policy against `model`.
pub fn load_policy(model: &Model, json: &str) -> Result<Policy> {
    compile(&crate::decide::spec::parse(json)?, model)
}

impl Store {
    pub fn load(bundle_bytes: &[u8]) -> Result<Store> {
        Store::new(Model::load(bundle_bytes)?)
    }

    pub fn new(model: Model) -> Result<Store> {
        let policy =
            load_policy(&model, &model.policy_json).map_err(|e| Error::BundleInvalid(format!("default {e}")))?;
        Ok(Store {
            model,
            policies: vec![policy],
            active: 0,
            priors: Priors::new(),
            boosts: Boosts::new(),
            reporting: ReportSettings::default(),
        })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The store's catalog as it is now (`Model::update_items`): every
    /// later answer ranks, offers and prices with it. A refused update
    /// changes nothing.
    pub fn update_items(&mut self, updates: &[crate::live::ItemUpdate]) -> Result<crate::live::ItemsUpdated> {
        self.model.update_items(updates)
    }

    /// A catalog patch (JSON text, `edgerec patch`) on top of this bundle:
    /// `update_items` of its items, once it is this bundle's.
    pub fn apply_patch(&mut self, json: &str) -> Result<crate::live::ItemsUpdated> {
        let updates = crate::live::parse_patch(json, self.model())?;
        self.update_items(&updates)
    }

    /// The blend of `recommend()` and `page()`: the active policy's
    /// override, else the bundle's own.
    pub fn weights(&self) -> BlendWeights {
        BlendWeights::in_force(self.policy().ranking, self.model.manifest.blend)
    }

    /// The active policy.
    pub fn policy(&self) -> &Policy {
        &self.policies[self.active]
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
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
                return Err(Error::InvalidOptions(format!("a store holds at most {MAX_POLICIES} policies")))
            }
            None => {
                self.policies.push(policy);
                self.active = self.policies.len() - 1;
            }
        }
        Ok(&self.policies[self.active].id)
    }

    /// Seed the bandits' priors with aggregate outcomes:
    /// `{"offerId": {"shown": n, "taken": k}}` (replaces earlier priors).
    pub fn load_priors(&mut self, json: &str) -> Result<usize> {
        self.priors = parse_priors(json)?;
        Ok(self.priors.len())
    }

    /// Load the collector's released aggregates (`GET /v1/aggregates`) for
    /// the active policy: each offer's impressions and clicks become its
    /// bandit prior and its popularity boost (the `taken` part of its score),
    /// replacing earlier ones. Returns the offers seeded.
    pub fn load_aggregates(&mut self, json: &str) -> Result<usize> {
        let released = Released::parse(json)?;
        let policy = self.policy();
        let priors = released.priors(policy)?;
        self.boosts = boosts(&priors, policy);
        self.priors = priors;
        Ok(self.priors.len())
    }

    pub fn priors(&self) -> &Priors {
        &self.priors
    }

    pub fn boosts(&self) -> &Boosts {
        &self.boosts
    }

    pub fn reporting(&self) -> &ReportSettings {
        &self.reporting
    }

    /// The store's ε per report and per day (JSON `{epsilon, epsilonPerDay}`).
    pub fn set_reporting(&mut self, json: &str) -> Result<()> {
        self.reporting = ReportSettings::parse(json)?;
        Ok(())
    }

    /// Validate one event and record it in `session`. An unknown event type
    /// or a malformed id is an error and changes nothing; an unknown item
    /// is skipped and counted.
    pub fn record_event(&self, session: &mut Session, kind: EventKind, item: &str) -> Result<Tracked> {
        Ok(match self.record(session, kind, item)? {
            Some(_) => Tracked::Known,
            None => Tracked::UnknownItem,
        })
    }

    /// `record_event`, giving the item's row (None: unknown, skipped).
    pub(crate) fn record(&self, session: &mut Session, kind: EventKind, item: &str) -> Result<Option<u32>> {
        if item.is_empty() || item.len() > MAX_ITEM_ID_LEN {
            return Err(Error::InvalidEvent(format!("item id must be 1..={MAX_ITEM_ID_LEN} bytes")));
        }
        let row = self.model.catalog.row(item);
        match row {
            Some(row) => session.record(kind, row),
            None => session.record_unknown(kind),
        }
        Ok(row)
    }

    pub fn recommend(&self, session: &Session, opts: &RecommendOptions) -> Result<Recommendations> {
        recommend(&self.model, session, opts, &self.weights())
    }

    /// All the slots of one page (ranking, similar, bought together,
    /// bundles) for `session`.
    pub fn page(&self, session: &Session, req: &PageRequest) -> Result<Page> {
        page(&self.model, session, req, &self.weights())
    }

    /// One offer (or the fallback, or none) for a slot of `policy` (the
    /// active one when None), for the shopper whose state is `state`. It
    /// counts nothing until it is shown; only the bandit's draws and the
    /// session clock move in `state`.
    pub fn decide(
        &self,
        policy: Option<&str>,
        session: &Session,
        state: &mut ShopperState,
        req: &OfferRequest,
        now: f64,
    ) -> Result<Decision> {
        let policy = self.policy_by_id(policy)?;
        let decider = Decider { model: &self.model, policy, priors: &self.priors, boosts: &self.boosts };
        decider.decide(session, state, req, now)
    }

    /// The cart (`lines`, else the session's) priced under `policy`: a
    /// bundle's discount, shown to the shopper in the last day, is taken
    /// off once the cart holds every item of the set shown.
    pub fn price_cart(
        &self,
        policy: Option<&str>,
        session: &Session,
        state: &ShopperState,
        lines: Option<&[LineIn]>,
        now: f64,
    ) -> Result<CartPrice> {
        check_clock(now)?;
        let policy = self.policy_by_id(policy)?;
        let lines = cart_lines(&self.model, session, lines)?;
        Ok(price_cart(&self.model, policy, state, &lines, now))
    }
}
