//! `edgerec drift`: has the store moved away from the model? From the
//! drift rows of the released aggregates (one per model and day):
//!
//! - the **population stability index** of the model's top score between a
//!   baseline period and the recent one, PSI = Σ (pᵢ − qᵢ) ln(pᵢ / qᵢ) over
//!   the histogram's bins, alerting above 0.2 (the usual practice: < 0.1
//!   stable, 0.1–0.2 moderate, > 0.2 shifted). Each bin's sum carries
//!   privacy noise and sampling error; the interval is the 2.5 and 97.5
//!   percentiles of PSI over draws of both, and the alert needs its lower
//!   end above 0.2, so noise alone does not alert.
//! - the share of viewed items the bundle does not know (new products),
//!   with its 95 % interval, saying "retrain" when its lower end passes
//!   the threshold.

use super::lift::{add, Ratio};
use crate::aggregates::released::{Estimate, Released, ReleasedDrift};
use crate::error::{Error, Result};
use crate::hashing::{hash64, unit};
use crate::report::mechanism::DRIFT_METRICS;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The PSI above which the score distribution has shifted.
pub const PSI_ALERT: f64 = 0.2;
/// Draws behind the PSI interval.
const DRAWS: usize = 2000;
/// A bin share below this counts as this (an empty bin's log is infinite).
const FLOOR: f64 = 1e-4;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub model: Option<String>,
    pub baseline_days: Vec<String>,
    pub recent_days: Vec<String>,
    /// Bin shares of the top score, baseline and recent.
    pub baseline: Vec<f64>,
    pub recent: Vec<f64>,
    pub psi: f64,
    pub psi_low: f64,
    pub psi_high: f64,
    pub psi_alert: bool,
    /// Share of views of items the bundle does not know, recent period.
    pub unknown: Option<Ratio>,
    pub retrain: bool,
}

fn sum_rows(rows: &[&ReleasedDrift]) -> (Estimate, Estimate, Vec<Estimate>) {
    let mut bins = vec![Estimate::default(); rows.first().map_or(0, |r| r.top_score.len())];
    let (mut views, mut unknown) = (Estimate::default(), Estimate::default());
    for r in rows {
        views = add(views, r.views);
        unknown = add(unknown, r.unknown_views);
        for (b, x) in bins.iter_mut().zip(&r.top_score) {
            *b = add(*b, *x);
        }
    }
    (views, unknown, bins)
}

fn shares(counts: &[f64]) -> Vec<f64> {
    let clipped: Vec<f64> = counts.iter().map(|c| c.max(0.0)).collect();
    let total: f64 = clipped.iter().sum::<f64>().max(1.0);
    clipped.iter().map(|c| (c / total).max(FLOOR)).collect()
}

pub fn psi(baseline: &[f64], recent: &[f64]) -> f64 {
    baseline.iter().zip(recent).map(|(q, p)| (p - q) * (p / q).ln()).sum()
}

/// A standard normal from a counter (Box–Muller over two hashed uniforms).
fn normal(i: usize, j: usize) -> f64 {
    let u = |k: &str| unit(hash64(&["edgerec-drift", &i.to_string(), &j.to_string(), k])).max(1e-300);
    (-2.0 * u("r").ln()).sqrt() * (std::f64::consts::TAU * u("t")).cos()
}

/// Bin counts drawn from their noise and sampling error (the sampling
/// variance of a bin's count is about the count itself).
fn draw(bins: &[Estimate], i: usize, offset: usize) -> Vec<f64> {
    bins.iter().enumerate().map(|(j, b)| b.sum + (b.variance + b.sum.max(0.0)).sqrt() * normal(i, offset + j)).collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Drift of the model with the most recent reports: its `recent` last days
/// of rows against up to `baseline` days before them.
pub fn drift(r: &Released, recent: usize, baseline: usize, unknown_threshold: f64) -> Result<Drift> {
    let mut reports: BTreeMap<Option<&str>, u64> = BTreeMap::new();
    let last_day = r.drift.iter().map(|d| d.day.as_str()).max();
    for d in r.drift.iter().filter(|d| Some(d.day.as_str()) == last_day) {
        *reports.entry(d.model.as_deref()).or_default() += d.reports;
    }
    let Some((&model, _)) = reports.iter().max_by_key(|(_, n)| **n) else {
        return Err(Error::InvalidOptions(
            "the aggregates hold no drift rows (reports of version 2 carry them)".into(),
        ));
    };
    let rows: Vec<&ReleasedDrift> = r.drift.iter().filter(|d| d.model.as_deref() == model).collect();
    let days: Vec<&str> = rows.iter().map(|d| d.day.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
    if days.len() < recent + 1 {
        return Err(Error::InvalidOptions(format!(
            "drift needs at least {} days of rows of the model (a baseline and {recent} recent), the aggregates have {}",
            recent + 1,
            days.len()
        )));
    }
    let (before, after) = days.split_at(days.len() - recent);
    let before = &before[before.len().saturating_sub(baseline)..];
    let of = |period: &[&str]| -> Vec<&ReleasedDrift> {
        rows.iter().copied().filter(|d| period.contains(&d.day.as_str())).collect()
    };
    let (_, _, base_bins) = sum_rows(&of(before));
    let (views, unknown, recent_bins) = sum_rows(&of(after));
    let sums = |bins: &[Estimate]| bins.iter().map(|b| b.sum).collect::<Vec<_>>();
    let (q, p) = (shares(&sums(&base_bins)), shares(&sums(&recent_bins)));
    let value = psi(&q, &p);
    let mut draws: Vec<f64> = (0..DRAWS)
        .map(|i| psi(&shares(&draw(&base_bins, i, 0)), &shares(&draw(&recent_bins, i, base_bins.len()))))
        .collect();
    draws.sort_by(f64::total_cmp);
    let (psi_low, psi_high) = (percentile(&draws, 0.025), percentile(&draws, 0.975));
    let unknown = Ratio::of(unknown, views, DRIFT_METRICS[1].cell_clip);
    Ok(Drift {
        model: model.map(str::to_string),
        baseline_days: before.iter().map(|d| d.to_string()).collect(),
        recent_days: after.iter().map(|d| d.to_string()).collect(),
        baseline: q,
        recent: p,
        psi: value,
        psi_low,
        psi_high,
        psi_alert: psi_low > PSI_ALERT,
        retrain: unknown.is_some_and(|u| u.low() > unknown_threshold),
        unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_is_zero_for_equal_distributions_and_grows_with_the_shift() {
        let a = [0.2, 0.3, 0.3, 0.1, 0.1];
        assert!(psi(&a, &a).abs() < 1e-12);
        let slight = [0.22, 0.3, 0.28, 0.1, 0.1];
        let large = [0.6, 0.2, 0.1, 0.05, 0.05];
        assert!(psi(&a, &slight) < 0.01);
        assert!(psi(&a, &large) > PSI_ALERT);
    }
}
