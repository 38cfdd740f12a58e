//! Co-purchase statistics as a bundle stores them (format 2): counts only.
//! Confidence, lift and popularity are derived on read with the very
//! operations mining uses, so they come back bit for bit, and the bundle
//! ships neither of its two largest float arrays.
//!
//! - `item_sessions[i]`: sessions that contain item `i`; `manifest.sessions`
//!   the sessions mined;
//! - each item's neighbours by ascending id, as gaps (`copurchase_neighbors`:
//!   the first id, then the difference to the one before: smaller numbers
//!   that compress better; measured −15 % brotli on Diginetica's lists),
//!   with `copurchase_support[k]`, the sessions that contain both ends of
//!   pair `k`. The reader puts each row back in mining's order, which the
//!   derived numbers fully determine.

use super::{CoPurchase, ItemAttributes};
use crate::error::{Error, Result};
use std::cmp::Ordering;

/// Mining's order of an item's neighbours: confidence, then lift, both
/// descending, then id.
pub fn neighbour_order(a: (u32, f32, f32), b: (u32, f32, f32)) -> Ordering {
    b.1.total_cmp(&a.1).then(b.2.total_cmp(&a.2)).then(a.0.cmp(&b.0))
}

/// Each row's neighbours in storage order, ids as gaps, with their support.
/// A broken index (a test writing a bad bundle on purpose) is written as it is.
pub fn id_gaps(cp: &CoPurchase) -> (Vec<u32>, Vec<u32>) {
    let nnz = cp.neighbors.len();
    let valid = cp.support.len() == nnz
        && cp.offsets.first() == Some(&0)
        && cp.offsets.last() == Some(&(nnz as u32))
        && cp.offsets.windows(2).all(|w| w[0] <= w[1]);
    if !valid {
        return (cp.neighbors.clone(), cp.support.clone());
    }
    let mut gaps = Vec::with_capacity(cp.neighbors.len());
    let mut support = Vec::with_capacity(cp.support.len());
    for item in 0..cp.offsets.len().saturating_sub(1) {
        let r = cp.range(item);
        let mut row: Vec<(u32, u32)> =
            cp.neighbors[r.clone()].iter().copied().zip(cp.support[r].iter().copied()).collect();
        row.sort_unstable();
        let mut previous = None;
        for (id, s) in row {
            gaps.push(previous.map_or(id, |p| id - p));
            support.push(s);
            previous = Some(id);
        }
    }
    (gaps, support)
}

/// Gaps back to ids (`offsets` already checked to be a valid CSR index).
/// Ids must strictly increase within a row and stay below `n`.
pub fn ids_from_gaps(offsets: &[u32], gaps: &[u32], n: usize) -> Result<Vec<u32>> {
    let mut ids = Vec::with_capacity(gaps.len());
    for (row, w) in offsets.windows(2).enumerate() {
        let mut id: u64 = 0;
        for (i, &g) in gaps[w[0] as usize..w[1] as usize].iter().enumerate() {
            if i > 0 && g == 0 {
                return Err(Error::BundleInvalid(format!("copurchase_neighbors repeats a neighbour of row {row}")));
            }
            id += g as u64;
            if id >= n as u64 {
                return Err(Error::BundleInvalid(format!("copurchase_neighbors holds id {id}, out of range 0..{n}")));
            }
            ids.push(id as u32);
        }
    }
    Ok(ids)
}

/// P(to | from) and lift, as `mining::mine` computes them.
pub fn confidence_and_lift(support: u32, from_sessions: u32, to_sessions: u32, sessions: u64) -> (f32, f32) {
    let confidence = support as f32 / from_sessions as f32;
    let lift = confidence / (to_sessions as f32 / sessions as f32);
    (confidence, lift)
}

/// Share of sessions containing each item, as mining computes it.
pub fn popularity(item_sessions: &[u32], sessions: u64) -> Vec<f32> {
    item_sessions.iter().map(|&c| c as f32 / sessions as f32).collect()
}

/// Fill in confidence, lift and popularity from the counts, checking that
/// every count is possible (so each derived number is finite and in range).
pub fn derive(
    cp: &mut CoPurchase,
    attributes: &mut ItemAttributes,
    item_sessions: &[u32],
    sessions: u64,
) -> Result<()> {
    let invalid = |m: String| Err(Error::BundleInvalid(m));
    if sessions == 0 {
        return invalid("manifest.sessions must be at least 1".into());
    }
    if let Some(i) = item_sessions.iter().position(|&c| c as u64 > sessions) {
        return invalid(format!("item_sessions[{i}] = {} exceeds the {sessions} sessions mined", item_sessions[i]));
    }
    cp.confidence.clear();
    cp.lift.clear();
    cp.confidence.reserve(cp.neighbors.len());
    cp.lift.reserve(cp.neighbors.len());
    let mut row = Vec::new();
    for from in 0..item_sessions.len() {
        row.clear();
        for k in cp.range(from) {
            let (to, support) = (cp.neighbors[k] as usize, cp.support[k]);
            let most = item_sessions[from].min(item_sessions[to]);
            if support == 0 || support > most {
                return invalid(format!("copurchase_support[{k}] = {support} is outside 1..={most}"));
            }
            let (confidence, lift) = confidence_and_lift(support, item_sessions[from], item_sessions[to], sessions);
            row.push((to as u32, support, confidence, lift));
        }
        // A total order (ties end on the id), so the unstable sort gives mining's order.
        row.sort_unstable_by(|a, b| neighbour_order((a.0, a.2, a.3), (b.0, b.2, b.3)));
        let start = cp.range(from).start;
        for (k, &(to, support, confidence, lift)) in row.iter().enumerate() {
            cp.neighbors[start + k] = to;
            cp.support[start + k] = support;
            cp.confidence.push(confidence);
            cp.lift.push(lift);
        }
    }
    attributes.popularity = popularity(item_sessions, sessions);
    Ok(())
}

/// Counts behind a format-1 bundle's floats, for `edgerec repack`: each
/// item's sessions are its popularity times the sessions mined, rounded
/// (exact below 2^24 sessions). `None` when the result does not give back
/// the stored confidence, lift and popularity exactly.
pub fn recover_counts(cp: &CoPurchase, attributes: &ItemAttributes, sessions: u64) -> Option<Vec<u32>> {
    if sessions == 0 || sessions >= 1 << 24 {
        return None;
    }
    let counts: Vec<u32> = attributes.popularity.iter().map(|&p| (p as f64 * sessions as f64).round() as u32).collect();
    let mut check = cp.clone();
    let mut attrs = attributes.clone();
    derive(&mut check, &mut attrs, &counts, sessions).ok()?;
    let same = |a: &[f32], b: &[f32]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
    (same(&check.confidence, &cp.confidence)
        && same(&check.lift, &cp.lift)
        && same(&attrs.popularity, &attributes.popularity))
    .then_some(counts)
}
