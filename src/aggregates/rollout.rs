//! `edgerec rollout`: promote, continue or roll back a release's candidate
//! from the released aggregates (docs/design.md §8), with a test that stays valid
//! however often the store looks.
//!
//! Each day, the candidate's relative lift over the current model on the
//! release's metric is estimated from the two sides' rows (each with its
//! 95 % interval, sampling error and privacy noise both counted, as in
//! `lift`). Days are pooled by inverse variance, so a share that steps up
//! mid-test or a weekday effect does not bias the pooled lift. The pooled
//! lift is read through a mixture sequential probability ratio test
//! (mSPRT; Johari, Pekelis, Walsh 2017): with a normal mixing prior of
//! scale τ = `minEffect` on the lift, the set of lifts it does not reject,
//!   lift ± √(V(V+τ²)/τ² · (2 ln(1/α) + ln((V+τ²)/V))),
//! is a confidence sequence: the chance it ever excludes the true lift, on
//! any day, is at most α. So a candidate no better than the current model
//! is promoted with probability at most α even when looked at daily.

use super::lift::{add, Ratio};
use crate::aggregates::released::{Estimate, Released};
use crate::day::Day;
use crate::error::{Error, Result};
use crate::release::{Guardrail, HistoryEntry, Release, RolloutMetric, Side};
use crate::report::mechanism::{CELL_METRICS, VISIT_METRICS};
use serde::Serialize;
use std::collections::BTreeSet;

/// One day's lift with its own 95 % interval, and the pooled lift's
/// always-valid interval up to that day.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayLift {
    pub day: String,
    pub lift: Ratio,
    pub pooled: Interval,
}

/// A pooled lift, its standard error and its confidence-sequence bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub value: f64,
    pub se: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTest {
    pub metric: RolloutMetric,
    /// None until a day has both sides above their noise.
    pub pooled: Option<Interval>,
    pub days: Vec<DayLift>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RolloutStep {
    Promote,
    Continue,
    Rollback,
}

impl RolloutStep {
    pub fn name(self) -> &'static str {
        match self {
            RolloutStep::Promote => "promote",
            RolloutStep::Continue => "continue",
            RolloutStep::Rollback => "rollback",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutVerdict {
    pub decision: RolloutStep,
    pub reason: String,
    pub primary: MetricTest,
    pub guardrails: Vec<(Guardrail, MetricTest)>,
    /// Device-days reported on each side (current, candidate).
    pub reports: (u64, u64),
    /// The release file to publish next.
    pub next: Release,
}

/// The confidence sequence around a pooled lift of variance `v`.
pub fn confidence_sequence(value: f64, v: f64, tau: f64, alpha: f64) -> Interval {
    let t2 = tau * tau;
    let radius = (v * (v + t2) / t2 * (2.0 * (1.0 / alpha).ln() + ((v + t2) / v).ln())).sqrt();
    Interval { value, se: v.sqrt(), low: value - radius, high: value + radius }
}

/// The (numerator, denominator, numerator's per-unit cap) of `metric` for
/// one side on one day.
fn side_ratio(r: &Released, release: &Release, side: Side, day: &str, metric: RolloutMetric) -> Option<Ratio> {
    let arm = side.name();
    let version = release.bundle(side).map(|b| b.version.as_str());
    let visits: Vec<_> =
        r.visits.iter().filter(|v| v.experiment == release.experiment && v.arm == arm && v.day == day).collect();
    let cells: Vec<_> = r.cells.iter().filter(|c| c.day == day && c.model.as_deref() == version).collect();
    let sum_v = |f: fn(&crate::report::mechanism::VisitValues<Estimate>) -> Estimate| {
        visits.iter().fold(Estimate::default(), |s, v| add(s, f(&v.values)))
    };
    let sum_c = |f: fn(&crate::report::mechanism::CellValues<Estimate>) -> Estimate| {
        cells.iter().fold(Estimate::default(), |s, c| add(s, f(&c.values)))
    };
    let exposed = sum_v(|v| v.exposed);
    match metric {
        RolloutMetric::RevenuePerVisitor => Ratio::of(sum_v(|v| v.revenue), exposed, VISIT_METRICS[3].cell_clip),
        RolloutMetric::Conversion => Ratio::of(sum_v(|v| v.converted), exposed, 1.0),
        RolloutMetric::AttachRate => Ratio::of(sum_c(|c| c.add_to_carts), exposed, CELL_METRICS[2].total_clip),
        RolloutMetric::TakeRate => Ratio::of(sum_c(|c| c.clicks), sum_c(|c| c.impressions), 1.0),
    }
}

/// The candidate's lift on `metric`, day by day and pooled.
pub fn test_metric(r: &Released, release: &Release, days: &[String], metric: RolloutMetric) -> MetricTest {
    let (mut weight, mut weighted) = (0.0, 0.0);
    let mut out = Vec::new();
    for day in days {
        let (Some(cand), Some(cur)) =
            (side_ratio(r, release, Side::Candidate, day, metric), side_ratio(r, release, Side::Current, day, metric))
        else {
            continue;
        };
        let Some(lift) = cand.lift_over(&cur).filter(|l| l.se > 0.0 && l.se.is_finite()) else { continue };
        weight += 1.0 / (lift.se * lift.se);
        weighted += lift.value / (lift.se * lift.se);
        let pooled = confidence_sequence(weighted / weight, 1.0 / weight, release.min_effect, release.alpha);
        out.push(DayLift { day: day.clone(), lift, pooled });
    }
    MetricTest { metric, pooled: out.last().map(|d| d.pooled), days: out }
}

/// Refuse aggregates of another release: rows of its experiment must be of
/// its two sides and its two bundles.
fn check_belongs(r: &Released, release: &Release) -> Result<()> {
    let versions: Vec<&str> = [Side::Current, Side::Candidate]
        .iter()
        .filter_map(|&s| release.bundle(s).map(|b| b.version.as_str()))
        .collect();
    for v in r.visits.iter().filter(|v| v.experiment == release.experiment) {
        if v.arm != Side::Current.name() && v.arm != Side::Candidate.name() {
            return Err(Error::ReleaseMismatch(format!("aggregates hold arm {:?} of {:?}", v.arm, release.experiment)));
        }
        if let Some(m) = v.model.as_deref().filter(|m| !versions.contains(m)) {
            return Err(Error::ReleaseMismatch(format!(
                "aggregates of {:?} come from model {}, which the release does not name",
                release.experiment,
                crate::bundle::short_version(m)
            )));
        }
    }
    let models: BTreeSet<&str> = r.visits.iter().filter_map(|v| v.model.as_deref()).collect();
    if !r.visits.iter().any(|v| v.experiment == release.experiment)
        && !models.is_empty()
        && models.iter().all(|m| !versions.contains(m))
    {
        return Err(Error::ReleaseMismatch(format!(
            "the aggregates hold no rows of experiment {:?} and none of its bundles: they are another release's",
            release.experiment
        )));
    }
    Ok(())
}

/// Judge the candidate of `release` on `today` from the aggregates.
pub fn decide(release: &Release, r: &Released, today: Day) -> Result<RolloutVerdict> {
    if release.candidate.is_none() {
        return Err(Error::InvalidRelease("nothing to roll out: the release has no candidate".into()));
    }
    check_belongs(r, release)?;
    // Days of the experiment before today (from the canary's start, once known).
    let days: Vec<String> = r
        .visits
        .iter()
        .filter(|v| v.experiment == release.experiment)
        .filter(|v| Day::parse(&v.day).is_some_and(|d| d < today && release.started.is_none_or(|s| d >= s)))
        .map(|v| v.day.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let first_day = days.first().and_then(|d| Day::parse(d));
    let started = release.started.or(first_day).unwrap_or(today);
    let reports = |side: Side| {
        r.visits.iter().filter(|v| v.experiment == release.experiment && v.arm == side.name()).map(|v| v.reports).sum()
    };
    let primary = test_metric(r, release, &days, release.metric);
    let guardrails: Vec<(Guardrail, MetricTest)> =
        release.guardrails.iter().map(|g| (*g, test_metric(r, release, &days, g.metric))).collect();
    let (decision, reason) = judge(release, &primary, &guardrails, today.since(started));
    let next = next_release(release, decision, &reason, &guardrails, started, today);
    Ok(RolloutVerdict {
        decision,
        reason,
        primary,
        guardrails,
        reports: (reports(Side::Current), reports(Side::Candidate)),
        next,
    })
}

fn pct(x: f64) -> String {
    format!("{:+.1} %", 100.0 * x)
}

/// A guardrail leaning below its allowed drop: its fixed-horizon 95 %
/// interval is, though the always-valid one is not yet. It holds promotion
/// and the next step; noise alone rarely does it.
fn leaning(guardrails: &[(Guardrail, MetricTest)]) -> Option<&Guardrail> {
    let below = |g: &Guardrail, p: &Interval| p.value + super::lift::Z95 * p.se < -g.max_drop;
    guardrails.iter().find(|(g, t)| t.pooled.is_some_and(|p| below(g, &p))).map(|(g, _)| g)
}

fn judge(
    release: &Release,
    primary: &MetricTest,
    guardrails: &[(Guardrail, MetricTest)],
    days: i64,
) -> (RolloutStep, String) {
    for (g, t) in guardrails {
        if let Some(p) = t.pooled.filter(|p| p.high < -g.max_drop) {
            let why = format!(
                "guardrail breached: {} {} [{}, {}], below the allowed {}",
                g.metric.label(),
                pct(p.value),
                pct(p.low),
                pct(p.high),
                pct(-g.max_drop)
            );
            return (RolloutStep::Rollback, why);
        }
    }
    let label = release.metric.label();
    match primary.pooled {
        Some(p) if p.high < 0.0 => {
            return (
                RolloutStep::Rollback,
                format!("the candidate is worse: {label} {} [{}, {}]", pct(p.value), pct(p.low), pct(p.high)),
            );
        }
        Some(p) if p.low > 0.0 => match leaning(guardrails) {
            None => {
                return (
                    RolloutStep::Promote,
                    format!("the candidate is better: {label} {} [{}, {}]", pct(p.value), pct(p.low), pct(p.high)),
                );
            }
            Some(g) if days + 1 < i64::from(release.max_days) => {
                return (
                    RolloutStep::Continue,
                    format!("better on {label}, but {} leans below its guardrail", g.metric.label()),
                );
            }
            Some(_) => {}
        },
        _ => {}
    }
    if days + 1 >= i64::from(release.max_days) {
        return (RolloutStep::Rollback, format!("no significant gain on {label} in {} days", release.max_days));
    }
    let why = match primary.pooled {
        Some(p) => format!("not decided yet: {label} {} [{}, {}]", pct(p.value), pct(p.low), pct(p.high)),
        None => "no day has both sides above their noise yet".to_string(),
    };
    (RolloutStep::Continue, why)
}

fn next_release(
    release: &Release,
    decision: RolloutStep,
    reason: &str,
    guardrails: &[(Guardrail, MetricTest)],
    started: Day,
    today: Day,
) -> Release {
    let mut next = release.clone();
    next.started = Some(started);
    next.step_started = Some(release.step_started.unwrap_or(started));
    match decision {
        RolloutStep::Promote => {
            next.current = next.candidate.take().unwrap_or_else(|| release.current.clone());
            next.canary_share = 0.0;
            (next.started, next.step_started) = (None, None);
        }
        RolloutStep::Rollback => {
            next.candidate = None;
            next.canary_share = 0.0;
            (next.started, next.step_started) = (None, None);
        }
        RolloutStep::Continue => {
            // Step up after the days at this share, unless a guardrail leans the wrong way.
            let step_started = next.step_started.unwrap_or(today);
            let leaning = leaning(guardrails).is_some();
            let due = today.since(step_started) >= i64::from(release.days_per_step);
            match release.steps.iter().find(|&&s| s > release.canary_share + 1e-9) {
                Some(&share) if (due || release.canary_share == 0.0) && !leaning => {
                    next.canary_share = share;
                    next.step_started = Some(today);
                }
                _ => {}
            }
        }
    }
    next.history.push(HistoryEntry {
        day: today,
        decision: decision.name().into(),
        canary_share: next.canary_share,
        candidate: release.candidate.as_ref().map(|c| c.version.clone()),
        reason: reason.into(),
    });
    if next.history.len() > 1000 {
        next.history.remove(0);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confidence_sequence_is_wider_than_a_fixed_interval_and_shrinks_with_data() {
        let (tau, alpha) = (0.05, 0.05);
        let fixed = |v: f64| 1.96 * v.sqrt();
        let mut last = f64::INFINITY;
        for v in [1e-2, 1e-3, 1e-4, 1e-5] {
            let cs = confidence_sequence(0.0, v, tau, alpha);
            assert!(cs.high > fixed(v), "always valid costs width");
            assert!(cs.high < last);
            last = cs.high;
        }
    }
}
