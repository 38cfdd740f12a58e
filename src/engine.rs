//! The engine a host drives: one model, one live session. Plain Rust; the
//! WASM facade (`wasm.rs`) and the CLI are thin layers over it.

use crate::decide::cart::{cart_lines, price_cart, CartPrice, CartRequest};
use crate::decide::compile::{compile, Policy};
use crate::decide::state::Outcome;
use crate::decide::state::{check_key, ShopperState, Trials};
use crate::decide::Boosts;
use crate::decide::{
    attribute_purchase, check_clock, offers_showing, record_feedback, record_shown, Decider, Decision, Feedback,
    OfferRequest, Priors, Showing,
};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::page::{page, Page, PageRequest};
use crate::rank::{recommend, BlendWeights, RecommendOptions, Recommendations};
use crate::report::ledger::{day_of, Taken};
use crate::report::mechanism::{build_report, ReportSettings};
use crate::report::noise::SecureRandom;
use crate::report::released::{boosts, Released};
use crate::report::{next_pending, PrivacyStatus};
use crate::session::{EventKind, Session};
use std::collections::{HashMap, VecDeque};

/// Longest item id accepted in an event (ids are short codes in practice).
pub const MAX_ITEM_ID_LEN: usize = 256;
/// Policies one engine holds (the bundle's and the store's own).
const MAX_POLICIES: usize = 16;
/// Most shows a bandit prior may count (a trillion: more than any store's
/// history; beyond it a Beta draw is the mean anyway).
pub const MAX_PRIOR_COUNT: u64 = 1_000_000_000_000;
/// Decisions kept for `shown` (and their traces, in the WASM facade).
pub const KEPT_DECISIONS: usize = 64;
/// Shopper key of an engine whose host has not set one.
const ANONYMOUS: &str = "anonymous";

#[derive(Clone)]
pub struct Engine {
    model: Model,
    session: Session,
    /// The bundle's policy first, then those the host added.
    policies: Vec<Policy>,
    active: usize,
    state: ShopperState,
    priors: Priors,
    boosts: Boosts,
    reporting: ReportSettings,
    /// The next report, sealed when first previewed so that what a privacy
    /// panel shows is byte for byte what `take_report` returns: (what it
    /// covers, its JSON).
    sealed: Option<(String, String)>,
    /// The last `KEPT_DECISIONS` decisions, by id, until they are shown.
    decisions: VecDeque<(u32, Showing)>,
    last_decision: u32,
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
            session.record_unknown(kind);
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
            boosts: Boosts::new(),
            reporting: ReportSettings::default(),
            sealed: None,
            decisions: VecDeque::new(),
            last_decision: 0,
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
        self.sealed = None;
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

    /// `track` at host time `now` (ms): adding to the cart or buying an
    /// item an offer showed in this session is that offer's outcome (a
    /// purchase is also the bandit's take); with consent, both are counted
    /// for the aggregate reports. Replaying stored events is plain `track`;
    /// a non-finite `now` (a broken host clock) attributes nothing.
    pub fn track_at(&mut self, kind: &str, item: &str, now: f64) -> Result<Tracked> {
        let tracked = self.track(kind, item)?;
        let Some(row) = self.model.catalog.row(item).filter(|_| now.is_finite()) else { return Ok(tracked) };
        let price = self.model.attributes.price[row as usize] as f64;
        let taken = match kind {
            "add_to_cart" => Taken::AddToCart,
            "purchase" => Taken::Purchase { revenue: price },
            _ => return Ok(tracked),
        };
        // Without consent an add-to-cart counts for nothing: skip the log scan.
        if kind == "add_to_cart" && !self.state.ledger.consent {
            return Ok(tracked);
        }
        let shown = offers_showing(&self.state, item);
        let policy = &self.policies[self.active];
        let day = day_of(now);
        if kind == "purchase" {
            attribute_purchase(policy, &mut self.state, &shown, now);
            self.state.ledger.purchase(&day, &policy.id, price, self.state.session);
        }
        for (slot, offer) in shown {
            self.state.ledger.taken(&day, &policy.id, &slot, &offer, taken);
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
    /// policy, with its trace and an id. It counts nothing until it is
    /// `shown`: a decision that is never rendered caps nothing.
    pub fn next_best_offer(&mut self, req: &OfferRequest, now: f64) -> Result<Decision> {
        let policy = &self.policies[self.active];
        let decider = Decider { model: &self.model, policy, priors: &self.priors, boosts: &self.boosts };
        let mut decision = decider.decide(&self.session, &mut self.state, req, now)?;
        self.last_decision = self.last_decision.wrapping_add(1);
        if self.decisions.len() == KEPT_DECISIONS {
            self.decisions.pop_front();
        }
        self.decisions.push_back((self.last_decision, decision.showing.clone()));
        decision.id = Some(self.last_decision);
        Ok(decision)
    }

    /// The host put decision `id` on the shopper's screen: its experiment's
    /// exposure and its offer's impression count (caps, bandit and, with
    /// consent, the reports), once per page view; showing it again, or the
    /// same offer in a re-render of the page, counts nothing. Returns
    /// whether an impression was counted.
    pub fn shown(&mut self, id: u32, now: f64) -> Result<bool> {
        let showing =
            self.decisions.iter().find(|(i, _)| *i == id).map(|(_, s)| s).ok_or(Error::DecisionExpired(id))?;
        let counted = record_shown(&mut self.state, showing, now)?;
        let (ledger, day) = (&mut self.state.ledger, day_of(now));
        if let Some(experiment) = &showing.experiment {
            ledger.exposed(&day, &showing.policy, experiment);
        }
        if let (true, Some(offer)) = (counted, &showing.offer) {
            ledger.shown(&day, &showing.policy, &showing.slot, &offer.id);
        }
        Ok(counted)
    }

    /// The cart (`req.lines`, else the session's) priced under the active
    /// policy: a bundle's discount, shown to the shopper in the last day,
    /// is taken off once the cart holds every item of the set shown.
    pub fn price_cart(&self, req: &CartRequest, now: f64) -> Result<CartPrice> {
        check_clock(now)?;
        let lines = cart_lines(&self.model, &self.session, req.lines.as_deref())?;
        Ok(price_cart(&self.model, self.policy(), &self.state, &lines, now))
    }

    /// The shopper clicked, dismissed or bought an offer they were shown.
    pub fn feedback(&mut self, fb: &Feedback, now: f64) -> Result<()> {
        let policy = &self.policies[self.active];
        record_feedback(policy, &mut self.state, fb, now)?;
        if fb.outcome == Outcome::Click {
            self.state.ledger.taken(&day_of(now), &policy.id, &fb.slot, &fb.offer, Taken::Click);
        }
        Ok(())
    }

    /// Seed the bandits' priors with aggregate outcomes:
    /// `{"offerId": {"shown": n, "taken": k}}` (replaces earlier priors).
    pub fn load_priors(&mut self, json: &str) -> Result<usize> {
        let priors: HashMap<String, Trials> =
            serde_json::from_str(json).map_err(|e| Error::InvalidOptions(format!("priors: {e}")))?;
        if let Some((id, _)) = priors.iter().find(|(_, t)| t.taken > t.shown) {
            return Err(Error::InvalidOptions(format!("priors: offer {id:?} has more takes than shows")));
        }
        if let Some((id, _)) = priors.iter().find(|(_, t)| t.shown > MAX_PRIOR_COUNT) {
            return Err(Error::InvalidOptions(format!("priors: offer {id:?} has more than {MAX_PRIOR_COUNT} shows")));
        }
        let n = priors.len();
        self.priors = priors;
        Ok(n)
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

    /// The shopper's decisioning state as JSON, for the host to keep.
    pub fn export_state(&self) -> String {
        self.state.export()
    }

    /// Restore exported state; a bad one is refused and changes nothing.
    pub fn import_state(&mut self, json: &str) -> Result<()> {
        self.state = ShopperState::import(json)?;
        Ok(())
    }

    /// Start fresh state for a shopper (a new device or a cleared one);
    /// the consent given on this device carries over.
    pub fn set_shopper_key(&mut self, key: &str) -> Result<()> {
        check_key(key).map_err(Error::InvalidOptions)?;
        let consent = self.state.ledger.consent;
        self.state = ShopperState::new(key);
        self.state.ledger.consent = consent;
        Ok(())
    }

    /// The shopper's choice about aggregate reports; opting out erases
    /// everything pending, and nothing is counted until opted in again.
    pub fn set_consent(&mut self, consent: bool) {
        self.state.ledger.set_consent(consent);
        self.sealed = None;
    }

    /// The store's ε per report and per day (JSON `{epsilon, epsilonPerDay}`).
    pub fn set_reporting(&mut self, json: &str) -> Result<()> {
        self.reporting = ReportSettings::parse(json)?;
        self.sealed = None;
        Ok(())
    }

    pub fn privacy_status(&mut self, now: f64) -> PrivacyStatus {
        let withheld = next_pending(&mut self.state.ledger, &self.policies, &self.reporting, now).err();
        let ledger = &self.state.ledger;
        PrivacyStatus {
            consent: ledger.consent,
            epsilon_per_day: self.reporting.epsilon_per_day,
            epsilon_per_report: self.reporting.epsilon,
            mechanism: self.reporting.mechanism,
            spent_today: ledger.spent_on(&day_of(now)),
            pending_days: ledger.pending.len(),
            withheld,
        }
    }

    /// The report `take_report` would return now, without taking it (the
    /// same bytes, as long as nothing is counted in between).
    pub fn preview_report(&mut self, now: f64) -> Result<Option<String>> {
        Ok(self.seal(now)?.map(|(_, json)| json))
    }

    /// The next differentially private report, or None (no consent,
    /// nothing pending, budget spent: see `privacy_status`). Taking it
    /// spends its ε and clears the day's counts it covers.
    pub fn take_report(&mut self, now: f64) -> Result<Option<String>> {
        let Some((index, json)) = self.seal(now)? else { return Ok(None) };
        let ledger = &mut self.state.ledger;
        let day = ledger.pending.remove(index).day;
        *ledger.spent.entry(day).or_default() += self.reporting.epsilon;
        self.sealed = None;
        Ok(Some(json))
    }

    /// The pending day's index and its report, sealed once per content.
    fn seal(&mut self, now: f64) -> Result<Option<(usize, String)>> {
        check_clock(now)?;
        let Ok(index) = next_pending(&mut self.state.ledger, &self.policies, &self.reporting, now) else {
            return Ok(None);
        };
        let counts = &self.state.ledger.pending[index];
        let covers = serde_json::json!([counts, self.state.shopper_key, self.reporting]).to_string();
        if let Some((c, json)) = &self.sealed {
            if *c == covers {
                return Ok(Some((index, json.clone())));
            }
        }
        let policy = self.policy_by_id(Some(&counts.policy))?;
        let report = build_report(policy, &self.state.shopper_key, counts, &self.reporting, &mut SecureRandom::new())?;
        let json = serde_json::to_string(&report).map_err(|e| Error::InvalidOptions(e.to_string()))?;
        self.sealed = Some((covers, json.clone()));
        Ok(Some((index, json)))
    }

    pub fn priors(&self) -> &Priors {
        &self.priors
    }

    pub fn boosts(&self) -> &Boosts {
        &self.boosts
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
