//! Does "Recommended for you" follow the shopper? Over test prefixes whose
//! last item is of a product type the session had not shown before (the
//! shopper moved on: a lunch bag, a paper chain kit, then a doormat), the
//! share of the storefront's top 8 (viewed items left out) whose type is
//! that of one of the last two items, and the share of a type seen only
//! earlier in the session. Product types are the catalog's categories, so
//! the figure says nothing for a bundle without them.

use super::Case;
use edgerec::{Engine, RecommendOptions, Result};

/// The storefront's "Recommended for you" length.
pub const FOLLOW_K: usize = 8;
/// Prefixes read at most (the first that qualify).
pub const MAX_PREFIXES: usize = 5_000;

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Follow {
    /// Prefixes measured.
    pub prefixes: usize,
    /// Percent of the lists' items of the type of one of the last two items.
    pub latest: f64,
    /// Percent of a type seen only earlier in the session.
    pub earlier: f64,
}

impl Follow {
    pub fn describe(&self) -> String {
        format!(
            "follow@{FOLLOW_K}: {:.1} % of the top {FOLLOW_K} are of the last two items' types, {:.1} % only of earlier \
             items' ({} prefixes ending in a new type)",
            self.latest, self.earlier, self.prefixes
        )
    }
}

/// The follow figures of `engine`'s current blend on `cases`, None when the
/// bundle's items have no types.
pub fn follow(engine: &mut Engine, cases: &[Case]) -> Result<Option<Follow>> {
    let types: Vec<u32> = engine.model().attributes.category.clone();
    if engine.model().manifest.categories.len() < 2 {
        return Ok(None);
    }
    let type_of = |engine: &Engine, id: &str| engine.model().catalog.row(id).map(|r| types[r as usize]);
    let (mut prefixes, mut latest, mut earlier, mut shown) = (0usize, 0usize, 0usize, 0usize);
    for case in cases {
        let seen: Vec<u32> = case.prefix.iter().filter_map(|id| type_of(engine, id)).collect();
        let Some((&last, before)) = seen.split_last() else { continue };
        if before.len() < 2 || before.contains(&last) {
            continue;
        }
        let recent = [last, before[before.len() - 1]];
        engine.reset();
        for item in &case.prefix {
            let _ = engine.track("view", item);
        }
        let list = engine.recommend(&RecommendOptions { k: Some(FOLLOW_K), ..Default::default() })?;
        for t in list.items.iter().filter_map(|rec| type_of(engine, &rec.view.item)) {
            latest += recent.contains(&t) as usize;
            earlier += (!recent.contains(&t) && before.contains(&t)) as usize;
        }
        shown += list.items.len();
        prefixes += 1;
        if prefixes == MAX_PREFIXES {
            break;
        }
    }
    let pct = |n: usize| 100.0 * n as f64 / shown.max(1) as f64;
    Ok(Some(Follow { prefixes, latest: pct(latest), earlier: pct(earlier) }))
}
