//! The privacy-preserving learning loop (DESIGN §8) on the device side:
//! counting outcomes locally ([`ledger`]), turning one shopper-day into a
//! differentially private report ([`mechanism`], [`noise`]), and reading
//! the collector's released aggregates back ([`released`]) as bandit priors
//! and as the lift report ([`lift`]).

pub mod ledger;
pub mod lift;
pub mod mechanism;
pub mod noise;
pub mod released;

use crate::decide::compile::Policy;
use ledger::{day_of, Ledger};
use mechanism::ReportSettings;
use serde::Serialize;

/// Why no report can be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Withheld {
    NoConsent,
    NothingPending,
    /// What is pending belongs to a day whose ε is spent.
    BudgetSpent,
}

/// The pending day the next report covers: the oldest one whose budget can
/// still pay for a report. Expired days, days of policies no longer held
/// and past days that can never be paid for are dropped on the way.
pub fn next_pending(
    ledger: &mut Ledger,
    policies: &[Policy],
    settings: &ReportSettings,
    now: f64,
) -> std::result::Result<usize, Withheld> {
    if !ledger.consent {
        return Err(Withheld::NoConsent);
    }
    let today = day_of(now);
    ledger.expire(&today);
    let spent = &ledger.spent;
    let affordable =
        |day: &str| spent.get(day).copied().unwrap_or(0.0) + settings.epsilon <= settings.epsilon_per_day + 1e-9;
    ledger.pending.retain(|d| policies.iter().any(|p| p.id == d.policy) && (d.day >= today || affordable(&d.day)));
    match ledger.pending.iter().position(|d| affordable(&d.day)) {
        Some(i) => Ok(i),
        None if ledger.pending.is_empty() => Err(Withheld::NothingPending),
        None => Err(Withheld::BudgetSpent),
    }
}

/// The device's privacy state, for a privacy panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyStatus {
    pub consent: bool,
    pub epsilon_per_day: f64,
    pub epsilon_per_report: f64,
    /// Who the noise protects against (local: the collector too).
    pub mechanism: mechanism::NoiseModel,
    pub spent_today: f64,
    pub pending_days: usize,
    /// Why `takeReport` would return nothing now (None: it would report).
    pub withheld: Option<Withheld>,
}
