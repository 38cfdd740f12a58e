//! The release file a store keeps at a stable URL (`release.json`, schema in
//! `schema/release.schema.json`): which bundle every shopper gets (the
//! current one), which a canary share gets instead (the candidate), and how
//! `edgerec rollout` judges the candidate from the private aggregates.
//!
//! A shopper's side is drawn like an experiment arm: a hash of the release's
//! experiment and the shopper key, a point in [0, 1) that falls in the
//! canary when below `canaryShare`. Stable per shopper while the experiment
//! stays; raising the share only adds shoppers to the canary.

use crate::bundle::is_version;
use crate::day::Day;
use crate::error::{Error, Result};
use crate::hashing::{hash64, unit};
use serde::{Deserialize, Serialize};

pub const RELEASE_VERSION: u32 = 1;
/// Largest release file read (it is a few hundred bytes plus its history).
pub const MAX_RELEASE_BYTES: usize = 256 * 1024;
const MAX_NAME: usize = 128;
const MAX_URL: usize = 2048;
/// A catalog is named by the model card's dataset, a sentence at times.
const MAX_CATALOG: usize = 512;
const MAX_HISTORY: usize = 1000;

/// One bundle the release names: where it is and what it must be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleRef {
    /// Relative to the release file's URL, or absolute.
    pub url: String,
    /// The bundle's version id (`sha256:` of its bytes): a bundle that
    /// hashes otherwise is not this release's.
    pub version: String,
    /// Embedding dimension and catalog (the model card's `dataset`): the
    /// two bundles of a release must agree on both.
    pub dim: usize,
    pub catalog: String,
}

/// What the rollout test compares (per exposed visitor unless named).
/// The default is conversion: under the default ε a day's revenue sum
/// carries noise of the revenue clip's scale (200), so revenue per visitor
/// needs several times more traffic to decide (`edgerec rollout` prints
/// both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RolloutMetric {
    RevenuePerVisitor,
    #[default]
    Conversion,
    /// Add-to-carts from offers per visitor.
    AttachRate,
    /// Offer clicks per impression.
    TakeRate,
}

impl RolloutMetric {
    pub const ALL: [RolloutMetric; 4] = [
        RolloutMetric::RevenuePerVisitor,
        RolloutMetric::Conversion,
        RolloutMetric::AttachRate,
        RolloutMetric::TakeRate,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RolloutMetric::RevenuePerVisitor => "revenue per visitor",
            RolloutMetric::Conversion => "conversion",
            RolloutMetric::AttachRate => "attach rate",
            RolloutMetric::TakeRate => "offer take rate",
        }
    }
}

/// A metric the candidate may not worsen by more than `max_drop`
/// (relative: 0.02 is 2 % below the current model): proven worse than
/// that rolls back at once; an estimate below it holds promotion and the
/// next step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Guardrail {
    pub metric: RolloutMetric,
    pub max_drop: f64,
}

/// One `edgerec rollout` decision, kept in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryEntry {
    pub day: Day,
    pub decision: String,
    pub canary_share: f64,
    pub candidate: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Release {
    pub version: u32,
    /// Names the draw: a new experiment re-draws every shopper.
    pub experiment: String,
    pub current: BundleRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<BundleRef>,
    /// Share of shoppers on the candidate, 0..=1.
    #[serde(default)]
    pub canary_share: f64,
    /// The shares a healthy canary steps through (e.g. 5, 25, 50 %);
    /// promotion makes the candidate everyone's.
    #[serde(default = "default_steps")]
    pub steps: Vec<f64>,
    #[serde(default)]
    pub metric: RolloutMetric,
    #[serde(default = "default_guardrails")]
    pub guardrails: Vec<Guardrail>,
    /// The test's error rate: a candidate no better than the current one is
    /// promoted with probability at most `alpha`, however often it is read.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// The relative lift the test is tuned to find soonest.
    #[serde(default = "default_min_effect")]
    pub min_effect: f64,
    /// Days of canary after which no gain found means rollback.
    #[serde(default = "default_max_days")]
    pub max_days: u32,
    /// Days at a share before the next step.
    #[serde(default = "default_days_per_step")]
    pub days_per_step: u32,
    /// First day of this candidate's canary, and of its present share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_started: Option<Day>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

fn default_steps() -> Vec<f64> {
    vec![0.05, 0.25, 0.5]
}
fn default_guardrails() -> Vec<Guardrail> {
    vec![Guardrail { metric: RolloutMetric::RevenuePerVisitor, max_drop: 0.1 }]
}
fn default_alpha() -> f64 {
    0.05
}
fn default_min_effect() -> f64 {
    0.05
}
fn default_max_days() -> u32 {
    28
}
fn default_days_per_step() -> u32 {
    2
}

/// The two sides of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Side {
    Current,
    Candidate,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Current => "current",
            Side::Candidate => "candidate",
        }
    }
}

/// A shopper's place in a release: what the device loads and reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleasePlacement {
    pub experiment: String,
    pub side: Side,
    /// The share of shoppers on this side (a report row's expected cohort).
    pub share: f64,
    pub bundle: BundleRef,
}

impl ReleasePlacement {
    /// Check a placement a host hands the engine back.
    pub fn checked(self) -> Result<ReleasePlacement> {
        check_name(&self.experiment, "experiment")?;
        if !(self.share > 0.0 && self.share <= 1.0) {
            return Err(Error::InvalidRelease("a placement's share must be in (0, 1]".into()));
        }
        check_bundle(&self.bundle, "bundle")?;
        Ok(self)
    }
}

fn bad(message: impl Into<String>) -> Error {
    Error::InvalidRelease(message.into())
}

fn check_name(name: &str, what: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(bad(format!("{what} must be 1-{MAX_NAME} characters")));
    }
    Ok(())
}

fn check_bundle(b: &BundleRef, what: &str) -> Result<()> {
    if b.url.is_empty() || b.url.len() > MAX_URL {
        return Err(bad(format!("{what}.url must be 1-{MAX_URL} characters")));
    }
    if !is_version(&b.version) {
        return Err(bad(format!("{what}.version must be \"sha256:\" and 64 lowercase hex digits")));
    }
    if b.dim == 0 {
        return Err(bad(format!("{what}.dim must be positive")));
    }
    if b.catalog.is_empty() || b.catalog.chars().count() > MAX_CATALOG {
        return Err(bad(format!("{what}.catalog must be 1-{MAX_CATALOG} characters")));
    }
    Ok(())
}

fn share_ok(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

impl Release {
    pub fn parse(json: &str) -> Result<Release> {
        if json.len() > MAX_RELEASE_BYTES {
            return Err(bad(format!("larger than {MAX_RELEASE_BYTES} bytes")));
        }
        let release: Release = serde_json::from_str(json).map_err(|e| {
            let path = crate::json_path::error_path(json, &e);
            bad(format!("{}: {e}", if path.is_empty() { "." } else { &path }))
        })?;
        release.check()?;
        Ok(release)
    }

    /// A first release: everyone on `current`, the defaults a file that
    /// leaves fields out gets.
    pub fn new(experiment: &str, current: BundleRef) -> Release {
        Release {
            version: RELEASE_VERSION,
            experiment: experiment.into(),
            current,
            candidate: None,
            canary_share: 0.0,
            steps: default_steps(),
            metric: RolloutMetric::default(),
            guardrails: default_guardrails(),
            alpha: default_alpha(),
            min_effect: default_min_effect(),
            max_days: default_max_days(),
            days_per_step: default_days_per_step(),
            started: None,
            step_started: None,
            history: Vec::new(),
        }
    }

    /// Everything `parse` checks past the shape.
    pub fn check(&self) -> Result<()> {
        if self.version != RELEASE_VERSION {
            return Err(bad(format!("version must be {RELEASE_VERSION}")));
        }
        check_name(&self.experiment, "experiment")?;
        check_bundle(&self.current, "current")?;
        if !share_ok(self.canary_share) {
            return Err(bad("canaryShare must be a number in 0..=1"));
        }
        match &self.candidate {
            None if self.canary_share > 0.0 => return Err(bad("canaryShare is above 0 but there is no candidate")),
            None => {}
            Some(c) => {
                check_bundle(c, "candidate")?;
                if c.version == self.current.version {
                    return Err(bad("candidate and current are the same bundle"));
                }
                if c.dim != self.current.dim {
                    return Err(Error::ReleaseMismatch(format!(
                        "candidate has dimension {}, current {}",
                        c.dim, self.current.dim
                    )));
                }
                if c.catalog != self.current.catalog {
                    return Err(Error::ReleaseMismatch(format!(
                        "candidate is of catalog {:?}, current of {:?}",
                        c.catalog, self.current.catalog
                    )));
                }
            }
        }
        if self.steps.is_empty() || self.steps.len() > 10 {
            return Err(bad("steps must list 1-10 shares"));
        }
        if !self.steps.iter().all(|&s| share_ok(s) && s > 0.0) || self.steps.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("steps must be shares in (0, 1], ascending"));
        }
        if self.guardrails.len() > RolloutMetric::ALL.len() {
            return Err(bad("at most one guardrail per metric"));
        }
        for (i, g) in self.guardrails.iter().enumerate() {
            if !(g.max_drop.is_finite() && (0.0..1.0).contains(&g.max_drop)) {
                return Err(bad(format!("guardrails[{i}].maxDrop must be in 0..1 (a relative drop)")));
            }
            if self.guardrails[..i].iter().any(|h| h.metric == g.metric) {
                return Err(bad(format!("guardrails[{i}] repeats a metric")));
            }
        }
        if !(self.alpha > 0.0 && self.alpha <= 0.5) {
            return Err(bad("alpha must be in (0, 0.5]"));
        }
        if !(self.min_effect > 0.0 && self.min_effect <= 1.0) {
            return Err(bad("minEffect must be in (0, 1]"));
        }
        if !(1..=365).contains(&self.max_days) || !(1..=self.max_days).contains(&self.days_per_step) {
            return Err(bad("maxDays must be 1-365 and daysPerStep 1..=maxDays"));
        }
        if self.history.len() > MAX_HISTORY {
            return Err(bad(format!("history holds at most {MAX_HISTORY} entries")));
        }
        Ok(())
    }

    /// Where `shopper_key` stands in this release.
    pub fn place(&self, shopper_key: &str) -> ReleasePlacement {
        let point = unit(hash64(&[&self.experiment, shopper_key]));
        let (side, share, bundle) = match &self.candidate {
            Some(c) if point < self.canary_share => (Side::Candidate, self.canary_share, c),
            _ => (Side::Current, 1.0 - self.canary_share, &self.current),
        };
        ReleasePlacement { experiment: self.experiment.clone(), side, share, bundle: bundle.clone() }
    }

    /// Where `shopper_key` (checked) stands, with the current bundle and the
    /// placement to join when the side's bundle fails (`fallback`).
    pub fn placed(&self, shopper_key: &str) -> Result<Placed> {
        crate::decide::state::check_key(shopper_key).map_err(Error::InvalidOptions)?;
        let placement = self.place(shopper_key);
        let fallback = self.fallback(&placement);
        Ok(Placed { placement, current: self.current.clone(), fallback })
    }

    /// The bundle of `side` (None: a candidate the release lacks).
    pub fn bundle(&self, side: Side) -> Option<&BundleRef> {
        match side {
            Side::Current => Some(&self.current),
            Side::Candidate => self.candidate.as_ref(),
        }
    }

    /// Where a shopper placed by `place` counts when their side's bundle
    /// fails to load: the current side, whose model they see. Its share sets
    /// a distributed row's cohort, and any share at most the real one keeps
    /// the noise whole, so the candidate's is kept when the current side's
    /// is 0 (a 100 % canary).
    pub fn fallback(&self, placed: &ReleasePlacement) -> ReleasePlacement {
        let share = match placed.side {
            Side::Current => placed.share,
            Side::Candidate if placed.share < 1.0 => 1.0 - placed.share,
            Side::Candidate => placed.share,
        };
        ReleasePlacement {
            experiment: self.experiment.clone(),
            side: Side::Current,
            share,
            bundle: self.current.clone(),
        }
    }
}

impl BundleRef {
    /// Whether `model` is the bundle this names: its version, dimension and catalog.
    pub fn check_loaded(&self, model: &crate::model::Model) -> Result<()> {
        let (version, dim, catalog) = (&model.version, model.manifest.dim, &model.manifest.model_card.dataset);
        if &self.version != version {
            return Err(Error::ReleaseMismatch(format!(
                "{} is {}, the release names {}",
                self.url,
                crate::bundle::short_version(version),
                crate::bundle::short_version(&self.version)
            )));
        }
        if self.dim != dim || &self.catalog != catalog {
            return Err(Error::ReleaseMismatch(format!(
                "{} has dimension {dim} and catalog {catalog:?}, the release says {} and {:?}",
                self.url, self.dim, self.catalog
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn release(share: f64) -> String {
        serde_json::json!({
            "version": 1, "experiment": "model-w49",
            "current": { "url": "a.edgerec", "version": A, "dim": 32, "catalog": "shop" },
            "candidate": { "url": "b.edgerec", "version": B, "dim": 32, "catalog": "shop" },
            "canaryShare": share,
        })
        .to_string()
    }

    #[test]
    fn a_failed_candidate_counts_on_the_current_side_with_a_valid_share() {
        for (share, expected) in [(0.25, 0.75), (1.0, 1.0)] {
            let r = Release::parse(&release(share)).unwrap();
            let placed = ReleasePlacement { side: Side::Candidate, share, ..r.place("k") };
            let fallback = r.fallback(&placed);
            assert_eq!((fallback.side, fallback.share, &fallback.bundle), (Side::Current, expected, &r.current));
            assert!(fallback.clone().checked().is_ok());
        }
    }

    #[test]
    fn shoppers_land_in_the_canary_by_its_share_and_stay_as_it_grows() {
        let small = Release::parse(&release(0.05)).unwrap();
        let large = Release::parse(&release(0.25)).unwrap();
        let keys: Vec<String> = (0..20_000).map(|i| format!("shopper-{i}")).collect();
        let canary = |r: &Release| keys.iter().filter(|k| r.place(k).side == Side::Candidate).count();
        let (a, b) = (canary(&small), canary(&large));
        assert!((900..1100).contains(&a), "{a} of 20,000 at 5 %");
        assert!((4700..5300).contains(&b), "{b} of 20,000 at 25 %");
        for k in &keys {
            if small.place(k).side == Side::Candidate {
                assert_eq!(large.place(k).side, Side::Candidate, "{k} left the canary as it grew");
            }
        }
        assert_eq!(small.place("shopper-1"), small.place("shopper-1"));
        assert_eq!(
            small.place("x").bundle.url,
            if small.place("x").side == Side::Current { "a.edgerec" } else { "b.edgerec" }
        );
    }

    #[test]
    fn bad_release_files_are_coded_errors() {
        let edit = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v: serde_json::Value = serde_json::from_str(&release(0.05)).unwrap();
            f(&mut v);
            Release::parse(&v.to_string()).map(|_| ()).map_err(|e| e.code())
        };
        assert_eq!(edit(&|_| {}), Ok(()));
        assert_eq!(edit(&|v| v["canaryShare"] = 1.5.into()), Err("INVALID_RELEASE"));
        assert_eq!(edit(&|v| v["canaryShare"] = (-0.1).into()), Err("INVALID_RELEASE"));
        assert_eq!(edit(&|v| v["candidate"]["dim"] = 64.into()), Err("RELEASE_MISMATCH"));
        assert_eq!(edit(&|v| v["candidate"]["catalog"] = "other".into()), Err("RELEASE_MISMATCH"));
        assert_eq!(edit(&|v| v["candidate"]["version"] = "v2".into()), Err("INVALID_RELEASE"));
        assert_eq!(edit(&|v| v["candidate"]["version"] = A.into()), Err("INVALID_RELEASE"));
        assert_eq!(edit(&|v| v["version"] = 2.into()), Err("INVALID_RELEASE"));
        assert_eq!(edit(&|v| v["surprise"] = 1.into()), Err("INVALID_RELEASE"));
        assert_eq!(edit(&|v| v["steps"] = serde_json::json!([0.5, 0.25])), Err("INVALID_RELEASE"));
        assert_eq!(
            edit(&|v| {
                v.as_object_mut().unwrap().remove("candidate");
            }),
            Err("INVALID_RELEASE"),
            "a canary share without a candidate"
        );
        assert_eq!(Release::parse("{").unwrap_err().code(), "INVALID_RELEASE");
        assert_eq!(Release::parse(&" ".repeat(MAX_RELEASE_BYTES + 1)).unwrap_err().code(), "INVALID_RELEASE");
    }

    #[test]
    fn the_schema_describes_the_fields_and_defaults_the_parser_has() {
        let schema: serde_json::Value = serde_json::from_str(include_str!("../schema/release.schema.json")).unwrap();
        let mut full = Release::new("e", Release::parse(&release(0.05)).unwrap().current);
        full.candidate = full.clone().candidate.or(Some(full.current.clone()));
        (full.started, full.step_started) = (Day::parse("2026-12-01"), Day::parse("2026-12-01"));
        let written = serde_json::to_value(&full).unwrap();
        let mut fields: Vec<&String> = written.as_object().unwrap().keys().collect();
        let mut described: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        fields.sort();
        described.sort();
        assert_eq!(fields, described);
        let defaults = Release::parse(
            &serde_json::json!({ "version": 1, "experiment": "e", "current": written["current"] }).to_string(),
        )
        .unwrap();
        let defaults = serde_json::to_value(defaults).unwrap();
        for key in ["canaryShare", "steps", "metric", "guardrails", "alpha", "minEffect", "maxDays", "daysPerStep"] {
            let (said, got) = (&schema["properties"][key]["default"], &defaults[key]);
            match (said.as_f64(), got.as_f64()) {
                (Some(a), Some(b)) => assert_eq!(a, b, "{key}"),
                _ => assert_eq!(said, got, "{key}"),
            }
        }
    }
}

/// A shopper's place in a release (`Release::placed`): the side drawn, the
/// current bundle, and the placement to join when the side's bundle fails.
#[derive(Debug, Clone, Serialize)]
pub struct Placed {
    pub placement: ReleasePlacement,
    pub current: BundleRef,
    pub fallback: ReleasePlacement,
}
