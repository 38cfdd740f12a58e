//! Pricing a cart under the promises the offers made: a bundle's discount
//! ("10% off when you take them together"), once shown to the shopper, is
//! honoured when the cart holds every item it was shown with. The offer and
//! the cart compute the discount with the same function, in whole cents, so
//! the price the offer displayed is the price the cart charges.

use super::compiled::Policy;
use super::state::{Outcome, ShopperState, DAY_MS};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::session::Session;
use serde::{Deserialize, Serialize};

/// How long a shown discount holds.
pub const PROMISE_MS: f64 = DAY_MS;
/// Most lines a cart to price may have, and units a line.
pub const MAX_LINES: usize = 200;
pub const MAX_QUANTITY: u32 = 9999;

/// What `priceCart` is asked (JSON, camelCase): the lines to price, or the
/// session's cart when absent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CartRequest {
    pub lines: Option<Vec<LineIn>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineIn {
    pub item: String,
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

/// A priced cart. Amounts are in the catalog's currency, rounded to the cent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartPrice {
    pub lines: Vec<PricedLine>,
    pub subtotal: f64,
    pub discounts: Vec<AppliedDiscount>,
    pub total: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedLine {
    pub item: String,
    pub title: String,
    pub quantity: u32,
    pub unit_price: f64,
    pub total: f64,
}

/// A promise kept: `percent` off the items `offer` added, `sets` times.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedDiscount {
    pub offer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Every item of the set (the one it was built around first).
    pub items: Vec<String>,
    /// The items the discount is taken off.
    pub discounted: Vec<String>,
    pub percent: f32,
    pub sets: u32,
    pub amount: f64,
}

/// A price in whole cents.
pub fn cents(price: f32) -> i64 {
    (price as f64 * 100.0).round() as i64
}

/// The discount, in cents, of `percent` off `cents` (half a cent up).
pub fn discount_cents(cents: i64, percent: f32) -> i64 {
    let basis_points = (percent as f64 * 100.0).round() as i64;
    (cents * basis_points + 5_000) / 10_000
}

fn money(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// A promise found in the log: the set shown and the rows it adds.
struct Promise<'a> {
    offer: &'a super::compiled::Offer,
    members: Vec<u32>,
    adds: Vec<u32>,
}

/// Price `lines` (rows and units) for the shopper whose log is in `state`,
/// under `policy`'s discounts, at host time `now`.
pub fn price_cart(model: &Model, policy: &Policy, state: &ShopperState, lines: &[(u32, u32)], now: f64) -> CartPrice {
    let price = |r: u32| cents(model.attributes.price[r as usize]);
    let mut priced = Vec::with_capacity(lines.len());
    let mut subtotal = 0i64;
    for &(r, quantity) in lines {
        let total = price(r) * quantity as i64;
        subtotal += total;
        priced.push(PricedLine {
            item: model.item_id(r).to_string(),
            title: model.title(r).to_string(),
            quantity,
            unit_price: money(price(r)),
            total: money(total),
        });
    }
    let mut left: Vec<(u32, u32)> = lines.to_vec();
    let mut promises = promises(model, policy, state, now);
    // The largest saving first; each unit is in at most one set.
    let saving = |p: &Promise| {
        let d = p.offer.discount.map_or(0.0, |d| d.percent);
        discount_cents(p.adds.iter().map(|&r| price(r)).sum(), d)
    };
    promises.sort_by_cached_key(|p| std::cmp::Reverse(saving(p)));
    let mut discounts = Vec::new();
    let mut off = 0i64;
    for p in promises {
        let units = |r: u32| left.iter().find(|(row, _)| *row == r).map_or(0, |(_, q)| *q);
        let sets = p.members.iter().map(|&r| units(r)).min().unwrap_or(0);
        if sets == 0 {
            continue;
        }
        for (row, q) in left.iter_mut() {
            if p.members.contains(row) {
                *q -= sets;
            }
        }
        let amount = saving(&p) * sets as i64;
        off += amount;
        discounts.push(AppliedDiscount {
            offer: p.offer.id.clone(),
            message: p.offer.message.clone(),
            items: p.members.iter().map(|&r| model.item_id(r).to_string()).collect(),
            discounted: p.adds.iter().map(|&r| model.item_id(r).to_string()).collect(),
            percent: p.offer.discount.map_or(0.0, |d| d.percent),
            sets,
            amount: money(amount),
        });
    }
    CartPrice { lines: priced, subtotal: money(subtotal), discounts, total: money(subtotal - off) }
}

/// The discounts shown to the shopper within `PROMISE_MS`, newest first,
/// once each, whose offer the policy still has with a discount.
fn promises<'a>(model: &Model, policy: &'a Policy, state: &ShopperState, now: f64) -> Vec<Promise<'a>> {
    let mut out: Vec<Promise> = Vec::new();
    for e in state.log.iter().rev() {
        if e.outcome != Outcome::Impression || !(0.0..=PROMISE_MS).contains(&(now - e.t)) {
            continue;
        }
        let Some(offer) = policy.offers.iter().find(|o| o.id == e.offer) else { continue };
        let Some(discount) = offer.discount else { continue };
        let rows =
            |ids: &mut dyn Iterator<Item = &String>| ids.map(|id| model.catalog.row(id)).collect::<Option<Vec<u32>>>();
        let (Some(adds), Some(focus)) = (rows(&mut e.items.iter()), rows(&mut e.f.iter())) else { continue };
        let members: Vec<u32> = focus.into_iter().chain(adds.iter().copied()).collect();
        if members.len() < discount.min_items || adds.is_empty() {
            continue;
        }
        if !out.iter().any(|p| p.offer.id == offer.id && p.members == members) {
            out.push(Promise { offer, members, adds });
        }
    }
    out
}

/// The rows and units to price: the request's lines (unknown ids are
/// UNKNOWN_ITEM), else the session's cart.
pub fn cart_lines(model: &Model, session: &Session, requested: Option<&[LineIn]>) -> Result<Vec<(u32, u32)>> {
    let Some(lines) = requested else {
        return Ok(session.cart().iter().copied().zip(session.quantities().iter().copied()).collect());
    };
    if lines.len() > MAX_LINES {
        return Err(Error::InvalidOptions(format!("at most {MAX_LINES} cart lines")));
    }
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(lines.len());
    let mut unknown = Vec::new();
    for l in lines {
        if !(1..=MAX_QUANTITY).contains(&l.quantity) {
            return Err(Error::InvalidOptions(format!("a line's quantity is 1..={MAX_QUANTITY}")));
        }
        match model.catalog.row(&l.item) {
            Some(r) => match out.iter_mut().find(|(row, _)| *row == r) {
                Some((_, q)) => *q = (*q + l.quantity).min(MAX_QUANTITY),
                None => out.push((r, l.quantity)),
            },
            None => unknown.push(crate::error::truncate(&l.item, 64).to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::UnknownItem(unknown));
    }
    Ok(out)
}
