//! The report and the mechanism that makes it (DESIGN §8). One report
//! covers one shopper-day under one policy:
//!
//! 1. **Domain.** The cells are fixed by the policy and the shopper's arms,
//!    never by behaviour: every (slot, offer) the shopper's arm can show,
//!    and one visit row per experiment. A cell the shopper never touched is
//!    reported as 0 plus noise, so which cells appear reveals nothing.
//! 2. **Clipping.** Each metric is a block of values (one per cell or
//!    experiment). Each value is clipped to `cell_clip` and the block's sum
//!    to `total_clip` (revenue first rounded to whole currency units), so
//!    any two shopper-days differ in a block by at most
//!    Δ = min(2·total_clip, values·cell_clip) in L1.
//! 3. **Noise.** Each value gets discrete Laplace noise, P(x) ∝ q^|x| with
//!    q = exp(−ε_m/Δ): the geometric mechanism, ε_m-differentially private
//!    for L1 sensitivity Δ (Ghosh, Roughgarden, Sundararajan 2009). ε_m is
//!    the metric's `share` of the report's ε; by composition the report is
//!    ε-DP *locally*: anyone who sees it, the collector included, learns
//!    about the shopper-day at most what ε allows.
//! 4. **Budget.** The device keeps ε spent per day and makes no report that
//!    would take a day past `epsilonPerDay` (default 1).
//!
//! What else a report shows: its random id, the UTC day, the policy id, the
//! shopper's arm per experiment (drawn from the key hash, independent of
//! behaviour), and that the device had counted activity that day (reports
//! are only made for days with something pending).

use super::ledger::{CellCounts, DayCounts, VisitCounts};
use super::noise::{discrete_laplace_variance, SecureRandom};
use crate::decide::compile::Policy;
use crate::decide::experiment::assign;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

pub const REPORT_VERSION: u32 = 1;
pub const MECHANISM: &str = "discrete-laplace";
/// Cells one report may hold (a 100-slot policy can have more: refused).
pub const MAX_REPORT_CELLS: usize = 1000;

/// How a metric is clipped and how much of ε it gets.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub cell_clip: f64,
    pub total_clip: f64,
    pub share: f64,
}

const fn metric(name: &'static str, cell_clip: f64, total_clip: f64, share: f64) -> Metric {
    Metric { name, cell_clip, total_clip, share }
}

/// Per (experiment, arm, slot, offer). Shares sum to 1 with VISIT_METRICS.
pub const CELL_METRICS: [Metric; 5] = [
    metric("impressions", 3.0, 6.0, 0.20),
    metric("clicks", 1.0, 2.0, 0.30),
    metric("addToCarts", 1.0, 2.0, 0.10),
    metric("purchases", 1.0, 2.0, 0.10),
    metric("revenue", 50.0, 100.0, 0.10),
];

/// Per (experiment, arm): the visitor-level outcomes lift is measured on.
pub const VISIT_METRICS: [Metric; 4] = [
    metric("exposed", 1.0, f64::INFINITY, 0.05),
    metric("converted", 1.0, f64::INFINITY, 0.05),
    metric("orders", 2.0, f64::INFINITY, 0.05),
    metric("revenue", 200.0, f64::INFINITY, 0.05),
];

/// The store's reporting settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportSettings {
    #[serde(default = "one")]
    pub epsilon_per_day: f64,
    /// ε of one report; a day can have `epsilonPerDay / epsilon` reports.
    #[serde(default = "one")]
    pub epsilon: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings { epsilon_per_day: 1.0, epsilon: 1.0 }
    }
}

impl ReportSettings {
    pub fn parse(json: &str) -> Result<ReportSettings> {
        let s: ReportSettings =
            serde_json::from_str(json).map_err(|e| Error::InvalidOptions(format!("reporting: {e}")))?;
        let ok = |x: f64| x.is_finite() && (0.01..=10.0).contains(&x);
        if !ok(s.epsilon_per_day) || !ok(s.epsilon) || s.epsilon > s.epsilon_per_day {
            return Err(Error::InvalidOptions(
                "reporting: epsilon and epsilonPerDay must be in 0.01..=10, epsilon ≤ epsilonPerDay".into(),
            ));
        }
        Ok(s)
    }
}

/// The five cell metrics, in CELL_METRICS order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellValues<T> {
    pub impressions: T,
    pub clicks: T,
    pub add_to_carts: T,
    pub purchases: T,
    pub revenue: T,
}

/// The four visit metrics, in VISIT_METRICS order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitValues<T> {
    pub exposed: T,
    pub converted: T,
    pub orders: T,
    pub revenue: T,
}

impl<T: Copy> CellValues<T> {
    pub fn from_array([impressions, clicks, add_to_carts, purchases, revenue]: [T; 5]) -> Self {
        CellValues { impressions, clicks, add_to_carts, purchases, revenue }
    }
    pub fn to_array(&self) -> [T; 5] {
        [self.impressions, self.clicks, self.add_to_carts, self.purchases, self.revenue]
    }
}

impl<T: Copy> VisitValues<T> {
    pub fn from_array([exposed, converted, orders, revenue]: [T; 4]) -> Self {
        VisitValues { exposed, converted, orders, revenue }
    }
    pub fn to_array(&self) -> [T; 4] {
        [self.exposed, self.converted, self.orders, self.revenue]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportCell {
    /// None outside experiments.
    pub experiment: Option<String>,
    pub arm: Option<String>,
    pub slot: String,
    pub offer: String,
    #[serde(flatten)]
    pub values: CellValues<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportVisit {
    pub experiment: String,
    pub arm: String,
    #[serde(flatten)]
    pub values: VisitValues<i64>,
}

/// The noise every value of a metric carries, so the collector can state
/// the error of any sum (variances add).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoiseVariance {
    pub cells: CellValues<f64>,
    pub visits: VisitValues<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mechanism {
    pub name: String,
    pub epsilon: f64,
    pub variance: NoiseVariance,
}

/// Everything that leaves the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub version: u32,
    pub id: String,
    pub day: String,
    pub policy: String,
    pub mechanism: Mechanism,
    pub cells: Vec<ReportCell>,
    pub visits: Vec<ReportVisit>,
}

/// (experiment, arm) of a cell, None outside experiments; slot; offer.
type CellKey = (Option<(String, String)>, String, String);

/// The fixed domain: cells the shopper's arms can show, and visit rows.
struct Domain {
    cells: Vec<CellKey>,
    visits: Vec<(String, String)>,
}

fn domain(policy: &Policy, shopper_key: &str) -> Result<Domain> {
    let mut cells = Vec::new();
    for slot in &policy.slots {
        let arm = slot.experiment.map(|e| {
            let exp = &policy.experiments[e];
            (exp, &exp.arms[assign(exp, shopper_key)])
        });
        if arm.is_some_and(|(_, a)| a.holdout) {
            continue;
        }
        let offers = arm.and_then(|(_, a)| a.offers.as_deref()).unwrap_or(&slot.offers);
        let names = arm.map(|(e, a)| (e.id.clone(), a.id.clone()));
        for &o in offers.iter().chain(slot.fallback.iter()) {
            let cell = (names.clone(), slot.id.clone(), policy.offers[o].id.clone());
            if !cells.contains(&cell) {
                cells.push(cell);
            }
        }
    }
    if cells.len() > MAX_REPORT_CELLS {
        return Err(Error::InvalidOptions(format!(
            "policy {:?} would report {} cells, more than {MAX_REPORT_CELLS}",
            policy.id,
            cells.len()
        )));
    }
    let visits = policy.experiments.iter().map(|e| (e.id.clone(), e.arms[assign(e, shopper_key)].id.clone())).collect();
    Ok(Domain { cells, visits })
}

/// Clip one metric's block: each value, then the running total.
fn clip_block(values: &mut [f64], m: &Metric) {
    let mut room = m.total_clip;
    for v in values.iter_mut() {
        *v = v.round().clamp(0.0, m.cell_clip).min(room);
        room -= *v;
    }
}

/// L1 sensitivity of a block of `n` values.
pub fn sensitivity(m: &Metric, n: usize) -> f64 {
    (2.0 * m.total_clip).min(n as f64 * m.cell_clip)
}

/// The discrete Laplace parameter q of a metric for a report of ε.
fn noise_q(m: &Metric, n: usize, epsilon: f64) -> f64 {
    (-(m.share * epsilon) / sensitivity(m, n).max(1.0)).exp()
}

/// Clip and noise a matrix of values (rows = cells, columns = metrics).
fn privatise<const K: usize>(
    rows: &[[f64; K]],
    metrics: &[Metric; K],
    epsilon: f64,
    rng: &mut SecureRandom,
) -> Result<(Vec<[i64; K]>, [f64; K])> {
    let mut out = vec![[0i64; K]; rows.len()];
    let mut variance = [0.0; K];
    for (k, m) in metrics.iter().enumerate() {
        let mut block: Vec<f64> = rows.iter().map(|r| r[k]).collect();
        clip_block(&mut block, m);
        let q = noise_q(m, rows.len(), epsilon);
        variance[k] = discrete_laplace_variance(q);
        for (row, v) in out.iter_mut().zip(&block) {
            row[k] = *v as i64 + rng.discrete_laplace(q)?;
        }
    }
    Ok((out, variance))
}

fn cell_row(c: &CellCounts) -> [f64; 5] {
    [c.impressions as f64, c.clicks as f64, c.add_to_carts as f64, c.purchases as f64, c.revenue]
}

fn visit_row(v: &VisitCounts) -> [f64; 4] {
    [v.exposed as u8 as f64, v.converted as u8 as f64, v.orders as f64, v.revenue]
}

/// The report of one shopper-day.
pub fn build_report(
    policy: &Policy,
    shopper_key: &str,
    counts: &DayCounts,
    epsilon: f64,
    rng: &mut SecureRandom,
) -> Result<Report> {
    let domain = domain(policy, shopper_key)?;
    let cell_rows: Vec<[f64; 5]> = domain
        .cells
        .iter()
        .map(|(_, slot, offer)| counts.cells.get(slot).and_then(|o| o.get(offer)).map(cell_row).unwrap_or_default())
        .collect();
    let visit_rows: Vec<[f64; 4]> =
        domain.visits.iter().map(|(e, _)| counts.visits.get(e).map(visit_row).unwrap_or_default()).collect();
    let (cell_values, cell_var) = privatise(&cell_rows, &CELL_METRICS, epsilon, rng)?;
    let (visit_values, visit_var) = privatise(&visit_rows, &VISIT_METRICS, epsilon, rng)?;
    let cells = domain
        .cells
        .into_iter()
        .zip(cell_values)
        .map(|((names, slot, offer), v)| {
            let (experiment, arm) = names.unzip();
            ReportCell { experiment, arm, slot, offer, values: CellValues::from_array(v) }
        })
        .collect();
    let visits = domain
        .visits
        .into_iter()
        .zip(visit_values)
        .map(|((experiment, arm), v)| ReportVisit { experiment, arm, values: VisitValues::from_array(v) })
        .collect();
    Ok(Report {
        version: REPORT_VERSION,
        id: rng.hex_id()?,
        day: counts.day.clone(),
        policy: policy.id.clone(),
        mechanism: Mechanism {
            name: MECHANISM.into(),
            epsilon,
            variance: NoiseVariance {
                cells: CellValues::from_array(cell_var),
                visits: VisitValues::from_array(visit_var),
            },
        },
        cells,
        visits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_one() {
        let total: f64 = CELL_METRICS.iter().chain(VISIT_METRICS.iter()).map(|m| m.share).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn clipping_bounds_each_value_and_the_block() {
        let m = CELL_METRICS[0];
        let mut block = vec![5.0, 2.4, 9.0, 1.0];
        clip_block(&mut block, &m);
        assert_eq!(block, vec![3.0, 2.0, 1.0, 0.0]);
        assert_eq!(sensitivity(&m, 1), 3.0);
        assert_eq!(sensitivity(&m, 10), 12.0);
        assert_eq!(sensitivity(&VISIT_METRICS[1], 2), 2.0);
    }
}
