//! The engine a page drives: one store paired with one shopper — their live
//! session, their decisioning state and their reports. Plain Rust; the WASM
//! facade (`wasm.rs`) and the CLI are thin layers over it.

use crate::day::{check_clock, CLOCK_RANGE};
use crate::decide::cart::{CartPrice, CartRequest};
use crate::decide::state::{check_key, Outcome, ShopperState};
use crate::decide::Policy;
use crate::decide::{attribute_purchase, offers_showing, record_feedback, record_shown, Decision, Feedback};
use crate::decide::{OfferRequest, OfferTrace, Showing};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::page::{Page, PageRequest};
use crate::priors::{Boosts, Priors};
use crate::privacy::{Counted, PrivacyStatus, Reporter, Reports};
use crate::rank::{BlendWeights, RecommendOptions, Recommendations};
use crate::release::ReleasePlacement;
use crate::report::ledger::Taken;
use crate::session::{EventKind, Session};
use crate::shopper::ShopperData;
use crate::store::{Store, Tracked};
use std::cell::Cell;
use std::collections::VecDeque;

/// Decisions kept for `shown` and `trace`.
pub const KEPT_DECISIONS: usize = 64;
/// Shopper key of an engine whose host has not set one.
const ANONYMOUS: &str = "anonymous";

/// A decision kept until it is shown: what showing it counts, and its
/// trace (read on demand: with a large policy a trace is tens of KB).
#[derive(Clone)]
struct Kept {
    id: u32,
    showing: Showing,
    trace: Vec<OfferTrace>,
}

#[derive(Clone)]
pub struct Engine {
    store: Store,
    session: Session,
    state: ShopperState,
    reports: Reports,
    /// The last `KEPT_DECISIONS` decisions: the one ring of them (the
    /// JavaScript wrapper only maps its ids onto these).
    decisions: VecDeque<Kept>,
    last_decision: u32,
    /// The shopper's place in the store's model release, if it follows one.
    release: Option<ReleasePlacement>,
    /// The model's top score in the latest ranking, counted (for drift) at
    /// the next tracked event: ranking itself changes no state.
    top_score: Cell<Option<f32>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("items", &self.model().manifest.item_count)
            .field("policy", &self.policy().id)
            .finish()
    }
}

impl Engine {
    pub fn load(bundle_bytes: &[u8]) -> Result<Engine> {
        Engine::new(Model::load(bundle_bytes)?)
    }

    pub fn new(model: Model) -> Result<Engine> {
        Ok(Engine::with_store(Store::new(model)?))
    }

    pub fn with_store(store: Store) -> Engine {
        Engine {
            store,
            session: Session::new(),
            state: ShopperState::new(ANONYMOUS),
            reports: Reports::default(),
            decisions: VecDeque::new(),
            last_decision: 0,
            release: None,
            top_score: Cell::new(None),
        }
    }

    /// What this engine shares with every other shopper of the store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn model(&self) -> &Model {
        self.store.model()
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The blend of `recommend()` (`Store::weights`).
    pub fn weights(&self) -> BlendWeights {
        self.store.weights()
    }

    /// The active policy.
    pub fn policy(&self) -> &Policy {
        self.store.policy()
    }

    /// A policy by id (the active one when `None`).
    pub fn policy_by_id(&self, id: Option<&str>) -> Result<&Policy> {
        self.store.policy_by_id(id)
    }

    pub fn policy_ids(&self) -> Vec<&str> {
        self.store.policy_ids()
    }

    /// Check a store's policy and make it the active one (replacing a
    /// policy of the same id). A bad policy changes nothing.
    pub fn use_policy(&mut self, json: &str) -> Result<&str> {
        let id = self.store.use_policy(json)?;
        self.reports.unseal();
        Ok(id)
    }

    /// The store's items as they are now (JSON text, `live::parse_updates`):
    /// prices, sales, stock, titles, and items the bundle lacks, added. A
    /// refused update changes nothing.
    pub fn update_items(&mut self, json: &str) -> Result<crate::live::ItemsUpdated> {
        self.store.update_items(&crate::live::parse_updates(json)?)
    }

    /// A catalog patch (JSON text, `edgerec patch`) on top of this bundle:
    /// `update_items` of its items, once it is this bundle's.
    pub fn apply_patch(&mut self, json: &str) -> Result<crate::live::ItemsUpdated> {
        self.store.apply_patch(json)
    }

    /// Record one event without attributing it (replaying stored events).
    /// An unknown event type or a malformed id is an error and changes
    /// nothing; an unknown item is skipped and counted.
    pub fn track(&mut self, kind: &str, item: &str) -> Result<Tracked> {
        self.store.record_event(&mut self.session, EventKind::parse(kind)?, item)
    }

    /// `track` at host time `now` (ms): adding to the cart or buying an
    /// item an offer showed in this session is that offer's outcome (a
    /// purchase is also the bandit's take); with consent, both are counted
    /// for the aggregate reports.
    pub fn track_at(&mut self, kind: &str, item: &str, now: f64) -> Result<Tracked> {
        let kind = EventKind::parse(kind)?;
        check_clock(now)?;
        let row = self.store.record(&mut self.session, kind, item)?;
        if self.reports.consent() {
            self.count_visit(kind, row.is_some(), now);
        }
        let Some(row) = row else { return Ok(Tracked::UnknownItem) };
        let price = self.model().attributes.price[row as usize] as f64;
        let taken = match kind {
            EventKind::AddToCart => Taken::AddToCart,
            EventKind::Purchase => Taken::Purchase { revenue: price },
            _ => return Ok(Tracked::Known),
        };
        // Without consent an add-to-cart counts for nothing: skip the log scan.
        if kind == EventKind::AddToCart && !self.reports.consent() {
            return Ok(Tracked::Known);
        }
        let shown = offers_showing(&self.state, item);
        let policy = self.store.policy();
        if kind == EventKind::Purchase {
            attribute_purchase(policy, &mut self.state, &shown, now);
            let session = self.state.session;
            self.reports.count(now, &policy.id, Counted::Purchase { revenue: price, session });
        }
        for (slot, offer) in &shown {
            self.reports.count(now, &policy.id, Counted::Taken { slot, offer, taken });
        }
        Ok(Tracked::Known)
    }

    /// What any tracked event counts: a visit on the shopper's side of the
    /// model release, a view (known to the bundle or not), the model's
    /// latest top score.
    fn count_visit(&mut self, kind: EventKind, known: bool, now: f64) {
        let policy = &self.store.policy().id;
        if let Some(p) = &self.release {
            self.reports.count(now, policy, Counted::Exposed { experiment: &p.experiment });
        }
        if kind == EventKind::View {
            self.reports.count(now, policy, Counted::Viewed { known });
        }
        if let Some(score) = self.top_score.take() {
            self.reports.count(now, policy, Counted::TopScore(score));
        }
    }

    /// Keep the model's top score of a ranking for drift (`count_visit`).
    fn note_top_score(&self, stats: &crate::rank::RecommendStats) {
        if let Some(p) = stats.top_probability {
            self.top_score.set(Some(p));
        }
    }

    pub fn recommend(&self, opts: &RecommendOptions) -> Result<Recommendations> {
        let recs = self.store.recommend(&self.session, opts)?;
        self.note_top_score(&recs.stats);
        Ok(recs)
    }

    /// All the slots of one page (ranking, similar, bought together,
    /// bundles) for the live session.
    pub fn page(&self, req: &PageRequest) -> Result<Page> {
        let page = self.store.page(&self.session, req)?;
        self.note_top_score(&page.stats);
        Ok(page)
    }

    /// Follow the store's model release from `placement` (the shopper's
    /// side, from `Release::place`): every visit then counts on that side's
    /// row of the reports. A placement whose experiment a policy also runs
    /// is refused.
    pub fn join_release(&mut self, placement: ReleasePlacement) -> Result<()> {
        let placement = placement.checked()?;
        if let Some(p) =
            self.store.policies().iter().find(|p| p.experiments.iter().any(|e| e.id == placement.experiment))
        {
            return Err(Error::InvalidRelease(format!(
                "the release's experiment {:?} is also an experiment of policy {:?}",
                placement.experiment, p.id
            )));
        }
        self.release = Some(placement);
        self.reports.unseal();
        Ok(())
    }

    pub fn release(&self) -> Option<&ReleasePlacement> {
        self.release.as_ref()
    }

    /// One offer (or the fallback, or none) for a slot of the active
    /// policy, with its trace and an id. It counts nothing until it is
    /// `shown`: a decision that is never rendered caps nothing.
    pub fn next_best_offer(&mut self, req: &OfferRequest, now: f64) -> Result<Decision> {
        let mut decision = self.next_best_offer_kept(req, now)?;
        decision.trace = self.decisions.back().map(|k| k.trace.clone()).unwrap_or_default();
        Ok(decision)
    }

    /// `next_best_offer` with its trace left in the engine, read by id with
    /// `trace` while the decision is kept (the JavaScript facade's way: a
    /// trace crosses only when asked for).
    pub fn next_best_offer_kept(&mut self, req: &OfferRequest, now: f64) -> Result<Decision> {
        let mut decision = self.store.decide(None, &self.session, &mut self.state, req, now)?;
        self.last_decision = self.last_decision.wrapping_add(1);
        if self.decisions.len() == KEPT_DECISIONS {
            self.decisions.pop_front();
        }
        let trace = std::mem::take(&mut decision.trace);
        self.decisions.push_back(Kept { id: self.last_decision, showing: decision.showing.clone(), trace });
        decision.id = Some(self.last_decision);
        Ok(decision)
    }

    /// The trace of kept decision `id`; None once it is older than the last
    /// `KEPT_DECISIONS`.
    pub fn trace(&self, id: u32) -> Option<&[OfferTrace]> {
        self.decisions.iter().find(|k| k.id == id).map(|k| k.trace.as_slice())
    }

    /// The host put decision `id` on the shopper's screen: its experiment's
    /// exposure and its offer's impression count (caps, bandit and, with
    /// consent, the reports), once per page view; showing it again, or the
    /// same offer in a re-render of the page, counts nothing. Returns
    /// whether an impression was counted.
    pub fn shown(&mut self, id: u32, now: f64) -> Result<bool> {
        let kept = self.decisions.iter().find(|k| k.id == id);
        let showing = &kept.ok_or(Error::DecisionExpired { id, kept: KEPT_DECISIONS })?.showing;
        let counted = record_shown(&mut self.state, showing, now)?;
        if let Some(experiment) = &showing.experiment {
            self.reports.count(now, &showing.policy, Counted::Exposed { experiment });
        }
        if let (true, Some(offer)) = (counted, &showing.offer) {
            self.reports.count(now, &showing.policy, Counted::Shown { slot: &showing.slot, offer: &offer.id });
        }
        Ok(counted)
    }

    /// The cart (`req.lines`, else the session's) priced under the active
    /// policy: a bundle's discount, shown to the shopper in the last day,
    /// is taken off once the cart holds every item of the set shown.
    pub fn price_cart(&self, req: &CartRequest, now: f64) -> Result<CartPrice> {
        self.store.price_cart(None, &self.session, &self.state, req.lines.as_deref(), now)
    }

    /// The shopper clicked, dismissed or bought an offer they were shown.
    pub fn feedback(&mut self, fb: &Feedback, now: f64) -> Result<()> {
        let policy = self.store.policy();
        record_feedback(policy, &mut self.state, fb, now)?;
        if fb.outcome == Outcome::Click {
            let taken = Counted::Taken { slot: &fb.slot, offer: &fb.offer, taken: Taken::Click };
            self.reports.count(now, &policy.id, taken);
        }
        Ok(())
    }

    /// Seed the bandits' priors with aggregate outcomes (`Store::load_priors`).
    pub fn load_priors(&mut self, json: &str) -> Result<usize> {
        self.store.load_priors(json)
    }

    /// Load the collector's released aggregates (`Store::load_aggregates`).
    pub fn load_aggregates(&mut self, json: &str) -> Result<usize> {
        self.store.load_aggregates(json)
    }

    /// The shopper's state (decisioning and report ledger) as JSON, for the
    /// host to keep.
    pub fn export_state(&self) -> String {
        ShopperData { state: self.state.clone(), ledger: self.reports.ledger().clone() }.export()
    }

    /// Restore exported state; a bad one is refused and changes nothing.
    pub fn import_state(&mut self, json: &str) -> Result<()> {
        let data = ShopperData::import(json)?;
        self.state = data.state;
        self.reports = Reports::new(data.ledger);
        Ok(())
    }

    /// Start fresh state for a shopper (a new device or a cleared one);
    /// the consent given on this device carries over.
    pub fn set_shopper_key(&mut self, key: &str) -> Result<()> {
        check_key(key).map_err(Error::InvalidOptions)?;
        let consent = self.reports.consent();
        self.state = ShopperState::new(key);
        self.reports = Reports::default();
        self.reports.set_consent(consent);
        Ok(())
    }

    /// The shopper's choice about aggregate reports; opting out erases
    /// everything pending, and nothing is counted until opted in again.
    pub fn set_consent(&mut self, consent: bool) {
        self.reports.set_consent(consent);
    }

    /// The store's ε per report and per day (JSON `{epsilon, epsilonPerDay}`).
    pub fn set_reporting(&mut self, json: &str) -> Result<()> {
        self.store.set_reporting(json)?;
        self.reports.unseal();
        Ok(())
    }

    /// Consent, budget and why no report would be made at `now`; reading
    /// it drops what has expired. A clock outside years 0–9999 is refused
    /// (`check_clock`) and changes nothing.
    pub fn privacy(&mut self, now: f64) -> Result<PrivacyStatus> {
        check_clock(now)?;
        Ok(self.reports.status(self.store.policies(), self.store.reporting(), now))
    }

    /// `privacy` for callers that take no error: a clock outside years
    /// 0–9999 reads the status at the nearest time inside (a NaN at the
    /// first) from a copy, and changes nothing.
    pub fn privacy_status(&mut self, now: f64) -> PrivacyStatus {
        match self.privacy(now) {
            Ok(status) => status,
            Err(_) => {
                let now = if now.is_nan() {
                    *CLOCK_RANGE.start()
                } else {
                    now.clamp(*CLOCK_RANGE.start(), *CLOCK_RANGE.end())
                };
                self.reports.clone().status(self.store.policies(), self.store.reporting(), now)
            }
        }
    }

    /// The report `take_report` would return now, without taking it (the
    /// same bytes, as long as nothing is counted in between).
    pub fn preview_report(&mut self, now: f64) -> Result<Option<String>> {
        check_clock(now)?;
        self.reports.preview(&reporter(&self.store, &self.state, self.release.as_ref()), now)
    }

    /// The next differentially private report, or None (no consent,
    /// nothing pending, budget spent: see `privacy_status`). Taking it
    /// spends its ε and clears the day's counts it covers.
    pub fn take_report(&mut self, now: f64) -> Result<Option<String>> {
        check_clock(now)?;
        self.reports.take(&reporter(&self.store, &self.state, self.release.as_ref()), now)
    }

    /// The Prio3 task this device's reports fill (issue 21): what the store
    /// provisions its two aggregators with, the same for every device of
    /// the same policy, ε and model release.
    pub fn prio3_task(&self) -> Result<crate::prio3::task::Task> {
        let release = self.release.as_ref().map(|p| p.experiment.as_str());
        crate::prio3::task::Task::of_policy(self.store.policy(), release, self.store.reporting().epsilon)
    }

    pub fn priors(&self) -> &Priors {
        self.store.priors()
    }

    pub fn boosts(&self) -> &Boosts {
        self.store.boosts()
    }

    pub fn state(&self) -> &ShopperState {
        &self.state
    }

    /// Forget the session (a new visit); caps count a new session.
    pub fn reset(&mut self) {
        self.session = Session::new();
        self.state.new_session();
    }
}

/// The store's policies and settings, reporting for the shopper of `state`.
fn reporter<'a>(store: &'a Store, state: &'a ShopperState, release: Option<&'a ReleasePlacement>) -> Reporter<'a> {
    Reporter {
        policies: store.policies(),
        settings: store.reporting(),
        shopper_key: &state.shopper_key,
        model: &store.model().version,
        release,
    }
}
