//! The storefront's recommendation slots around one page view: the blended
//! ranking, "similar items", "frequently bought together" and "complete the
//! set" bundles, computed in one pass over the session so a page pays for
//! the encoder once. Offers (one per slot, under the store's policy) are
//! `decide`'s job.

use crate::error::Result;
use crate::filter::{compile, compile_promotion, ItemFilter, Promotion};
use crate::model::{ItemView, Model};
use crate::query::SessionQuery;
use crate::rank::{
    check_k, excluded_rows, ranked_items, relative_popularity, retrieval_depth, BlendWeights, Reason, RecommendStats,
    Recommendation, RowSet,
};
use crate::retrieve::cosine;
use crate::score::{best_first, ScoreParts};
use crate::session::Session;
use crate::sets::{describe_bundle, grow_sets, pairwise_confidence, ItemBundle};
use serde::{Deserialize, Serialize};

/// Largest bundle: the seed plus up to this many items to add.
const MAX_BUNDLE_ADDS: usize = 3;
/// Bundles offered in "complete the set".
const BUNDLES: usize = 3;
/// Embedding neighbours shortlisted by dot product before cosine rescoring.
const SIMILAR_SHORTLIST: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PageSlot {
    Recommended,
    Similar,
    BoughtTogether,
    CompleteTheSet,
}

const ALL_SLOTS: [PageSlot; 4] =
    [PageSlot::Recommended, PageSlot::Similar, PageSlot::BoughtTogether, PageSlot::CompleteTheSet];
/// Which slot keeps an item that several would show: the set first (it is
/// built around the item on screen), then its co-purchases, its look-alikes,
/// and the session's ranking last (it has the most to choose from).
const PRIORITY: [PageSlot; 4] =
    [PageSlot::CompleteTheSet, PageSlot::BoughtTogether, PageSlot::Similar, PageSlot::Recommended];

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
    pub slots: Option<Vec<PageSlot>>,
    /// "Similar items" of any kind, not first of the item's own category.
    #[serde(default)]
    pub similar_any_kind: bool,
    /// Which items every slot may hold (a category, a price range, in stock…).
    pub filter: Option<ItemFilter>,
    /// Places of the "recommended" slot kept for items of a promotion.
    pub promotion: Option<Promotion>,
}

/// The slots asked for; a slot not asked for is absent from the JSON.
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
    pub stats: RecommendStats,
}

/// Fill the slots of one page for `session`, from one session query. An
/// item appears in one slot only, the first in `PRIORITY` that holds it, and
/// never in `exclude` (where a host puts what the page's offer shows).
pub fn page(model: &Model, session: &Session, req: &PageRequest, weights: &BlendWeights) -> Result<Page> {
    let slots = req.slots.as_deref().unwrap_or(&ALL_SLOTS);
    let wants = |s: PageSlot| slots.contains(&s);
    let k = check_k(req.k)?;
    let filter = compile(req.filter.as_ref(), model)?;
    let promotion = compile_promotion(req.promotion.as_ref(), model)?;
    let (anchor, unknown_anchor) = model.anchor_row(req.anchor.as_deref());
    let (mut excluded, unknown_ids) = excluded_rows(model, session, anchor, &req.exclude, false);
    // Items the shopper already has, or asked never to see.
    let mut taken: RowSet = session.cart().iter().chain(session.purchased()).copied().collect();
    taken.extend(req.exclude.iter().filter_map(|id| model.catalog.row(id)));
    // Deep enough for the ranking to fill its k past every item an earlier slot takes.
    let claimable = BUNDLES * (MAX_BUNDLE_ADDS + 1) + 2 * k;
    let depth = retrieval_depth(k) + excluded.len() + claimable;
    let query = SessionQuery::new(model, session, anchor, depth, weights.recency)?;
    let focus = query.focus;
    taken.extend(focus);
    let mut out = Page {
        recommended: None,
        similar: None,
        bought_together: None,
        complete_the_set: None,
        stats: RecommendStats::of(&query, unknown_anchor + unknown_ids),
    };
    for slot in PRIORITY.into_iter().filter(|&s| wants(s)) {
        let skip = |r: u32| taken.contains(&r) || filter.as_ref().is_some_and(|f| !f.allows(model, r));
        match slot {
            PageSlot::CompleteTheSet => {
                let sets = focus.map(|f| complete_the_set(model, f, skip)).unwrap_or_default();
                // The first set is the one a page shows; the others are alternatives to it.
                claim(&mut taken, model, sets.iter().take(1).flat_map(|b| &b.items).map(|i| &i.view));
                out.complete_the_set = Some(sets);
            }
            PageSlot::BoughtTogether => {
                let items = focus.map(|f| bought_together(model, f, k, skip)).unwrap_or_default();
                claim(&mut taken, model, items.iter().map(|r| &r.view));
                out.bought_together = Some(items);
            }
            PageSlot::Similar => {
                let items = focus.map(|f| similar(model, f, k, req.similar_any_kind, skip)).unwrap_or_default();
                claim(&mut taken, model, items.iter().map(|r| &r.view));
                out.similar = Some(items);
            }
            PageSlot::Recommended => {
                excluded.extend(taken.iter().copied());
                out.recommended =
                    Some(ranked_items(&query, k, &excluded, filter.as_ref(), promotion.as_ref(), weights));
            }
        }
    }
    Ok(out)
}

/// Mark the items a slot shows as taken, so later slots leave them out.
fn claim<'a>(taken: &mut RowSet, model: &Model, shown: impl Iterator<Item = &'a ItemView>) {
    taken.extend(shown.filter_map(|v| model.catalog.row(&v.item)));
}

/// Nearest items of the seed's kind (its category) in the embedding space
/// by cosine similarity; when the kind has fewer than `k` to show (or
/// `any_kind`), the nearest of other kinds after them.
fn similar(model: &Model, seed: u32, k: usize, any_kind: bool, skip: impl Fn(u32) -> bool) -> Vec<Recommendation> {
    let table = &model.table;
    let q = table.row(seed);
    let q_norm = table.norm(seed);
    let kind = model.attributes.category[seed as usize];
    let of_kind = |r: u32| model.attributes.category[r as usize] == kind;
    let best_k = |mut scored: Vec<(u32, f32)>| {
        best_first(&mut scored);
        scored.truncate(k);
        scored
    };
    let cos = |r: u32| cosine(table.score(&q, r), q_norm, table.norm(r));
    let nearest = |skip: &dyn Fn(u32) -> bool| -> Vec<(u32, f32)> {
        best_k(
            table
                .top_k(&q, SIMILAR_SHORTLIST.min(table.rows()), skip)
                .into_iter()
                .map(|s| (s.row, cos(s.row)))
                .collect(),
        )
    };
    if any_kind || !model.has_kind(seed) {
        return similar_items(model, seed, nearest(&skip));
    }
    // Its own kind, read from the category's rows (a scan of the whole
    // table would reject nearly every row), then the nearest of other kinds.
    let own = model.rows_in_category(kind).iter().copied().filter(|&r| r != seed && !skip(r));
    let mut scored = best_k(own.map(|r| (r, cos(r))).collect());
    if scored.len() < k {
        let others = nearest(&|r| skip(r) || of_kind(r));
        scored.extend(others.into_iter().take(k - scored.len()));
    }
    similar_items(model, seed, scored)
}

/// "Similar" items with their cosine to `seed` and a reason.
fn similar_items(model: &Model, seed: u32, scored: Vec<(u32, f32)>) -> Vec<Recommendation> {
    let text = format!("Similar to the {}", model.title(seed));
    scored
        .into_iter()
        .map(|(row, cos)| {
            let parts = ScoreParts { model: cos, popularity: relative_popularity(model, row), ..Default::default() };
            let reason = Reason::new("similar", text.clone(), Some(format!("embedding cosine {cos:.2}")));
            Recommendation::new(model, row, cos, parts, vec![reason])
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
            let text = format!("Often bought together with the {}", model.title(seed));
            let detail = format!("in {:.0}% of the orders holding it, lift {lift:.1}", 100.0 * conf);
            let parts =
                ScoreParts { copurchase: conf, popularity: relative_popularity(model, row), ..Default::default() };
            Recommendation::new(model, row, conf, parts, vec![Reason::new("copurchase", text, Some(detail))])
        })
        .collect()
}

/// Up to `BUNDLES` sets that complete `seed`, the most cohesive first.
fn complete_the_set(model: &Model, seed: u32, skip: impl Fn(u32) -> bool) -> Vec<ItemBundle> {
    let mut bundles: Vec<(Vec<u32>, f32)> = grow_sets(model, seed, BUNDLES, MAX_BUNDLE_ADDS, skip)
        .into_iter()
        .map(|members| {
            let score = pairwise_confidence(model, &members);
            (members, score)
        })
        .collect();
    bundles.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.len().cmp(&a.0.len())));
    bundles.truncate(BUNDLES);
    bundles.into_iter().map(|(members, score)| describe_bundle(model, &members, score)).collect()
}
