//! The storefront's recommendation slots around one page view: the blended
//! ranking, "similar items", "frequently bought together", "complete the
//! set" bundles and one next-best offer, computed in one pass over the
//! session so a page pays for the encoder once.

use crate::error::{Error, Result};
use crate::model::Model;
use crate::rank::{
    recommend, relative_popularity, BlendWeights, Reason, RecommendOptions, RecommendStats, Recommendation, ScoreParts,
};
use crate::session::Session;
use serde::{Deserialize, Serialize};

/// Largest bundle: the seed plus up to this many items to add.
const MAX_BUNDLE_ADDS: usize = 3;
/// Bundles offered in "complete the set".
const BUNDLES: usize = 3;
/// An item joins a bundle only if it is bought with its members at least
/// this often (mean confidence over the members).
const MIN_BUNDLE_CONFIDENCE: f32 = 0.05;
/// The next-best offer is chosen among this many blended candidates.
const OFFER_POOL: usize = 20;
/// Embedding neighbours shortlisted by dot product before cosine rescoring.
const SIMILAR_SHORTLIST: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Slot {
    Recommended,
    Similar,
    BoughtTogether,
    CompleteTheSet,
    Offer,
}

const ALL_SLOTS: [Slot; 5] =
    [Slot::Recommended, Slot::Similar, Slot::BoughtTogether, Slot::CompleteTheSet, Slot::Offer];

/// What a page asks for (JSON, camelCase). Slots default to all of them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageRequest {
    pub k: Option<usize>,
    /// The product on screen; slots that need an item fall back to the
    /// cart's last item, then the last item viewed.
    pub anchor: Option<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub slots: Option<Vec<Slot>>,
}

/// Items that are cheaper together: the seed and what completes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBundle {
    /// Seed first, then the items to add, in the order they were chosen.
    pub items: Vec<BundleItem>,
    pub total_price: f32,
    /// Mean pairwise co-purchase confidence of the members.
    pub score: f32,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleItem {
    pub item: String,
    pub title: String,
    pub price: f32,
    /// False for the seed (already on screen or in the cart).
    pub add: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// `upsell` (a pricier item of a category in the cart) or `cross-sell`.
    pub kind: &'static str,
    #[serde(flatten)]
    pub item: Recommendation,
}

/// The slots asked for; a slot not asked for is absent from the JSON, an
/// offer asked for but not possible (empty session) is `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended: Option<Vec<Recommendation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similar: Option<Vec<Recommendation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bought_together: Option<Vec<Recommendation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_the_set: Option<Vec<ItemBundle>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<Option<Offer>>,
    pub stats: RecommendStats,
}

/// Fill the slots of one page for `session`.
pub fn page(model: &Model, session: &Session, req: &PageRequest, weights: &BlendWeights) -> Result<Page> {
    let slots = req.slots.as_deref().unwrap_or(&ALL_SLOTS);
    let wants = |s: Slot| slots.contains(&s);
    let k = req.k.unwrap_or(crate::rank::DEFAULT_K);
    if k == 0 || k > crate::rank::MAX_K {
        return Err(Error::InvalidOptions(format!("k = {k} is outside 1..={}", crate::rank::MAX_K)));
    }
    let anchor = match req.anchor.as_deref() {
        Some(id) => Some(model.catalog.row(id).ok_or_else(|| Error::UnknownItem(vec![id.to_string()]))?),
        None => None,
    };
    // Items the shopper already has, or asked never to see.
    let mut owned: Vec<u32> = session.cart().iter().chain(session.purchased()).copied().collect();
    owned.extend(req.exclude.iter().filter_map(|id| model.catalog.row(id)));
    let focus = anchor.or_else(|| session.cart().last().copied()).or_else(|| session.recent().back().copied());

    let blended_k = if wants(Slot::Offer) { k.max(OFFER_POOL) } else { k };
    let opts = RecommendOptions { k: Some(blended_k), anchor: req.anchor.clone(), exclude: req.exclude.clone() };
    let blended = recommend(model, session, &opts, weights)?;
    let offer = wants(Slot::Offer).then(|| next_best_offer(model, session, &blended.items));
    let mut recommended = blended.items;
    recommended.truncate(k);

    let skip = |r: u32| Some(r) == focus || owned.contains(&r);
    Ok(Page {
        recommended: wants(Slot::Recommended).then_some(recommended),
        similar: wants(Slot::Similar).then(|| focus.map(|f| similar(model, f, k, skip)).unwrap_or_default()),
        bought_together: wants(Slot::BoughtTogether)
            .then(|| focus.map(|f| bought_together(model, f, k, skip)).unwrap_or_default()),
        complete_the_set: wants(Slot::CompleteTheSet)
            .then(|| focus.map(|f| complete_the_set(model, f, skip)).unwrap_or_default()),
        offer,
        stats: blended.stats,
    })
}

/// Nearest items in the embedding space by cosine similarity.
fn similar(model: &Model, seed: u32, k: usize, skip: impl Fn(u32) -> bool) -> Vec<Recommendation> {
    let table = &model.table;
    let q = table.row(seed);
    let norm = |r: u32| crate::retrieve::dot(table.row(r), table.row(r)).sqrt().max(f32::MIN_POSITIVE);
    let q_norm = norm(seed);
    let mut scored: Vec<(u32, f32)> = table
        .top_k(q, SIMILAR_SHORTLIST.min(table.rows()), &skip)
        .into_iter()
        .map(|s| (s.row, s.score / (q_norm * norm(s.row))))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let text = format!("similar to {}", model.title(seed));
    scored
        .into_iter()
        .take(k)
        .map(|(row, cos)| {
            let parts = ScoreParts { model: cos, copurchase: 0.0, popularity: relative_popularity(model, row) };
            Recommendation::new(model, row, cos, parts, vec![Reason { code: "similar", text: text.clone() }])
        })
        .collect()
}

/// The seed's co-purchase neighbours, by confidence.
fn bought_together(model: &Model, seed: u32, k: usize, skip: impl Fn(u32) -> bool) -> Vec<Recommendation> {
    let cp = &model.copurchase;
    let mut out: Vec<(u32, f32, f32)> = cp
        .range(seed as usize)
        .filter(|&j| !skip(cp.neighbors[j]))
        .map(|j| (cp.neighbors[j], cp.confidence[j], cp.lift[j]))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out.into_iter()
        .take(k)
        .map(|(row, conf, lift)| {
            let text = format!("bought in {:.0}% of orders with {} (lift {lift:.1})", 100.0 * conf, model.title(seed));
            let parts = ScoreParts { model: 0.0, copurchase: conf, popularity: relative_popularity(model, row) };
            Recommendation::new(model, row, conf, parts, vec![Reason { code: "copurchase", text }])
        })
        .collect()
}

/// Confidence of "bought `b` given `a`", 0 when the pair was not mined.
fn confidence(model: &Model, a: u32, b: u32) -> f32 {
    let cp = &model.copurchase;
    let range = cp.range(a as usize);
    let neighbours = &cp.neighbors[range.clone()];
    neighbours.iter().position(|&n| n == b).map_or(0.0, |i| cp.confidence[range.start + i])
}

fn mean_confidence(model: &Model, members: &[u32], x: u32) -> f32 {
    members.iter().map(|&m| confidence(model, m, x)).sum::<f32>() / members.len() as f32
}

/// Up to `BUNDLES` sets that complete `seed`, each started from a different
/// strong neighbour and grown greedily with the item bought most often with
/// all members so far.
fn complete_the_set(model: &Model, seed: u32, skip: impl Fn(u32) -> bool) -> Vec<ItemBundle> {
    let cp = &model.copurchase;
    let pool: Vec<u32> = cp.range(seed as usize).map(|j| cp.neighbors[j]).filter(|&n| !skip(n)).collect();
    let mut bundles: Vec<(Vec<u32>, f32)> = Vec::new();
    let mut seen: Vec<Vec<u32>> = Vec::new();
    for &first in pool.iter().take(BUNDLES * 2) {
        let mut members = vec![seed, first];
        while members.len() <= MAX_BUNDLE_ADDS {
            let best = pool
                .iter()
                .filter(|n| !members.contains(n))
                .map(|&n| (n, mean_confidence(model, &members, n)))
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
            match best {
                Some((n, c)) if c >= MIN_BUNDLE_CONFIDENCE => members.push(n),
                _ => break,
            }
        }
        // The same set reached from another starting item is one bundle.
        let mut key = members.clone();
        key.sort_unstable();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let score = pairwise_confidence(model, &members);
        bundles.push((members, score));
    }
    bundles.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.len().cmp(&a.0.len())));
    bundles.truncate(BUNDLES);
    bundles.into_iter().map(|(members, score)| describe_bundle(model, &members, score)).collect()
}

fn pairwise_confidence(model: &Model, members: &[u32]) -> f32 {
    let mut sum = 0.0;
    let mut pairs = 0;
    for &a in members {
        for &b in members.iter().filter(|&&b| b != a) {
            sum += confidence(model, a, b);
            pairs += 1;
        }
    }
    if pairs == 0 {
        0.0
    } else {
        sum / pairs as f32
    }
}

fn describe_bundle(model: &Model, members: &[u32], score: f32) -> ItemBundle {
    let items: Vec<BundleItem> = members
        .iter()
        .enumerate()
        .map(|(i, &r)| BundleItem {
            item: model.item_id(r).to_string(),
            title: model.title(r).to_string(),
            price: model.attributes.price[r as usize],
            add: i > 0,
        })
        .collect();
    let total_price = items.iter().map(|i| i.price).sum();
    let text = format!(
        "these {} items are bought together: on average {:.0}% of orders with one hold another",
        members.len(),
        100.0 * score
    );
    ItemBundle { items, total_price, score, reasons: vec![Reason { code: "bundle", text }] }
}

/// One offer for the cart: the best blended candidate that is in stock,
/// favouring margin; `upsell` when it is a pricier item of a category the
/// cart holds. `None` on an empty session.
fn next_best_offer(model: &Model, session: &Session, blended: &[Recommendation]) -> Option<Offer> {
    if session.is_empty() {
        return None;
    }
    let attrs = &model.attributes;
    let (best, _) = blended
        .iter()
        .take(OFFER_POOL)
        .filter_map(|r| {
            let row = model.catalog.row(&r.item)? as usize;
            (attrs.in_stock[row] != 0).then(|| (r, r.score * (1.0 + attrs.margin[row])))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.item.cmp(&a.0.item)))?;
    let upsell_of = session.cart().iter().find(|&&c| {
        model.category(c) == best.category && attrs.price[c as usize] < best.price && !model.category(c).is_empty()
    });
    let mut item = best.clone();
    let kind = match upsell_of {
        Some(&c) => {
            item.reasons
                .insert(0, Reason { code: "upsell", text: format!("a step up from {} in your cart", model.title(c)) });
            "upsell"
        }
        None => "cross-sell",
    };
    Some(Offer { kind, item })
}
