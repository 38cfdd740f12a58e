//! Offer decisioning (docs/design.md §6–7): for one slot, the store's policy picks
//! one offer, or its fallback, or none. The order is fixed: experiment arm
//! (a holdout gets nothing) → slot caps → per offer: eligibility, caps,
//! score → arbitration (priority then score, or Thompson sampling in a
//! bandit arm) → fallback. Every decision carries its trace.

pub mod candidates;
pub mod cart;
pub mod compile;
pub mod context;
pub mod eligibility;
pub mod experiment;
pub mod gap;
pub mod policy;
pub mod state;
pub mod value;

use crate::error::truncate;
use crate::error::{Error, Result};
use crate::model::{Model, OfferedItem};
use crate::priors::{Boosts, Priors};
use crate::query::SessionQuery;
use crate::rank::Reason;
use crate::sampling::Draws;
use crate::score::BlendWeights;
use crate::score::{Part, ScoreParts};
use crate::session::Session;
use candidates::{Candidates, MAX_SET_ADDS};
use compile::{ActionContent, Arm, Experiment, Offer, Policy, Slot};
use context::RawContext;
use eligibility::{Said, Shopper};
use experiment::assign;
use gap::GapFill;
use policy::BanditSpec;
use policy::OfferKind;
use serde::{Deserialize, Serialize};
use state::{CapCheck, LogEntry, Outcome, PageView, ShopperState, Tally};
use std::collections::HashMap;
use value::{offer_value, TakeRates};

/// What `nextBestOffer` is asked (JSON, camelCase).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferRequest {
    pub slot: String,
    /// The product on screen (else the cart's last item, else the last view).
    pub anchor: Option<String>,
    /// The shopper's segment flags, set by the host.
    #[serde(default)]
    pub segments: Vec<String>,
    /// What the host says about the request (`channel`, `device`…), in
    /// the fields the policy declares.
    #[serde(default)]
    pub context: RawContext,
}

/// A shopper's reaction to an offer they were shown.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Feedback {
    pub slot: String,
    pub offer: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundlePrice {
    /// Price of the items to add.
    pub total_price: f32,
    /// After the policy's discount (equal to `total_price` without one).
    pub discounted_price: f32,
    pub discount_percent: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChosenOffer {
    pub id: String,
    pub kind: OfferKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub items: Vec<OfferedItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<BundlePrice>,
    pub score: f32,
    pub parts: ScoreParts,
    pub reasons: Vec<Reason>,
    /// An action's content (title, link, payload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionContent>,
    /// How a `fillTheGap` offer reaches its threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<GapFill>,
    /// P(take) × value: what arbitration weighed after priority.
    #[serde(flatten)]
    pub worth: Worth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Chosen,
    /// Eligible and uncapped, but another offer won arbitration.
    Outranked,
    Ineligible,
    Capped,
    /// Nothing of this kind to show (no focus item, no co-purchases…).
    NoCandidates,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleCheck {
    pub rule: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How one offer fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferTrace {
    pub offer: String,
    pub verdict: Verdict,
    pub fallback: bool,
    pub priority: i32,
    /// The eligibility rules, for the items shown (or the best candidate
    /// when none passed).
    pub rules: Vec<RuleCheck>,
    /// Candidates passed over for failing a rule or for diversity.
    pub rejected: usize,
    pub caps: Vec<CapCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<ScoreParts>,
    /// The Thompson draw of P(take), in a bandit arm (weighed times the value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<f64>,
    /// Offers that got as far as a proposal: what arbitration weighs.
    #[serde(flatten)]
    pub worth: Option<Worth>,
}

/// What arbitration weighs after priority: P(take) × value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Worth {
    /// P(take) from the released aggregates, shrunk toward the slot's rate.
    pub p_take: f64,
    /// What one take is worth to the store.
    pub value: f64,
    pub expected_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub experiment: String,
    pub arm: String,
    pub holdout: bool,
    pub bandit: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub policy: String,
    pub slot: String,
    pub offer: Option<ChosenOffer>,
    pub fallback: bool,
    pub arm: Option<Assignment>,
    pub slot_caps: Vec<CapCheck>,
    pub trace: Vec<OfferTrace>,
    /// The engine's id for this decision, to say when it is `shown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    /// What showing this decision counts.
    #[serde(skip)]
    pub showing: Showing,
}

/// The offer a decision shows: its id, the items it adds and, for a set,
/// the item it is built around.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShownOffer {
    pub id: String,
    pub items: Vec<String>,
    pub focus: Option<String>,
}

/// What a decision counts once it is on the shopper's screen: its
/// experiment's exposure and, with an offer, one impression of it (for
/// caps, the bandit and the reports). A decision is only a proposal until
/// the host says it was shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Showing {
    pub slot: String,
    /// The policy decided under (the active one may change before it shows).
    pub policy: String,
    pub experiment: Option<String>,
    /// Whether the shopper's arm is a bandit (its trials count the show).
    pub bandit: bool,
    pub offer: Option<ShownOffer>,
    /// The session and page view the decision was made in.
    pub session: u32,
    pub view: u32,
    /// The channel it was decided for (`context.channel`).
    pub channel: Option<String>,
}

/// What one offer would show, before caps and arbitration. A
/// `completeTheSet` proposal starts with the focus item it is built around.
struct Proposal {
    rows: Vec<u32>,
    parts: ScoreParts,
    score: f32,
    /// How a gap filler reaches its threshold.
    gap: Option<GapFill>,
    /// What a take is worth, and P(take) × that.
    worth: Worth,
}

impl Proposal {
    fn new(rows: Vec<u32>, parts: ScoreParts, score: f32) -> Proposal {
        Proposal { rows, parts, score, gap: None, worth: Worth { p_take: 0.0, value: 0.0, expected_value: 0.0 } }
    }
}

/// Everything one decision reads.
pub struct Decider<'a> {
    pub model: &'a Model,
    pub policy: &'a Policy,
    pub priors: &'a Priors,
    pub boosts: &'a Boosts,
}

impl Decider<'_> {
    /// Decide the offer for `req.slot` at host time `now` (ms). Nothing is
    /// counted until the decision is shown (`record_shown`); only the
    /// bandit's draws and the session clock move in `state`.
    pub fn decide(
        &self,
        session: &Session,
        state: &mut ShopperState,
        req: &OfferRequest,
        now: f64,
    ) -> Result<Decision> {
        check_clock(now)?;
        let slot = self.policy.slot_named(&req.slot)?;
        let anchor = self.model.anchor_row(req.anchor.as_deref())?;
        if req.segments.len() > 64 || req.segments.iter().any(|s| s.len() > 64) {
            return Err(Error::InvalidOptions("at most 64 segments of at most 64 bytes".into()));
        }
        let context = context::parse(&req.context, &self.policy.context)?;
        let channel = context.get("channel").and_then(|c| c.as_text());
        state.touch(now, false);
        let arm = slot.experiment.map(|e| {
            let exp = &self.policy.experiments[e];
            (exp, &exp.arms[assign(exp, &state.shopper_key)])
        });
        let mut decision = self.empty_decision(slot, arm, state.session, session.views());
        decision.showing.channel = channel.map(str::to_string);
        if arm.is_some_and(|(_, a)| a.holdout) {
            return Ok(decision);
        }
        let page = PageView { slot: &slot.id, session: state.session, view: session.views(), channel };
        let tally = Tally::new(state, now, page);
        decision.slot_caps = tally.slot_caps(&slot.id, &slot.caps, channel, now);
        if decision.slot_caps.iter().any(|c| !c.passed) {
            return Ok(decision);
        }

        let recency = BlendWeights::in_force(self.policy.ranking, self.model.manifest.blend).recency;
        let query = SessionQuery::new(self.model, session, anchor, 0, recency)?;
        let said = Said { segments: &req.segments, context: &context };
        let shopper = Shopper::new(&query, said, state.session.saturating_add(1), state.seconds_in_session(now))
            .with_dismissed(tally.dismissed_items.iter().copied());
        let cands = Candidates::new(&query, &shopper);
        let ctx = Considering {
            shopper: &shopper,
            cands: &cands,
            tally: &tally,
            rates: TakeRates::new(self.policy, slot, self.priors),
            channel,
            now,
        };
        let offers: &[usize] = arm.and_then(|(_, a)| a.offers.as_deref()).unwrap_or(&slot.offers);
        let mut contenders: Vec<(usize, Proposal)> = Vec::new();
        for &ix in offers {
            let offer = &self.policy.offers[ix];
            let (proposal, trace) = self.consider(offer, &ctx, false);
            decision.trace.push(trace);
            if let Some(p) = proposal {
                contenders.push((ix, p));
            }
        }

        let bandit = arm.and_then(|(exp, a)| a.bandit.map(|b| (exp, b)));
        let (winner, draws_used) = match bandit {
            Some((exp, prior)) => {
                let (winner, draws) = self.thompson(exp, &prior, &contenders, state, &mut decision.trace);
                (winner, Some(draws))
            }
            None => (self.by_priority(&contenders), None),
        };
        let mut chosen = winner.map(|i| contenders.swap_remove(i));
        if chosen.is_none() {
            if let Some(fb) = slot.fallback {
                let (proposal, trace) = self.consider(&self.policy.offers[fb], &ctx, true);
                decision.trace.push(trace);
                decision.fallback = proposal.is_some();
                chosen = proposal.map(|p| (fb, p));
            }
        }
        drop(tally);
        if let Some(count) = draws_used {
            state.draws = count;
        }
        let Some((ix, proposal)) = chosen else { return Ok(decision) };
        let offer = &self.policy.offers[ix];
        for t in decision.trace.iter_mut().filter(|t| t.offer == offer.id && t.fallback == decision.fallback) {
            t.verdict = Verdict::Chosen;
        }
        let chosen = self.describe(offer, &proposal, &shopper);
        decision.showing.offer = Some(ShownOffer {
            id: offer.id.clone(),
            items: chosen.items.iter().filter(|i| i.add).map(|i| i.view.item.clone()).collect(),
            focus: chosen.items.iter().find(|i| !i.add).map(|i| i.view.item.clone()),
        });
        decision.offer = Some(chosen);
        Ok(decision)
    }

    /// A decision of no offer yet, with its slot, arm and what showing it
    /// will count.
    fn empty_decision(&self, slot: &Slot, arm: Option<(&Experiment, &Arm)>, session: u32, view: u32) -> Decision {
        Decision {
            policy: self.policy.id.clone(),
            slot: slot.id.clone(),
            offer: None,
            fallback: false,
            arm: arm.map(|(exp, arm)| Assignment {
                experiment: exp.id.clone(),
                arm: arm.id.clone(),
                holdout: arm.holdout,
                bandit: arm.bandit.is_some(),
            }),
            slot_caps: Vec::new(),
            trace: Vec::new(),
            id: None,
            showing: Showing {
                slot: slot.id.clone(),
                policy: self.policy.id.clone(),
                experiment: arm.map(|(exp, _)| exp.id.clone()),
                bandit: arm.is_some_and(|(_, a)| a.bandit.is_some()),
                offer: None,
                session,
                view,
                channel: None,
            },
        }
    }

    /// A bandit arm's choice: one Thompson draw per contender from its
    /// Beta posterior (the arm's prior, the aggregates' priors and this
    /// shopper's own trials), the highest wins. Returns the winner and the
    /// draw count after.
    fn thompson(
        &self,
        exp: &Experiment,
        prior: &BanditSpec,
        contenders: &[(usize, Proposal)],
        state: &ShopperState,
        trace: &mut [OfferTrace],
    ) -> (Option<usize>, u64) {
        let mut count = state.draws;
        let mut draws = Draws::new(&state.shopper_key, &mut count);
        let mut best: Option<(usize, (f64, f64))> = None;
        for (i, (ix, _)) in contenders.iter().enumerate() {
            let id = &self.policy.offers[*ix].id;
            let own = state.bandit.get(&bandit_key(&exp.id, id)).copied().unwrap_or_default();
            let agg = self.priors.get(id).copied().unwrap_or_default();
            // In f64: counts from stored state and aggregates are each
            // bounded, their sum need not fit a u64.
            let taken = own.taken as f64 + agg.taken as f64;
            let missed = (own.shown - own.taken) as f64 + (agg.shown - agg.taken) as f64;
            let sample = draws.beta(prior.alpha + taken, prior.beta + missed);
            set_sample(trace, id, sample);
            // A draw of the take rate, weighed by what a take is worth
            // (the draw alone between offers worth nothing).
            let key = (sample * contenders[i].1.worth.value, sample);
            if best.is_none_or(|(_, k)| key > k) {
                best = Some((i, key));
            }
        }
        (best.map(|(i, _)| i), count)
    }

    /// Outside a bandit arm: the highest priority, then the highest
    /// expected value, then the best score.
    fn by_priority(&self, contenders: &[(usize, Proposal)]) -> Option<usize> {
        contenders
            .iter()
            .enumerate()
            .max_by(|(_, (a, pa)), (_, (b, pb))| {
                let (oa, ob) = (&self.policy.offers[*a], &self.policy.offers[*b]);
                oa.priority
                    .cmp(&ob.priority)
                    .then(pa.worth.expected_value.total_cmp(&pb.worth.expected_value))
                    .then(pa.score.total_cmp(&pb.score))
                    .then(ob.id.cmp(&oa.id))
            })
            .map(|(i, _)| i)
    }

    /// Eligibility, then caps, then the score and expected value of one offer.
    fn consider(&self, offer: &Offer, ctx: &Considering, fallback: bool) -> (Option<Proposal>, OfferTrace) {
        let mut trace = OfferTrace {
            offer: offer.id.clone(),
            verdict: Verdict::Outranked,
            fallback,
            priority: offer.priority,
            rules: Vec::new(),
            rejected: 0,
            caps: Vec::new(),
            score: None,
            parts: None,
            sample: None,
            worth: None,
        };
        let (shopper, cands) = (ctx.shopper, ctx.cands);
        let proposal = self.propose(offer, shopper, cands, &mut trace).map(|mut p| {
            p.parts.taken = self.boosts.get(&offer.id).copied().unwrap_or(0.0);
            p.score = p.parts.score(&offer.weights.weights());
            let added = if offer.kind == OfferKind::CompleteTheSet { &p.rows[1..] } else { &p.rows[..] };
            let value = offer_value(offer, self.model, added, self.discount_percent(offer, p.rows.len()) as f64);
            let p_take = ctx.rates.of(&offer.id);
            p.worth = Worth { p_take, value, expected_value: p_take * value };
            trace.worth = Some(p.worth);
            p
        });
        let Some(proposal) = proposal else {
            trace.verdict = if trace.rules.is_empty() { Verdict::NoCandidates } else { Verdict::Ineligible };
            return (None, trace);
        };
        trace.score = Some(proposal.score);
        trace.parts = Some(proposal.parts);
        trace.caps = ctx.tally.offer_caps(&offer.id, &offer.caps, ctx.channel, ctx.now);
        if trace.caps.iter().any(|c| !c.passed) {
            trace.verdict = Verdict::Capped;
            return (None, trace);
        }
        (Some(proposal), trace)
    }

    /// The discount a set of `items` (the focus one included) gets.
    fn discount_percent(&self, offer: &Offer, items: usize) -> f32 {
        offer.discount.filter(|d| items >= d.min_items).map_or(0.0, |d| d.percent)
    }

    /// The eligibility checks of `offer` on every row offered (on the
    /// shopper alone for an action, which offers none).
    fn passes(&self, offer: &Offer, shopper: &Shopper, rows: &[u32]) -> bool {
        // Called for every candidate an offer looks at: no allocation here.
        let holds = |c: &compile::Check, r| shopper.holds(self.policy, &c.cond, r);
        if rows.is_empty() {
            offer.eligibility.iter().all(|c| holds(c, None))
        } else {
            offer.eligibility.iter().all(|c| rows.iter().all(|&r| holds(c, Some(r))))
        }
    }

    fn rule_trace(&self, offer: &Offer, shopper: &Shopper, rows: &[u32]) -> Vec<RuleCheck> {
        let subjects = subjects(rows);
        offer
            .eligibility
            .iter()
            .map(|c| {
                let failing = subjects.iter().copied().find(|&r| !shopper.holds(self.policy, &c.cond, r));
                let shown = failing.or(subjects.first().copied()).flatten();
                RuleCheck { rule: c.label.clone(), passed: failing.is_none(), detail: shopper.detail(&c.cond, shown) }
            })
            .collect()
    }

    /// What `offer` would show, or None (with the failing rules traced).
    fn propose(
        &self,
        offer: &Offer,
        shopper: &Shopper,
        cands: &Candidates,
        trace: &mut OfferTrace,
    ) -> Option<Proposal> {
        let w = &offer.weights.weights();
        match offer.kind {
            OfferKind::Item | OfferKind::Bundle => {
                let rows = offer.items.clone();
                trace.rules = self.rule_trace(offer, shopper, &rows);
                if !trace.rules.iter().all(|r| r.passed) {
                    return None;
                }
                let parts = ScoreParts::mean(&rows.iter().map(|&r| cands.item_parts(r)).collect::<Vec<_>>());
                Some(Proposal::new(rows, parts, parts.score(w)))
            }
            OfferKind::Action => {
                trace.rules = self.rule_trace(offer, shopper, &[]);
                if !trace.rules.iter().all(|r| r.passed) {
                    return None;
                }
                Some(Proposal::new(Vec::new(), ScoreParts::default(), 0.0))
            }
            OfferKind::FillTheGap => self.fill_the_gap(offer, shopper, cands, trace),
            OfferKind::CrossSell | OfferKind::Upsell => {
                let pool = if offer.kind == OfferKind::Upsell { cands.upsell() } else { cands.cross_sell() };
                let in_band = |r: u32| offer.kind != OfferKind::Upsell || self.in_band(offer, shopper, r);
                let mut ranked: Vec<(u32, ScoreParts, f32)> =
                    pool.iter().filter(|(r, _)| in_band(*r)).map(|&(r, p)| (r, p, p.score(w))).collect();
                if ranked.is_empty() {
                    return None;
                }
                ranked.sort_unstable_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
                let mut rows = Vec::new();
                let mut parts = Vec::new();
                let mut per_category: HashMap<u32, usize> = HashMap::new();
                for &(r, p, _) in &ranked {
                    let category = self.model.attributes.category[r as usize];
                    let full =
                        offer.max_per_category.is_some_and(|m| per_category.get(&category).copied().unwrap_or(0) >= m);
                    if full || !self.passes(offer, shopper, &[r]) {
                        trace.rejected += 1;
                        continue;
                    }
                    *per_category.entry(category).or_default() += 1;
                    rows.push(r);
                    parts.push(p);
                    if rows.len() == offer.count {
                        break;
                    }
                }
                if rows.is_empty() {
                    trace.rules = self.rule_trace(offer, shopper, &[ranked[0].0]);
                    return None;
                }
                trace.rules = self.rule_trace(offer, shopper, &rows);
                let parts = ScoreParts::mean(&parts);
                Some(Proposal::new(rows, parts, parts.score(w)))
            }
            OfferKind::CompleteTheSet => {
                let mut sets: Vec<(Vec<u32>, ScoreParts, f32)> = Vec::new();
                for s in cands.sets() {
                    let members: Vec<u32> = s.iter().take(1 + offer.count.min(MAX_SET_ADDS)).copied().collect();
                    if sets.iter().any(|(m, _, _)| *m == members) {
                        continue;
                    }
                    let parts = cands.set_parts(&members);
                    sets.push((members, parts, parts.score(w)));
                }
                if sets.is_empty() {
                    return None;
                }
                sets.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
                let best = sets.iter().position(|(m, _, _)| self.passes(offer, shopper, &m[1..]));
                trace.rejected = best.unwrap_or(sets.len());
                let (members, parts, score) = sets.swap_remove(best.unwrap_or(0));
                trace.rules = self.rule_trace(offer, shopper, &members[1..]);
                best?;
                Some(Proposal::new(members, parts, score))
            }
        }
    }

    /// The item or pair, among the `offer.pool` best-ranked eligible
    /// candidates, that brings the cart over the threshold with the least
    /// overshoot. Nothing to fill with an empty cart or one already over.
    fn fill_the_gap(
        &self,
        offer: &Offer,
        shopper: &Shopper,
        cands: &Candidates,
        trace: &mut OfferTrace,
    ) -> Option<Proposal> {
        let (cart, quantities) = (shopper.session.cart(), shopper.session.quantities());
        let price = |r: u32| cart::cents(self.model.attributes.price[r as usize]);
        // Saturating: a hostile catalog's prices must not overflow the sum.
        let cart_cents = cart
            .iter()
            .zip(quantities)
            .fold(0i64, |sum, (&r, &q)| sum.saturating_add(price(r).saturating_mul(q as i64)));
        let threshold = (offer.threshold * 100.0).round() as i64;
        if cart.is_empty() || cart_cents >= threshold {
            return None;
        }
        let w = &offer.weights.weights();
        let mut ranked: Vec<(u32, ScoreParts, f32)> =
            cands.gap_fillers().iter().map(|&(r, p)| (r, p, p.score(w))).collect();
        if ranked.is_empty() {
            return None;
        }
        ranked.sort_unstable_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        let mut eligible: Vec<&(u32, ScoreParts, f32)> = Vec::with_capacity(offer.pool);
        for c in &ranked {
            if eligible.len() == offer.pool {
                break;
            }
            if self.passes(offer, shopper, &[c.0]) {
                eligible.push(c);
            } else {
                trace.rejected += 1;
            }
        }
        let priced: Vec<(u32, i64)> = eligible.iter().map(|(r, _, _)| (*r, price(*r))).collect();
        let Some((picks, overshoot)) = gap::least_overshoot(threshold - cart_cents, &priced, offer.count) else {
            trace.rules = self.rule_trace(offer, shopper, &[eligible.first().map_or(ranked[0].0, |c| c.0)]);
            trace.rules.push(RuleCheck {
                rule: format!("an item or pair reaches {:.2}", offer.threshold),
                passed: false,
                detail: Some(format!("{:.2} to go", (threshold - cart_cents) as f64 / 100.0)),
            });
            return None;
        };
        let rows: Vec<u32> = picks.iter().map(|&i| eligible[i].0).collect();
        trace.rules = self.rule_trace(offer, shopper, &rows);
        let parts = ScoreParts::mean(&picks.iter().map(|&i| eligible[i].1).collect::<Vec<_>>());
        let mut proposal = Proposal::new(rows, parts, parts.score(w));
        proposal.gap = Some(GapFill::new(threshold, cart_cents, overshoot));
        Some(proposal)
    }

    fn in_band(&self, offer: &Offer, shopper: &Shopper, r: u32) -> bool {
        let price = &self.model.attributes.price;
        shopper.focus.is_some_and(|f| offer.price_band.contains(price[r as usize] as f64 / price[f as usize] as f64))
    }

    fn describe(&self, offer: &Offer, p: &Proposal, shopper: &Shopper) -> ChosenOffer {
        let m = self.model;
        let items: Vec<OfferedItem> = p
            .rows
            .iter()
            .enumerate()
            .map(|(i, &r)| OfferedItem { view: m.view(r), add: i > 0 || offer.kind != OfferKind::CompleteTheSet })
            .collect();
        let bundle = matches!(offer.kind, OfferKind::Bundle | OfferKind::CompleteTheSet).then(|| {
            // In cents, as the cart prices it (cart::price_cart).
            let total: i64 = items.iter().filter(|i| i.add).map(|i| cart::cents(i.view.price)).sum();
            let percent = offer.discount.filter(|d| items.len() >= d.min_items).map_or(0.0, |d| d.percent);
            BundlePrice {
                total_price: total as f32 / 100.0,
                discounted_price: (total - cart::discount_cents(total, percent)) as f32 / 100.0,
                discount_percent: percent,
            }
        });
        let message = match &p.gap {
            Some(fill) => Some(gap::message(offer.message.as_deref(), fill, self.policy.currency.as_deref())),
            None => offer.message.clone(),
        };
        ChosenOffer {
            id: offer.id.clone(),
            kind: offer.kind,
            message,
            reasons: self.reasons(offer, p, shopper),
            items,
            bundle,
            score: p.score,
            parts: p.parts,
            action: offer.action.clone(),
            gap: p.gap,
            worth: p.worth,
        }
    }

    fn reasons(&self, offer: &Offer, p: &Proposal, shopper: &Shopper) -> Vec<Reason> {
        let focus = shopper
            .focus
            .map_or_else(|| "what is in your basket".to_string(), |f| format!("the {}", self.model.title(f)));
        let (text, detail) = match offer.kind {
            OfferKind::Upsell => (
                format!("A step up from {focus}"),
                Some(format!("{:.0}% pricier, embedding cosine {:.2}", 100.0 * p.parts.price_step, p.parts.model)),
            ),
            OfferKind::CrossSell => (format!("Goes with {focus}"), Some(format!("lift strength {:.2}", p.parts.lift))),
            OfferKind::CompleteTheSet => (format!("Completes the set with {focus}"), None),
            OfferKind::Item | OfferKind::Bundle => ("Picked by the store".to_string(), None),
            OfferKind::FillTheGap => {
                let fill = p.gap.unwrap_or(GapFill::new(0, 0, 0));
                let currency = self.policy.currency.as_deref();
                (
                    format!("Takes your basket past {}", gap::money(fill.threshold, currency)),
                    Some(format!("{} over", gap::money(fill.overshoot, currency))),
                )
            }
            OfferKind::Action => return self.action_reasons(offer, shopper),
        };
        let code = match offer.kind {
            OfferKind::Upsell => "upsell",
            OfferKind::CrossSell => "cross-sell",
            OfferKind::CompleteTheSet => "bundle",
            OfferKind::FillTheGap => "gap",
            OfferKind::Item | OfferKind::Bundle | OfferKind::Action => "store",
        };
        let mut reasons = vec![Reason::new(code, text, detail)];
        // The part that brings the most of the score, when it is one a
        // shopper can read a reason in.
        let top = p.parts.leading(&offer.weights.weights(), p.score).into_iter().find_map(|(part, _)| match part {
            Part::Lift => Some(("copurchase", "Often bought together")),
            Part::Model => Some(("session", "Fits what you are looking at")),
            Part::Margin => Some(("margin", "A store favourite")),
            Part::Taken => Some(("popular", "Popular with shoppers here")),
            _ => None,
        });
        if let Some((code, text)) = top {
            reasons.push(Reason::new(code, text, None));
        }
        reasons
    }
}

/// Everything weighing one offer reads, beside the offer itself.
struct Considering<'a> {
    shopper: &'a Shopper<'a>,
    cands: &'a Candidates<'a>,
    tally: &'a Tally<'a>,
    rates: TakeRates<'a>,
    channel: Option<&'a str>,
    now: f64,
}

/// What eligibility is checked on: each offered row, or the shopper alone.
fn subjects(rows: &[u32]) -> Vec<Option<u32>> {
    if rows.is_empty() {
        vec![None]
    } else {
        rows.iter().map(|&r| Some(r)).collect()
    }
}

impl Decider<'_> {
    /// Why an action shows, in the shopper's words: what they did that its
    /// eligibility asked for (views, time, visits, the cart), else the store's pick.
    fn action_reasons(&self, offer: &Offer, shopper: &Shopper) -> Vec<Reason> {
        let currency = self.policy.currency.as_deref();
        let mut reasons: Vec<Reason> = offer
            .eligibility
            .iter()
            .filter_map(|c| shopper.in_words(self.policy, &c.cond, currency))
            .map(|text| Reason::new("action", text, None))
            .collect();
        if reasons.is_empty() {
            reasons.push(Reason::new("store", "Suggested by the store".to_string(), None));
        }
        reasons
    }
}

fn set_sample(trace: &mut [OfferTrace], offer: &str, sample: f64) {
    if let Some(t) = trace.iter_mut().find(|t| t.offer == offer && !t.fallback) {
        t.sample = Some(sample);
    }
}

pub fn bandit_key(experiment: &str, offer: &str) -> String {
    format!("{experiment}/{offer}")
}

/// Count a decision the shopper was shown: its impression goes into the
/// log (caps, attribution) and the bandit's trials, once per page view.
/// Returns whether an impression was counted: false without an offer, and
/// for the same offer showing again in the same page view (a re-render).
pub fn record_shown(state: &mut ShopperState, shown: &Showing, now: f64) -> Result<bool> {
    check_clock(now)?;
    state.touch(now, false);
    let Some(offer) = &shown.offer else { return Ok(false) };
    let again = state.log.iter().any(|e| {
        e.outcome == Outcome::Impression
            && (e.s, e.v) == (shown.session, shown.view)
            && (&e.slot, &e.offer, &e.items, &e.f) == (&shown.slot, &offer.id, &offer.items, &offer.focus)
    });
    if again {
        return Ok(false);
    }
    state.record(LogEntry {
        t: now,
        s: shown.session,
        slot: shown.slot.clone(),
        offer: offer.id.clone(),
        outcome: Outcome::Impression,
        items: offer.items.clone(),
        v: shown.view,
        f: offer.focus.clone(),
        c: shown.channel.clone(),
    });
    if let (true, Some(exp)) = (shown.bandit, &shown.experiment) {
        state.bandit.entry(bandit_key(exp, &offer.id)).or_default().shown += 1;
    }
    Ok(true)
}

/// Record the shopper's reaction to an offer of `slot`.
pub fn record_feedback(policy: &Policy, state: &mut ShopperState, fb: &Feedback, now: f64) -> Result<()> {
    check_clock(now)?;
    let slot = policy.slot_named(&fb.slot)?;
    if !policy.offers.iter().any(|o| o.id == fb.offer) {
        return Err(Error::InvalidOptions(format!(
            "policy {:?} has no offer {:?}",
            policy.id,
            truncate(&fb.offer, 64)
        )));
    }
    if fb.outcome == Outcome::Impression {
        return Err(Error::InvalidOptions("an impression is recorded by saying the decision was shown".into()));
    }
    state.touch(now, false);
    // A take counts once per impression for the bandit (a click then a
    // purchase is one success).
    let last_shown =
        state.log.iter().rposition(|e| e.offer == fb.offer && e.slot == fb.slot && e.outcome == Outcome::Impression);
    let first_take =
        last_shown.is_some_and(|i| !state.log[i + 1..].iter().any(|e| e.offer == fb.offer && e.outcome.is_take()));
    if fb.outcome.is_take() && first_take {
        if let Some(exp) = slot.experiment.map(|e| &policy.experiments[e]) {
            if let Some(trials) = state.bandit.get_mut(&bandit_key(&exp.id, &fb.offer)) {
                trials.taken = (trials.taken + 1).min(trials.shown);
            }
        }
    }
    let entry = LogEntry {
        t: now,
        s: state.session,
        slot: fb.slot.clone(),
        offer: fb.offer.clone(),
        outcome: fb.outcome,
        items: Vec::new(),
        v: 0,
        f: None,
        c: None,
    };
    state.record(entry);
    Ok(())
}

/// The (slot, offer) pairs that showed `item` in this session.
pub fn offers_showing(state: &ShopperState, item: &str) -> Vec<(String, String)> {
    let mut shown: Vec<(String, String)> = state
        .log
        .iter()
        .filter(|e| e.s == state.session && e.outcome == Outcome::Impression && e.items.iter().any(|i| i == item))
        .map(|e| (e.slot.clone(), e.offer.clone()))
        .collect();
    shown.sort_unstable();
    shown.dedup();
    shown
}

/// A purchase of an item is a take for each offer of this session that
/// showed it (`shown`, from `offers_showing`) and has no purchase recorded since.
pub fn attribute_purchase(policy: &Policy, state: &mut ShopperState, shown: &[(String, String)], now: f64) {
    for (slot, offer) in shown {
        let fb = Feedback { slot: slot.clone(), offer: offer.clone(), outcome: Outcome::Purchase };
        // The ids came from this policy's own log; a policy swapped since
        // may not know them, and then there is nothing to attribute.
        let _ = record_feedback(policy, state, &fb, now);
    }
}

/// The host times (ms since 1970) the engine takes: 0000-01-01T00:00:00.000Z
/// to 9999-12-31T23:59:59.999Z. The state and the reports write days as
/// `YYYY-MM-DD`, and `importState` reads back only those: a time outside
/// would write a day the engine's own state then refuses.
pub const CLOCK_RANGE: std::ops::RangeInclusive<f64> = -62_167_219_200_000.0..=253_402_300_799_999.0;

/// A host time in `CLOCK_RANGE` (so finite), else INVALID_OPTIONS: every
/// call that takes a time checks it before it changes anything.
pub fn check_clock(now: f64) -> Result<()> {
    if CLOCK_RANGE.contains(&now) {
        Ok(())
    } else {
        // (1e300 written out is 301 digits)
        let shown = if now.abs() < 1e16 { now.to_string() } else { format!("{now:e}") };
        Err(Error::InvalidOptions(format!(
            "the clock gives {shown} ms, outside years 0–9999 ({} to {} ms since 1970)",
            CLOCK_RANGE.start(),
            CLOCK_RANGE.end()
        )))
    }
}
