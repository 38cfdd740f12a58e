//! Check a parsed policy against the bundle's catalog and turn it into the
//! form decisions run on: ids resolved to rows and indexes, named rules
//! checked for cycles, contradictions refused. Every error names the field.

use super::policy::{
    ArmSpec, BanditSpec, Caps, ContextField, ContextMatch, ContextType, Discount, ExperimentSpec, OfferKind, OfferSpec,
    OfferWeights, Placement, PolicySpec, Predicate, Range, SlotSpec, ValueFormula, ValueSpec, ViewCount, WindowCaps,
};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::rank::BlendWeights;
use crate::score::check_weights;
use std::collections::{BTreeMap, HashMap};

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
const MAX_TEXT: usize = 200;
const MAX_URL: usize = 2048;
const MAX_PAYLOAD: usize = 4096;
const MAX_CONTEXT_FIELDS: usize = 32;
/// Largest amount a policy may name (a value, a threshold): far above any
/// price, small enough that sums of them stay exact in f64 cents.
const MAX_AMOUNT: f64 = 1e9;
/// `fillTheGap`: the model's best-ranked items it picks from by default.
const DEFAULT_GAP_POOL: usize = 20;
const MAX_GAP_POOL: usize = 100;
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
    PageViews(Range),
    SecondsInSession(Range),
    Visits(Range),
    /// Under `threshold` by an amount in the range.
    CartGap(f64, Range),
    /// Some row (of the list, or any) viewed at least n times.
    ItemViewed(u32, Option<Vec<u32>>),
    /// Some category (of the list, or any) viewed at least n times.
    CategoryViews(u32, Option<Vec<u32>>),
    Context(Vec<(String, ContextMatch)>),
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
    /// An action's content (`kind: "action"`).
    pub action: Option<ActionContent>,
    pub value: OfferValue,
    /// `fillTheGap`: the cart value to reach and how many of the model's
    /// best-ranked items to pick from.
    pub threshold: f64,
    pub pool: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActionContent {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

/// What a take of an offer is worth to the store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OfferValue {
    Fixed(f64),
    /// Of the items it adds: summed over a set, averaged over a list.
    Items(ValueFormula),
}

/// Item offers' value when the store sets none: the margin they earn.
pub const MARGIN_VALUE: ValueFormula = ValueFormula { fixed: 0.0, price: 0.0, margin: 1.0 };

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
    /// The context fields a request may carry.
    pub context: BTreeMap<String, ContextField>,
    pub currency: Option<String>,
}

impl Policy {
    /// The slot `id`, or an error listing the slots there are.
    pub fn slot_named(&self, id: &str) -> Result<&Slot> {
        self.slots.iter().find(|s| s.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.slots.iter().map(|s| s.id.as_str()).collect();
            Error::InvalidOptions(format!(
                "policy {:?} has no slot {:?} (slots: {})",
                self.id,
                crate::error::truncate(id, 64),
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
    if let Some(Err((field, message))) = spec.ranking.map(|r| r.check()) {
        return Err(invalid(format!("ranking.{field}"), message));
    }
    check_limit("offers", spec.offers.len(), MAX_OFFERS)?;
    check_limit("slots", spec.slots.len(), MAX_SLOTS)?;
    check_limit("rules", spec.rules.len(), MAX_RULES)?;
    check_limit("experiments", spec.experiments.len(), MAX_EXPERIMENTS)?;
    check_context(&spec.context)?;
    if let Some(c) = &spec.currency {
        if !(c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(invalid("currency", "an ISO 4217 code: three capital letters (GBP, EUR, USD)"));
        }
    }

    let rule_index: HashMap<&str, usize> = spec.rules.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let context = &spec.context;
    let rule_resolver = Resolver { model, rule_index: &rule_index, rule_levels: &[], context };
    let mut rules = Vec::with_capacity(spec.rules.len());
    for (name, p) in &spec.rules {
        check_id(&format!("rules.{name}"), name)?;
        rules.push(rule_resolver.cond(&format!("rules.{name}"), p, 0)?);
    }
    let names: Vec<&str> = spec.rules.keys().map(|k| k.as_str()).collect();
    let rule_levels = rule_levels(&names, &rules)?;
    let resolver = Resolver { model, rule_index: &rule_index, rule_levels: &rule_levels, context };

    let ids = Ids { offers: index_ids("offers", spec.offers.iter().map(|o| o.id.as_str()))?, context };
    let offers = spec
        .offers
        .iter()
        .enumerate()
        .map(|(i, o)| compile_offer(&resolver, &rules, &format!("offers[{i}]"), o))
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
    Ok(Policy {
        id: spec.id.clone(),
        ranking: spec.ranking,
        rules,
        offers,
        slots,
        experiments,
        context: spec.context.clone(),
        currency: spec.currency.clone(),
    })
}

/// Declared context fields: a few, named as ids, and a string's values.
fn check_context(fields: &BTreeMap<String, ContextField>) -> Result<()> {
    check_limit("context", fields.len(), MAX_CONTEXT_FIELDS)?;
    for (name, f) in fields {
        let path = format!("context.{name}");
        check_id(&path, name)?;
        match (&f.values, f.kind) {
            (Some(values), ContextType::String) => {
                check_limit(&format!("{path}.values"), values.len(), MAX_LIST)?;
                if values.is_empty() {
                    return Err(invalid(format!("{path}.values"), "an empty list would refuse every value"));
                }
                for (i, v) in values.iter().enumerate() {
                    check_id(&format!("{path}.values[{i}]"), v)?;
                }
            }
            (Some(_), _) => return Err(invalid(format!("{path}.values"), "only a string field lists its values")),
            (None, _) => {}
        }
    }
    Ok(())
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
    context: &'a BTreeMap<String, ContextField>,
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
        validate_caps(&format!("{path}.caps"), &s.caps, self.context)?;
        Ok(Slot {
            id: s.id.clone(),
            placement: s.placement,
            offers: ids,
            fallback,
            caps: s.caps.clone(),
            experiment: None,
        })
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

fn validate_caps(path: &str, c: &Caps, context: &BTreeMap<String, ContextField>) -> Result<()> {
    validate_windows(path, &WindowCaps { per_session: c.per_session, per_day: c.per_day, per_week: c.per_week })?;
    if c.after_dismissals == Some(0) {
        return Err(invalid(
            format!("{path}.afterDismissals"),
            "a cap of 0 would never show the offer; remove the offer instead",
        ));
    }
    if let Some(d) = c.after_purchase_days {
        if !(d.is_finite() && d > 0.0) {
            return Err(invalid(format!("{path}.afterPurchaseDays"), "must be a finite number of days > 0"));
        }
    }
    if c.channels.is_empty() {
        return Ok(());
    }
    let channel = context.get("channel").filter(|f| f.kind == ContextType::String).ok_or_else(|| {
        invalid(format!("{path}.channels"), "channel caps read context.channel: declare it as a string field")
    })?;
    for (name, w) in &c.channels {
        let at = format!("{path}.channels.{name}");
        if channel.values.as_ref().is_some_and(|vs| !vs.contains(name)) {
            return Err(invalid(at, format!("{name:?} is not among context.channel's values")));
        }
        if w.per_session.is_none() && w.per_day.is_none() && w.per_week.is_none() {
            return Err(invalid(at, "a channel cap needs a window: perSession, perDay or perWeek"));
        }
        validate_windows(&at, w)?;
    }
    Ok(())
}

/// No window capped at 0, and a week at least a day's worth.
fn validate_windows(path: &str, w: &WindowCaps) -> Result<()> {
    for (name, v) in [("perSession", w.per_session), ("perDay", w.per_day), ("perWeek", w.per_week)] {
        if v == Some(0) {
            return Err(invalid(
                format!("{path}.{name}"),
                "a cap of 0 would never show the offer; remove the offer instead",
            ));
        }
    }
    if let (Some(day), Some(week)) = (w.per_day, w.per_week) {
        if week < day {
            return Err(invalid(format!("{path}.perWeek"), format!("contradicts perDay: {week} a week < {day} a day")));
        }
    }
    Ok(())
}

fn compile_offer(r: &Resolver, rules: &[Cond], path: &str, o: &OfferSpec) -> Result<Offer> {
    check_weights(o.ranking.named()).map_err(|(field, message)| invalid(format!("{path}.ranking.{field}"), message))?;
    validate_caps(&format!("{path}.caps"), &o.caps, r.context)?;
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
        OfferKind::Action => needs(items.is_empty(), "an action offers no items; leave items out")?,
        _ => needs(items.is_empty(), "the model chooses the items of this kind; leave items out")?,
    }
    let count = o.count.unwrap_or(match o.kind {
        OfferKind::CompleteTheSet => 3,
        OfferKind::FillTheGap => 2,
        _ => 1,
    });
    let max_count = match o.kind {
        OfferKind::FillTheGap => 2,
        _ => MAX_COUNT,
    };
    if !(1..=max_count).contains(&count) || (o.kind == OfferKind::Action && o.count.is_some()) {
        let message = if o.kind == OfferKind::Action {
            "an action shows no items".into()
        } else {
            format!("must be 1..={max_count}")
        };
        return Err(invalid(format!("{path}.count"), message));
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
    let text = |name: &str, v: &Option<String>, max: usize| match v {
        Some(t) if t.is_empty() || t.len() > max => Err(invalid(format!("{path}.{name}"), format!("1..={max} bytes"))),
        _ => Ok(()),
    };
    text("message", &o.message, MAX_TEXT)?;
    text("title", &o.title, MAX_TEXT)?;
    text("url", &o.url, MAX_URL)?;
    let action = compile_action(path, o)?;
    let value = compile_value(path, o)?;
    let (threshold, pool) = compile_gap(path, o)?;
    let mut eligibility = Vec::with_capacity(o.eligibility.len());
    for (i, p) in o.eligibility.iter().enumerate() {
        let at = format!("{path}.eligibility[{i}]");
        let cond = r.cond(&at, p, 0)?;
        check_levels(&at, &cond, r.rule_levels)?;
        if o.kind == OfferKind::Action && reads_item(&cond, rules) {
            return Err(invalid(at, "an action has no item: price, category, stock and ownership do not apply"));
        }
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
        caps: o.caps.clone(),
        message: o.message.clone(),
        action,
        value,
        threshold,
        pool,
    })
}

/// An action's content: a title and a message it must have, a link and a
/// payload it may; other kinds have none of them.
fn compile_action(path: &str, o: &OfferSpec) -> Result<Option<ActionContent>> {
    if o.kind != OfferKind::Action {
        for (name, set) in [("title", o.title.is_some()), ("url", o.url.is_some()), ("payload", o.payload.is_some())] {
            if set {
                return Err(invalid(format!("{path}.{name}"), "only an action has a title, url or payload"));
            }
        }
        return Ok(None);
    }
    let title = o.title.clone().ok_or_else(|| invalid(format!("{path}.title"), "an action needs a title"))?;
    if o.message.is_none() {
        return Err(invalid(format!("{path}.message"), "an action needs a message"));
    }
    if let Some(p) = &o.payload {
        let size = serde_json::to_string(p).map_or(usize::MAX, |t| t.len());
        if size > MAX_PAYLOAD {
            return Err(invalid(
                format!("{path}.payload"),
                format!("{size} bytes, more than the {MAX_PAYLOAD} accepted"),
            ));
        }
    }
    for (name, set) in [("maxPerCategory", o.max_per_category.is_some()), ("pool", o.pool.is_some())] {
        if set {
            return Err(invalid(format!("{path}.{name}"), "an action shows no items"));
        }
    }
    Ok(Some(ActionContent { title, url: o.url.clone(), payload: o.payload.clone() }))
}

/// What a take is worth: required of an action (a fixed amount), a
/// formula of the items for the rest (price × margin unless set).
fn compile_value(path: &str, o: &OfferSpec) -> Result<OfferValue> {
    let at = format!("{path}.value");
    let amount = |name: &str, v: f64| {
        if v.is_finite() && (0.0..=MAX_AMOUNT).contains(&v) {
            Ok(())
        } else {
            Err(invalid(name, format!("must be a finite amount, 0..={MAX_AMOUNT}")))
        }
    };
    match (o.kind, o.value) {
        (OfferKind::Action, None) => Err(invalid(at, "an action needs a value: what one take is worth to the store")),
        (OfferKind::Action, Some(ValueSpec::Formula(_))) => {
            Err(invalid(at, "an action adds no items: its value is a number"))
        }
        (_, Some(ValueSpec::Fixed(v))) => amount(&at, v).map(|_| OfferValue::Fixed(v)),
        (_, Some(ValueSpec::Formula(f))) => {
            amount(&format!("{at}.fixed"), f.fixed)?;
            amount(&format!("{at}.price"), f.price)?;
            amount(&format!("{at}.margin"), f.margin)?;
            Ok(OfferValue::Items(f))
        }
        (_, None) => Ok(OfferValue::Items(MARGIN_VALUE)),
    }
}

/// `fillTheGap`'s threshold (required, > 0) and pool; other kinds have neither.
fn compile_gap(path: &str, o: &OfferSpec) -> Result<(f64, usize)> {
    if o.kind != OfferKind::FillTheGap {
        for (name, set) in [("threshold", o.threshold.is_some()), ("pool", o.pool.is_some())] {
            if set {
                return Err(invalid(format!("{path}.{name}"), "only a fillTheGap offer has a threshold and a pool"));
            }
        }
        return Ok((0.0, 0));
    }
    let threshold =
        o.threshold.ok_or_else(|| invalid(format!("{path}.threshold"), "fillTheGap needs the cart value to reach"))?;
    if !(threshold.is_finite() && threshold > 0.0 && threshold <= MAX_AMOUNT) {
        return Err(invalid(format!("{path}.threshold"), format!("must be a finite amount > 0 and <= {MAX_AMOUNT}")));
    }
    let pool = o.pool.unwrap_or(DEFAULT_GAP_POOL);
    if !(1..=MAX_GAP_POOL).contains(&pool) {
        return Err(invalid(format!("{path}.pool"), format!("must be 1..={MAX_GAP_POOL}")));
    }
    Ok((threshold, pool))
}

/// Whether a condition reads the offered item (directly or through a rule).
fn reads_item(c: &Cond, rules: &[Cond]) -> bool {
    match c {
        Cond::Category(_) | Cond::Price(_) | Cond::PriceBand(_) | Cond::InStock(_) | Cond::NotOwned(_) => true,
        Cond::All(cs) | Cond::Any(cs) => cs.iter().any(|c| reads_item(c, rules)),
        Cond::Not(c) => reads_item(c, rules),
        Cond::Rule(i) => rules.get(*i).is_some_and(|r| reads_item(r, rules)),
        _ => false,
    }
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
    context: &'a BTreeMap<String, ContextField>,
}

impl Resolver<'_> {
    fn item(&self, path: &str, id: &str) -> Result<u32> {
        self.model.catalog.row(id).ok_or_else(|| invalid(path, format!("item {id:?} is not in the bundle's catalog")))
    }

    fn items(&self, path: &str, ids: &[String]) -> Result<Vec<u32>> {
        check_limit(path, ids.len(), MAX_LIST)?;
        if ids.is_empty() {
            return Err(invalid(path, "an empty list can never match"));
        }
        ids.iter().enumerate().map(|(i, id)| self.item(&format!("{path}[{i}]"), id)).collect()
    }

    /// A view count needs a count of at least 1 and lists only its own kind.
    fn view_count(&self, path: &str, v: &ViewCount, other: &str) -> Result<()> {
        if v.at_least == 0 {
            return Err(invalid(format!("{path}.atLeast"), "must be >= 1 (0 always holds)"));
        }
        let lists_other = if other == "items" { v.items.is_some() } else { v.categories.is_some() };
        if lists_other {
            return Err(invalid(format!("{path}.{other}"), format!("this count does not read {other}")));
        }
        Ok(())
    }

    /// Context matches, each on a declared field and of its type.
    fn context_match(
        &self,
        path: &str,
        fields: &BTreeMap<String, ContextMatch>,
    ) -> Result<Vec<(String, ContextMatch)>> {
        if fields.is_empty() {
            return Err(invalid(path, "name at least one context field"));
        }
        let mut out = Vec::with_capacity(fields.len());
        for (name, m) in fields {
            let at = format!("{path}.{name}");
            let field = self.context.get(name).ok_or_else(|| {
                let declared: Vec<&str> = self.context.keys().map(String::as_str).collect();
                let declared = if declared.is_empty() { "none".to_string() } else { declared.join(", ") };
                invalid(&at, format!("the policy declares no context field {name:?} (declared: {declared})"))
            })?;
            let allowed = |v: &String| field.values.as_ref().is_none_or(|vs| vs.contains(v));
            match (field.kind, m) {
                (ContextType::Boolean, ContextMatch::Boolean(_)) => {}
                (ContextType::Number, ContextMatch::Number(r)) => check_range(&at, r)?,
                (ContextType::String, ContextMatch::Text(v)) if allowed(v) => {}
                (ContextType::String, ContextMatch::OneOf(vs)) if !vs.is_empty() && vs.iter().all(allowed) => {}
                (ContextType::String, ContextMatch::Text(_) | ContextMatch::OneOf(_)) => {
                    return Err(invalid(at, "a value the field does not declare (or an empty list)"));
                }
                (kind, _) => {
                    return Err(invalid(at, format!("context.{name} is declared a {}", type_name(kind))));
                }
            }
            out.push((name.clone(), m.clone()));
        }
        Ok(out)
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
        let range = |name: &str, r: &Range| check_range(&format!("{path}.{name}"), r).map(|_| *r);
        Ok(match p {
            Predicate::CartValue(r) => Cond::CartValue(range("cartValue", r)?),
            Predicate::CartQuantity(r) => Cond::CartQuantity(range("cartQuantity", r)?),
            Predicate::Price(r) => Cond::Price(range("price", r)?),
            Predicate::PriceBand(r) => Cond::PriceBand(range("priceBand", r)?),
            Predicate::CategoryInCart(c) => {
                Cond::CategoryInCart(self.categories(&format!("{path}.categoryInCart"), c)?)
            }
            Predicate::CategoryViewed(c) => {
                Cond::CategoryViewed(self.categories(&format!("{path}.categoryViewed"), c)?)
            }
            Predicate::Category(c) => Cond::Category(self.categories(&format!("{path}.category"), c)?),
            Predicate::ItemInCart(ids) => Cond::ItemInCart(self.items(&format!("{path}.itemInCart"), ids)?),
            Predicate::PageViews(r) => Cond::PageViews(range("pageViews", r)?),
            Predicate::SecondsInSession(r) => Cond::SecondsInSession(range("secondsInSession", r)?),
            Predicate::Visits(r) => Cond::Visits(range("visits", r)?),
            Predicate::CartGap(g) => {
                let p = format!("{path}.cartGap");
                if !(g.threshold.is_finite() && g.threshold > 0.0 && g.threshold <= MAX_AMOUNT) {
                    return Err(invalid(
                        format!("{p}.threshold"),
                        format!("must be a finite amount > 0 and <= {MAX_AMOUNT}"),
                    ));
                }
                check_range(&p, &g.range())?;
                Cond::CartGap(g.threshold, g.range())
            }
            Predicate::ItemViewed(v) => {
                let p = format!("{path}.itemViewed");
                self.view_count(&p, v, "categories")?;
                let rows = match &v.items {
                    Some(ids) => Some(self.items(&format!("{p}.items"), ids)?),
                    None => None,
                };
                Cond::ItemViewed(v.at_least, rows)
            }
            Predicate::CategoryViews(v) => {
                let p = format!("{path}.categoryViews");
                self.view_count(&p, v, "items")?;
                let cats = match &v.categories {
                    Some(c) => Some(self.categories(&format!("{p}.categories"), c)?),
                    None => None,
                };
                Cond::CategoryViews(v.at_least, cats)
            }
            Predicate::Context(fields) => Cond::Context(self.context_match(&format!("{path}.context"), fields)?),
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

pub fn type_name(kind: ContextType) -> &'static str {
    match kind {
        ContextType::String => "string",
        ContextType::Boolean => "boolean",
        ContextType::Number => "number",
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
    let measures: [(&str, Pick); 7] = [
        ("cartValue", |c| if let Cond::CartValue(r) = c { Some(*r) } else { None }),
        ("pageViews", |c| if let Cond::PageViews(r) = c { Some(*r) } else { None }),
        ("secondsInSession", |c| if let Cond::SecondsInSession(r) = c { Some(*r) } else { None }),
        ("visits", |c| if let Cond::Visits(r) = c { Some(*r) } else { None }),
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
        Predicate::PageViews(r) => range("page views", r),
        Predicate::SecondsInSession(r) => range("seconds in session", r),
        Predicate::Visits(r) => range("visits", r),
        Predicate::CartGap(g) => range(&format!("gap to {}", g.threshold), &g.range()),
        Predicate::ItemViewed(v) => match &v.items {
            Some(ids) => format!("viewed item {} at least {} times", ids.join(" or "), v.at_least),
            None => format!("viewed an item at least {} times", v.at_least),
        },
        Predicate::CategoryViews(v) => match &v.categories {
            Some(c) => format!("viewed {} at least {} times", c.join(" or "), v.at_least),
            None => format!("viewed one category at least {} times", v.at_least),
        },
        Predicate::Context(fields) => fields
            .iter()
            .map(|(k, m)| match m {
                ContextMatch::Boolean(b) => format!("{k} is {b}"),
                ContextMatch::Text(t) => format!("{k} is {t}"),
                ContextMatch::OneOf(ts) => format!("{k} is {}", ts.join(" or ")),
                ContextMatch::Number(r) => range(k, r),
            })
            .collect::<Vec<_>>()
            .join(" and "),
        Predicate::All(ps) => format!("all of ({})", ps.iter().map(describe).collect::<Vec<_>>().join("; ")),
        Predicate::Any(ps) => format!("any of ({})", ps.iter().map(describe).collect::<Vec<_>>().join("; ")),
        Predicate::Not(q) => format!("not ({})", describe(q)),
        Predicate::Rule(n) => format!("rule {n}"),
    }
}
