//! What eligibility predicates read: the shopper's facts, computed once per
//! decision, and the item an offer would show.

use super::context::Context;
use crate::filter::RowFilter;
use crate::model::Model;
use crate::query::SessionQuery;
use crate::session::Session;

/// The shopper as the policy sees them in one decision.
#[derive(Debug)]
pub struct Facts<'a> {
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
    /// The request's filter of the items an offer may show.
    pub filter: Option<RowFilter>,
}

/// The request's side of the shopper: what the host says of them.
pub struct Said<'a> {
    pub segments: &'a [String],
    pub context: &'a Context,
}

impl<'a> Facts<'a> {
    pub fn new(query: &SessionQuery<'a>, said: Said<'a>, visits: u32, seconds_in_session: f64) -> Facts<'a> {
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
        Facts {
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
            filter: None,
        }
    }

    /// The same shopper, under the request's filter of what may be shown.
    pub fn with_filter(mut self, filter: Option<RowFilter>) -> Facts<'a> {
        self.filter = filter;
        self
    }

    /// Whether the request lets an offer show the item at `row`.
    pub fn may_show(&self, row: u32) -> bool {
        self.filter.as_ref().is_none_or(|f| f.allows(self.model, row))
    }

    /// The same shopper, with the items they dismissed (ids as the log keeps them).
    pub fn with_dismissed<'i>(mut self, items: impl IntoIterator<Item = &'i str>) -> Facts<'a> {
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
    pub(super) fn item_views(&self, rows: Option<&[u32]>) -> u32 {
        let counted = |r: &u32| rows.is_none_or(|rs| rs.contains(r));
        self.session.view_counts().iter().filter(|(r, _)| counted(r)).map(|&(_, n)| n).max().unwrap_or(0)
    }

    /// Most views of one category this session, among `categories` (any when None).
    pub(super) fn category_views(&self, categories: Option<&[u32]>) -> u32 {
        let mut per: std::collections::HashMap<u32, u32> = Default::default();
        for &(r, n) in self.session.view_counts() {
            let c = self.model.attributes.category[r as usize];
            if categories.is_none_or(|cs| cs.contains(&c)) {
                *per.entry(c).or_default() += n;
            }
        }
        per.into_values().max().unwrap_or(0)
    }
}
