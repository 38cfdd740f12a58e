//! What the device counts for its aggregate reports, by UTC day: per
//! (slot, offer) impressions, clicks, add-to-carts, purchases and revenue,
//! and per experiment whether the shopper reached it and bought. Kept in the
//! shopper's state (on the device) and only while the shopper consents;
//! nothing here ever leaves the device except through a noised report.

pub use crate::day::Day;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Reports cover days at most this old; older pending counts are dropped.
pub const RETENTION_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CellCounts {
    pub impressions: u32,
    pub clicks: u32,
    pub add_to_carts: u32,
    pub purchases: u32,
    /// Price of the offered items bought, in the store's currency.
    pub revenue: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VisitCounts {
    /// Reached a slot of the experiment (holdout included).
    pub exposed: bool,
    /// Bought anything after that, this day.
    pub converted: bool,
    /// Sessions with a purchase after exposure.
    pub orders: u32,
    pub revenue: f64,
    /// The last session counted as an order (orders count sessions).
    #[serde(default)]
    pub order_session: Option<u32>,
}

/// One day's counts under one policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DayCounts {
    pub day: Day,
    pub policy: String,
    /// slot → offer → counts.
    #[serde(default)]
    pub cells: BTreeMap<String, BTreeMap<String, CellCounts>>,
    /// experiment → visit.
    #[serde(default)]
    pub visits: BTreeMap<String, VisitCounts>,
    /// What the model met this day (for drift alerts).
    #[serde(default)]
    pub drift: DriftCounts,
}

/// The day's signals of drift between the model and the store: views of
/// items the bundle does not know, and the model's confidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriftCounts {
    pub views: u32,
    /// Views of items the bundle does not know (new products).
    pub unknown_views: u32,
    /// The bin (`TOP_SCORE_EDGES`) of the model's top score in the day's
    /// first ranking: one sample per shopper-day.
    pub top_score_bin: Option<u8>,
}

/// Upper edges of the top-score bins but the last (which runs to 1): the
/// model's top probability, coarse and log-spaced.
pub const TOP_SCORE_EDGES: [f32; 4] = [0.02, 0.05, 0.1, 0.2];
/// Bins of the top-score histogram.
pub const TOP_SCORE_BINS: usize = TOP_SCORE_EDGES.len() + 1;

pub fn top_score_bin(score: f32) -> u8 {
    TOP_SCORE_EDGES.iter().take_while(|&&edge| score >= edge).count() as u8
}

/// A shopper outcome on an offer shown earlier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Taken {
    Click,
    AddToCart,
    Purchase { revenue: f64 },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ledger {
    /// The shopper's choice, passed by the store; off until given.
    #[serde(default)]
    pub consent: bool,
    /// Pending counts, oldest day first.
    #[serde(default)]
    pub pending: Vec<DayCounts>,
    /// ε spent per day (by report day).
    #[serde(default)]
    pub spent: BTreeMap<Day, f64>,
}

/// Pending report days a ledger may hold (a month, under a few policies).
const MAX_PENDING_DAYS: usize = 128;

impl Ledger {
    /// Refuse a stored ledger this engine could not have written.
    pub fn checked(self) -> Result<Ledger> {
        if self.pending.len() > MAX_PENDING_DAYS || self.spent.len() > MAX_PENDING_DAYS {
            return Err(Error::InvalidState(format!("more than {MAX_PENDING_DAYS} pending report days")));
        }
        if self.spent.values().any(|e| !e.is_finite() || *e < 0.0) {
            return Err(Error::InvalidState("privacy budget entries must be finite and ≥ 0".into()));
        }
        Ok(self)
    }

    /// Opt in or out; opting out erases what is pending.
    pub fn set_consent(&mut self, consent: bool) {
        self.consent = consent;
        if !consent {
            self.pending.clear();
        }
    }

    /// The counts of `day` under `policy`, or None without consent.
    fn day(&mut self, day: Day, policy: &str) -> Option<&mut DayCounts> {
        if !self.consent {
            return None;
        }
        let i = match self.pending.iter().position(|d| d.day == day && d.policy == policy) {
            Some(i) => i,
            None => {
                self.pending.push(DayCounts { day, policy: policy.into(), ..Default::default() });
                self.pending.len() - 1
            }
        };
        Some(&mut self.pending[i])
    }

    pub fn shown(&mut self, day: Day, policy: &str, slot: &str, offer: &str) {
        if let Some(d) = self.day(day, policy) {
            let c = d.cells.entry(slot.into()).or_default().entry(offer.into()).or_default();
            c.impressions = c.impressions.saturating_add(1);
        }
    }

    pub fn exposed(&mut self, day: Day, policy: &str, experiment: &str) {
        if let Some(d) = self.day(day, policy) {
            d.visits.entry(experiment.into()).or_default().exposed = true;
        }
    }

    /// An outcome on an offer: counted on its cell if the offer was shown
    /// this day (a later day's outcome belongs to no reported impression).
    pub fn taken(&mut self, day: Day, policy: &str, slot: &str, offer: &str, taken: Taken) {
        let Some(d) = self.day(day, policy) else { return };
        let Some(c) = d.cells.get_mut(slot).and_then(|o| o.get_mut(offer)) else { return };
        match taken {
            Taken::Click => c.clicks = c.clicks.saturating_add(1),
            Taken::AddToCart => c.add_to_carts = c.add_to_carts.saturating_add(1),
            Taken::Purchase { revenue } => {
                c.purchases = c.purchases.saturating_add(1);
                c.revenue += revenue.max(0.0);
            }
        }
    }

    /// A view, of an item the bundle knows or not.
    pub fn viewed(&mut self, day: Day, policy: &str, known: bool) {
        if let Some(d) = self.day(day, policy) {
            d.drift.views = d.drift.views.saturating_add(1);
            d.drift.unknown_views = d.drift.unknown_views.saturating_add(u32::from(!known));
        }
    }

    /// The model's top score in a ranking: the day's first one is kept.
    pub fn top_score(&mut self, day: Day, policy: &str, score: f32) {
        if let Some(d) = self.day(day, policy) {
            d.drift.top_score_bin.get_or_insert(top_score_bin(score));
        }
    }

    /// Any purchase: a conversion for each experiment reached this day.
    pub fn purchase(&mut self, day: Day, policy: &str, revenue: f64, session: u32) {
        let Some(d) = self.day(day, policy) else { return };
        for v in d.visits.values_mut().filter(|v| v.exposed) {
            v.converted = true;
            v.revenue += revenue.max(0.0);
            if v.order_session != Some(session) {
                v.orders = v.orders.saturating_add(1);
                v.order_session = Some(session);
            }
        }
    }

    /// Drop pending days older than the retention window.
    pub fn expire(&mut self, today: Day) {
        let fresh = |d: Day| today.since(d) <= RETENTION_DAYS;
        self.pending.retain(|d| fresh(d.day));
        self.spent.retain(|&d, _| fresh(d));
    }

    pub fn spent_on(&self, day: Day) -> f64 {
        self.spent.get(&day).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    #[test]
    fn nothing_is_counted_without_consent_and_opt_out_erases() {
        let mut l = Ledger::default();
        l.shown(day("2026-11-21"), "p", "cart", "o");
        assert!(l.pending.is_empty());
        l.set_consent(true);
        l.shown(day("2026-11-21"), "p", "cart", "o");
        l.taken(day("2026-11-21"), "p", "cart", "o", Taken::Click);
        l.taken(day("2026-11-21"), "p", "cart", "never-shown", Taken::Click);
        assert_eq!(l.pending[0].cells["cart"]["o"].clicks, 1);
        assert_eq!(l.pending[0].cells["cart"].len(), 1);
        l.set_consent(false);
        assert!(l.pending.is_empty());
    }

    #[test]
    fn drift_counts_views_and_keeps_the_days_first_top_score() {
        let mut l = Ledger { consent: true, ..Default::default() };
        let today = day("2026-12-02");
        l.viewed(today, "p", true);
        l.viewed(today, "p", false);
        l.top_score(today, "p", 0.07);
        l.top_score(today, "p", 0.5);
        assert_eq!(l.pending[0].drift, DriftCounts { views: 2, unknown_views: 1, top_score_bin: Some(2) });
        assert_eq!([0.0, 0.019, 0.02, 0.2, 1.0].map(top_score_bin), [0, 0, 1, 4, 4]);
    }
}
