//! The report and the mechanism that makes it (docs/design.md §8). One report
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
//!    about the shopper-day at most what ε allows. Under distributed noise
//!    each value instead gets a 1/c share of that draw (Pólya(1/c, q) minus
//!    another, c = the row's cohort), so only sums of at least c reports
//!    are ε-DP, and the collector is trusted with single reports: see
//!    [`NoiseModel`].
//! 4. **Budget.** The device keeps ε spent per day and makes no report that
//!    would take a day past `epsilonPerDay` (default 1).
//!
//! What else a report shows: its random id, the UTC day, the policy id, the
//! model's version id, the shopper's arm per experiment and side of the
//! model release (drawn from the key hash, independent of behaviour), and
//! that the device had counted activity that day (reports are only made for
//! days with something pending).
//!
//! Drift: two more blocks under the same budget and rules: the day's views
//! and views of items the bundle does not know (each clipped to 10), and a
//! one-hot histogram of the bin of the model's top score in the day's first
//! ranking (Δ = 2).

use super::ledger::{CellCounts, Day, DayCounts, DriftCounts, VisitCounts, TOP_SCORE_BINS};
use super::noise::{discrete_laplace_variance, SecureRandom};
use crate::decide::experiment::assign;
use crate::decide::Policy;
use crate::error::{Error, Result};
use crate::release::ReleasePlacement;
use serde::{Deserialize, Serialize};

/// Version 2 added the model's version id, the drift block and the
/// release's visit row; the collector still reads version 1.
pub const REPORT_VERSION: u32 = 2;
pub const MECHANISM: &str = "discrete-laplace";
pub const DISTRIBUTED_MECHANISM: &str = "distributed-discrete-laplace";
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
/// Counts are per shopper-day: an offer seen, clicked, added or bought at
/// least once (CTR is clickers over viewers), and at most one click, add and
/// purchase a day across offers, which keeps the sensitivity of the metrics
/// stores read most (CTR, take rate) at 2, and most of ε on clicks.
pub const CELL_METRICS: [Metric; 5] = [
    metric("impressions", 1.0, 3.0, 0.14),
    metric("clicks", 1.0, 1.0, 0.31),
    metric("addToCarts", 1.0, 1.0, 0.08),
    metric("purchases", 1.0, 1.0, 0.07),
    metric("revenue", 50.0, 100.0, 0.05),
];

/// Per (experiment, arm): the visitor-level outcomes lift is measured on.
/// Conversion has the largest share: it is what a model rollout decides
/// on (`release::RolloutMetric`'s default).
pub const VISIT_METRICS: [Metric; 4] = [
    metric("exposed", 1.0, f64::INFINITY, 0.05),
    metric("converted", 1.0, f64::INFINITY, 0.10),
    metric("orders", 2.0, f64::INFINITY, 0.05),
    metric("revenue", 200.0, f64::INFINITY, 0.05),
];

/// Per report, one row: the model's drift signals. A shopper-day views
/// more than 10 items rarely; clipping there keeps the unknown share's
/// noise small enough to read at a few thousand devices (distributed).
pub const DRIFT_METRICS: [Metric; 2] = [metric("views", 10.0, 10.0, 0.03), metric("unknownViews", 10.0, 10.0, 0.04)];

/// The top-score histogram: one value per bin, the day's bin 1 (Δ = 2).
pub const TOP_SCORE_METRIC: [Metric; 1] = [metric("topScore", 1.0, 1.0, 0.03)];

/// Who the noise protects against: the trust model of the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NoiseModel {
    /// Every report carries all the noise: ε-DP against anyone who sees it,
    /// the collector included. Sums are noisy in proportion to √reports.
    #[default]
    Local,
    /// Every value carries a 1/c share of the noise, c being the reports
    /// its row expects a day (`cohort` times the arm's weight share), so a
    /// released sum of at least c reports carries one full discrete Laplace
    /// and is ε-DP against its readers. The collector, which sees single
    /// reports, must be trusted to keep only sums. Sums are as accurate as
    /// central DP.
    Distributed,
    /// The clipped counts leave the device only as Prio3 shares for two
    /// aggregators run by different parties, with a proof that each value
    /// is in range; each aggregator adds a full discrete Laplace to its sum
    /// (`prio3`). Trusts that the two do not collude; sums as accurate as
    /// central DP (twice its variance).
    Prio3,
}

/// The store's reporting settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportSettings {
    #[serde(default = "one")]
    pub epsilon_per_day: f64,
    /// ε of one report; a day can have `epsilonPerDay / epsilon` reports.
    #[serde(default = "one")]
    pub epsilon: f64,
    #[serde(default)]
    pub mechanism: NoiseModel,
    /// Distributed only: the reports the store expects a day. A row of an
    /// experiment arm expects its weight share of them; the collector
    /// releases a row (and moves it) only by that many reports. Too high
    /// delays releases; too low adds noise in proportion.
    pub cohort: Option<u32>,
}

/// Cohorts accepted for distributed noise.
pub const COHORTS: std::ops::RangeInclusive<u32> = 2..=10_000_000;

fn one() -> f64 {
    1.0
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings { epsilon_per_day: 1.0, epsilon: 1.0, mechanism: NoiseModel::Local, cohort: None }
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
        match (s.mechanism, s.cohort) {
            (NoiseModel::Local | NoiseModel::Prio3, None) => Ok(s),
            (NoiseModel::Distributed, Some(m)) if COHORTS.contains(&m) => Ok(s),
            (NoiseModel::Local | NoiseModel::Prio3, Some(_)) => {
                Err(Error::InvalidOptions("reporting: cohort applies to the distributed mechanism only".into()))
            }
            (NoiseModel::Distributed, _) => Err(Error::InvalidOptions(format!(
                "reporting: the distributed mechanism needs a cohort in {}..={}",
                COHORTS.start(),
                COHORTS.end()
            ))),
        }
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
    /// Distributed noise: this row's values carry a 1/cohort share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<u32>,
    #[serde(flatten)]
    pub values: CellValues<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportVisit {
    pub experiment: String,
    pub arm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<u32>,
    #[serde(flatten)]
    pub values: VisitValues<i64>,
}

/// The drift row: views, unknown views and the top-score histogram
/// (`ledger::TOP_SCORE_EDGES`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftValues<T> {
    pub views: T,
    pub unknown_views: T,
    pub top_score: Vec<T>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDrift {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<u32>,
    #[serde(flatten)]
    pub values: DriftValues<i64>,
}

/// The variance of one full noise draw per metric: a value of a row with a
/// cohort c carries 1/c of it, so the collector can state the error of any
/// sum (variances add).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoiseVariance {
    pub cells: CellValues<f64>,
    pub visits: VisitValues<f64>,
    /// Per metric (the histogram's bins share one variance).
    pub drift: DriftValues<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mechanism {
    pub name: String,
    pub epsilon: f64,
    /// Distributed noise: the store's expected reports a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<u32>,
    pub variance: NoiseVariance,
}

/// Everything that leaves the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub version: u32,
    pub id: String,
    pub day: Day,
    pub policy: String,
    /// The version id of the bundle that made the counts.
    pub model: String,
    pub mechanism: Mechanism,
    pub cells: Vec<ReportCell>,
    pub visits: Vec<ReportVisit>,
    pub drift: ReportDrift,
}

/// (experiment, arm) of a cell, None outside experiments; slot; offer.
pub(crate) type CellKey = (Option<(String, String)>, String, String);

/// The fixed domain: cells the shopper's arms can show, and visit rows,
/// each with the share of shoppers its row covers (the arm's weight share,
/// 1 outside experiments).
pub(crate) struct Domain {
    pub(crate) cells: Vec<(CellKey, f64)>,
    pub(crate) visits: Vec<((String, String), f64)>,
}

fn arm_share(exp: &crate::decide::compiled::Experiment, arm: usize) -> f64 {
    exp.arms[arm].weight / exp.arms.iter().map(|a| a.weight).sum::<f64>()
}

/// Which arms of each experiment a domain covers: the shopper's own (a
/// report), or every arm (a Prio3 task, whose layout must not depend on
/// who reports).
#[derive(Clone, Copy)]
pub(crate) enum Arms<'a> {
    Of(&'a str),
    All,
}

impl Arms<'_> {
    fn of(self, exp: &crate::decide::compiled::Experiment) -> std::ops::Range<usize> {
        match self {
            Arms::Of(key) => {
                let arm = assign(exp, key);
                arm..arm + 1
            }
            Arms::All => 0..exp.arms.len(),
        }
    }
}

/// The cells and visit rows of `policy` for `arms`, then `release_rows`
/// (the model release's visit rows).
pub(crate) fn domain(policy: &Policy, arms: Arms, release_rows: Vec<((String, String), f64)>) -> Result<Domain> {
    let mut cells: Vec<(CellKey, f64)> = Vec::new();
    let mut add =
        |names: Option<(String, String)>, share: f64, slot: &crate::decide::compiled::Slot, offers: &[usize]| {
            for &o in offers.iter().chain(slot.fallback.iter()) {
                let cell = (names.clone(), slot.id.clone(), policy.offers[o].id.clone());
                if !cells.iter().any(|(c, _)| *c == cell) {
                    cells.push((cell, share));
                }
            }
        };
    for slot in &policy.slots {
        let Some(exp) = slot.experiment.map(|e| &policy.experiments[e]) else {
            add(None, 1.0, slot, &slot.offers);
            continue;
        };
        for a in arms.of(exp) {
            let arm = &exp.arms[a];
            if !arm.holdout {
                let offers = arm.offers.as_deref().unwrap_or(&slot.offers);
                add(Some((exp.id.clone(), arm.id.clone())), arm_share(exp, a), slot, offers);
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
    let mut visits = Vec::new();
    for e in &policy.experiments {
        for arm in arms.of(e) {
            visits.push(((e.id.clone(), e.arms[arm].id.clone()), arm_share(e, arm)));
        }
    }
    for ((experiment, _), _) in &release_rows {
        // A policy experiment of the release's name would share its row.
        if policy.experiments.iter().any(|e| e.id == *experiment) {
            return Err(Error::InvalidRelease(format!(
                "the release's experiment {experiment:?} is also an experiment of policy {:?}",
                policy.id
            )));
        }
    }
    visits.extend(release_rows);
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
pub fn noise_q(m: &Metric, n: usize, epsilon: f64) -> f64 {
    (-(m.share * epsilon) / sensitivity(m, n).max(1.0)).exp()
}

/// The cohort of a row covering `share` of the shoppers: None under local
/// noise (every value carries it all).
fn row_cohort(settings: &ReportSettings, share: f64) -> Option<u32> {
    match (settings.mechanism, settings.cohort) {
        (NoiseModel::Distributed, Some(c)) => Some(((f64::from(c) * share).round() as u32).max(*COHORTS.start())),
        _ => None,
    }
}

/// Clip and noise a matrix of values (rows = cells, columns = metrics), each
/// row's noise a share by its cohort: returns the values and each metric's
/// variance of a full noise draw.
fn privatise<const K: usize>(
    rows: &[[f64; K]],
    cohorts: &[Option<u32>],
    metrics: &[Metric; K],
    epsilon: f64,
    rng: Option<&mut SecureRandom>,
) -> Result<(Vec<[i64; K]>, [f64; K])> {
    let mut rng = rng;
    let mut out = vec![[0i64; K]; rows.len()];
    let mut variance = [0.0; K];
    for (k, m) in metrics.iter().enumerate() {
        let mut block: Vec<f64> = rows.iter().map(|r| r[k]).collect();
        clip_block(&mut block, m);
        let q = noise_q(m, rows.len(), epsilon);
        variance[k] = discrete_laplace_variance(q);
        for ((row, v), cohort) in out.iter_mut().zip(&block).zip(cohorts) {
            let noise = match (rng.as_deref_mut(), *cohort) {
                (None, _) => 0,
                (Some(rng), None) => rng.discrete_laplace(q)?,
                (Some(rng), Some(c)) => rng.discrete_laplace_share(q, c)?,
            };
            row[k] = *v as i64 + noise;
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

fn drift_rows(d: &DriftCounts) -> ([[f64; 2]; 1], Vec<[f64; 1]>) {
    let bins = (0..TOP_SCORE_BINS).map(|b| [f64::from(u8::from(d.top_score_bin == Some(b as u8)))]).collect();
    ([[f64::from(d.views), f64::from(d.unknown_views)]], bins)
}

/// Who reports: the shopper's key, the model's version, the shopper's
/// place in the model release (if the host follows one).
pub struct Source<'a> {
    pub shopper_key: &'a str,
    pub model: &'a str,
    pub release: Option<&'a ReleasePlacement>,
}

/// The report of one shopper-day.
pub fn build_report(
    policy: &Policy,
    source: &Source,
    counts: &DayCounts,
    settings: &ReportSettings,
    rng: &mut SecureRandom,
) -> Result<Report> {
    report_with(policy, source, counts, settings, rng, true)
}

/// The report of one shopper-day clipped but without noise: what a Prio3
/// measurement hides in shares (it never leaves the device as such).
pub fn clipped_report(policy: &Policy, source: &Source, counts: &DayCounts, rng: &mut SecureRandom) -> Result<Report> {
    report_with(policy, source, counts, &ReportSettings::default(), rng, false)
}

fn report_with(
    policy: &Policy,
    source: &Source,
    counts: &DayCounts,
    settings: &ReportSettings,
    rng: &mut SecureRandom,
    noisy: bool,
) -> Result<Report> {
    let id = rng.hex_id()?;
    let mut noise = if noisy { Some(rng) } else { None };
    let release_rows =
        source.release.map(|p| ((p.experiment.clone(), p.side.name().to_string()), p.share)).into_iter().collect();
    let domain = domain(policy, Arms::Of(source.shopper_key), release_rows)?;
    let cell_rows: Vec<[f64; 5]> = domain
        .cells
        .iter()
        .map(|((_, slot, offer), _)| {
            counts.cells.get(slot).and_then(|o| o.get(offer)).map(cell_row).unwrap_or_default()
        })
        .collect();
    let visit_rows: Vec<[f64; 4]> =
        domain.visits.iter().map(|((e, _), _)| counts.visits.get(e).map(visit_row).unwrap_or_default()).collect();
    let cell_cohorts: Vec<Option<u32>> = domain.cells.iter().map(|(_, share)| row_cohort(settings, *share)).collect();
    let visit_cohorts: Vec<Option<u32>> = domain.visits.iter().map(|(_, share)| row_cohort(settings, *share)).collect();
    let epsilon = settings.epsilon;
    let (cell_values, cell_var) = privatise(&cell_rows, &cell_cohorts, &CELL_METRICS, epsilon, noise.as_deref_mut())?;
    let (visit_values, visit_var) =
        privatise(&visit_rows, &visit_cohorts, &VISIT_METRICS, epsilon, noise.as_deref_mut())?;
    let (drift_counts, top_bins) = drift_rows(&counts.drift);
    let drift_cohort = row_cohort(settings, 1.0);
    let (drift_values, drift_var) =
        privatise(&drift_counts, &[drift_cohort], &DRIFT_METRICS, epsilon, noise.as_deref_mut())?;
    let (top_values, top_var) =
        privatise(&top_bins, &vec![drift_cohort; top_bins.len()], &TOP_SCORE_METRIC, epsilon, noise)?;
    let cells = domain
        .cells
        .into_iter()
        .zip(cell_values)
        .zip(cell_cohorts)
        .map(|((((names, slot, offer), _), v), cohort)| {
            let (experiment, arm) = names.unzip();
            ReportCell { experiment, arm, slot, offer, cohort, values: CellValues::from_array(v) }
        })
        .collect();
    let visits = domain
        .visits
        .into_iter()
        .zip(visit_values)
        .zip(visit_cohorts)
        .map(|((((experiment, arm), _), v), cohort)| ReportVisit {
            experiment,
            arm,
            cohort,
            values: VisitValues::from_array(v),
        })
        .collect();
    Ok(Report {
        version: REPORT_VERSION,
        id,
        day: counts.day,
        policy: policy.id.clone(),
        model: source.model.to_string(),
        mechanism: Mechanism {
            name: match settings.mechanism {
                NoiseModel::Local | NoiseModel::Prio3 => MECHANISM,
                NoiseModel::Distributed => DISTRIBUTED_MECHANISM,
            }
            .into(),
            epsilon: settings.epsilon,
            cohort: settings.cohort,
            variance: NoiseVariance {
                cells: CellValues::from_array(cell_var),
                visits: VisitValues::from_array(visit_var),
                drift: DriftValues { views: drift_var[0], unknown_views: drift_var[1], top_score: vec![top_var[0]] },
            },
        },
        cells,
        visits,
        drift: ReportDrift {
            cohort: drift_cohort,
            values: DriftValues {
                views: drift_values[0][0],
                unknown_views: drift_values[0][1],
                top_score: top_values.iter().map(|v| v[0]).collect(),
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metric lists, mechanism names, version and retention are defined
    /// once, in `schema/report.schema.json`; the collector tests against it too.
    #[test]
    fn the_report_schema_names_what_the_engine_writes() {
        let schema: serde_json::Value = serde_json::from_str(include_str!("../../schema/report.schema.json")).unwrap();
        let names = |metrics: &[Metric]| serde_json::json!(metrics.iter().map(|m| m.name).collect::<Vec<_>>());
        assert_eq!(schema["$defs"]["cellMetrics"]["const"], names(&CELL_METRICS));
        assert_eq!(schema["$defs"]["visitMetrics"]["const"], names(&VISIT_METRICS));
        assert_eq!(schema["properties"]["version"]["const"], REPORT_VERSION);
        assert_eq!(
            schema["properties"]["mechanism"]["properties"]["name"]["enum"],
            serde_json::json!([MECHANISM, DISTRIBUTED_MECHANISM])
        );
        assert_eq!(schema["x-retentionDays"], crate::report::ledger::RETENTION_DAYS);
        let drift: Vec<&str> = DRIFT_METRICS.iter().chain(&TOP_SCORE_METRIC).map(|m| m.name).collect();
        assert_eq!(schema["$defs"]["driftMetrics"]["const"], serde_json::json!(drift));
        assert_eq!(
            schema["$defs"]["topScoreEdges"]["const"],
            serde_json::json!(crate::report::ledger::TOP_SCORE_EDGES.map(|e| (e as f64 * 1e6).round() / 1e6))
        );
        // Each value struct carries exactly the listed metrics.
        let cell = serde_json::to_value(CellValues::<i64>::default()).unwrap();
        let visit = serde_json::to_value(VisitValues::<i64>::default()).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let sorted = |v: serde_json::Value| {
            let mut k: Vec<String> = serde_json::from_value(v).unwrap();
            k.sort();
            k
        };
        assert_eq!(keys(&cell), sorted(names(&CELL_METRICS)));
        assert_eq!(keys(&visit), sorted(names(&VISIT_METRICS)));
    }

    #[test]
    fn shares_sum_to_one() {
        let all = CELL_METRICS.iter().chain(&VISIT_METRICS).chain(&DRIFT_METRICS).chain(&TOP_SCORE_METRIC);
        let total: f64 = all.map(|m| m.share).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn clipping_bounds_each_value_and_the_block() {
        let m = CELL_METRICS[0];
        let mut block = vec![5.0, 2.4, 9.0, 1.0];
        clip_block(&mut block, &m);
        assert_eq!(block, vec![1.0, 1.0, 1.0, 0.0]);
        assert_eq!(sensitivity(&m, 1), 1.0);
        assert_eq!(sensitivity(&m, 10), 6.0);
        assert_eq!(sensitivity(&CELL_METRICS[1], 10), 2.0);
        assert_eq!(sensitivity(&VISIT_METRICS[1], 2), 2.0);
    }
}
