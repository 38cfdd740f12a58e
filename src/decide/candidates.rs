//! What each kind of offer could show, and the parts of its score: the
//! session model, co-purchase lift, margin, price step and popularity,
//! each in 0..=1 so a policy's weights mean the same across stores.

use super::eligibility::Shopper;
use super::policy::OfferWeights;
use crate::error::Result;
use crate::model::Model;
use crate::rank::relative_popularity;
use crate::retrieve::cosine;
use crate::sets::{grow_sets, lift, lift_strength, pairwise_mean};
use serde::Serialize;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

/// Items the session model proposes for cross-sell before co-purchase
/// neighbours join them; also the pool its probabilities are taken over.
const MODEL_POOL: usize = 50;
/// Co-purchase neighbours read per anchor.
const NEIGHBOURS_PER_ANCHOR: usize = 32;
/// Cart items used as anchors (the most recent).
const CART_ANCHORS: usize = 5;
/// Sets grown for "complete the set", and the most items one may add.
const SETS: usize = 6;
pub const MAX_SET_ADDS: usize = 10;

/// The parts of an offer's score, each 0..=1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parts {
    /// Session model: the probability of the item next (cross-sell, sets)
    /// or its embedding cosine with the focus item (upsell: a substitute).
    pub model: f32,
    /// Co-purchase lift with the focus or cart, as 1 − 1/lift.
    pub lift: f32,
    pub margin: f32,
    /// Upsell: price over the focus item's price, minus 1, capped at 1.
    pub price_step: f32,
    pub popularity: f32,
    /// The offer's take rate in the store's released aggregates, relative
    /// to the best offer's (a popularity boost learnt from every shopper's
    /// private reports); 0 until aggregates are loaded.
    pub taken: f32,
}

impl Parts {
    pub fn score(&self, w: &OfferWeights) -> f32 {
        w.model * self.model
            + w.lift * self.lift
            + w.margin * self.margin
            + w.price_step * self.price_step
            + w.popularity * self.popularity
            + w.taken * self.taken
    }

    pub fn mean(parts: &[Parts]) -> Parts {
        let n = parts.len().max(1) as f32;
        let sum = |f: fn(&Parts) -> f32| parts.iter().map(f).sum::<f32>() / n;
        Parts {
            model: sum(|p| p.model),
            lift: sum(|p| p.lift),
            margin: sum(|p| p.margin),
            price_step: sum(|p| p.price_step),
            popularity: sum(|p| p.popularity),
            taken: sum(|p| p.taken),
        }
    }
}

/// Candidates and their parts for one decision, each list built once and
/// shared by every offer of its kind.
pub struct Candidates<'a> {
    model: &'a Model,
    shopper: &'a Shopper<'a>,
    query: Option<Vec<f32>>,
    /// Softmax over the model pool: max logit and normaliser.
    best: f32,
    norm: f32,
    anchors: Vec<u32>,
    /// The model's most likely next items (the softmax pool).
    model_pool: Vec<u32>,
    cross_sell: OnceCell<Vec<(u32, Parts)>>,
    upsell: OnceCell<Vec<(u32, Parts)>>,
    sets: OnceCell<Vec<Vec<u32>>>,
    /// Parts of items and sets already scored in this decision: many
    /// offers of a large policy look at the same ones.
    item_cache: RefCell<HashMap<u32, Parts>>,
    set_cache: RefCell<HashMap<Vec<u32>, Parts>>,
}

impl<'a> Candidates<'a> {
    pub fn new(model: &'a Model, shopper: &'a Shopper<'a>) -> Result<Candidates<'a>> {
        let seq = shopper.session.encoder_rows(shopper.focus, model.encoder.max_seq_len());
        let query = if seq.is_empty() { None } else { Some(model.encode_rows(&seq)?) };
        let (mut best, mut norm, mut model_pool) = (0.0, 1.0, Vec::new());
        if let Some(q) = &query {
            let pool = model.table.top_k(q, MODEL_POOL.min(model.table.rows()), |_| false);
            best = pool.first().map_or(0.0, |s| s.score);
            norm = pool.iter().map(|s| (s.score - best).exp()).sum::<f32>().max(1.0);
            model_pool = pool.iter().map(|s| s.row).collect();
        }
        let cart = shopper.session.cart();
        let anchors = shopper.focus.into_iter().chain(cart.iter().rev().take(CART_ANCHORS).copied()).collect();
        Ok(Candidates {
            model,
            shopper,
            query,
            best,
            norm,
            anchors,
            model_pool,
            cross_sell: Default::default(),
            upsell: Default::default(),
            sets: Default::default(),
            item_cache: Default::default(),
            set_cache: Default::default(),
        })
    }

    /// The model's probability that the shopper's next item is `row`.
    fn probability(&self, row: u32) -> f32 {
        self.query.as_ref().map_or(0.0, |q| ((self.model.table.score(q, row) - self.best).exp() / self.norm).min(1.0))
    }

    fn best_lift(&self, row: u32) -> f32 {
        self.anchors.iter().map(|&a| lift_strength(lift(self.model, a, row))).fold(0.0, f32::max)
    }

    /// Parts of any item shown for what the shopper has (not an upsell).
    pub fn item_parts(&self, row: u32) -> Parts {
        if let Some(p) = self.item_cache.borrow().get(&row) {
            return *p;
        }
        let parts = Parts {
            model: self.probability(row),
            lift: self.best_lift(row),
            margin: self.model.attributes.margin[row as usize],
            price_step: 0.0,
            popularity: relative_popularity(self.model, row),
            taken: 0.0,
        };
        self.item_cache.borrow_mut().insert(row, parts);
        parts
    }

    /// Parts of a set: how well its members go together (pairwise lift)
    /// and with the session (the added items' mean probability).
    pub fn set_parts(&self, members: &[u32]) -> Parts {
        if let Some(p) = self.set_cache.borrow().get(members) {
            return *p;
        }
        let added: Vec<Parts> = members[1..].iter().map(|&r| self.item_parts(r)).collect();
        let mean = Parts::mean(&added);
        let parts = Parts { lift: pairwise_mean(members, |a, b| lift_strength(lift(self.model, a, b))), ..mean };
        self.set_cache.borrow_mut().insert(members.to_vec(), parts);
        parts
    }

    /// An item an offer may propose: not on screen, not owned, not dismissed lately.
    fn is_new(&self, row: u32) -> bool {
        Some(row) != self.shopper.focus && !self.shopper.owns(row) && !self.shopper.dismissed.contains(&row)
    }

    /// Complements: the model's pool and the anchors' co-purchase
    /// neighbours, outside the focus item's category (that is an upsell's).
    pub fn cross_sell(&self) -> &[(u32, Parts)] {
        self.cross_sell.get_or_init(|| {
            let m = self.model;
            let focus_category = self.shopper.focus.map(|f| m.attributes.category[f as usize]);
            let mut rows: Vec<u32> = self.model_pool.clone();
            let cp = &m.copurchase;
            for &a in &self.anchors {
                rows.extend(cp.range(a as usize).take(NEIGHBOURS_PER_ANCHOR).map(|j| cp.neighbors[j]));
            }
            rows.sort_unstable();
            rows.dedup();
            rows.into_iter()
                .filter(|&r| self.is_new(r) && Some(m.attributes.category[r as usize]) != focus_category)
                .map(|r| (r, self.item_parts(r)))
                .collect()
        })
    }

    /// Upgrades of the focus item: same category, pricier, scored as
    /// substitutes by embedding cosine.
    pub fn upsell(&self) -> &[(u32, Parts)] {
        self.upsell.get_or_init(|| {
            let m = self.model;
            let Some(focus) = self.shopper.focus else { return Vec::new() };
            let price = m.attributes.price[focus as usize];
            if price <= 0.0 {
                return Vec::new();
            }
            let table = &m.table;
            let focus_norm = table.norm(focus);
            let focus_row = table.row(focus);
            m.rows_in_category(m.attributes.category[focus as usize])
                .iter()
                .copied()
                .filter(|&r| self.is_new(r) && m.attributes.price[r as usize] > price)
                .map(|r| {
                    let similarity = cosine(table.score(&focus_row, r), focus_norm, table.norm(r));
                    let step = (m.attributes.price[r as usize] / price - 1.0).min(1.0);
                    let parts = Parts {
                        model: similarity.max(0.0),
                        lift: self.best_lift(r),
                        margin: m.attributes.margin[r as usize],
                        price_step: step,
                        popularity: relative_popularity(m, r),
                        taken: 0.0,
                    };
                    (r, parts)
                })
                .collect()
        })
    }

    /// Sets grown from the focus item (focus first), up to `MAX_SET_ADDS`
    /// additions; an offer shows a prefix of each.
    pub fn sets(&self) -> &[Vec<u32>] {
        self.sets.get_or_init(|| match self.shopper.focus {
            Some(f) => grow_sets(self.model, f, SETS, MAX_SET_ADDS, |r| !self.is_new(r)),
            None => Vec::new(),
        })
    }
}
