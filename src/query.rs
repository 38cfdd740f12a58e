//! One session query: the live session, plus the item on screen, encoded
//! once and read by every list of a page and every offer of a decision —
//! the item in focus, the model's most likely next items under one
//! softmax, and the anchor items whose co-purchase neighbours are read.

use crate::error::Result;
use crate::model::Model;
use crate::retrieve::Scored;
use crate::session::Session;

/// The model's most likely next items, the pool its probabilities are taken
/// over (a softmax over the pool, which holds most of the mass).
pub const MODEL_POOL: usize = 50;
/// Co-purchase neighbours read per anchor item.
pub const NEIGHBOURS_PER_ANCHOR: usize = 32;
/// Cart items (the latest) and recent views used as co-purchase anchors.
const CART_ANCHORS: usize = 5;
const VIEW_ANCHORS: usize = 3;
/// The latest view counts half as an anchor (each earlier one `recency`
/// times the one after it); the item on screen and the cart count fully.
const VIEW_ANCHOR_WEIGHT: f32 = 0.5;

/// What every slot and offer of one request reads about the session.
#[derive(Debug)]
pub struct SessionQuery<'a> {
    pub model: &'a Model,
    pub session: &'a Session,
    /// The item on screen, when the host names one.
    pub anchor: Option<u32>,
    /// The item that item-centred lists and offers are about: the item on
    /// screen, else the cart's last item, else the last one viewed.
    pub focus: Option<u32>,
    /// The items whose co-purchase neighbours are read (`anchors`).
    anchors: Vec<(u32, f32)>,
    vector: Option<Vec<f32>>,
    /// The items the model scores highest, best first (at least the pool).
    scanned: Vec<Scored>,
    /// The softmax over the pool: its best logit and its normaliser.
    best: f32,
    norm: f32,
}

impl<'a> SessionQuery<'a> {
    /// Encode `session` (with `anchor` last) and scan the table once for the
    /// `depth` best items (at least the pool), which `best` then serves;
    /// earlier views weigh `recency` times less as anchors at each step back.
    pub fn new(
        model: &'a Model,
        session: &'a Session,
        anchor: Option<u32>,
        depth: usize,
        recency: f32,
    ) -> Result<SessionQuery<'a>> {
        let rows = session.encoder_rows(anchor, model.encoder.max_seq_len());
        let depth = depth.max(MODEL_POOL).min(model.table.rows());
        let (vector, mut scanned) = match rows.is_empty() {
            true => (None, Vec::new()),
            false => {
                let scan = |q: &[f32], n: usize| model.table.top_k(q, n, |_| false);
                let e = session.encoded(&rows, depth, model.table.rows(), |r| model.encode_rows(r), scan)?;
                (Some(e.vector), e.best)
            }
        };
        // A deeper scan kept for an earlier request: its first `depth` are this one's.
        scanned.truncate(depth);
        let best = scanned.first().map_or(0.0, |s| s.score);
        // At least the best item's own term, 1: also 1 for an empty pool.
        let norm = scanned.iter().take(MODEL_POOL).map(|s| (s.score - best).exp()).sum::<f32>().max(1.0);
        let focus = anchor.or_else(|| session.cart().last().copied()).or_else(|| session.recent().back().copied());
        let anchors = anchors(session, anchor, recency);
        Ok(SessionQuery { model, session, anchor, focus, anchors, vector, scanned, best, norm })
    }

    /// Whether the session encoder ran (not on a cold start).
    pub fn is_encoded(&self) -> bool {
        self.vector.is_some()
    }

    /// The model's logit for `row`, None on a cold start.
    pub fn logit(&self, row: u32) -> Option<f32> {
        self.vector.as_ref().map(|q| self.model.table.score(q, row))
    }

    /// The model's probability that the shopper's next item is the one
    /// with this logit.
    pub fn probability_of(&self, logit: f32) -> f32 {
        ((logit - self.best).exp() / self.norm).min(1.0)
    }

    /// The model's probability for its most likely next item (the softmax
    /// of the best logit over the pool), None on a cold start.
    pub fn top_probability(&self) -> Option<f32> {
        self.is_encoded().then(|| 1.0 / self.norm)
    }

    /// The model's probability that the shopper's next item is `row`.
    pub fn probability(&self, row: u32) -> f32 {
        self.logit(row).map_or(0.0, |l| self.probability_of(l))
    }

    /// The model's pool: its most likely next items, best first.
    pub fn pool(&self) -> impl Iterator<Item = u32> + '_ {
        self.scanned.iter().take(MODEL_POOL).map(|s| s.row)
    }

    /// The `n` items the model scores highest that `skip` lets through,
    /// best first: from the scan when it holds them, else by a new one.
    pub fn best(&self, n: usize, skip: impl Fn(u32) -> bool) -> Vec<Scored> {
        let hits: Vec<Scored> = self.scanned.iter().filter(|s| !skip(s.row)).take(n).copied().collect();
        match &self.vector {
            Some(q) if hits.len() < n && self.scanned.len() < self.model.table.rows() => {
                self.model.table.top_k(q, n, skip)
            }
            _ => hits,
        }
    }

    /// The items whose co-purchase neighbours a request reads, each once
    /// with its weight: the item on screen, the cart's latest items, then
    /// the last views at half weight.
    pub fn anchors(&self) -> &[(u32, f32)] {
        &self.anchors
    }

    /// Each anchor's strongest co-purchase neighbours: (anchor, its weight,
    /// the index of the pair in the co-purchase table).
    pub fn neighbours(&self) -> impl Iterator<Item = (u32, f32, usize)> + '_ {
        let cp = &self.model.copurchase;
        self.anchors
            .iter()
            .flat_map(move |&(a, w)| cp.range(a as usize).take(NEIGHBOURS_PER_ANCHOR).map(move |j| (a, w, j)))
    }
}

/// `SessionQuery::anchors` of `session` with `anchor` on screen.
fn anchors(session: &Session, anchor: Option<u32>, recency: f32) -> Vec<(u32, f32)> {
    let views = session.recent().iter().rev().take(VIEW_ANCHORS).scan(VIEW_ANCHOR_WEIGHT, |weight, &r| {
        let this = (r, *weight);
        *weight *= recency;
        Some(this)
    });
    let candidates = anchor
        .map(|a| (a, 1.0))
        .into_iter()
        .chain(session.cart().iter().rev().take(CART_ANCHORS).map(|&r| (r, 1.0)))
        .chain(views.filter(|&(_, w)| w > 0.0));
    let mut anchors: Vec<(u32, f32)> = Vec::new();
    for (row, weight) in candidates {
        if !anchors.iter().any(|&(r, _)| r == row) {
            anchors.push((row, weight));
        }
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::EventKind;

    #[test]
    fn earlier_views_weigh_recency_times_less_as_anchors() {
        let mut s = Session::new();
        for row in [1, 2, 3, 4] {
            s.record(EventKind::View, row);
        }
        assert_eq!(anchors(&s, None, 1.0), vec![(4, 0.5), (3, 0.5), (2, 0.5)]);
        assert_eq!(anchors(&s, None, 0.5), vec![(4, 0.5), (3, 0.25), (2, 0.125)]);
        assert_eq!(anchors(&s, None, 0.0), vec![(4, 0.5)], "only the latest view");
        // The item on screen and the cart count fully, whatever the recency.
        s.record(EventKind::AddToCart, 9);
        assert_eq!(anchors(&s, Some(7), 0.0), vec![(7, 1.0), (9, 1.0)]);
        assert_eq!(anchors(&s, Some(7), 0.5), vec![(7, 1.0), (9, 1.0), (4, 0.25), (3, 0.125)]);
    }
}
