//! A policy ready to decide with: the store's policy with its ids resolved
//! to catalog rows and indexes (made by `compile.rs`).

use super::predicate::{Check, Cond};
use super::spec::{BanditSpec, Caps, Discount, OfferKind, OfferWeights, Placement, ValueFormula};
use super::terms::{ContextField, Range};
use crate::error::{Error, Result};
use crate::rank::BlendWeights;
use std::collections::BTreeMap;

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
