//! Check a parsed policy against the bundle's catalog and turn it into the
//! form decisions run on: ids resolved to rows and indexes, named rules
//! checked for cycles, contradictions refused. Every error names the field.

use super::policy::{
    ArmSpec, BanditSpec, Caps, Discount, ExperimentSpec, OfferKind, OfferSpec, OfferWeights, Placement, PolicySpec,
    Predicate, Range, SlotSpec,
};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::rank::BlendWeights;
use std::collections::HashMap;

const MAX_OFFERS: usize = 1000;
const MAX_SLOTS: usize = 100;
const MAX_RULES: usize = 1000;
const MAX_EXPERIMENTS: usize = 50;
const MAX_ARMS: usize = 20;
const MAX_BUNDLE_ITEMS: usize = 8;
const MAX_COUNT: usize = 10;
const MAX_LIST: usize = 1000;
const MAX_DEPTH: usize = 16;
/// Arm weights: the sum of 20 stays finite and exact enough to split shoppers.
const MAX_ARM_WEIGHT: f64 = 1e6;
/// A bandit's Beta prior: below 1e-3 both Gamma draws underflow to 0 (0/0 is
/// no take rate at all); above 1e6 the prior would drown any evidence.
const PRIOR_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1e6;
const MAX_ID_LEN: usize = 64;
/// Upsell price band when the offer sets none: 5% to 100% pricier.
const DEFAULT_UPSELL_BAND: Range = Range { min: Some(1.05), max: Some(2.0) };

/// A predicate with ids resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    CartValue(Range),
    CartQuantity(Range),
    CategoryInCart(Vec<u32>),
    CategoryViewed(Vec<u32>),
    ItemInCart(Vec<u32>),
    Category(Vec<u32>),
    Price(Range),
    PriceBand(Range),
    InStock(bool),
    NotOwned(bool),
    Segment(String),
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Rule(usize),
}

/// An eligibility condition and how the trace names it.
#[derive(Debug, Clone)]
pub struct Check {
    pub cond: Cond,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct Offer {
    pub id: String,
    pub kind: OfferKind,
    pub items: Vec<u32>,
    pub count: usize,
    pub eligibility: Vec<Check>,
    pub priority: i32,
    pub weights: OfferWeights,
    pub price_band: Range,
    pub max_per_category: Option<usize>,
    pub discount: Option<Discount>,
    pub caps: Caps,
    pub message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Slot {
    pub id: String,
    pub placement: Placement,
    pub offers: Vec<usize>,
    pub fallback: Option<usize>,
    pub caps: Caps,
    pub experiment: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Arm {
    pub id: String,
    pub weight: f64,
    pub holdout: bool,
    pub offers: Option<Vec<usize>>,
    pub bandit: Option<BanditSpec>,
}

#[derive(Debug, Clone)]
pub struct Experiment {
    pub id: String,
    pub salt: String,
    pub arms: Vec<Arm>,
}

/// A policy ready to decide with.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    /// The store's override of the bundle's blend.
    pub ranking: Option<BlendWeights>,
    pub rules: Vec<Cond>,
    pub offers: Vec<Offer>,
    pub slots: Vec<Slot>,
    pub experiments: Vec<Experiment>,
}

impl Policy {
    /// The slot `id`, or an error listing the slots there are.
    pub fn slot_named(&self, id: &str) -> Result<&Slot> {
        self.slots.iter().find(|s| s.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.slots.iter().map(|s| s.id.as_str()).collect();
            Error::InvalidOptions(format!(
                "policy {:?} has no slot {:?} (slots: {})",
                self.id,
                crate::session::truncate(id, 64),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ))
        })
    }
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidPolicy { path: path.into(), message: message.into() }
}

fn check_id(path: &str, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(invalid(path, format!("an id must be 1..={MAX_ID_LEN} bytes")));
    }
    Ok(())
}

fn check_limit(path: &str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(invalid(path, format!("{len} entries, more than the {max} accepted")));
    }
    Ok(())
}

/// Index of each id, refusing duplicates.
fn index_ids<'a>(path: &str, ids: impl Iterator<Item = &'a str>) -> Result<HashMap<&'a str, usize>> {
    let mut out = HashMap::new();
    for (i, id) in ids.enumerate() {
        check_id(&format!("{path}[{i}].id"), id)?;
        if out.insert(id, i).is_some() {
            return Err(invalid(format!("{path}[{i}].id"), format!("duplicate id {id:?}")));
        }
    }
    Ok(out)
}

pub fn compile(spec: &PolicySpec, model: &Model) -> Result<Policy> {
    check_id("id", &spec.id)?;
    if spec.ranking.is_some_and(|r| !r.is_valid()) {
        return Err(invalid("ranking", "weights must be finite and >= 0, recency at most 1"));
    }
    check_limit("offers", spec.offers.len(), MAX_OFFERS)?;
    check_limit("slots", spec.slots.len(), MAX_SLOTS)?;
    check_limit("rules", spec.rules.len(), MAX_RULES)?;
    check_limit("experiments", spec.experiments.len(), MAX_EXPERIMENTS)?;

    let rule_index: HashMap<&str, usize> = spec.rules.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let rule_resolver = Resolver { model, rule_index: &rule_index, rule_levels: &[] };
    let mut rules = Vec::with_capacity(spec.rules.len());
    for (name, p) in &spec.rules {
        check_id(&format!("rules.{name}"), name)?;
        rules.push(rule_resolver.cond(&format!("rules.{name}"), p, 0)?);
    }
    let names: Vec<&str> = spec.rules.keys().map(|k| k.as_str()).collect();
    let rule_levels = rule_levels(&names, &rules)?;
    let resolver = Resolver { model, rule_index: &rule_index, rule_levels: &rule_levels };

    let ids = Ids { offers: index_ids("offers", spec.offers.iter().map(|o| o.id.as_str()))? };
    let offers = spec
        .offers
        .iter()
        .enumerate()
        .map(|(i, o)| compile_offer(&resolver, &format!("offers[{i}]"), o))
        .collect::<Result<Vec<_>>>()?;
    let slot_index = index_ids("slots", spec.slots.iter().map(|s| s.id.as_str()))?;
    let mut slots =
        spec.slots.iter().enumerate().map(|(i, s)| ids.slot(&format!("slots[{i}]"), s)).collect::<Result<Vec<_>>>()?;
    index_ids("experiments", spec.experiments.iter().map(|e| e.id.as_str()))?;
    let mut experiments = Vec::with_capacity(spec.experiments.len());
    for (i, e) in spec.experiments.iter().enumerate() {
        let path = format!("experiments[{i}]");
        let governed = govern_slots(&path, i, e, &slot_index, &mut slots, spec)?;
        experiments.push(ids.experiment(&path, e, &governed, &slots)?);
    }
    Ok(Policy { id: spec.id.clone(), ranking: spec.ranking, rules, offers, slots, experiments })
}

/// Mark the slots experiment `i` governs (each slot by one experiment at
/// most); returns their indices.
fn govern_slots(
    path: &str,
    i: usize,
    e: &ExperimentSpec,
    slot_index: &HashMap<&str, usize>,
    slots: &mut [Slot],
    spec: &PolicySpec,
) -> Result<Vec<usize>> {
    if e.slots.is_empty() {
        return Err(invalid(format!("{path}.slots"), "an experiment needs at least one slot"));
    }
    let mut governed = Vec::new();
    for (j, sid) in e.slots.iter().enumerate() {
        let sp = format!("{path}.slots[{j}]");
        let &s = slot_index.get(sid.as_str()).ok_or_else(|| invalid(&sp, format!("no slot has id {sid:?}")))?;
        if let Some(other) = slots[s].experiment {
            let other: &String = &spec.experiments[other].id;
            return Err(invalid(sp, format!("slot {sid:?} is already governed by experiment {other:?}")));
        }
        slots[s].experiment = Some(i);
        governed.push(s);
    }
    Ok(governed)
}

/// Offer ids to their indices, for slots and arms that name offers.
struct Ids<'a> {
    offers: HashMap<&'a str, usize>,
}

impl Ids<'_> {
    fn offer(&self, path: String, id: &str) -> Result<usize> {
        self.offers.get(id).copied().ok_or_else(|| invalid(path, format!("no offer has id {id:?}")))
    }

    fn slot(&self, path: &str, s: &SlotSpec) -> Result<Slot> {
        if s.offers.is_empty() && s.fallback.is_none() {
            return Err(invalid(path, "a slot needs offers or a fallback (this one could never show anything)"));
        }
        let mut ids = Vec::with_capacity(s.offers.len());
        for (j, id) in s.offers.iter().enumerate() {
            let ix = self.offer(format!("{path}.offers[{j}]"), id)?;
            if ids.contains(&ix) {
                return Err(invalid(format!("{path}.offers[{j}]"), format!("offer {id:?} is listed twice")));
            }
            ids.push(ix);
        }
        let fallback = s.fallback.as_deref().map(|id| self.offer(format!("{path}.fallback"), id)).transpose()?;
        validate_caps(&format!("{path}.caps"), &s.caps)?;
        Ok(Slot { id: s.id.clone(), placement: s.placement, offers: ids, fallback, caps: s.caps, experiment: None })
    }

    /// An experiment over the `governed` slots.
    fn experiment(&self, path: &str, e: &ExperimentSpec, governed: &[usize], slots: &[Slot]) -> Result<Experiment> {
        if e.arms.is_empty() {
            return Err(invalid(format!("{path}.arms"), "an experiment needs at least one arm"));
        }
        check_limit(&format!("{path}.arms"), e.arms.len(), MAX_ARMS)?;
        index_ids(&format!("{path}.arms"), e.arms.iter().map(|a| a.id.as_str()))?;
        let arms = e
            .arms
            .iter()
            .enumerate()
            .map(|(j, a)| self.arm(&format!("{path}.arms[{j}]"), a, governed, slots))
            .collect::<Result<Vec<_>>>()?;
        Ok(Experiment { id: e.id.clone(), salt: e.salt.clone(), arms })
    }

    fn arm(&self, ap: &str, a: &ArmSpec, governed: &[usize], slots: &[Slot]) -> Result<Arm> {
        if !(a.weight > 0.0 && a.weight <= MAX_ARM_WEIGHT) {
            return Err(invalid(format!("{ap}.weight"), format!("a weight is a number > 0 and <= {MAX_ARM_WEIGHT}")));
        }
        if a.holdout && (a.bandit.is_some() || a.offers.is_some()) {
            return Err(invalid(ap, "a holdout arm shows no offers, so it cannot also have offers or a bandit"));
        }
        if let Some(b) = &a.bandit {
            if !(PRIOR_RANGE.contains(&b.alpha) && PRIOR_RANGE.contains(&b.beta)) {
                return Err(invalid(
                    format!("{ap}.bandit"),
                    format!("alpha and beta are numbers in {}..={}", PRIOR_RANGE.start(), PRIOR_RANGE.end()),
                ));
            }
        }
        let offers = match &a.offers {
            None => None,
            Some(ids) => {
                let mut out = Vec::with_capacity(ids.len());
                for (k, id) in ids.iter().enumerate() {
                    let op = format!("{ap}.offers[{k}]");
                    let ix = self.offer(op.clone(), id)?;
                    if !governed.iter().all(|&s| slots[s].offers.contains(&ix)) {
                        return Err(invalid(
                            op,
                            format!("offer {id:?} is not among the offers of the experiment's slots"),
                        ));
                    }
                    out.push(ix);
                }
                Some(out)
            }
        };
        Ok(Arm { id: a.id.clone(), weight: a.weight, holdout: a.holdout, offers, bandit: a.bandit })
    }
}

fn check_weights(path: &str, ws: &[f32]) -> Result<()> {
    if ws.iter().all(|w| w.is_finite() && *w >= 0.0) {
        Ok(())
    } else {
        Err(invalid(path, "weights must be finite and >= 0"))
    }
}

fn validate_caps(path: &str, c: &Caps) -> Result<()> {
    for (name, v) in [
        ("perSession", c.per_session),
        ("perDay", c.per_day),
        ("perWeek", c.per_week),
        ("afterDismissals", c.after_dismissals),
    ] {
        if v == Some(0) {
            return Err(invalid(
                format!("{path}.{name}"),
                "a cap of 0 would never show the offer; remove the offer instead",
            ));
        }
    }
    if let Some(d) = c.after_purchase_days {
        if !(d.is_finite() && d > 0.0) {
            return Err(invalid(format!("{path}.afterPurchaseDays"), "must be a finite number of days > 0"));
        }
    }
    if let (Some(day), Some(week)) = (c.per_day, c.per_week) {
        if week < day {
            return Err(invalid(format!("{path}.perWeek"), format!("contradicts perDay: {week} a week < {day} a day")));
        }
    }
    Ok(())
}

fn compile_offer(r: &Resolver, path: &str, o: &OfferSpec) -> Result<Offer> {
    let w = &o.ranking;
    check_weights(&format!("{path}.ranking"), &[w.model, w.lift, w.margin, w.price_step, w.popularity, w.taken])?;
    validate_caps(&format!("{path}.caps"), &o.caps)?;
    let items = o
        .items
        .iter()
        .enumerate()
        .map(|(i, id)| r.item(&format!("{path}.items[{i}]"), id))
        .collect::<Result<Vec<_>>>()?;
    let needs = |ok: bool, msg: &str| if ok { Ok(()) } else { Err(invalid(format!("{path}.items"), msg.to_string())) };
    match o.kind {
        OfferKind::Item => needs(items.len() == 1, "an item offer names exactly one item")?,
        OfferKind::Bundle => needs(
            (2..=MAX_BUNDLE_ITEMS).contains(&items.len()),
            &format!("a bundle offer names 2..={MAX_BUNDLE_ITEMS} items"),
        )?,
        _ => needs(items.is_empty(), "the model chooses the items of this kind; leave items out")?,
    }
    let count = o.count.unwrap_or(match o.kind {
        OfferKind::CompleteTheSet => 3,
        _ => 1,
    });
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(invalid(format!("{path}.count"), format!("must be 1..={MAX_COUNT}")));
    }
    let price_band = match (o.kind, o.price_band) {
        (OfferKind::Upsell, band) => {
            let band = band.unwrap_or(DEFAULT_UPSELL_BAND);
            check_range(&format!("{path}.priceBand"), &band)?;
            if band.max.is_some_and(|m| m <= 1.0) {
                return Err(invalid(
                    format!("{path}.priceBand"),
                    "an upsell is pricier than the item in focus: max must be > 1",
                ));
            }
            band
        }
        (_, Some(_)) => return Err(invalid(format!("{path}.priceBand"), "only an upsell has a price band")),
        (_, None) => Range::default(),
    };
    if o.max_per_category == Some(0) {
        return Err(invalid(format!("{path}.maxPerCategory"), "must be >= 1"));
    }
    if let Some(d) = &o.discount {
        if !matches!(o.kind, OfferKind::Bundle | OfferKind::CompleteTheSet) {
            return Err(invalid(format!("{path}.discount"), "only bundles (bundle, completeTheSet) have a discount"));
        }
        if !(d.percent.is_finite() && d.percent > 0.0 && d.percent < 100.0) {
            return Err(invalid(format!("{path}.discount.percent"), "must be between 0 and 100 (exclusive)"));
        }
        if d.min_items < 2 {
            return Err(invalid(format!("{path}.discount.minItems"), "a bundle has at least 2 items"));
        }
    }
    if o.message.as_ref().is_some_and(|m| m.len() > 200) {
        return Err(invalid(format!("{path}.message"), "at most 200 bytes"));
    }
    let mut eligibility = Vec::with_capacity(o.eligibility.len());
    for (i, p) in o.eligibility.iter().enumerate() {
        let at = format!("{path}.eligibility[{i}]");
        let cond = r.cond(&at, p, 0)?;
        check_levels(&at, &cond, r.rule_levels)?;
        eligibility.push(Check { cond, label: describe(p) });
    }
    let conds: Vec<Cond> = eligibility.iter().map(|c| c.cond.clone()).collect();
    check_satisfiable(&format!("{path}.eligibility"), &conds)?;
    Ok(Offer {
        id: o.id.clone(),
        kind: o.kind,
        items,
        count,
        eligibility,
        priority: o.priority,
        weights: o.ranking,
        price_band,
        max_per_category: o.max_per_category,
        discount: o.discount,
        caps: o.caps,
        message: o.message.clone(),
    })
}

fn check_range(path: &str, r: &Range) -> Result<()> {
    for v in [r.min, r.max].into_iter().flatten() {
        if !(v.is_finite() && v >= 0.0) {
            return Err(invalid(path, "bounds must be finite numbers >= 0"));
        }
    }
    if let (Some(lo), Some(hi)) = (r.min, r.max) {
        if lo > hi {
            return Err(invalid(path, format!("contradictory: min {lo} > max {hi}")));
        }
    }
    Ok(())
}

struct Resolver<'a> {
    model: &'a Model,
    rule_index: &'a HashMap<&'a str, usize>,
    /// Each rule's levels (`levels`), once the rules are compiled.
    rule_levels: &'a [usize],
}

impl Resolver<'_> {
    fn item(&self, path: &str, id: &str) -> Result<u32> {
        self.model.catalog.row(id).ok_or_else(|| invalid(path, format!("item {id:?} is not in the bundle's catalog")))
    }

    fn categories(&self, path: &str, names: &[String]) -> Result<Vec<u32>> {
        check_limit(path, names.len(), MAX_LIST)?;
        if names.is_empty() {
            return Err(invalid(path, "an empty list can never match"));
        }
        let cats = &self.model.manifest.categories;
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                cats.iter()
                    .position(|c| c == n)
                    .map(|p| p as u32)
                    .ok_or_else(|| invalid(format!("{path}[{i}]"), format!("category {n:?} is not in the bundle")))
            })
            .collect()
    }

    fn cond(&self, path: &str, p: &Predicate, depth: usize) -> Result<Cond> {
        if depth > MAX_DEPTH {
            return Err(invalid(path, format!("predicates nest deeper than {MAX_DEPTH} levels")));
        }
        Ok(match p {
            Predicate::CartValue(r) => {
                check_range(&format!("{path}.cartValue"), r)?;
                Cond::CartValue(*r)
            }
            Predicate::CartQuantity(r) => {
                check_range(&format!("{path}.cartQuantity"), r)?;
                Cond::CartQuantity(*r)
            }
            Predicate::Price(r) => {
                check_range(&format!("{path}.price"), r)?;
                Cond::Price(*r)
            }
            Predicate::PriceBand(r) => {
                check_range(&format!("{path}.priceBand"), r)?;
                Cond::PriceBand(*r)
            }
            Predicate::CategoryInCart(c) => {
                Cond::CategoryInCart(self.categories(&format!("{path}.categoryInCart"), c)?)
            }
            Predicate::CategoryViewed(c) => {
                Cond::CategoryViewed(self.categories(&format!("{path}.categoryViewed"), c)?)
            }
            Predicate::Category(c) => Cond::Category(self.categories(&format!("{path}.category"), c)?),
            Predicate::ItemInCart(ids) => {
                let p = format!("{path}.itemInCart");
                check_limit(&p, ids.len(), MAX_LIST)?;
                if ids.is_empty() {
                    return Err(invalid(p, "an empty list can never match"));
                }
                Cond::ItemInCart(
                    ids.iter().enumerate().map(|(i, id)| self.item(&format!("{p}[{i}]"), id)).collect::<Result<_>>()?,
                )
            }
            Predicate::InStock(b) => Cond::InStock(*b),
            Predicate::NotOwned(b) => Cond::NotOwned(*b),
            Predicate::Segment(s) => {
                check_id(&format!("{path}.segment"), s)?;
                Cond::Segment(s.clone())
            }
            Predicate::All(ps) | Predicate::Any(ps) => {
                let name = if matches!(p, Predicate::All(_)) { "all" } else { "any" };
                let p2 = format!("{path}.{name}");
                check_limit(&p2, ps.len(), MAX_LIST)?;
                if ps.is_empty() {
                    return Err(invalid(p2, "an empty list is ambiguous; leave the predicate out"));
                }
                let conds = ps
                    .iter()
                    .enumerate()
                    .map(|(i, q)| self.cond(&format!("{p2}[{i}]"), q, depth + 1))
                    .collect::<Result<Vec<_>>>()?;
                if name == "all" {
                    check_satisfiable(&p2, &conds)?;
                    Cond::All(conds)
                } else {
                    Cond::Any(conds)
                }
            }
            Predicate::Not(q) => Cond::Not(Box::new(self.cond(&format!("{path}.not"), q, depth + 1)?)),
            Predicate::Rule(name) => Cond::Rule(
                *self
                    .rule_index
                    .get(name.as_str())
                    .ok_or_else(|| invalid(format!("{path}.rule"), format!("no rule is named {name:?}")))?,
            ),
        })
    }
}

/// Refuse a conjunction that can never hold: a condition beside its own
/// negation, disjoint ranges of one measure, or stock both required and
/// refused.
fn check_satisfiable(path: &str, conds: &[Cond]) -> Result<()> {
    for c in conds {
        if let Cond::Not(inner) = c {
            if conds.contains(inner) {
                return Err(invalid(path, "contradictory: a condition and its negation must both hold"));
            }
        }
    }
    type Pick = fn(&Cond) -> Option<Range>;
    let measures: [(&str, Pick); 4] = [
        ("cartValue", |c| if let Cond::CartValue(r) = c { Some(*r) } else { None }),
        ("cartQuantity", |c| if let Cond::CartQuantity(r) = c { Some(*r) } else { None }),
        ("price", |c| if let Cond::Price(r) = c { Some(*r) } else { None }),
        ("priceBand", |c| if let Cond::PriceBand(r) = c { Some(*r) } else { None }),
    ];
    for (name, pick) in measures {
        let lo = conds.iter().filter_map(pick).filter_map(|r| r.min).fold(f64::NEG_INFINITY, f64::max);
        let hi = conds.iter().filter_map(pick).filter_map(|r| r.max).fold(f64::INFINITY, f64::min);
        if lo > hi {
            return Err(invalid(path, format!("contradictory: {name} must be >= {lo} and <= {hi}")));
        }
    }
    let stock: Vec<bool> =
        conds.iter().filter_map(|c| if let Cond::InStock(b) = c { Some(*b) } else { None }).collect();
    if stock.contains(&true) && stock.contains(&false) {
        return Err(invalid(path, "contradictory: inStock both true and false"));
    }
    Ok(())
}

/// Levels of evaluation a condition takes, the rules it uses included: checking
/// an offer recurses once a level, so this is what bounds the stack.
const MAX_LEVELS: usize = MAX_DEPTH + 1;

fn levels(c: &Cond, rule_levels: &[usize]) -> usize {
    match c {
        Cond::Rule(i) => 1 + rule_levels.get(*i).copied().unwrap_or(0),
        Cond::All(cs) | Cond::Any(cs) => 1 + cs.iter().map(|c| levels(c, rule_levels)).max().unwrap_or(0),
        Cond::Not(c) => 1 + levels(c, rule_levels),
        _ => 1,
    }
}

fn check_levels(path: &str, c: &Cond, rule_levels: &[usize]) -> Result<()> {
    let n = levels(c, rule_levels);
    if n > MAX_LEVELS {
        return Err(invalid(path, format!("nests {n} levels deep counting the rules it uses (at most {MAX_LEVELS})")));
    }
    Ok(())
}

/// Named rules may use each other, never in a circle, and each within
/// `MAX_LEVELS` counting the rules it uses; returns each rule's levels.
fn rule_levels(names: &[&str], rules: &[Cond]) -> Result<Vec<usize>> {
    fn refs(c: &Cond, out: &mut Vec<usize>) {
        match c {
            Cond::Rule(i) => out.push(*i),
            Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| refs(c, out)),
            Cond::Not(c) => refs(c, out),
            _ => {}
        }
    }
    // None = not yet known; `path` holds the rules being resolved. A chain
    // of references longer than MAX_LEVELS is too deep whatever it holds,
    // so the search itself never goes deeper than that.
    fn visit(
        i: usize,
        rules: &[Cond],
        known: &mut [Option<usize>],
        path: &mut Vec<usize>,
        names: &[&str],
    ) -> Result<()> {
        if known[i].is_some() {
            return Ok(());
        }
        if let Some(start) = path.iter().position(|&p| p == i) {
            let cycle: Vec<&str> = path[start..].iter().chain([&i]).map(|&p| names[p]).collect();
            return Err(invalid(format!("rules.{}", names[i]), format!("rules form a cycle: {}", cycle.join(" → "))));
        }
        if path.len() >= MAX_LEVELS {
            return Err(invalid(
                format!("rules.{}", names[path[0]]),
                format!("uses rules more than {MAX_LEVELS} deep (at most {MAX_LEVELS} levels in all)"),
            ));
        }
        path.push(i);
        let mut next = Vec::new();
        refs(&rules[i], &mut next);
        for n in next {
            visit(n, rules, known, path, names)?;
        }
        path.pop();
        let resolved: Vec<usize> = known.iter().map(|k| k.unwrap_or(0)).collect();
        check_levels(&format!("rules.{}", names[i]), &rules[i], &resolved)?;
        known[i] = Some(levels(&rules[i], &resolved));
        Ok(())
    }
    let mut known = vec![None; rules.len()];
    for i in 0..rules.len() {
        visit(i, rules, &mut known, &mut Vec::new(), names)?;
    }
    Ok(known.into_iter().map(|k| k.unwrap_or(0)).collect())
}

/// How the trace names a predicate: short, readable by a merchandiser.
pub fn describe(p: &Predicate) -> String {
    fn range(name: &str, r: &Range) -> String {
        match (r.min, r.max) {
            (Some(lo), Some(hi)) => format!("{lo} <= {name} <= {hi}"),
            (Some(lo), None) => format!("{name} >= {lo}"),
            (None, Some(hi)) => format!("{name} <= {hi}"),
            (None, None) => format!("any {name}"),
        }
    }
    match p {
        Predicate::CartValue(r) => range("cart value", r),
        Predicate::CartQuantity(r) => range("cart quantity", r),
        Predicate::Price(r) => range("price", r),
        Predicate::PriceBand(r) => range("price / focus price", r),
        Predicate::CategoryInCart(c) => format!("cart holds a {}", c.join(" or ")),
        Predicate::CategoryViewed(c) => format!("viewed a {}", c.join(" or ")),
        Predicate::Category(c) => format!("item is a {}", c.join(" or ")),
        Predicate::ItemInCart(ids) => format!("cart holds item {}", ids.join(" or ")),
        Predicate::InStock(true) => "in stock".into(),
        Predicate::InStock(false) => "out of stock".into(),
        Predicate::NotOwned(true) => "not in cart or bought".into(),
        Predicate::NotOwned(false) => "in cart or bought".into(),
        Predicate::Segment(s) => format!("shopper in segment {s}"),
        Predicate::All(ps) => format!("all of ({})", ps.iter().map(describe).collect::<Vec<_>>().join("; ")),
        Predicate::Any(ps) => format!("any of ({})", ps.iter().map(describe).collect::<Vec<_>>().join("; ")),
        Predicate::Not(q) => format!("not ({})", describe(q)),
        Predicate::Rule(n) => format!("rule {n}"),
    }
}
