//! What happens after a decision: it is shown (an impression, once per page
//! view), the shopper reacts (feedback), a purchase is attributed to the
//! offers that showed the item. Each updates the shopper's log and bandit.

use super::compiled::Policy;
use super::decision::{Feedback, Showing};
use super::state::{bandit_key, LogEntry, Outcome, ShopperState};
use crate::day::check_clock;
use crate::error::{truncate, Error, Result};

/// Count a decision the shopper was shown: its impression goes into the
/// log (caps, attribution) and the bandit's trials, once per page view.
/// Returns whether an impression was counted: false without an offer, and
/// for the same offer showing again in the same page view (a re-render).
pub fn record_shown(state: &mut ShopperState, shown: &Showing, now: f64) -> Result<bool> {
    check_clock(now)?;
    state.touch(now, false);
    let Some(offer) = &shown.offer else { return Ok(false) };
    let again = state.log.iter().any(|e| {
        e.outcome == Outcome::Impression
            && (e.s, e.v) == (shown.session, shown.view)
            && (&e.slot, &e.offer, &e.items, &e.f) == (&shown.slot, &offer.id, &offer.items, &offer.focus)
    });
    if again {
        return Ok(false);
    }
    state.record(LogEntry {
        t: now,
        s: shown.session,
        slot: shown.slot.clone(),
        offer: offer.id.clone(),
        outcome: Outcome::Impression,
        items: offer.items.clone(),
        v: shown.view,
        f: offer.focus.clone(),
        c: shown.channel.clone(),
    });
    if let (true, Some(exp)) = (shown.bandit, &shown.experiment) {
        state.bandit.entry(bandit_key(exp, &offer.id)).or_default().shown += 1;
    }
    Ok(true)
}

/// Record the shopper's reaction to an offer of `slot`.
pub fn record_feedback(policy: &Policy, state: &mut ShopperState, fb: &Feedback, now: f64) -> Result<()> {
    check_clock(now)?;
    let slot = policy.slot_named(&fb.slot)?;
    if !policy.offers.iter().any(|o| o.id == fb.offer) {
        return Err(Error::InvalidOptions(format!(
            "policy {:?} has no offer {:?}",
            policy.id,
            truncate(&fb.offer, 64)
        )));
    }
    if fb.outcome == Outcome::Impression {
        return Err(Error::InvalidOptions("an impression is recorded by saying the decision was shown".into()));
    }
    state.touch(now, false);
    // A take counts once per impression for the bandit (a click then a
    // purchase is one success).
    let last_shown =
        state.log.iter().rposition(|e| e.offer == fb.offer && e.slot == fb.slot && e.outcome == Outcome::Impression);
    let first_take =
        last_shown.is_some_and(|i| !state.log[i + 1..].iter().any(|e| e.offer == fb.offer && e.outcome.is_take()));
    if fb.outcome.is_take() && first_take {
        if let Some(exp) = slot.experiment.map(|e| &policy.experiments[e]) {
            if let Some(trials) = state.bandit.get_mut(&bandit_key(&exp.id, &fb.offer)) {
                trials.taken = (trials.taken + 1).min(trials.shown);
            }
        }
    }
    let entry = LogEntry {
        t: now,
        s: state.session,
        slot: fb.slot.clone(),
        offer: fb.offer.clone(),
        outcome: fb.outcome,
        items: Vec::new(),
        v: 0,
        f: None,
        c: None,
    };
    state.record(entry);
    Ok(())
}

/// The (slot, offer) pairs that showed `item` in this session.
pub fn offers_showing(state: &ShopperState, item: &str) -> Vec<(String, String)> {
    let mut shown: Vec<(String, String)> = state
        .log
        .iter()
        .filter(|e| e.s == state.session && e.outcome == Outcome::Impression && e.items.iter().any(|i| i == item))
        .map(|e| (e.slot.clone(), e.offer.clone()))
        .collect();
    shown.sort_unstable();
    shown.dedup();
    shown
}

/// A purchase of an item is a take for each offer of this session that
/// showed it (`shown`, from `offers_showing`) and has no purchase recorded since.
pub fn attribute_purchase(policy: &Policy, state: &mut ShopperState, shown: &[(String, String)], now: f64) {
    for (slot, offer) in shown {
        let fb = Feedback { slot: slot.clone(), offer: offer.clone(), outcome: Outcome::Purchase };
        // The ids came from this policy's own log; a policy swapped since
        // may not know them, and then there is nothing to attribute.
        let _ = record_feedback(policy, state, &fb, now);
    }
}
