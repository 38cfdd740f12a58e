//! Candidates → one blended ranking, each item with its score parts and
//! the reasons a shopper can read.

use crate::error::{Error, Result};
use crate::filter::{compile, compile_promotion, ItemFilter, Promotion, RowFilter, RowPromotion};
use crate::model::{ItemView, Model};
use crate::query::SessionQuery;
pub use crate::score::{BlendWeights, REVISIT_DECAY};
use crate::score::{Part, ScoreParts, Weights};
use crate::session::Session;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

pub const DEFAULT_K: usize = 10;
pub const MAX_K: usize = 200;

/// Row ids are small dense integers: one multiplication hashes them well
/// enough, where SipHash showed up at 7% of a recommendation.
#[derive(Default, Clone, Copy)]
pub(crate) struct RowHasher(u64);

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

pub(crate) type RowSet = HashSet<u32, BuildHasherDefault<RowHasher>>;
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
    /// Which items the list may hold (a category, a price range, in stock…).
    pub filter: Option<ItemFilter>,
    /// Places kept for items of a promotion, shown among the others.
    pub promotion: Option<Promotion>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// `copurchase`, `session`, `popular`, `similar`, `bundle`, `upsell`…
    pub code: &'static str,
    /// For the shopper, in plain words ("Often bought together with the Red Retrospot Mug").
    pub text: String,
    /// For the store: the figures behind it (lift, confidence, cosine), for a debug view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Reason {
    pub fn new(code: &'static str, text: impl Into<String>, detail: Option<String>) -> Reason {
        Reason { code, text: text.into(), detail }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    #[serde(flatten)]
    pub view: ItemView,
    pub score: f32,
    pub parts: ScoreParts,
    pub reasons: Vec<Reason>,
    /// The name of the promotion that kept this item's place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<String>,
}

impl Recommendation {
    /// The item at `row` as a shopper sees it, with its score and reasons.
    pub fn new(model: &Model, row: u32, score: f32, parts: ScoreParts, reasons: Vec<Reason>) -> Recommendation {
        Recommendation { view: model.view(row), score, parts, reasons, promotion: None }
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
    /// The model's probability for its best next item (drift's top
    /// score): the same whatever `k`, exclusions or blend; None on a cold start.
    #[serde(skip)]
    pub top_probability: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendations {
    pub items: Vec<Recommendation>,
    pub stats: RecommendStats,
}

#[derive(Debug, Clone, Copy, Default)]
struct Candidate {
    logit: Option<f32>,
    revisit: f32,
    copurchase: f32,
    /// The anchor item and lift behind `copurchase`.
    co_source: Option<(u32, f32)>,
}

/// Rank items for `session` (plus `opts.anchor`) with `model`.
pub fn recommend(
    model: &Model,
    session: &Session,
    opts: &RecommendOptions,
    weights: &BlendWeights,
) -> Result<Recommendations> {
    let k = check_k(opts.k)?;
    let filter = compile(opts.filter.as_ref(), model)?;
    let promotion = compile_promotion(opts.promotion.as_ref(), model)?;
    let (anchor, unknown_anchor) = model.anchor_row(opts.anchor.as_deref());
    let (excluded, unknown_ids) = excluded_rows(model, session, anchor, &opts.exclude, opts.include_viewed);
    let query = SessionQuery::new(model, session, anchor, retrieval_depth(k) + excluded.len(), weights.recency)?;
    Ok(Recommendations {
        items: ranked_items(&query, k, &excluded, filter.as_ref(), promotion.as_ref(), weights),
        stats: RecommendStats::of(&query, unknown_anchor + unknown_ids),
    })
}

/// The number of items asked for, checked.
pub fn check_k(k: Option<usize>) -> Result<usize> {
    let k = k.unwrap_or(DEFAULT_K);
    if k == 0 || k > MAX_K {
        return Err(Error::InvalidOptions(format!("k = {k} is outside 1..={MAX_K}")));
    }
    Ok(k)
}

impl RecommendStats {
    /// The stats of a list for `query`, with `unknown_ids` the request's
    /// ids the bundle does not know.
    pub fn of(query: &SessionQuery, unknown_ids: u64) -> RecommendStats {
        RecommendStats {
            unknown_items: query.session.unknown_items() + unknown_ids,
            session_length: query.session.recent().len(),
            encoded: query.is_encoded(),
            top_probability: query.top_probability(),
        }
    }
}

/// How many of the model's best items a list of `k` starts from.
pub fn retrieval_depth(k: usize) -> usize {
    (3 * k).max(30)
}

/// Items a ranking leaves out: the anchor, what the shopper has and (unless
/// `include_viewed`) what they viewed, and the host's `exclude` ids; with
/// how many of those ids the bundle does not know.
pub(crate) fn excluded_rows(
    model: &Model,
    session: &Session,
    anchor: Option<u32>,
    exclude: &[String],
    include_viewed: bool,
) -> (RowSet, u64) {
    let rows: Vec<Option<u32>> = exclude.iter().map(|id| model.catalog.row(id)).collect();
    let unknown = rows.iter().filter(|r| r.is_none()).count() as u64;
    let mut excluded: RowSet = rows.into_iter().flatten().collect();
    if !include_viewed {
        excluded.extend(session.recent());
    }
    excluded.extend(session.cart().iter().chain(session.purchased()));
    excluded.extend(anchor);
    (excluded, unknown)
}

/// The blended ranking of `query`, `k` items with their parts and reasons;
/// with a promotion, its places go to the best-ranked items it allows.
pub(crate) fn ranked_items(
    query: &SessionQuery,
    k: usize,
    excluded: &RowSet,
    filter: Option<&RowFilter>,
    promotion: Option<&RowPromotion>,
    weights: &BlendWeights,
) -> Vec<Recommendation> {
    let (model, w) = (query.model, weights.weights());
    let shut = |r: u32| excluded.contains(&r) || filter.is_some_and(|f| !f.allows(model, r));
    let mut promoted = Vec::new();
    if let Some(p) = promotion {
        let places = p.places(k);
        promoted = rank(query, places, &|r| shut(r) || !p.filter.allows(model, r), &w);
        promoted.truncate(places);
    }
    let kept: RowSet = promoted.iter().map(|r| r.0).collect();
    let mut ranked = rank(query, k, &|r| shut(r) || kept.contains(&r), &w);
    make_room_for_learned(model, &mut ranked, k);
    ranked.truncate(k - promoted.len());
    let has_session = !query.session.is_empty();
    let item = |(row, score, parts, co_source): Ranked| {
        let reasons = explain(model, &parts, &w, score, co_source, has_session, query.anchor);
        Recommendation::new(model, row, score, parts, reasons)
    };
    let promote = |r: Ranked| {
        let name = promotion.map(|p| p.name.clone()).unwrap_or_default();
        let mut rec = item(r);
        rec.reasons.insert(0, Reason::new("promoted", "Featured by the store", Some(format!("promotion {name}"))));
        rec.promotion = Some(name);
        rec
    };
    interleave(ranked, promoted, |a, b| a.1 >= b.1)
        .into_iter()
        .map(|(r, p)| if p { promote(r) } else { item(r) })
        .collect()
}

/// Merge a promotion's items into a list (marked true): in score order,
/// except that the i-th promoted item (of n) is never later than place
/// (i + 1)·len / (n + 1), so a promotion is seen whatever its scores (Amazon
/// Personalize places them at random; spread places keep a page stable).
fn interleave<T>(regular: Vec<T>, promoted: Vec<T>, ahead: impl Fn(&T, &T) -> bool) -> Vec<(T, bool)> {
    let (len, n) = (regular.len() + promoted.len(), promoted.len());
    let mut out = Vec::with_capacity(len);
    let (mut regular, mut promoted) = (regular.into_iter().peekable(), promoted.into_iter().peekable());
    let mut placed = 0;
    for place in 0..len {
        let due = (placed + 1) * len / (n + 1) <= place;
        let take_promoted = match (regular.peek(), promoted.peek()) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(r), Some(p)) => due || !ahead(r, p),
        };
        let next = if take_promoted { promoted.next() } else { regular.next() };
        placed += take_promoted as usize;
        out.extend(next.map(|t| (t, take_promoted)));
    }
    out
}

/// The model's best items, the anchors' co-purchase neighbours and (for
/// cold starts and tiny catalogs) popular items, blended, best first.
fn rank(query: &SessionQuery, k: usize, shut: &dyn Fn(u32) -> bool, w: &Weights) -> Vec<Ranked> {
    let model = query.model;
    let mut cands: RowMap<Candidate> = RowMap::default();
    for s in query.best(retrieval_depth(k), shut) {
        cands.entry(s.row).or_default().logit = Some(s.score);
    }
    let cp = &model.copurchase;
    for (a, weight, j) in query.neighbours() {
        let n = cp.neighbors[j];
        if shut(n) {
            continue;
        }
        let strength = weight * cp.confidence[j];
        let c = cands.entry(n).or_default();
        if strength > c.copurchase {
            c.copurchase = strength;
            c.co_source = Some((a, cp.lift[j]));
        }
    }
    // Viewed items, where the list may show them: the latest view counts 1,
    // each before it REVISIT_DECAY times the next (the most recent view of
    // an item viewed twice counts).
    if w.revisit > 0.0 {
        let views =
            query.session.recent().iter().rev().zip(std::iter::successors(Some(1.0), |d| Some(d * REVISIT_DECAY)));
        for (&r, decayed) in views.filter(|(r, _)| !shut(**r)) {
            let c = cands.entry(r).or_default();
            c.revisit = c.revisit.max(decayed);
        }
    }
    for &r in model.popular.iter().filter(|r| !shut(**r)).take(k) {
        cands.entry(r).or_default();
    }
    let mut ranked: Vec<Ranked> = cands
        .into_iter()
        .map(|(row, c)| {
            let logit = c.logit.or_else(|| query.logit(row));
            let parts = ScoreParts {
                model: logit.map_or(0.0, |l| query.probability_of(l)),
                copurchase: c.copurchase,
                margin: model.attributes.margin[row as usize],
                popularity: relative_popularity(model, row),
                revisit: c.revisit,
                ..Default::default()
            };
            (row, parts.score(w), parts, c.co_source)
        })
        .collect();
    // Equal scores go to the more popular item: a blend without popularity
    // still ranks a cold start's bestsellers in order.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.popularity.total_cmp(&a.2.popularity)).then(a.0.cmp(&b.0)));
    ranked
}

type Ranked = (u32, f32, ScoreParts, Option<(u32, f32)>);

/// Items no session was learned from (placed from their words) take at
/// most a quarter of a list's `k` places ahead of learned ones; the rest of
/// them follow the learned items. A placed row is a mean of its
/// neighbours' rows and scores high against their whole neighbourhood: in
/// a catalog where most items are new it would otherwise crowd every list
/// (measured on a grocer with 73k of 92k items unlearned: the model's own
/// Recall@20 fell to 0).
fn make_room_for_learned(model: &Model, ranked: &mut Vec<Ranked>, k: usize) {
    let unlearned = |row: u32| model.attributes.item_sessions[row as usize] == 0;
    let cap = (k / 4).max(1);
    if ranked.iter().take(k).filter(|r| unlearned(r.0)).count() <= cap {
        return;
    }
    let mut seen = 0;
    let (front, back): (Vec<Ranked>, Vec<Ranked>) = std::mem::take(ranked).into_iter().partition(|r| {
        let new = unlearned(r.0);
        seen += new as usize;
        !new || seen <= cap
    });
    *ranked = front;
    ranked.extend(back);
}

fn popular(parts: &ScoreParts) -> Reason {
    Reason::new(
        "popular",
        "Popular in this store",
        Some(format!("popularity {:.2} of the best seller's", parts.popularity)),
    )
}

fn explain(
    model: &Model,
    parts: &ScoreParts,
    w: &Weights,
    score: f32,
    co_source: Option<(u32, f32)>,
    has_session: bool,
    anchor: Option<u32>,
) -> Vec<Reason> {
    let mut reasons: Vec<Reason> = parts
        .leading(w, score)
        .into_iter()
        .filter_map(|(part, _)| {
            let share = |p: f32| format!("{:.0}% of the score", 100.0 * p / score.max(f32::MIN_POSITIVE));
            Some(match part {
                Part::Copurchase => {
                    let (src, lift) = co_source?;
                    let detail = format!(
                        "co-purchase {:.2}, lift {lift:.1}: {}",
                        parts.copurchase,
                        share(w.copurchase * parts.copurchase)
                    );
                    Reason::new(
                        "copurchase",
                        format!("Often bought together with the {}", model.title(src)),
                        Some(detail),
                    )
                }
                Part::Model => {
                    let detail = format!("session model p = {:.3}: {}", parts.model, share(w.model * parts.model));
                    match has_session {
                        true => Reason::new("session", "Picked for what you have been looking at", Some(detail)),
                        false => {
                            Reason::new("session", format!("Goes with the {}", model.title(anchor?)), Some(detail))
                        }
                    }
                }
                Part::Revisit => Reason::new(
                    "viewed",
                    "You looked at this earlier",
                    Some(format!("viewed {:.2}: {}", parts.revisit, share(w.revisit * parts.revisit))),
                ),
                _ => popular(parts),
            })
        })
        .collect();
    if reasons.is_empty() {
        reasons.push(popular(parts));
    }
    reasons
}
