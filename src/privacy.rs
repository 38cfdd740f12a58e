//! The device's side of the privacy loop (docs/design.md §8): the shopper's
//! consent, what is spent of the ε budget per day, which pending day the next
//! report covers, and that report — made once per content ([`crate::report`] for the
//! noised JSON mechanisms, [`crate::prio3`] for a Prio3 measurement) so a privacy
//! panel shows byte for byte what `take` returns.

use crate::decide::Policy;
use crate::error::{Error, Result};
use crate::prio3::upload;
use crate::report::ledger::{Day, Ledger, Taken};
use crate::report::mechanism::{self, build_report, NoiseModel, ReportSettings, Source};
use crate::report::noise::SecureRandom;
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
    let today = Day::of(now);
    ledger.expire(today);
    let spent = &ledger.spent;
    let affordable =
        |day: Day| spent.get(&day).copied().unwrap_or(0.0) + settings.epsilon <= settings.epsilon_per_day + 1e-9;
    ledger.pending.retain(|d| policies.iter().any(|p| p.id == d.policy) && (d.day >= today || affordable(d.day)));
    match ledger.pending.iter().position(|d| affordable(d.day)) {
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

/// What the reports count, as the engine reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Counted<'a> {
    /// The shopper reached a slot of `experiment` (its holdout included).
    Exposed { experiment: &'a str },
    /// An impression of `offer` in `slot`.
    Shown { slot: &'a str, offer: &'a str },
    /// A click, add-to-cart or purchase of what `offer` showed.
    Taken { slot: &'a str, offer: &'a str, taken: Taken },
    /// Any purchase (a conversion for every experiment reached that day).
    Purchase { revenue: f64, session: u32 },
    /// A view, of an item the bundle knows or not (drift).
    Viewed { known: bool },
    /// The model's top score in a ranking (drift).
    TopScore(f32),
}

/// The device's side of the aggregate reports: the shopper's ledger (kept
/// with their state), what is spent of the privacy budget, and the next
/// report, sealed when first previewed so that a privacy panel shows byte
/// for byte what `take` returns. The one way the engine reaches them.
#[derive(Debug, Clone, Default)]
pub struct Reports {
    ledger: Ledger,
    /// (what it covers, its JSON).
    sealed: Option<(String, String)>,
}

impl Reports {
    pub fn new(ledger: Ledger) -> Reports {
        Reports { ledger, sealed: None }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn consent(&self) -> bool {
        self.ledger.consent
    }

    /// The shopper's choice; opting out erases everything pending.
    pub fn set_consent(&mut self, consent: bool) {
        self.ledger.set_consent(consent);
        self.sealed = None;
    }

    /// What was sealed no longer holds (new settings or policies).
    pub fn unseal(&mut self) {
        self.sealed = None;
    }

    /// Count an outcome of host time `now` under `policy` (nothing without consent).
    pub fn count(&mut self, now: f64, policy: &str, what: Counted) {
        let (ledger, day) = (&mut self.ledger, Day::of(now));
        match what {
            Counted::Exposed { experiment } => ledger.exposed(day, policy, experiment),
            Counted::Shown { slot, offer } => ledger.shown(day, policy, slot, offer),
            Counted::Taken { slot, offer, taken } => ledger.taken(day, policy, slot, offer, taken),
            Counted::Purchase { revenue, session } => ledger.purchase(day, policy, revenue, session),
            Counted::Viewed { known } => ledger.viewed(day, policy, known),
            Counted::TopScore(score) => ledger.top_score(day, policy, score),
        }
    }

    pub fn status(&mut self, policies: &[Policy], settings: &ReportSettings, now: f64) -> PrivacyStatus {
        let withheld = next_pending(&mut self.ledger, policies, settings, now).err();
        PrivacyStatus {
            consent: self.ledger.consent,
            epsilon_per_day: settings.epsilon_per_day,
            epsilon_per_report: settings.epsilon,
            mechanism: settings.mechanism,
            spent_today: self.ledger.spent_on(Day::of(now)),
            pending_days: self.ledger.pending.len(),
            withheld,
        }
    }

    /// The report `take` would return now, without taking it (the same
    /// bytes, as long as nothing is counted in between).
    pub fn preview(&mut self, who: &Reporter, now: f64) -> Result<Option<String>> {
        Ok(self.seal(who, now)?.map(|(_, json)| json))
    }

    /// The next differentially private report, or None (no consent,
    /// nothing pending, budget spent: see `status`). Taking it spends its ε
    /// and clears the day's counts it covers.
    pub fn take(&mut self, who: &Reporter, now: f64) -> Result<Option<String>> {
        let Some((index, json)) = self.seal(who, now)? else { return Ok(None) };
        let day = self.ledger.pending.remove(index).day;
        *self.ledger.spent.entry(day).or_default() += who.settings.epsilon;
        self.sealed = None;
        Ok(Some(json))
    }

    /// The pending day's index and its report, sealed once per content.
    fn seal(&mut self, who: &Reporter, now: f64) -> Result<Option<(usize, String)>> {
        let Ok(index) = next_pending(&mut self.ledger, who.policies, who.settings, now) else { return Ok(None) };
        let counts = &self.ledger.pending[index];
        let covers = serde_json::json!([counts, who.shopper_key, who.settings, who.model, who.release]).to_string();
        if let Some((c, json)) = &self.sealed {
            if *c == covers {
                return Ok(Some((index, json.clone())));
            }
        }
        let policy = who
            .policies
            .iter()
            .find(|p| p.id == counts.policy)
            .ok_or_else(|| Error::UnknownPolicy(format!("{:?}", crate::error::truncate(&counts.policy, 64))))?;
        let source = Source { shopper_key: who.shopper_key, model: who.model, release: who.release };
        let (settings, rng) = (who.settings, &mut SecureRandom::new());
        let json = match settings.mechanism {
            // Never sent as is: the host shards and seals it (`upload::seal_upload`).
            NoiseModel::Prio3 => {
                serde_json::to_string(&upload::measure(policy, &source, counts, settings.epsilon, rng)?)
            }
            _ => serde_json::to_string(&build_report(policy, &source, counts, settings, rng)?),
        }
        .map_err(|e| Error::InvalidOptions(e.to_string()))?;
        self.sealed = Some((covers, json.clone()));
        Ok(Some((index, json)))
    }
}

/// Who reports under what: the store's policies and settings, the
/// shopper's key (hashed into the report's experiment arms), the model's
/// version and the shopper's place in the model release.
pub struct Reporter<'a> {
    pub policies: &'a [Policy],
    pub settings: &'a ReportSettings,
    pub shopper_key: &'a str,
    pub model: &'a str,
    pub release: Option<&'a crate::release::ReleasePlacement>,
}
