//! What eligibility predicates read: the shopper's facts, computed once per
//! decision, and the item an offer would show.

use super::compile::{Cond, Policy};
use super::context::Context;
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
    /// The host's context of the request, checked against the policy.
    pub context: &'a Context,
    /// Visits so far, this one included, and seconds into this one.
    pub visits: u32,
    pub seconds_in_session: f64,
}

/// The request's side of the shopper: what the host says of them.
pub struct Said<'a> {
    pub segments: &'a [String],
    pub context: &'a Context,
}

impl<'a> Shopper<'a> {
    pub fn new(query: &SessionQuery<'a>, said: Said<'a>, visits: u32, seconds_in_session: f64) -> Shopper<'a> {
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
            segments: said.segments,
            cart_value,
            cart_quantity,
            cart_categories: categories(&mut cart.iter().copied()),
            viewed_categories: categories(&mut session.recent().iter().copied()),
            dismissed: Default::default(),
            context: said.context,
            visits,
            seconds_in_session,
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

    /// The cart's distance below `threshold` (0 at or over it).
    pub fn cart_gap(&self, threshold: f64) -> f64 {
        (threshold - self.cart_value).max(0.0)
    }

    /// Most views of one item this session, among `rows` (any when None).
    fn item_views(&self, rows: Option<&[u32]>) -> u32 {
        let counted = |r: &u32| rows.is_none_or(|rs| rs.contains(r));
        self.session.view_counts().iter().filter(|(r, _)| counted(r)).map(|&(_, n)| n).max().unwrap_or(0)
    }

    /// Most views of one category this session, among `categories` (any when None).
    fn category_views(&self, categories: Option<&[u32]>) -> u32 {
        let mut per: std::collections::HashMap<u32, u32> = Default::default();
        for &(r, n) in self.session.view_counts() {
            let c = self.model.attributes.category[r as usize];
            if categories.is_none_or(|cs| cs.contains(&c)) {
                *per.entry(c).or_default() += n;
            }
        }
        per.into_values().max().unwrap_or(0)
    }

    /// Whether `cond` holds for this shopper and the offered `item` (None
    /// for an action: a condition on the item never holds).
    pub fn holds(&self, policy: &Policy, cond: &Cond, item: Option<u32>) -> bool {
        let attrs = &self.model.attributes;
        let price = item.map_or(f64::NAN, |i| attrs.price[i as usize] as f64);
        match cond {
            Cond::CartValue(r) => r.contains(self.cart_value),
            Cond::CartQuantity(r) => r.contains(self.cart_quantity as f64),
            Cond::CategoryInCart(cs) => cs.iter().any(|c| self.cart_categories.binary_search(c).is_ok()),
            Cond::CategoryViewed(cs) => cs.iter().any(|c| self.viewed_categories.binary_search(c).is_ok()),
            Cond::ItemInCart(rows) => rows.iter().any(|r| self.session.cart().contains(r)),
            Cond::Category(cs) => item.is_some_and(|i| cs.contains(&attrs.category[i as usize])),
            Cond::Price(r) => item.is_some() && r.contains(price),
            Cond::PriceBand(r) => match (item, self.focus) {
                (Some(_), Some(f)) if attrs.price[f as usize] > 0.0 => {
                    r.contains(price / attrs.price[f as usize] as f64)
                }
                _ => false,
            },
            Cond::InStock(want) => item.is_some_and(|i| (attrs.in_stock[i as usize] != 0) == *want),
            Cond::NotOwned(want) => item.is_some_and(|i| self.owns(i) != *want),
            Cond::Segment(s) => self.segments.iter().any(|x| x == s),
            Cond::PageViews(r) => r.contains(self.session.views() as f64),
            Cond::SecondsInSession(r) => r.contains(self.seconds_in_session),
            Cond::Visits(r) => r.contains(self.visits as f64),
            Cond::CartGap(threshold, r) => {
                let gap = self.cart_gap(*threshold);
                gap > 0.0 && r.contains(gap)
            }
            Cond::ItemViewed(n, rows) => self.item_views(rows.as_deref()) >= *n,
            Cond::CategoryViews(n, cats) => self.category_views(cats.as_deref()) >= *n,
            Cond::Context(fields) => fields.iter().all(|(k, m)| self.context.get(k).is_some_and(|v| v.matches(m))),
            Cond::All(cs) => cs.iter().all(|c| self.holds(policy, c, item)),
            Cond::Any(cs) => cs.iter().any(|c| self.holds(policy, c, item)),
            Cond::Not(c) => !self.holds(policy, c, item),
            Cond::Rule(i) => self.holds(policy, &policy.rules[*i], item),
        }
    }

    /// The measured value a trace shows beside a predicate, if it has one.
    pub fn detail(&self, cond: &Cond, item: Option<u32>) -> Option<String> {
        let attrs = &self.model.attributes;
        match (cond, item) {
            (Cond::CartValue(_), _) => Some(format!("cart value {:.2}", self.cart_value)),
            (Cond::CartQuantity(_), _) => Some(format!("{} units in cart", self.cart_quantity)),
            (Cond::CartGap(t, _), _) => Some(format!("{:.2} to go", self.cart_gap(*t))),
            (Cond::PageViews(_), _) => Some(format!("{} page views", self.session.views())),
            (Cond::SecondsInSession(_), _) => Some(format!("{:.0} s in session", self.seconds_in_session)),
            (Cond::Visits(_), _) => Some(format!("visit {}", self.visits)),
            (Cond::ItemViewed(_, rows), _) => Some(format!("{} views", self.item_views(rows.as_deref()))),
            (Cond::CategoryViews(_, cats), _) => Some(format!("{} views", self.category_views(cats.as_deref()))),
            (Cond::Context(fields), _) => Some(
                fields
                    .iter()
                    .map(|(k, _)| match self.context.get(k) {
                        Some(v) => format!("{k} {v}"),
                        None => format!("{k} not given"),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (Cond::Price(_), Some(i)) => Some(format!("price {:.2}", attrs.price[i as usize])),
            (Cond::PriceBand(_), Some(i)) => {
                self.focus.map(|f| format!("{:.2} / {:.2}", attrs.price[i as usize], attrs.price[f as usize]))
            }
            (Cond::Category(_), Some(i)) => Some(format!("item is a {}", self.model.category(i))),
            _ => None,
        }
    }

    /// A condition the shopper met, said to them ("You have looked at 5
    /// products this visit"); None for what a shopper would not read as a
    /// reason (segments, context, negations, item conditions).
    pub fn in_words(&self, policy: &Policy, cond: &Cond, currency: Option<&str>) -> Option<String> {
        if !self.holds(policy, cond, None) {
            return None;
        }
        match cond {
            Cond::PageViews(_) => Some(format!("You have looked at {} products this visit", self.session.views())),
            Cond::SecondsInSession(_) => {
                Some(format!("You have been browsing for {} minutes", (self.seconds_in_session / 60.0).round()))
            }
            Cond::Visits(r) if r.min.is_some_and(|m| m > 1.0) => Some("Welcome back".to_string()),
            Cond::CartGap(t, _) => Some(format!(
                "Your basket is {} away from {}",
                super::gap::money(self.cart_gap(*t), currency),
                super::gap::money(*t, currency)
            )),
            Cond::CartValue(_) | Cond::CartQuantity(_) => Some("What is in your basket".to_string()),
            Cond::ItemViewed(..) => Some("You came back to the same product".to_string()),
            Cond::CategoryViews(..) | Cond::CategoryViewed(_) => Some("What you have been browsing".to_string()),
            Cond::Rule(i) => self.in_words(policy, &policy.rules[*i], currency),
            Cond::All(cs) => cs.iter().find_map(|c| self.in_words(policy, c, currency)),
            _ => None,
        }
    }
}
