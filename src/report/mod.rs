//! Private reports, the device side (docs/design.md §8): counting outcomes
//! locally by day ([`ledger`]), turning one shopper-day into a
//! differentially private report ([`mechanism`]) with noise from the
//! platform's secure generator ([`noise`]). Reading the released aggregates
//! back is [`crate::aggregates`]; Prio3's secret-shared reports are
//! [`crate::prio3`]; consent and budget are [`crate::privacy`].

pub mod ledger;
pub mod mechanism;
pub mod noise;
