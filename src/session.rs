//! What the shopper did in this session, bounded in memory whatever the
//! number of events.

use crate::error::{truncate, Error, Result};
use std::collections::VecDeque;

/// Longest item history kept (the encoder reads the last `max_seq_len`).
pub const MAX_RECENT: usize = 64;
/// Most distinct items a cart or purchase list keeps.
pub const MAX_CART: usize = 256;
/// Distinct items whose views a session counts.
pub const MAX_VIEW_COUNTS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    View,
    AddToCart,
    RemoveFromCart,
    Purchase,
}

impl EventKind {
    pub fn parse(s: &str) -> Result<EventKind> {
        match s {
            "view" => Ok(EventKind::View),
            "add_to_cart" => Ok(EventKind::AddToCart),
            "remove_from_cart" => Ok(EventKind::RemoveFromCart),
            "purchase" => Ok(EventKind::Purchase),
            other => Err(Error::InvalidEvent(format!(
                "unknown event type {:?} (expected view, add_to_cart, remove_from_cart or purchase)",
                truncate(other, 40)
            ))),
        }
    }
}

/// One shopper's live session, in bundle rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Session {
    /// Items interacted with, oldest first; repeats of the last item collapse.
    recent: VecDeque<u32>,
    cart: Vec<u32>,
    /// Units of each cart line (parallel to `cart`).
    quantities: Vec<u32>,
    purchased: Vec<u32>,
    events: u64,
    unknown_items: u64,
    /// Views of each item this session (`itemViewed`, `categoryViews`),
    /// the most recently first-viewed `MAX_VIEW_COUNTS` items.
    view_counts: Vec<(u32, u32)>,
    /// `view` events so far: the page view an offer is shown in (a
    /// re-render of the same page shows nothing new).
    views: u32,
    /// The last encoder input of this session and its output.
    encoded: Encoded,
}

/// The last row sequence a session was encoded from and its vector. A page
/// and the offer beside it ask for the same session, and the encoder is
/// most of each call: it runs once per session state. Kept with the
/// session, not the shared model, so that at the edge no request can time
/// whether the one before it encoded the same items. Keyed by the exact
/// rows, so a hit is what the encoder would return; the scan is kept only
/// while the table has as many rows (items added since were not scanned).
#[derive(Debug, Clone, Default)]
struct Encoded(std::cell::RefCell<Option<(Vec<u32>, usize, Encoding)>>);

/// A session's encoding: its vector and the items it scores highest, best
/// first (as many as the deepest request asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding {
    pub vector: Vec<f32>,
    pub best: Vec<crate::retrieve::Scored>,
}

/// A cache: two sessions that hold the same events are equal.
impl PartialEq for Encoded {
    fn eq(&self, _: &Encoded) -> bool {
        true
    }
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    /// Record an event on a known item row.
    pub fn record(&mut self, kind: EventKind, row: u32) {
        self.events += 1;
        match kind {
            EventKind::View | EventKind::AddToCart | EventKind::Purchase => {
                if self.recent.back() != Some(&row) {
                    if self.recent.len() == MAX_RECENT {
                        self.recent.pop_front();
                    }
                    self.recent.push_back(row);
                }
            }
            EventKind::RemoveFromCart => {}
        }
        match kind {
            EventKind::AddToCart => self.add_to_cart(row),
            EventKind::RemoveFromCart => self.drop_from_cart(row),
            EventKind::Purchase => {
                self.drop_from_cart(row);
                push_bounded(&mut self.purchased, row);
            }
            EventKind::View => {
                self.views = self.views.saturating_add(1);
                self.count_view(row);
            }
        }
    }

    fn count_view(&mut self, row: u32) {
        match self.view_counts.iter_mut().find(|(r, _)| *r == row) {
            Some((_, n)) => *n = n.saturating_add(1),
            None => {
                if self.view_counts.len() == MAX_VIEW_COUNTS {
                    self.view_counts.remove(0);
                }
                self.view_counts.push((row, 1));
            }
        }
    }

    /// (row, views this session) of the items viewed, oldest first.
    pub fn view_counts(&self) -> &[(u32, u32)] {
        &self.view_counts
    }

    /// The page view the shopper is on (the count of `view` events).
    pub fn views(&self) -> u32 {
        self.views
    }

    /// One more unit of `row`; a new line drops the oldest when full.
    fn add_to_cart(&mut self, row: u32) {
        if let Some(i) = self.cart.iter().position(|&r| r == row) {
            self.quantities[i] = self.quantities[i].saturating_add(1);
            return;
        }
        if self.cart.len() == MAX_CART {
            self.cart.remove(0);
            self.quantities.remove(0);
        }
        self.cart.push(row);
        self.quantities.push(1);
    }

    fn drop_from_cart(&mut self, row: u32) {
        if let Some(i) = self.cart.iter().position(|&r| r == row) {
            self.cart.remove(i);
            self.quantities.remove(i);
        }
    }

    /// An event whose item the bundle does not know: skipped, but counted
    /// (a view of it is still a new page view).
    pub fn record_unknown(&mut self, kind: EventKind) {
        self.events += 1;
        self.unknown_items += 1;
        if kind == EventKind::View {
            self.views = self.views.saturating_add(1);
        }
    }

    /// What the encoder reads: the last `max_len` items, oldest first, with
    /// `anchor` (the item on screen) appended unless it is the last already.
    pub fn encoder_rows(&self, anchor: Option<u32>, max_len: usize) -> Vec<u32> {
        let mut seq: Vec<u32> = self.last_items(max_len).collect();
        if let Some(a) = anchor {
            if seq.last() != Some(&a) {
                seq.push(a);
            }
            if seq.len() > max_len {
                seq.remove(0);
            }
        }
        seq
    }

    /// The encoding of `rows` (from `encoder_rows`) with at least `depth`
    /// best items of a table of `table_rows`: the last one again when the
    /// rows and the table are the same and it is deep enough, else
    /// `scan(vector, depth)` over the last vector, else `encode(rows)` and
    /// the scan.
    pub fn encoded(
        &self,
        rows: &[u32],
        depth: usize,
        table_rows: usize,
        encode: impl FnOnce(&[u32]) -> Result<Vec<f32>>,
        scan: impl FnOnce(&[f32], usize) -> Vec<crate::retrieve::Scored>,
    ) -> Result<Encoding> {
        let mut memo = self.encoded.0.borrow_mut();
        let vector = match memo.as_ref() {
            Some((seen, table, e)) if seen.as_slice() == rows && *table == table_rows && e.best.len() >= depth => {
                return Ok(e.clone())
            }
            Some((seen, _, e)) if seen.as_slice() == rows => e.vector.clone(),
            _ => encode(rows)?,
        };
        let encoding = Encoding { best: scan(&vector, depth), vector };
        *memo = Some((rows.to_vec(), table_rows, encoding.clone()));
        Ok(encoding)
    }

    /// The last `n` items, oldest first.
    pub fn last_items(&self, n: usize) -> impl Iterator<Item = u32> + '_ {
        self.recent.iter().skip(self.recent.len().saturating_sub(n)).copied()
    }

    pub fn recent(&self) -> &VecDeque<u32> {
        &self.recent
    }

    pub fn cart(&self) -> &[u32] {
        &self.cart
    }

    /// Units per cart line, parallel to `cart()`.
    pub fn quantities(&self) -> &[u32] {
        &self.quantities
    }

    pub fn purchased(&self) -> &[u32] {
        &self.purchased
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn unknown_items(&self) -> u64 {
        self.unknown_items
    }

    pub fn is_empty(&self) -> bool {
        self.recent.is_empty()
    }
}

/// Append `row` if absent, dropping the oldest entry when full.
fn push_bounded(list: &mut Vec<u32>, row: u32) {
    if list.contains(&row) {
        return;
    }
    if list.len() == MAX_CART {
        list.remove(0);
    }
    list.push(row);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hundred_thousand_events_stay_bounded() {
        let mut s = Session::new();
        for i in 0..100_000u32 {
            s.record(EventKind::View, i % 5000);
            s.record(EventKind::AddToCart, i % 3000);
        }
        assert_eq!(s.recent().len(), MAX_RECENT);
        assert_eq!(s.cart().len(), MAX_CART);
        assert_eq!(s.events(), 200_000);
    }

    #[test]
    fn cart_follows_adds_removes_and_purchases() {
        let mut s = Session::new();
        s.record(EventKind::AddToCart, 1);
        s.record(EventKind::AddToCart, 2);
        s.record(EventKind::AddToCart, 1);
        assert_eq!(s.cart(), &[1, 2]);
        assert_eq!(s.quantities(), &[2, 1]);
        s.record(EventKind::RemoveFromCart, 1);
        assert_eq!(s.cart(), &[2]);
        assert_eq!(s.quantities(), &[1]);
        s.record(EventKind::Purchase, 2);
        assert!(s.cart().is_empty());
        assert_eq!(s.purchased(), &[2]);
    }

    #[test]
    fn repeated_views_of_one_item_collapse() {
        let mut s = Session::new();
        for _ in 0..5 {
            s.record(EventKind::View, 7);
        }
        s.record(EventKind::View, 8);
        assert_eq!(s.last_items(10).collect::<Vec<_>>(), vec![7, 8]);
    }

    #[test]
    fn unknown_event_types_are_typed_errors() {
        assert_eq!(EventKind::parse("click").unwrap_err().code(), "INVALID_EVENT");
        assert_eq!(EventKind::parse("add_to_cart").unwrap(), EventKind::AddToCart);
    }
}
