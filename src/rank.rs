//! Candidates → one blended ranking, each item with its score parts and
//! the reasons a shopper can read.

use crate::error::{Error, Result};
use crate::model::Model;
use crate::session::Session;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

pub const DEFAULT_K: usize = 10;
pub const MAX_K: usize = 200;
/// Co-purchase neighbours read per anchor item.
const NEIGHBOURS_PER_ANCHOR: usize = 32;
/// Cart items and recent views used as co-purchase anchors.
const CART_ANCHORS: usize = 5;
const VIEW_ANCHORS: usize = 3;
/// A part is named as a reason when it brings this share of the score.
const REASON_SHARE: f32 = 0.2;

/// Row ids are small dense integers: one multiplication hashes them well
/// enough, where SipHash showed up at 7% of a recommendation.
#[derive(Default, Clone, Copy)]
struct RowHasher(u64);

impl Hasher for RowHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64 ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type RowSet = HashSet<u32, BuildHasherDefault<RowHasher>>;
type RowMap<V> = HashMap<u32, V, BuildHasherDefault<RowHasher>>;

/// What `recommend` accepts (JSON / JS object, camelCase).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecommendOptions {
    pub k: Option<usize>,
    /// Recommend around this item (a product page), on top of the session.
    pub anchor: Option<String>,
    /// Item ids never to return.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Also rank items viewed in this session ("back to it" lists, and the
    /// offline protocol, where a fifth of next views are re-views); items in
    /// the cart or bought stay out.
    #[serde(default)]
    pub include_viewed: bool,
}

/// Weights of the blend (the offer policy can set them).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlendWeights {
    pub model: f32,
    pub copurchase: f32,
    pub popularity: f32,
}

impl Default for BlendWeights {
    fn default() -> Self {
        BlendWeights { model: 1.0, copurchase: 0.6, popularity: 0.05 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreParts {
    /// The session model's probability for this item, as a softmax over
    /// the candidates (0..=1, summing to at most 1).
    pub model: f32,
    /// Strongest co-purchase confidence from a session item, weighted.
    pub copurchase: f32,
    /// Popularity relative to the most popular item, 0..=1.
    pub popularity: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// `copurchase`, `session` or `popular`.
    pub code: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub item: String,
    pub title: String,
    pub price: f32,
    pub category: String,
    pub score: f32,
    pub parts: ScoreParts,
    pub reasons: Vec<Reason>,
}

impl Recommendation {
    /// The item at `row` as a shopper sees it, with its score and reasons.
    pub fn new(model: &Model, row: u32, score: f32, parts: ScoreParts, reasons: Vec<Reason>) -> Recommendation {
        Recommendation {
            item: model.item_id(row).to_string(),
            title: model.title(row).to_string(),
            price: model.attributes.price[row as usize],
            category: model.category(row).to_string(),
            score,
            parts,
            reasons,
        }
    }
}

/// Popularity of `row` relative to the most popular item, 0..=1.
pub fn relative_popularity(model: &Model, row: u32) -> f32 {
    model.attributes.popularity[row as usize] / model.max_popularity.max(f32::MIN_POSITIVE)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecommendStats {
    /// Unknown item ids skipped, in the session and in this request.
    pub unknown_items: u64,
    pub session_length: usize,
    /// Whether the session encoder ran (false on a cold start).
    pub encoded: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendations {
    pub items: Vec<Recommendation>,
    pub stats: RecommendStats,
}

#[derive(Debug, Clone, Copy, Default)]
struct Candidate {
    model_score: Option<f32>,
    copurchase: f32,
    /// The session item and lift behind `copurchase`.
    co_source: Option<(u32, f32)>,
}

/// Rank items for `session` (plus `opts.anchor`) with `model`.
pub fn recommend(
    model: &Model,
    session: &Session,
    opts: &RecommendOptions,
    weights: &BlendWeights,
) -> Result<Recommendations> {
    let k = opts.k.unwrap_or(DEFAULT_K);
    if k == 0 || k > MAX_K {
        return Err(Error::InvalidOptions(format!("k = {k} is outside 1..={MAX_K}")));
    }
    let mut unknown = session.unknown_items();
    let mut resolve = |id: &str| {
        let row = model.catalog.row(id);
        unknown += row.is_none() as u64;
        row
    };
    let anchor = opts.anchor.as_deref().and_then(&mut resolve);
    let mut excluded: RowSet = opts.exclude.iter().filter_map(|id| resolve(id)).collect();
    if !opts.include_viewed {
        excluded.extend(session.recent());
    }
    excluded.extend(session.cart().iter().chain(session.purchased()));
    excluded.extend(anchor);

    let seq = session.encoder_rows(anchor, model.encoder.max_seq_len());
    let query = if seq.is_empty() { None } else { Some(model.encode_rows(&seq)?) };

    let mut cands: RowMap<Candidate> = RowMap::default();
    if let Some(q) = &query {
        for s in model.table.top_k(q, (3 * k).max(30), |r| excluded.contains(&r)) {
            cands.entry(s.row).or_default().model_score = Some(s.score);
        }
    }
    add_copurchase(model, session, anchor, &excluded, &mut cands);
    // Popular items fill the list on cold starts and tiny catalogs.
    for &r in model.popular.iter().filter(|r| !excluded.contains(r)).take(k) {
        cands.entry(r).or_default();
    }

    let mut ranked = score_candidates(model, query.as_deref(), cands, weights);
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let has_session = !session.is_empty();
    let items = ranked
        .into_iter()
        .take(k)
        .map(|(row, score, parts, co_source)| {
            let reasons = explain(model, &parts, weights, score, co_source, has_session, anchor);
            Recommendation::new(model, row, score, parts, reasons)
        })
        .collect();
    Ok(Recommendations {
        items,
        stats: RecommendStats {
            unknown_items: unknown,
            session_length: session.recent().len(),
            encoded: query.is_some(),
        },
    })
}

/// Neighbours of the anchor, the cart and the last views, by confidence.
fn add_copurchase(
    model: &Model,
    session: &Session,
    anchor: Option<u32>,
    excluded: &RowSet,
    cands: &mut RowMap<Candidate>,
) {
    let recent_views = session.recent().iter().rev().take(VIEW_ANCHORS);
    let anchors = anchor
        .map(|a| (a, 1.0))
        .into_iter()
        .chain(session.cart().iter().rev().take(CART_ANCHORS).map(|&r| (r, 1.0)))
        .chain(recent_views.map(|&r| (r, 0.5)));
    let cp = &model.copurchase;
    for (a, weight) in anchors {
        for j in cp.range(a as usize).take(NEIGHBOURS_PER_ANCHOR) {
            let n = cp.neighbors[j];
            if excluded.contains(&n) {
                continue;
            }
            let strength = weight * cp.confidence[j];
            let c = cands.entry(n).or_default();
            if strength > c.copurchase {
                c.copurchase = strength;
                c.co_source = Some((a, cp.lift[j]));
            }
        }
    }
}

type Ranked = (u32, f32, ScoreParts, Option<(u32, f32)>);

fn score_candidates(model: &Model, query: Option<&[f32]>, cands: RowMap<Candidate>, w: &BlendWeights) -> Vec<Ranked> {
    let mut cands: Vec<(u32, Candidate)> = cands.into_iter().collect();
    if let Some(q) = query {
        for (row, c) in cands.iter_mut() {
            c.model_score.get_or_insert_with(|| model.table.score(q, *row));
        }
    }
    // The model part is a softmax over the candidates: the model's
    // probability that the shopper's next item is this one (given the
    // candidates hold most of the mass), comparable with a confidence.
    let best = cands.iter().filter_map(|(_, c)| c.model_score).fold(f32::NEG_INFINITY, f32::max);
    let norm: f32 = cands.iter().filter_map(|(_, c)| c.model_score).map(|s| (s - best).exp()).sum();
    cands
        .into_iter()
        .map(|(row, c)| {
            let parts = ScoreParts {
                model: c.model_score.map_or(0.0, |s| (s - best).exp() / norm),
                copurchase: c.copurchase,
                popularity: relative_popularity(model, row),
            };
            let score = w.model * parts.model + w.copurchase * parts.copurchase + w.popularity * parts.popularity;
            (row, score, parts, c.co_source)
        })
        .collect()
}

fn explain(
    model: &Model,
    parts: &ScoreParts,
    w: &BlendWeights,
    score: f32,
    co_source: Option<(u32, f32)>,
    has_session: bool,
    anchor: Option<u32>,
) -> Vec<Reason> {
    let mut contributions = [
        (w.copurchase * parts.copurchase, "copurchase"),
        (w.model * parts.model, "session"),
        (w.popularity * parts.popularity, "popular"),
    ];
    contributions.sort_by(|a, b| b.0.total_cmp(&a.0));
    let floor = REASON_SHARE * score.max(f32::MIN_POSITIVE);
    let mut reasons: Vec<Reason> = contributions
        .iter()
        .enumerate()
        .filter(|(i, (c, _))| *i == 0 || *c >= floor)
        .filter_map(|(_, &(_, code))| {
            let text = match code {
                "copurchase" => {
                    let (src, lift) = co_source?;
                    format!("often bought with {} (lift {lift:.1})", model.title(src))
                }
                "session" if has_session => "close to what you viewed".to_string(),
                "session" => format!("similar to {}", model.title(anchor?)),
                _ => "popular in the store".to_string(),
            };
            Some(Reason { code, text })
        })
        .collect();
    if reasons.is_empty() {
        reasons.push(Reason { code: "popular", text: "popular in the store".to_string() });
    }
    reasons
}
