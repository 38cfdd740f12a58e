//! What each kind of offer could show, and the parts of its score: the
//! session model, co-purchase lift, margin, price step and popularity,
//! each in 0..=1 so a policy's weights mean the same across stores.

use super::facts::Facts;
use crate::model::Model;
use crate::query::SessionQuery;
use crate::rank::relative_popularity;
use crate::retrieve::cosine;
use crate::score::ScoreParts;
use crate::sets::{grow_sets, lift, lift_strength, pairwise_mean};
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

/// Sets grown for "complete the set", and the most items one may add.
const SETS: usize = 6;
pub const MAX_SET_ADDS: usize = 10;

/// Candidates and their parts for one decision, each list built once and
/// shared by every offer of its kind.
pub struct Candidates<'a> {
    model: &'a Model,
    query: &'a SessionQuery<'a>,
    shopper: &'a Facts<'a>,
    cross_sell: OnceCell<Vec<(u32, ScoreParts)>>,
    gap_fillers: OnceCell<Vec<(u32, ScoreParts)>>,
    upsell: OnceCell<Vec<(u32, ScoreParts)>>,
    sets: OnceCell<Vec<Vec<u32>>>,
    /// Parts of items and sets already scored in this decision: many
    /// offers of a large policy look at the same ones.
    item_cache: RefCell<HashMap<u32, ScoreParts>>,
    set_cache: RefCell<HashMap<Vec<u32>, ScoreParts>>,
}

impl<'a> Candidates<'a> {
    pub fn new(query: &'a SessionQuery<'a>, shopper: &'a Facts<'a>) -> Candidates<'a> {
        Candidates {
            model: query.model,
            query,
            shopper,
            cross_sell: Default::default(),
            gap_fillers: Default::default(),
            upsell: Default::default(),
            sets: Default::default(),
            item_cache: Default::default(),
            set_cache: Default::default(),
        }
    }

    /// The strongest lift of `row` with an anchor, weighted by the anchor.
    fn best_lift(&self, row: u32) -> f32 {
        self.query.anchors().iter().map(|&(a, w)| w * lift_strength(lift(self.model, a, row))).fold(0.0, f32::max)
    }

    /// Parts of any item shown for what the shopper has (not an upsell).
    pub fn item_parts(&self, row: u32) -> ScoreParts {
        if let Some(p) = self.item_cache.borrow().get(&row) {
            return *p;
        }
        let parts = ScoreParts {
            model: self.query.probability(row),
            lift: self.best_lift(row),
            margin: self.model.attributes.margin[row as usize],
            popularity: relative_popularity(self.model, row),
            ..Default::default()
        };
        self.item_cache.borrow_mut().insert(row, parts);
        parts
    }

    /// Parts of a set: how well its members go together (pairwise lift)
    /// and with the session (the added items' mean probability).
    pub fn set_parts(&self, members: &[u32]) -> ScoreParts {
        if let Some(p) = self.set_cache.borrow().get(members) {
            return *p;
        }
        let added: Vec<ScoreParts> = members[1..].iter().map(|&r| self.item_parts(r)).collect();
        let mean = ScoreParts::mean(&added);
        let parts = ScoreParts { lift: pairwise_mean(members, |a, b| lift_strength(lift(self.model, a, b))), ..mean };
        self.set_cache.borrow_mut().insert(members.to_vec(), parts);
        parts
    }

    /// An item an offer may propose: not on screen, not owned, not dismissed lately.
    fn is_new(&self, row: u32) -> bool {
        Some(row) != self.shopper.focus
            && !self.shopper.owns(row)
            && !self.shopper.dismissed.contains(&row)
            && self.shopper.may_show(row)
    }

    /// The model's pool and the anchors' co-purchase neighbours the
    /// shopper has not got, with their parts, where `keep` says.
    fn related(&self, keep: impl Fn(u32) -> bool) -> Vec<(u32, ScoreParts)> {
        let m = self.model;
        let mut rows: Vec<u32> = self.query.pool().collect();
        rows.extend(self.query.neighbours().map(|(_, _, j)| m.copurchase.neighbors[j]));
        rows.sort_unstable();
        rows.dedup();
        rows.into_iter().filter(|&r| self.is_new(r) && keep(r)).map(|r| (r, self.item_parts(r))).collect()
    }

    /// Complements: related items outside the focus item's category (that
    /// is an upsell's).
    pub fn cross_sell(&self) -> &[(u32, ScoreParts)] {
        self.cross_sell.get_or_init(|| {
            let category = &self.model.attributes.category;
            let focus_category = self.shopper.focus.map(|f| category[f as usize]);
            self.related(|r| Some(category[r as usize]) != focus_category)
        })
    }

    /// What may fill a cart's gap to a threshold: any related item.
    pub fn gap_fillers(&self) -> &[(u32, ScoreParts)] {
        self.gap_fillers.get_or_init(|| self.related(|_| true))
    }

    /// Upgrades of the focus item: same category, pricier, scored as
    /// substitutes by embedding cosine. The catch-all category holds
    /// items of many kinds: none of them is an upgrade of another.
    pub fn upsell(&self) -> &[(u32, ScoreParts)] {
        self.upsell.get_or_init(|| {
            let m = self.model;
            let Some(focus) = self.shopper.focus else { return Vec::new() };
            let price = m.attributes.price[focus as usize];
            if price <= 0.0 || !m.has_kind(focus) {
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
                    let parts = ScoreParts {
                        model: similarity.max(0.0),
                        lift: self.best_lift(r),
                        margin: m.attributes.margin[r as usize],
                        price_step: step,
                        popularity: relative_popularity(m, r),
                        ..Default::default()
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
