//! What a store learnt from every shopper's private reports, in the form
//! decisioning reads it: each offer's shows and takes (the bandits' Beta
//! priors) and its popularity boost. `aggregates` derives them from released
//! aggregates; `decide` reads them; neither knows the other.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Most shows a prior may count (a trillion: more than any store's
/// history; beyond it a Beta draw is the mean anyway).
pub const MAX_PRIOR_COUNT: u64 = 1_000_000_000_000;

/// One offer's shows and takes (on one device, or in the aggregates).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trials {
    pub shown: u64,
    pub taken: u64,
}

/// Beta prior counts from the store's aggregates, by offer id.
pub type Priors = HashMap<String, Trials>;
/// Each offer's released take rate relative to the best offer's, by offer
/// id (the `taken` part of an offer's score).
pub type Boosts = HashMap<String, f32>;

/// Priors as a host passes them: `{"offerId": {"shown": n, "taken": k}}`.
pub fn parse_priors(json: &str) -> Result<Priors> {
    let priors: Priors = serde_json::from_str(json).map_err(|e| Error::InvalidOptions(format!("priors: {e}")))?;
    if let Some((id, _)) = priors.iter().find(|(_, t)| t.taken > t.shown) {
        return Err(Error::InvalidOptions(format!("priors: offer {id:?} has more takes than shows")));
    }
    if let Some((id, _)) = priors.iter().find(|(_, t)| t.shown > MAX_PRIOR_COUNT) {
        return Err(Error::InvalidOptions(format!("priors: offer {id:?} has more than {MAX_PRIOR_COUNT} shows")));
    }
    Ok(priors)
}
