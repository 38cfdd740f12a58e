//! Item sets bought together: grown from a seed item over the co-purchase
//! graph, then scored as a set (how strongly every member goes with every
//! other), never as top items glued together.

use crate::model::{Model, OfferedItem};
use crate::rank::Reason;
use serde::Serialize;

/// An item joins a set only if it is bought with its members at least
/// this often (mean confidence over the members).
const MIN_SET_CONFIDENCE: f32 = 0.05;

/// Items that go together: the seed and what completes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBundle {
    /// Seed first, then the items to add, in the order they were chosen.
    pub items: Vec<OfferedItem>,
    pub total_price: f32,
    /// Mean pairwise co-purchase confidence of the members.
    pub score: f32,
    pub reasons: Vec<Reason>,
}

/// Up to `max_sets` distinct sets around `seed` (seed first), each started
/// from a different strong neighbour and grown greedily, at most `max_adds`
/// items, with the item bought most often with all members so far.
pub fn grow_sets(
    model: &Model,
    seed: u32,
    max_sets: usize,
    max_adds: usize,
    skip: impl Fn(u32) -> bool,
) -> Vec<Vec<u32>> {
    let cp = &model.copurchase;
    // Node 0 is the seed, nodes 1.. the seed's neighbours; every set is made
    // of nodes, so pair confidences are looked up once each, on demand.
    let mut nodes: Vec<u32> = vec![seed];
    nodes.extend(cp.range(seed as usize).map(|j| cp.neighbors[j]).filter(|&n| !skip(n)));
    let mut pairs = PairTable::new(model, &nodes);
    let mut sets: Vec<Vec<u32>> = Vec::new();
    let mut seen: Vec<Vec<usize>> = Vec::new();
    for first in (1..nodes.len()).take(max_sets * 2) {
        let mut members = vec![0, first];
        while members.len() <= max_adds {
            let best = (1..nodes.len())
                .filter(|n| !members.contains(n))
                .map(|n| (n, members.iter().map(|&m| pairs.confidence(m, n)).sum::<f32>() / members.len() as f32))
                .max_by(|a, b| a.1.total_cmp(&b.1).then(nodes[b.0].cmp(&nodes[a.0])));
            match best {
                Some((n, c)) if c >= MIN_SET_CONFIDENCE => members.push(n),
                _ => break,
            }
        }
        // The same set reached from another starting item is one set.
        let mut key = members.clone();
        key.sort_unstable();
        if !seen.contains(&key) {
            seen.push(key);
            sets.push(members.iter().map(|&m| nodes[m]).collect());
        }
    }
    sets
}

/// Confidences between the nodes of one set search, each looked up once.
struct PairTable<'a> {
    model: &'a Model,
    nodes: &'a [u32],
    /// Row-major node × node; NaN until looked up.
    conf: Vec<f32>,
}

impl<'a> PairTable<'a> {
    fn new(model: &'a Model, nodes: &'a [u32]) -> PairTable<'a> {
        PairTable { model, nodes, conf: vec![f32::NAN; nodes.len() * nodes.len()] }
    }

    fn confidence(&mut self, a: usize, b: usize) -> f32 {
        let i = a * self.nodes.len() + b;
        if self.conf[i].is_nan() {
            self.conf[i] = confidence(self.model, self.nodes[a], self.nodes[b]);
        }
        self.conf[i]
    }
}

/// Confidence of "bought `b` given `a`", 0 when the pair was not mined.
pub fn confidence(model: &Model, a: u32, b: u32) -> f32 {
    pair(model, a, b).map_or(0.0, |j| model.copurchase.confidence[j])
}

/// Lift of the pair (a, b), 0 when it was not mined.
pub fn lift(model: &Model, a: u32, b: u32) -> f32 {
    pair(model, a, b).map_or(0.0, |j| model.copurchase.lift[j])
}

fn pair(model: &Model, a: u32, b: u32) -> Option<usize> {
    let cp = &model.copurchase;
    let range = cp.range(a as usize);
    cp.neighbors[range.clone()].iter().position(|&n| n == b).map(|i| range.start + i)
}

/// Mean of `f` over every ordered pair of distinct members.
pub fn pairwise_mean(members: &[u32], f: impl Fn(u32, u32) -> f32) -> f32 {
    let mut sum = 0.0;
    let mut pairs = 0;
    for &a in members {
        for &b in members.iter().filter(|&&b| b != a) {
            sum += f(a, b);
            pairs += 1;
        }
    }
    if pairs == 0 {
        0.0
    } else {
        sum / pairs as f32
    }
}

/// Mean pairwise confidence of the members.
pub fn pairwise_confidence(model: &Model, members: &[u32]) -> f32 {
    pairwise_mean(members, |a, b| confidence(model, a, b))
}

/// A lift as a 0..=1 strength: 1 − 1/lift (0 for unmined or lift <= 1).
pub fn lift_strength(lift: f32) -> f32 {
    if lift > 1.0 {
        1.0 - 1.0 / lift
    } else {
        0.0
    }
}

pub fn describe_bundle(model: &Model, members: &[u32], score: f32) -> ItemBundle {
    let items: Vec<OfferedItem> =
        members.iter().enumerate().map(|(i, &r)| OfferedItem { view: model.view(r), add: i > 0 }).collect();
    let total_price = items.iter().map(|i| i.view.price).sum();
    let text = format!("These {} items are often bought together", members.len());
    let detail = format!("mean pairwise co-purchase confidence {:.0}%", 100.0 * score);
    ItemBundle { items, total_price, score, reasons: vec![Reason::new("bundle", text, Some(detail))] }
}
