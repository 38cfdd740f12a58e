//! The parts of every score edgerec shows (a ranked item, an offer, a set),
//! each in 0..=1, and the weights that blend them: one shape for the
//! ranking and for every offer kind, so a trace reads the same everywhere.

use serde::{Deserialize, Serialize};

/// A part brings a reason to the shopper when it is this share of the score.
pub const REASON_SHARE: f32 = 0.2;
/// How much less each earlier view counts than the one after it in the
/// `revisit` part (on Diginetica's held-out views, 0.5 to 0.9 all gain
/// alike; a fifth of next views there are re-views).
pub const REVISIT_DECAY: f32 = 0.7;

/// The parts of a score, each 0..=1; a part a list or an offer kind does
/// not use is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreParts {
    /// Session model: the probability of the item next (a softmax over the
    /// model's pool, `query::MODEL_POOL`), or the embedding cosine with the
    /// item in focus where the list is of substitutes (similar, upsell).
    pub model: f32,
    /// Co-purchase confidence with an anchor item (ranking), weighted by
    /// the anchor (`SessionQuery::anchors`).
    pub copurchase: f32,
    /// Co-purchase lift with an anchor, as 1 − 1/lift (offers).
    pub lift: f32,
    pub margin: f32,
    /// Upsell: price over the focus item's price, minus 1, capped at 1.
    pub price_step: f32,
    /// Popularity relative to the most popular item.
    pub popularity: f32,
    /// Ranking, when a list may show viewed items again: 1 for the item
    /// viewed last, `REVISIT_DECAY` times less for each view before it.
    pub revisit: f32,
    /// The offer's take rate in the store's released aggregates, relative
    /// to the best offer's; 0 until aggregates are loaded.
    pub taken: f32,
}

/// The weight of each part in a score: the same shape as the parts.
pub type Weights = ScoreParts;

/// Largest weight a blend (a bundle's, a policy's `ranking`) or an offer's
/// `ranking` may give a part. Every part is within ±1 (a probability, a
/// cosine, a co-purchase confidence times an anchor weight ≤ 1, 1 − 1/lift,
/// a margin the bundle loader holds in 0..=1, a price step capped at 1, a
/// popularity or take rate relative to the best), so a score — the sum of
/// the eight products — stays within ±8e6, and what is made of it (the
/// shares `100 × part / score` of the reasons) stays finite in f32, where
/// weights near `f32::MAX` gave infinite scores (`score: null`). A weight
/// 1e6 times another's already leaves that other no say.
pub const MAX_WEIGHT: f32 = 1e6;

/// The first of `weights` (by name) that is not a number in
/// `0..=MAX_WEIGHT`, with what is wrong with it.
pub fn check_weights<'a>(weights: impl IntoIterator<Item = (&'a str, f32)>) -> Result<(), (&'a str, String)> {
    match weights.into_iter().find(|(_, w)| !(0.0..=MAX_WEIGHT).contains(w)) {
        None => Ok(()),
        Some((name, w)) => Err((
            name,
            format!("a weight is a number in 0..={MAX_WEIGHT:e}, not {w:e} (a larger one could overflow a score)"),
        )),
    }
}

/// Weights of the ranking's blend: the model's own (the bundle's, set by
/// `edgerec tune`), which a store's policy may override.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlendWeights {
    pub model: f32,
    pub copurchase: f32,
    pub popularity: f32,
    /// How much each earlier view counts as a co-purchase anchor against the
    /// view after it, 0..=1: 1 weighs the last views alike, 0.5 halves the
    /// weight with each step back, 0 reads only the latest view — how fast
    /// the lists follow a shopper who moves on to another kind of thing.
    pub recency: f32,
    /// The weight of a viewed item seen again (`ScoreParts::revisit`), in
    /// lists that may show viewed items: 0 leaves them to the model.
    pub revisit: f32,
}

impl Default for BlendWeights {
    fn default() -> Self {
        BlendWeights { model: 1.0, copurchase: 0.6, popularity: 0.05, recency: 1.0, revisit: 0.0 }
    }
}

impl BlendWeights {
    /// The blend in force: a store's override, else the bundle's own, else the default.
    pub fn in_force(policy: Option<BlendWeights>, bundle: Option<BlendWeights>) -> BlendWeights {
        policy.or(bundle).unwrap_or_default()
    }

    /// Every weight in `0..=MAX_WEIGHT` and `recency` in 0..=1, else the
    /// first field that is not (as JSON names it) and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        check_weights([("model", self.model), ("copurchase", self.copurchase), ("popularity", self.popularity)])?;
        if !(0.0..=1.0).contains(&self.recency) {
            return Err(("recency", format!("recency is a number in 0..=1, not {:e}", self.recency)));
        }
        check_weights([("revisit", self.revisit)])
    }

    /// Whether `check` passes.
    pub fn is_valid(&self) -> bool {
        self.check().is_ok()
    }

    pub fn weights(&self) -> Weights {
        Weights {
            model: self.model,
            copurchase: self.copurchase,
            popularity: self.popularity,
            revisit: self.revisit,
            ..Default::default()
        }
    }
}

/// One part, named as a reason's code names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Model,
    Copurchase,
    Lift,
    Margin,
    PriceStep,
    Popularity,
    Revisit,
    Taken,
}

impl ScoreParts {
    fn values(&self) -> [(Part, f32); 8] {
        [
            (Part::Model, self.model),
            (Part::Copurchase, self.copurchase),
            (Part::Lift, self.lift),
            (Part::Margin, self.margin),
            (Part::PriceStep, self.price_step),
            (Part::Popularity, self.popularity),
            (Part::Revisit, self.revisit),
            (Part::Taken, self.taken),
        ]
    }

    /// The blended score under `w`.
    pub fn score(&self, w: &Weights) -> f32 {
        self.values().iter().zip(w.values()).map(|(&(_, p), (_, w))| p * w).sum()
    }

    /// The parts that bring at least `REASON_SHARE` of `score` under `w`,
    /// largest first (ties in the order of the fields).
    pub fn leading(&self, w: &Weights, score: f32) -> Vec<(Part, f32)> {
        let floor = REASON_SHARE * score.max(f32::MIN_POSITIVE);
        let mut parts: Vec<(Part, f32)> =
            self.values().iter().zip(w.values()).map(|(&(part, p), (_, w))| (part, p * w)).collect();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        parts.retain(|&(_, c)| c >= floor);
        parts
    }

    /// The mean of each part.
    pub fn mean(parts: &[ScoreParts]) -> ScoreParts {
        let n = parts.len().max(1) as f32;
        let sum = |f: fn(&ScoreParts) -> f32| parts.iter().map(f).sum::<f32>() / n;
        ScoreParts {
            model: sum(|p| p.model),
            copurchase: sum(|p| p.copurchase),
            lift: sum(|p| p.lift),
            margin: sum(|p| p.margin),
            price_step: sum(|p| p.price_step),
            popularity: sum(|p| p.popularity),
            revisit: sum(|p| p.revisit),
            taken: sum(|p| p.taken),
        }
    }
}

/// Rows and their scores, best first (equal scores: the lower row first).
/// One sort shared by every such list: a closure at each call would compile
/// a sort of its own into the module.
pub fn best_first(scored: &mut [(u32, f32)]) {
    scored.sort_unstable_by(by_score);
}

/// The order `best_first` sorts in.
pub fn by_score(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_is_the_weighted_sum_and_reasons_are_its_leading_parts() {
        let parts = ScoreParts { model: 0.5, copurchase: 0.1, popularity: 1.0, ..Default::default() };
        let w = Weights { model: 1.0, copurchase: 0.6, popularity: 0.05, ..Default::default() };
        let score = parts.score(&w);
        assert!((score - (0.5 + 0.06 + 0.05)).abs() < 1e-6);
        let leading: Vec<Part> = parts.leading(&w, score).into_iter().map(|(p, _)| p).collect();
        assert_eq!(leading, vec![Part::Model], "0.06 and 0.05 are under a fifth of {score}");
        assert_eq!(ScoreParts::mean(&[parts, ScoreParts::default()]).model, 0.25);
    }
}
