//! What an offer is expected to bring the store: P(take) × value. P(take)
//! is the offer's take rate in the released aggregates (the bandits'
//! priors), shrunk toward its slot's pooled rate so an offer with few shows
//! is not ranked on noise; value is an action's own, or what an item offer's
//! items earn (price × margin unless the store sets a formula).

use super::compiled::{Offer, OfferValue, Policy, Slot};
use super::spec::ValueFormula;
use crate::model::Model;
use crate::priors::Priors;

/// Pseudo-shows of the slot's rate an offer's own rate is blended with: an
/// offer needs about this many released shows before its own rate counts
/// as much as the slot's.
pub const PRIOR_SHOWS: f64 = 100.0;
/// A slot's take rate before any aggregates are loaded.
pub const DEFAULT_TAKE_RATE: f64 = 0.05;

/// Take rates of one slot's offers.
pub struct TakeRates<'a> {
    priors: &'a Priors,
    slot_mean: f64,
}

impl<'a> TakeRates<'a> {
    /// The slot's pooled rate over its offers and fallback.
    pub fn new(policy: &Policy, slot: &Slot, priors: &'a Priors) -> TakeRates<'a> {
        let (mut shown, mut taken) = (0.0, 0.0);
        for ix in slot.offers.iter().chain(slot.fallback.as_ref()) {
            if let Some(t) = priors.get(&policy.offers[*ix].id) {
                shown += t.shown as f64;
                taken += t.taken as f64;
            }
        }
        let slot_mean = if shown > 0.0 { taken / shown } else { DEFAULT_TAKE_RATE };
        TakeRates { priors, slot_mean }
    }

    /// P(take) of `offer`: (takes + PRIOR_SHOWS × slot rate) / (shows + PRIOR_SHOWS).
    pub fn of(&self, offer: &str) -> f64 {
        let t = self.priors.get(offer).copied().unwrap_or_default();
        (t.taken as f64 + PRIOR_SHOWS * self.slot_mean) / (t.shown as f64 + PRIOR_SHOWS)
    }
}

/// What one take of `offer` is worth when it adds `rows` at
/// `discount_percent` off: its fixed value, or its formula summed over a
/// set (bundle, completeTheSet, fillTheGap) and averaged over a list (a
/// shopper takes one item of a cross-sell or upsell).
pub fn offer_value(offer: &Offer, model: &Model, rows: &[u32], discount_percent: f64) -> f64 {
    let f: ValueFormula = match offer.value {
        OfferValue::Fixed(v) => return v,
        OfferValue::Items(f) => f,
    };
    let attrs = &model.attributes;
    let off = discount_percent / 100.0;
    let each = |r: &u32| {
        // The catalog's f32s as the store wrote them: whole cents, and a
        // margin to six places (2.95 × 0.3 is 0.885, not 0.88500005).
        let price = super::cart::cents(attrs.price[*r as usize]) as f64 / 100.0;
        let margin = (attrs.margin[*r as usize] as f64 * 1e6).round() / 1e6;
        // The discount comes out of the margin.
        f.price * price * (1.0 - off) + f.margin * price * (margin - off).max(0.0)
    };
    let total: f64 = rows.iter().map(each).sum();
    let items = if offer.kind.is_list() { total / rows.len().max(1) as f64 } else { total };
    f.fixed + items
}
