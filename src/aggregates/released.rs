//! The collector's released aggregates (`GET /v1/aggregates`), read back on
//! the device (bandit priors) and by `edgerec report` (the lift report).
//! Every value is a noisy sum with the variance of its noise.

use crate::decide::Policy;
use crate::error::{Error, Result};
use crate::priors::{Boosts, Priors, Trials, MAX_PRIOR_COUNT};
use crate::report::ledger::TOP_SCORE_BINS;
use crate::report::mechanism::{CellValues, VisitValues};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Largest aggregates document read (a month of a 1,000-cell policy).
pub const MAX_AGGREGATES_BYTES: usize = 16 * 1024 * 1024;

/// A noisy sum over reports and the variance of its noise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Estimate {
    pub sum: f64,
    pub variance: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleasedCell {
    pub day: String,
    /// The version id of the bundle the reports came from (None: reports
    /// of version 1, made before bundles had one).
    #[serde(default)]
    pub model: Option<String>,
    pub experiment: Option<String>,
    pub arm: Option<String>,
    pub slot: String,
    pub offer: String,
    /// Distinct reports summed (at least the collector's k).
    pub reports: u64,
    #[serde(flatten)]
    pub values: CellValues<Estimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleasedVisit {
    pub day: String,
    #[serde(default)]
    pub model: Option<String>,
    pub experiment: String,
    pub arm: String,
    pub reports: u64,
    #[serde(flatten)]
    pub values: VisitValues<Estimate>,
}

/// A day's drift row of one model: views, unknown views and the
/// top-score histogram (`ledger::TOP_SCORE_EDGES`), each a noisy sum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleasedDrift {
    pub day: String,
    #[serde(default)]
    pub model: Option<String>,
    pub reports: u64,
    pub views: Estimate,
    pub unknown_views: Estimate,
    pub top_score: Vec<Estimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Released {
    pub policy: String,
    pub k: u64,
    pub cells: Vec<ReleasedCell>,
    pub visits: Vec<ReleasedVisit>,
    /// Absent in aggregates of collectors from before drift rows.
    #[serde(default)]
    pub drift: Vec<ReleasedDrift>,
}

impl Released {
    pub fn parse(json: &str) -> Result<Released> {
        if json.len() > MAX_AGGREGATES_BYTES {
            return Err(Error::InvalidOptions(format!("aggregates are larger than {MAX_AGGREGATES_BYTES} bytes")));
        }
        let r: Released = serde_json::from_str(json).map_err(|e| Error::InvalidOptions(format!("aggregates: {e}")))?;
        let finite = |e: &Estimate| e.sum.is_finite() && e.variance.is_finite() && e.variance >= 0.0;
        let ok = r.cells.iter().all(|c| c.values.to_array().iter().all(finite))
            && r.visits.iter().all(|v| v.values.to_array().iter().all(finite))
            && r.drift.iter().all(|d| {
                d.top_score.len() == TOP_SCORE_BINS && [d.views, d.unknown_views].iter().chain(&d.top_score).all(finite)
            });
        if !ok {
            return Err(Error::InvalidOptions(format!(
                "aggregates: sums and variances must be finite, variances ≥ 0, and a drift row holds {TOP_SCORE_BINS} bins"
            )));
        }
        Ok(r)
    }

    /// Bandit priors for `policy`: each offer with released cells, its
    /// impressions and clicks over every day, arm and slot (noise can make a
    /// sum negative or clicks exceed impressions; both are clamped).
    pub fn priors(&self, policy: &Policy) -> Result<Priors> {
        if self.policy != policy.id {
            return Err(Error::InvalidOptions(format!(
                "aggregates are for policy {:?}, the active policy is {:?}",
                crate::error::truncate(&self.policy, 64),
                policy.id
            )));
        }
        let mut sums: HashMap<&str, (f64, f64)> = Default::default();
        for c in self.cells.iter().filter(|c| policy.offers.iter().any(|o| o.id == c.offer)) {
            let s = sums.entry(&c.offer).or_default();
            s.0 += c.values.impressions.sum;
            s.1 += c.values.clicks.sum;
        }
        Ok(sums
            .into_iter()
            .map(|(offer, (shown, taken))| {
                // Noisy sums: clamped into what a prior may count.
                let shown = (shown.round().max(0.0) as u64).min(MAX_PRIOR_COUNT);
                let taken = (taken.round().max(0.0) as u64).min(shown);
                (offer.to_string(), Trials { shown, taken })
            })
            .collect())
    }
}

/// Popularity boosts from the priors of `policy` ([`Released::priors`]): each
/// offer's take rate, shrunk toward 5% by a Beta(1, 19) prior so a thin or
/// noisy cell cannot dominate, relative to the best offer's. Offers without
/// released cells get the mean boost, so a new offer is neither favoured
/// nor buried.
pub fn boosts(priors: &Priors, policy: &Policy) -> Boosts {
    let rates: Vec<(&String, f64)> =
        priors.iter().map(|(offer, t)| (offer, (t.taken as f64 + 1.0) / (t.shown as f64 + 20.0))).collect();
    let best = rates.iter().map(|(_, r)| *r).fold(0.0, f64::max);
    if rates.is_empty() || best <= 0.0 {
        return Boosts::new();
    }
    let mut boosts: Boosts = rates.into_iter().map(|(offer, r)| (offer.clone(), (r / best) as f32)).collect();
    let mean = boosts.values().sum::<f32>() / boosts.len() as f32;
    for offer in &policy.offers {
        boosts.entry(offer.id.clone()).or_insert(mean);
    }
    boosts
}
