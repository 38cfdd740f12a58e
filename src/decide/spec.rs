//! The offer policy as a store writes it (JSON, version 1, documented by
//! `schema/policy.schema.json`): offers, slots, named rules, experiments.
//! Parsing only: its predicates are in `predicate.rs`, the terms both use
//! (ranges, context fields, limits) in `terms.rs`; `compile.rs` checks the
//! whole against the catalog.

use super::predicate::Predicate;
use super::terms::{numbers, ContextField, Range};
use crate::error::{Error, Result};
use crate::rank::BlendWeights;
use crate::score::Weights;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The only policy format version this engine reads.
pub const POLICY_VERSION: u32 = 1;
/// Largest policy text accepted.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySpec {
    pub version: u32,
    /// Names the policy in requests and traces.
    #[serde(default = "default_policy_id")]
    pub id: String,
    /// Overrides the bundle's blend of the `recommend()` lists.
    #[serde(default)]
    pub ranking: Option<BlendWeights>,
    /// Named predicates, usable as `{"rule": "name"}` anywhere.
    #[serde(default)]
    pub rules: BTreeMap<String, Predicate>,
    #[serde(default)]
    pub offers: Vec<OfferSpec>,
    #[serde(default)]
    pub slots: Vec<SlotSpec>,
    #[serde(default)]
    pub experiments: Vec<ExperimentSpec>,
    /// What the host may say about the request (`channel`, `device`,
    /// `locale`, `loggedIn`…), by field name: a request's context is
    /// checked against it, and `context` predicates read it.
    #[serde(default)]
    pub context: BTreeMap<String, ContextField>,
    /// ISO 4217 code of the catalog's prices, for computed messages
    /// ("Add £3.20 for free delivery").
    pub currency: Option<String>,
}

fn default_policy_id() -> String {
    "default".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OfferKind {
    /// One fixed item.
    Item,
    /// A fixed set of items sold together.
    Bundle,
    /// Complements of what the shopper has, chosen by the model.
    CrossSell,
    /// A better version of the item in focus: same category, pricier.
    Upsell,
    /// A set grown from the item in focus by co-purchase and the model.
    CompleteTheSet,
    /// Not an item: something the store asks of the shopper (join the
    /// club, see the size guide, talk to an expert), worth `value` a take.
    Action,
    /// One item or a pair, among those the model ranks well, that brings
    /// the cart over `threshold` with the least overshoot.
    FillTheGap,
}

impl OfferKind {
    /// Whether the offer shows a list to pick one from (else a set taken whole, or an action).
    pub fn is_list(self) -> bool {
        matches!(self, OfferKind::CrossSell | OfferKind::Upsell)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferSpec {
    pub id: String,
    pub kind: OfferKind,
    /// The item (`item`) or items (`bundle`) offered.
    #[serde(default)]
    pub items: Vec<String>,
    /// Items shown by a model-chosen offer (cross-sell, upsell), or most
    /// items to add by `completeTheSet`.
    pub count: Option<usize>,
    /// All must pass, for the shopper and for every item offered.
    #[serde(default)]
    pub eligibility: Vec<Predicate>,
    /// Higher wins arbitration before the score is compared.
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub ranking: OfferWeights,
    /// Upsell: price of the upgrade over the focus item's price.
    pub price_band: Option<Range>,
    /// Diversity: most items of one category in the items shown.
    pub max_per_category: Option<usize>,
    pub discount: Option<Discount>,
    #[serde(default)]
    pub caps: Caps,
    /// What the storefront shows as the offer's headline. In a
    /// `fillTheGap` offer `{gap}` stands for the amount still missing.
    pub message: Option<String>,
    /// An action's headline (its button or link text).
    pub title: Option<String>,
    /// Where an action leads.
    pub url: Option<String>,
    /// Anything the page needs to render an action, passed through as is.
    pub payload: Option<serde_json::Value>,
    /// What one take is worth to the store: an action's (required), or an
    /// item offer's own formula (else price × margin of what it adds).
    pub value: Option<ValueSpec>,
    /// `fillTheGap`: the cart value to reach (free delivery, a gift…).
    pub threshold: Option<f64>,
    /// `fillTheGap`: how many of the model's best-ranked items it may pick from.
    pub pool: Option<usize>,
}

/// What a take of an offer is worth: a fixed amount, or a formula of the
/// items it adds (`fixed` + `price` × price + `margin` × price × margin,
/// summed over a set, averaged over a list).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub enum ValueSpec {
    Fixed(f64),
    Formula(ValueFormula),
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ValueFormula {
    pub fixed: f64,
    pub price: f64,
    pub margin: f64,
}

/// Weights of an offer's ranking formula; every part is in 0..=1, every
/// weight in `0..=score::MAX_WEIGHT` (checked by `compile`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferWeights {
    pub model: f32,
    pub lift: f32,
    pub margin: f32,
    pub price_step: f32,
    pub popularity: f32,
    /// The offer's take rate in the released aggregates (`loadAggregates`).
    pub taken: f32,
}

impl Default for OfferWeights {
    fn default() -> Self {
        OfferWeights { model: 1.0, lift: 0.5, margin: 0.2, price_step: 0.0, popularity: 0.05, taken: 0.3 }
    }
}

impl OfferWeights {
    /// Each weight with its name in the policy (camelCase).
    pub fn named(&self) -> [(&'static str, f32); 6] {
        [
            ("model", self.model),
            ("lift", self.lift),
            ("margin", self.margin),
            ("priceStep", self.price_step),
            ("popularity", self.popularity),
            ("taken", self.taken),
        ]
    }

    pub fn weights(&self) -> Weights {
        Weights {
            model: self.model,
            lift: self.lift,
            margin: self.margin,
            price_step: self.price_step,
            popularity: self.popularity,
            taken: self.taken,
            ..Default::default()
        }
    }
}

/// A bundle discount: `percent` off the items added when at least
/// `minItems` items (the one in focus included) are bought together.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Discount {
    pub percent: f32,
    #[serde(default = "two")]
    pub min_items: usize,
}

fn two() -> usize {
    2
}

/// Impression caps and suppression, per shopper, kept on the device (or
/// in the state a server-side caller keeps). Day and week are rolling
/// windows (24 h, 7 × 24 h) of the host's clock. These count impressions
/// in every channel; `channels` caps count one channel's only.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Caps {
    pub per_session: Option<u32>,
    pub per_day: Option<u32>,
    pub per_week: Option<u32>,
    /// Suppress for this many days after the shopper bought from it.
    pub after_purchase_days: Option<f64>,
    /// Suppress once dismissed this many times (within 30 days).
    pub after_dismissals: Option<u32>,
    /// Show the offer again in the session in which the shopper said "no
    /// thanks" to it (by default it is retired for the session).
    #[serde(default)]
    pub keep_after_dismissal: bool,
    /// Caps on the impressions of one channel (the request's
    /// `context.channel`), by channel: `{"email": {"perWeek": 1}}`.
    #[serde(default)]
    pub channels: BTreeMap<String, WindowCaps>,
}

/// Impression caps by window; a channel cap needs at least one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WindowCaps {
    pub per_session: Option<u32>,
    pub per_day: Option<u32>,
    pub per_week: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Placement {
    Home,
    ProductPage,
    Cart,
    Checkout,
    PostPurchase,
    Search,
    /// A message sent to the shopper (email, push).
    Message,
    /// A support or sales conversation (an agent's console, a chat).
    Service,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlotSpec {
    pub id: String,
    pub placement: Placement,
    /// Candidate offers, by id.
    #[serde(default)]
    pub offers: Vec<String>,
    /// Shown when no candidate offer is eligible (still subject to its own
    /// eligibility and caps).
    pub fallback: Option<String>,
    #[serde(default)]
    pub caps: Caps,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExperimentSpec {
    pub id: String,
    /// Mixed into the assignment hash: a new salt re-draws every shopper.
    pub salt: String,
    /// Slots whose decisions this experiment governs.
    pub slots: Vec<String>,
    pub arms: Vec<ArmSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArmSpec {
    pub id: String,
    /// Relative share of shoppers.
    pub weight: f64,
    /// Shoppers in a holdout arm get no offer (the baseline for lift).
    #[serde(default)]
    pub holdout: bool,
    /// Restrict the slot's offers to these in this arm.
    pub offers: Option<Vec<String>>,
    /// Choose among eligible offers by Thompson sampling.
    pub bandit: Option<BanditSpec>,
}

/// Beta(alpha, beta) prior of every offer's take rate, before the
/// aggregates loaded with `loadPriors` and the device's own outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BanditSpec {
    #[serde(default = "one")]
    pub alpha: f64,
    #[serde(default = "one")]
    pub beta: f64,
}

fn one() -> f64 {
    1.0
}

// Read from a JSON value by hand: serde's untagged enums buffer and retry
// each variant, ~10 KB of module for two small choices.
impl TryFrom<serde_json::Value> for ValueSpec {
    type Error = String;

    fn try_from(v: serde_json::Value) -> std::result::Result<Self, String> {
        if let Some(x) = v.as_f64() {
            return Ok(ValueSpec::Fixed(x));
        }
        let [fixed, price, margin] = numbers(&v, ["fixed", "price", "margin"])
            .ok_or("a value is a number, or { fixed, price, margin } of numbers")?;
        let or0 = |x: Option<f64>| x.unwrap_or(0.0);
        Ok(ValueSpec::Formula(ValueFormula { fixed: or0(fixed), price: or0(price), margin: or0(margin) }))
    }
}

/// Parse policy text; a problem names the field (`offers[2].caps.perDay`).
pub fn parse(json: &str) -> Result<PolicySpec> {
    if json.len() > MAX_POLICY_BYTES {
        return Err(Error::InvalidPolicy {
            path: String::new(),
            message: format!("policy is {} bytes, more than the {MAX_POLICY_BYTES} accepted", json.len()),
        });
    }
    let spec: PolicySpec = serde_json::from_str(json)
        .map_err(|e| Error::InvalidPolicy { path: crate::json_path::error_path(json, &e), message: e.to_string() })?;
    if spec.version != POLICY_VERSION {
        return Err(Error::InvalidPolicy {
            path: "version".into(),
            message: format!("version {} is not supported (this engine reads version {POLICY_VERSION})", spec.version),
        });
    }
    Ok(spec)
}
