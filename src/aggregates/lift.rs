//! Experiment results from released aggregates (docs/design.md §7): per arm the
//! attach rate, conversion, revenue per visitor, AOV and offer CTR, each
//! with a 95% interval that counts both the sampling error and the privacy
//! noise, and the lift of every arm over the holdout.
//!
//! Per-visitor metrics are over *exposed* visitors: shoppers who reached a
//! slot of the experiment (holdout included), so arms compare like for like.
//! Sampling variances use the clipping bounds: a per-visitor value in
//! [0, c] with mean μ has variance at most μ(c − μ), so intervals are
//! conservative.

use crate::aggregates::released::{Estimate, Released};
use crate::report::mechanism::{CELL_METRICS, VISIT_METRICS};
use serde::Serialize;
use std::collections::BTreeSet;

/// z of a two-sided 95% interval.
pub const Z95: f64 = 1.959964;

/// A ratio and its standard error (None when the denominator is not
/// clearly above its noise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratio {
    pub value: f64,
    pub se: f64,
}

impl Ratio {
    /// numerator / denominator, with the numerator's per-unit values in
    /// [0, cap] (sampling variance bound) and both sums' noise variances.
    pub fn of(num: Estimate, den: Estimate, cap: f64) -> Option<Ratio> {
        let d = den.sum;
        if d <= 0.0 || d < 2.0 * den.variance.sqrt() {
            return None;
        }
        let mean = (num.sum / d).clamp(0.0, cap);
        let sampling = d * mean * (cap - mean);
        let se = ((sampling + num.variance) + mean * mean * den.variance).sqrt() / d;
        Some(Ratio { value: num.sum / d, se })
    }

    pub fn low(&self) -> f64 {
        self.value - Z95 * self.se
    }

    pub fn high(&self) -> f64 {
        self.value + Z95 * self.se
    }

    /// Relative lift over `base`: a/b − 1 by the delta method.
    pub fn lift_over(&self, base: &Ratio) -> Option<Ratio> {
        if base.value <= 0.0 {
            return None;
        }
        let r = self.value / base.value;
        let se = ((self.se / base.value).powi(2) + (r * base.se / base.value).powi(2)).sqrt();
        Some(Ratio { value: r - 1.0, se })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmResult {
    pub arm: String,
    /// An arm with visits but no offer cells: it showed nothing.
    pub holdout: bool,
    /// Device-days reported (exact: every report carries its arm's row).
    pub reports: u64,
    pub exposed: Estimate,
    pub conversion: Option<Ratio>,
    pub revenue_per_visitor: Option<Ratio>,
    pub aov: Option<Ratio>,
    pub attach_rate: Option<Ratio>,
    pub ctr: Option<Ratio>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentResult {
    pub experiment: String,
    pub days: Vec<String>,
    pub arms: Vec<ArmResult>,
    /// Per day, the same results (for the plots over time).
    pub by_day: Vec<(String, Vec<ArmResult>)>,
}

pub fn add(a: Estimate, b: Estimate) -> Estimate {
    Estimate { sum: a.sum + b.sum, variance: a.variance + b.variance }
}

fn cap(metrics: &[crate::report::mechanism::Metric], name: &str) -> f64 {
    metrics.iter().find(|m| m.name == name).map_or(1.0, |m| m.cell_clip.min(m.total_clip))
}

fn arm_result(r: &Released, experiment: &str, arm: &str, day: Option<&str>) -> ArmResult {
    let on_day = |d: &str| day.is_none_or(|x| x == d);
    let visits: Vec<_> =
        r.visits.iter().filter(|v| v.experiment == experiment && v.arm == arm && on_day(&v.day)).collect();
    let cells: Vec<_> = r
        .cells
        .iter()
        .filter(|c| c.experiment.as_deref() == Some(experiment) && c.arm.as_deref() == Some(arm) && on_day(&c.day))
        .collect();
    let sum_v = |f: fn(&crate::report::mechanism::VisitValues<Estimate>) -> Estimate| {
        visits.iter().fold(Estimate::default(), |s, v| add(s, f(&v.values)))
    };
    let sum_c = |f: fn(&crate::report::mechanism::CellValues<Estimate>) -> Estimate| {
        cells.iter().fold(Estimate::default(), |s, c| add(s, f(&c.values)))
    };
    let exposed = sum_v(|v| v.exposed);
    let (converted, orders, revenue) = (sum_v(|v| v.converted), sum_v(|v| v.orders), sum_v(|v| v.revenue));
    let (impressions, clicks, attached) = (sum_c(|c| c.impressions), sum_c(|c| c.clicks), sum_c(|c| c.add_to_carts));
    let visit_revenue_cap = cap(&VISIT_METRICS, "revenue");
    ArmResult {
        arm: arm.to_string(),
        holdout: !r.cells.iter().any(|c| c.experiment.as_deref() == Some(experiment) && c.arm.as_deref() == Some(arm)),
        reports: visits.iter().map(|v| v.reports).sum(),
        exposed,
        conversion: Ratio::of(converted, exposed, 1.0),
        revenue_per_visitor: Ratio::of(revenue, exposed, visit_revenue_cap),
        aov: Ratio::of(revenue, orders, visit_revenue_cap),
        attach_rate: Ratio::of(attached, exposed, cap(&CELL_METRICS, "addToCarts") * 2.0),
        ctr: Ratio::of(clicks, impressions, 1.0),
    }
}

/// Every experiment in the aggregates, arm by arm, overall and per day.
pub fn experiment_results(r: &Released) -> Vec<ExperimentResult> {
    let experiments: BTreeSet<&str> = r.visits.iter().map(|v| v.experiment.as_str()).collect();
    experiments
        .into_iter()
        .map(|e| {
            let rows = r.visits.iter().filter(|v| v.experiment == e);
            let arms: BTreeSet<&str> = rows.clone().map(|v| v.arm.as_str()).collect();
            let days: BTreeSet<&str> = rows.map(|v| v.day.as_str()).collect();
            ExperimentResult {
                experiment: e.to_string(),
                days: days.iter().map(|d| d.to_string()).collect(),
                arms: arms.iter().map(|a| arm_result(r, e, a, None)).collect(),
                by_day: days
                    .iter()
                    .map(|d| (d.to_string(), arms.iter().map(|a| arm_result(r, e, a, Some(d))).collect()))
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_counts_sampling_and_noise() {
        let est = |sum, variance| Estimate { sum, variance };
        let r = Ratio::of(est(100.0, 0.0), est(1000.0, 0.0), 1.0).unwrap();
        assert!((r.value - 0.1).abs() < 1e-12);
        assert!((r.se - (0.1f64 * 0.9 / 1000.0).sqrt()).abs() < 1e-12, "binomial without noise");
        let noisy = Ratio::of(est(100.0, 400.0), est(1000.0, 0.0), 1.0).unwrap();
        assert!(noisy.se > r.se);
        assert_eq!(Ratio::of(est(5.0, 0.0), est(10.0, 100.0), 1.0), None, "denominator within its noise");
        let lift = Ratio { value: 0.12, se: 0.0 }.lift_over(&Ratio { value: 0.10, se: 0.0 }).unwrap();
        assert!((lift.value - 0.2).abs() < 1e-12);
    }
}
