//! The decider: for one slot and one shopper, the order of a decision —
//! experiment arm, slot caps, each offer's candidates, eligibility, caps and
//! score, arbitration (priority, then P(take) × value or a Thompson draw),
//! fallback — and the trace of every step.

use super::candidates::{Candidates, MAX_SET_ADDS};
use super::compiled::{Arm, Experiment, Offer, Policy, Slot};
use super::decision::*;
use super::experiment::assign;
use super::facts::{Facts, Said};
use super::gap::GapFill;
use super::predicate::Check;
use super::spec::{BanditSpec, OfferKind};
use super::state::{bandit_key, PageView, ShopperState, Tally};
use super::value::{offer_value, TakeRates};
use super::{cart, context, gap};
use crate::day::check_clock;
use crate::error::{Error, Result};
use crate::model::{Model, OfferedItem};
use crate::priors::{Boosts, Priors};
use crate::query::SessionQuery;
use crate::rank::Reason;
use crate::sampling::Draws;
use crate::score::BlendWeights;
use crate::score::{Part, ScoreParts};
use crate::session::Session;
use std::collections::HashMap;

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
        // An item the catalog lacks is no anchor: the offer follows the session.
        let (anchor, _) = self.model.anchor_row(req.anchor.as_deref());
        let filter = crate::filter::compile_excluding(req.filter.as_ref(), &req.exclude, self.model)?;
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
        let shopper = Facts::new(&query, said, state.session.saturating_add(1), state.seconds_in_session(now))
            .with_dismissed(tally.dismissed_items.iter().copied())
            .with_filter(filter);
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
    fn passes(&self, offer: &Offer, shopper: &Facts, rows: &[u32]) -> bool {
        // Called for every candidate an offer looks at: no allocation here.
        let holds = |c: &Check, r| c.cond.holds(shopper, &self.policy.rules, r);
        if rows.is_empty() {
            offer.eligibility.iter().all(|c| holds(c, None))
        } else {
            offer.eligibility.iter().all(|c| rows.iter().all(|&r| holds(c, Some(r))))
        }
    }

    fn rule_trace(&self, offer: &Offer, shopper: &Facts, rows: &[u32]) -> Vec<RuleCheck> {
        let subjects = subjects(rows);
        offer
            .eligibility
            .iter()
            .map(|c| {
                let failing = subjects.iter().copied().find(|&r| !c.cond.holds(shopper, &self.policy.rules, r));
                let shown = failing.or(subjects.first().copied()).flatten();
                RuleCheck { rule: c.label.clone(), passed: failing.is_none(), detail: c.cond.detail(shopper, shown) }
            })
            .collect()
    }

    /// What `offer` would show, or None (with the failing rules traced).
    fn propose(&self, offer: &Offer, shopper: &Facts, cands: &Candidates, trace: &mut OfferTrace) -> Option<Proposal> {
        let w = &offer.weights.weights();
        match offer.kind {
            OfferKind::Item | OfferKind::Bundle => {
                let rows = offer.items.clone();
                trace.rules = self.rule_trace(offer, shopper, &rows);
                if let Some(&r) = rows.iter().find(|&&r| !shopper.may_show(r)) {
                    let detail = Some(format!("{} is left out by the request", self.model.item_id(r)));
                    trace.rules.push(RuleCheck { rule: "request filter".into(), passed: false, detail });
                }
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
        shopper: &Facts,
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

    fn in_band(&self, offer: &Offer, shopper: &Facts, r: u32) -> bool {
        let price = &self.model.attributes.price;
        shopper.focus.is_some_and(|f| offer.price_band.contains(price[r as usize] as f64 / price[f as usize] as f64))
    }

    fn describe(&self, offer: &Offer, p: &Proposal, shopper: &Facts) -> ChosenOffer {
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

    fn reasons(&self, offer: &Offer, p: &Proposal, shopper: &Facts) -> Vec<Reason> {
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
    shopper: &'a Facts<'a>,
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
    fn action_reasons(&self, offer: &Offer, shopper: &Facts) -> Vec<Reason> {
        let currency = self.policy.currency.as_deref();
        let mut reasons: Vec<Reason> = offer
            .eligibility
            .iter()
            .filter_map(|c| c.cond.in_words(shopper, &self.policy.rules, currency))
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
