//! Co-purchase mining: for each item, the items found in the same sessions
//! (baskets) more often than chance, with support, confidence and lift.

use crate::bundle::stats::neighbour_order;
use crate::bundle::CoPurchase;
use crate::error::{Error, Result};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MiningOptions {
    /// Fewest sessions a pair must share.
    pub min_support: u32,
    /// Smallest P(neighbour | item).
    pub min_confidence: f32,
    /// Smallest lift (1.0 = independent).
    pub min_lift: f32,
    /// Neighbours kept per item, by descending confidence.
    pub max_neighbors: usize,
    /// Distinct items per session counted into pairs (bounds the quadratic
    /// cost of a few enormous baskets).
    pub max_basket: usize,
}

impl Default for MiningOptions {
    fn default() -> Self {
        MiningOptions { min_support: 3, min_confidence: 0.02, min_lift: 1.5, max_neighbors: 50, max_basket: 100 }
    }
}

/// What mining found, for the bundle and the model card.
#[derive(Debug, Clone, PartialEq)]
pub struct Mined {
    pub copurchase: CoPurchase,
    /// Share of sessions containing each item.
    pub popularity: Vec<f32>,
    /// Sessions containing each item (what a bundle stores).
    pub item_sessions: Vec<u32>,
    pub sessions: usize,
}

/// Mine `sessions` (rows, any order, repeats allowed) over `n_items` rows.
pub fn mine(sessions: &[Vec<u32>], n_items: usize, opts: &MiningOptions) -> Result<Mined> {
    if sessions.is_empty() {
        return Err(Error::InvalidInput("no sessions to mine".into()));
    }
    let mut item_count = vec![0u32; n_items];
    let mut pair_count: HashMap<u64, u32> = HashMap::new();
    let mut basket: Vec<u32> = Vec::new();
    for s in sessions {
        basket.clear();
        for &r in s {
            if r as usize >= n_items {
                return Err(Error::InvalidInput(format!("row {r} out of range 0..{n_items}")));
            }
            if !basket.contains(&r) {
                basket.push(r);
            }
        }
        for &r in &basket {
            item_count[r as usize] += 1;
        }
        basket.truncate(opts.max_basket);
        basket.sort_unstable();
        for (i, &a) in basket.iter().enumerate() {
            for &b in &basket[i + 1..] {
                *pair_count.entry(((a as u64) << 32) | b as u64).or_insert(0) += 1;
            }
        }
    }
    let total = sessions.len() as f32;
    let mut lists: Vec<Vec<(u32, u32, f32, f32)>> = vec![Vec::new(); n_items];
    for (&key, &support) in &pair_count {
        if support < opts.min_support {
            continue;
        }
        let (a, b) = ((key >> 32) as u32, key as u32);
        for (from, to) in [(a, b), (b, a)] {
            let confidence = support as f32 / item_count[from as usize] as f32;
            let lift = confidence / (item_count[to as usize] as f32 / total);
            if confidence >= opts.min_confidence && lift >= opts.min_lift {
                lists[from as usize].push((to, support, confidence, lift));
            }
        }
    }
    let mut cp = CoPurchase { offsets: vec![0], ..CoPurchase::default() };
    for list in &mut lists {
        list.sort_by(|x, y| neighbour_order((x.0, x.2, x.3), (y.0, y.2, y.3)));
        list.truncate(opts.max_neighbors);
        for &(to, support, confidence, lift) in list.iter() {
            cp.neighbors.push(to);
            cp.support.push(support);
            cp.confidence.push(confidence);
            cp.lift.push(lift);
        }
        cp.offsets.push(cp.neighbors.len() as u32);
    }
    let popularity = item_count.iter().map(|&c| c as f32 / total).collect();
    Ok(Mined { copurchase: cp, popularity, item_sessions: item_count, sessions: sessions.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_get_support_confidence_and_lift() {
        // 0 and 1 always together; 2 alone; 3 with 0 once.
        let sessions = vec![vec![0, 1], vec![0, 1, 1], vec![2], vec![0, 1, 3], vec![2]];
        let opts = MiningOptions { min_support: 1, min_confidence: 0.0, min_lift: 0.0, ..Default::default() };
        let m = mine(&sessions, 4, &opts).unwrap();
        let r = m.copurchase.range(0);
        let n: Vec<u32> = m.copurchase.neighbors[r.clone()].to_vec();
        assert_eq!(n, vec![1, 3]);
        assert_eq!(m.copurchase.support[r.start], 3);
        assert!((m.copurchase.confidence[r.start] - 1.0).abs() < 1e-6);
        // lift(0→1) = 1 / (3/5)
        assert!((m.copurchase.lift[r.start] - 5.0 / 3.0).abs() < 1e-5);
        assert!(m.copurchase.range(2).is_empty());
        assert!((m.popularity[2] - 0.4).abs() < 1e-6);
    }

    #[test]
    fn rows_out_of_range_are_rejected() {
        assert_eq!(mine(&[vec![5]], 3, &MiningOptions::default()).unwrap_err().code(), "INVALID_INPUT");
    }
}

/// What mining produced survives the bundle: its stored statistics derive
/// back bit for bit (`bundle::stats`).
#[cfg(test)]
mod stored_statistics {
    use super::*;
    use crate::bundle::stats::{derive, id_gaps, ids_from_gaps, recover_counts};
    use crate::bundle::{CoPurchase, ItemAttributes};
    use crate::error::Error;

    fn mined() -> (Mined, Vec<u32>) {
        let sessions = vec![vec![0, 1], vec![0, 1, 1], vec![2], vec![0, 1, 3], vec![2], vec![3, 0]];
        let opts = MiningOptions { min_support: 1, min_confidence: 0.0, min_lift: 0.0, ..Default::default() };
        (mine(&sessions, 4, &opts).unwrap(), vec![4, 3, 2, 2])
    }

    #[test]
    fn derived_statistics_equal_mined_ones_bit_for_bit() {
        let (m, counts) = mined();
        let mut cp = CoPurchase { confidence: vec![], lift: vec![], ..m.copurchase.clone() };
        let mut attrs = ItemAttributes::default();
        derive(&mut cp, &mut attrs, &counts, 6).unwrap();
        assert_eq!(cp, m.copurchase);
        assert_eq!(attrs.popularity, m.popularity);
        let attributes = ItemAttributes { popularity: m.popularity.clone(), ..Default::default() };
        assert_eq!(recover_counts(&m.copurchase, &attributes, 6), Some(counts));
    }

    #[test]
    fn neighbours_travel_as_id_gaps_and_come_back_in_mining_order() {
        let (m, counts) = mined();
        let (gaps, support) = id_gaps(&m.copurchase);
        let neighbors = ids_from_gaps(&m.copurchase.offsets, &gaps, 4).unwrap();
        let mut cp = CoPurchase { neighbors, support, offsets: m.copurchase.offsets.clone(), ..Default::default() };
        derive(&mut cp, &mut ItemAttributes::default(), &counts, 6).unwrap();
        assert_eq!(cp, m.copurchase);
        // A repeated neighbour, or a gap past the catalog, is refused.
        assert!(ids_from_gaps(&[0, 2], &[1, 0], 4).is_err());
        assert!(ids_from_gaps(&[0, 2], &[1, 3], 4).is_err());
    }

    #[test]
    fn impossible_counts_are_invalid() {
        let (m, counts) = mined();
        let mut attrs = ItemAttributes::default();
        let mut over = m.copurchase.clone();
        over.support[0] = 5; // more than either item's sessions
        assert!(matches!(derive(&mut over, &mut attrs, &counts, 6), Err(Error::BundleInvalid(_))));
        let mut zero = m.copurchase.clone();
        zero.support[0] = 0;
        assert!(matches!(derive(&mut zero, &mut attrs, &counts, 6), Err(Error::BundleInvalid(_))));
        let mut cp = m.copurchase.clone();
        assert!(matches!(derive(&mut cp, &mut attrs, &counts, 0), Err(Error::BundleInvalid(_))));
        assert!(matches!(derive(&mut cp, &mut attrs, &[9, 3, 2, 2], 6), Err(Error::BundleInvalid(_))));
    }
}
