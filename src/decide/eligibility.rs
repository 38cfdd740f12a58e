//! What eligibility predicates read: the shopper's facts, computed once per
//! decision, and the item an offer would show.

use super::compile::{Cond, Policy};
use crate::model::Model;
use crate::query::SessionQuery;
use crate::session::Session;

/// The shopper as the policy sees them in one decision.
#[derive(Debug)]
pub struct Shopper<'a> {
    pub model: &'a Model,
    pub session: &'a Session,
    /// The query's focus item (`SessionQuery::focus`).
    pub focus: Option<u32>,
    pub segments: &'a [String],
    pub cart_value: f64,
    pub cart_quantity: u64,
    pub cart_categories: Vec<u32>,
    pub viewed_categories: Vec<u32>,
    /// Rows the shopper dismissed in an offer lately (`Tally::dismissed_items`).
    pub dismissed: std::collections::HashSet<u32>,
}

impl<'a> Shopper<'a> {
    pub fn new(query: &SessionQuery<'a>, segments: &'a [String]) -> Shopper<'a> {
        let (model, session) = (query.model, query.session);
        let attrs = &model.attributes;
        let cart = session.cart();
        let cart_value =
            cart.iter().zip(session.quantities()).map(|(&r, &q)| attrs.price[r as usize] as f64 * q as f64).sum();
        let cart_quantity = session.quantities().iter().map(|&q| q as u64).sum();
        let categories = |rows: &mut dyn Iterator<Item = u32>| {
            let mut c: Vec<u32> = rows.map(|r| attrs.category[r as usize]).collect();
            c.sort_unstable();
            c.dedup();
            c
        };
        Shopper {
            model,
            session,
            focus: query.focus,
            segments,
            cart_value,
            cart_quantity,
            cart_categories: categories(&mut cart.iter().copied()),
            viewed_categories: categories(&mut session.recent().iter().copied()),
            dismissed: Default::default(),
        }
    }

    /// The same shopper, with the items they dismissed (ids as the log keeps them).
    pub fn with_dismissed<'i>(mut self, items: impl IntoIterator<Item = &'i str>) -> Shopper<'a> {
        self.dismissed = items.into_iter().filter_map(|id| self.model.catalog.row(id)).collect();
        self
    }

    pub fn owns(&self, row: u32) -> bool {
        self.session.cart().contains(&row) || self.session.purchased().contains(&row)
    }

    /// Whether `cond` holds for this shopper and the offered `item`.
    pub fn holds(&self, policy: &Policy, cond: &Cond, item: u32) -> bool {
        let attrs = &self.model.attributes;
        let price = attrs.price[item as usize] as f64;
        match cond {
            Cond::CartValue(r) => r.contains(self.cart_value),
            Cond::CartQuantity(r) => r.contains(self.cart_quantity as f64),
            Cond::CategoryInCart(cs) => cs.iter().any(|c| self.cart_categories.binary_search(c).is_ok()),
            Cond::CategoryViewed(cs) => cs.iter().any(|c| self.viewed_categories.binary_search(c).is_ok()),
            Cond::ItemInCart(rows) => rows.iter().any(|r| self.session.cart().contains(r)),
            Cond::Category(cs) => cs.contains(&attrs.category[item as usize]),
            Cond::Price(r) => r.contains(price),
            Cond::PriceBand(r) => match self.focus {
                Some(f) if attrs.price[f as usize] > 0.0 => r.contains(price / attrs.price[f as usize] as f64),
                _ => false,
            },
            Cond::InStock(want) => (attrs.in_stock[item as usize] != 0) == *want,
            Cond::NotOwned(want) => self.owns(item) != *want,
            Cond::Segment(s) => self.segments.iter().any(|x| x == s),
            Cond::All(cs) => cs.iter().all(|c| self.holds(policy, c, item)),
            Cond::Any(cs) => cs.iter().any(|c| self.holds(policy, c, item)),
            Cond::Not(c) => !self.holds(policy, c, item),
            Cond::Rule(i) => self.holds(policy, &policy.rules[*i], item),
        }
    }

    /// The measured value a trace shows beside a predicate, if it has one.
    pub fn detail(&self, cond: &Cond, item: u32) -> Option<String> {
        let attrs = &self.model.attributes;
        match cond {
            Cond::CartValue(_) => Some(format!("cart value {:.2}", self.cart_value)),
            Cond::CartQuantity(_) => Some(format!("{} units in cart", self.cart_quantity)),
            Cond::Price(_) => Some(format!("price {:.2}", attrs.price[item as usize])),
            Cond::PriceBand(_) => {
                self.focus.map(|f| format!("{:.2} / {:.2}", attrs.price[item as usize], attrs.price[f as usize]))
            }
            Cond::Category(_) => Some(format!("item is a {}", self.model.category(item))),
            _ => None,
        }
    }
}
