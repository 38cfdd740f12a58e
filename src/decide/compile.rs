//! Check a parsed policy against the bundle's catalog and turn it into the
//! form decisions run on: ids resolved to rows and indexes, named rules
//! checked for cycles, contradictions refused. Every error names the field.
//! The result's types are in `compiled.rs`, its predicates' in `predicate.rs`.

use super::compiled::{ActionContent, Arm, Experiment, Offer, OfferValue, Policy, Slot, MARGIN_VALUE};
use super::predicate::{check_range, Cond, Resolver};
use super::spec::{ArmSpec, Caps, ExperimentSpec, OfferKind, OfferSpec, PolicySpec, SlotSpec, ValueSpec, WindowCaps};
use super::terms::{check_id, check_limit, invalid, ContextField, ContextType, Range, MAX_AMOUNT, MAX_LIST};
use crate::error::Result;
use crate::model::Model;
use crate::score::check_weights;
use std::collections::{BTreeMap, HashMap};

const MAX_OFFERS: usize = 1000;
const MAX_SLOTS: usize = 100;
const MAX_RULES: usize = 1000;
const MAX_EXPERIMENTS: usize = 50;
const MAX_ARMS: usize = 20;
const MAX_BUNDLE_ITEMS: usize = 8;
const MAX_COUNT: usize = 10;
/// Arm weights: the sum of 20 stays finite and exact enough to split shoppers.
const MAX_ARM_WEIGHT: f64 = 1e6;
/// A bandit's Beta prior: below 1e-3 both Gamma draws underflow to 0 (0/0 is
/// no take rate at all); above 1e6 the prior would drown any evidence.
const PRIOR_RANGE: std::ops::RangeInclusive<f64> = 1e-3..=1e6;
const MAX_TEXT: usize = 200;
const MAX_URL: usize = 2048;
const MAX_PAYLOAD: usize = 4096;
const MAX_CONTEXT_FIELDS: usize = 32;
/// `fillTheGap`: the model's best-ranked items it picks from by default.
const DEFAULT_GAP_POOL: usize = 20;
const MAX_GAP_POOL: usize = 100;
/// Upsell price band when the offer sets none: a fifth to twice the price
/// (a step a shopper sees as a better version, not a rounding difference).
const DEFAULT_UPSELL_BAND: Range = Range { min: Some(1.2), max: Some(2.0) };

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

    let context = &spec.context;
    let (resolver, rules) = Resolver::rules(model, &spec.rules, context)?;

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
    let eligibility =
        r.eligibility(&format!("{path}.eligibility"), &o.eligibility, rules, o.kind == OfferKind::Action)?;
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
