//! Cold start: items the bundle never learned, measured on the test cases
//! whose target is one of them. Two protocols on the same test file:
//! - **new items**: items of the catalog file the bundle lacks (new in the
//!   test period, time-split), added as a live page adds them
//!   (`update_items`, placed from their words);
//! - **held out**: a seeded tenth of the learned items whose rows are
//!   replaced by a placement from the other learned items' rows, to compare
//!   placements on many more cases (ranked by the model alone, since the
//!   bundle's co-purchase and popularity still know these items).
//!
//! Beside them, two baselines that need no sessions of the item:
//! popular-in-category (the last item's category by popularity) and
//! content-kNN (the items whose words read most like the last item's).

use super::{evaluate, Case, EngineRanker, Ranker, Scores};
use edgerec::content::ContentIndex;
use edgerec::{ItemUpdate, Model, Result};
use std::collections::HashSet;

/// One item in this many is held out (by a hash of its id).
pub const HOLD_OUT_ONE_IN: u64 = 10;
/// The ranking without co-purchase or popularity: what a held-out item's
/// placed row alone earns.
pub const MODEL_ONLY: &str = r#"{"model": 1, "copurchase": 0, "popularity": 0}"#;

/// The updates as the JSON an engine reads.
pub fn as_json(updates: &[ItemUpdate]) -> String {
    serde_json::to_string(updates).expect("item updates write as JSON")
}

/// A stable tenth of the learned items, by an FNV-1a hash of the id.
pub fn held_out(model: &Model) -> HashSet<u32> {
    let hash =
        |id: &str| id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    (0..model.catalog.len() as u32)
        .filter(|&r| model.attributes.item_sessions[r as usize] > 0 && hash(model.item_id(r)) % HOLD_OUT_ONE_IN == 0)
        .collect()
}

/// How a held-out item is placed.
#[derive(Clone, Copy)]
pub enum Placement {
    /// The rows of the learned items it reads most like (what the engine does).
    Content,
    /// The mean row of its category's learned items.
    CategoryCentroid,
}

/// Updates giving every held-out item a placed row (none from a held-out item).
pub fn re_placed(model: &mut Model, held: &HashSet<u32>, how: Placement) -> Vec<ItemUpdate> {
    let mut rows: Vec<u32> = held.iter().copied().collect();
    rows.sort_unstable();
    rows.into_iter()
        .map(|r| {
            let row = match how {
                Placement::Content => {
                    let title = model.title(r).to_string();
                    let category = model.category(r).to_string();
                    let price = model.attributes.price[r as usize];
                    let text = edgerec::content::ItemText { title: &title, category: &category, brand: None, price };
                    model.place_skipping(&text, |x| held.contains(&x))
                }
                Placement::CategoryCentroid => {
                    let c = model.attributes.category[r as usize];
                    let mates: Vec<(u32, f32)> =
                        model.rows_in_category(c).iter().filter(|x| !held.contains(x)).map(|&x| (x, 1.0)).collect();
                    let mates = if mates.is_empty() {
                        model.popular.iter().take(10).map(|&x| (x, 1.0)).collect()
                    } else {
                        mates
                    };
                    model.mean_row(&mates)
                }
            };
            ItemUpdate { id: model.item_id(r).to_string(), row: Some(row), ..Default::default() }
        })
        .collect()
}

/// Popular-in-category: the last known item's category, most popular first.
pub struct PopularInCategory<'a> {
    model: &'a Model,
}

/// Content-kNN: the items whose words read most like the last known item's.
pub struct ContentKnn<'a> {
    model: &'a Model,
    index: &'a ContentIndex,
}

/// A content index over every item of `model` (new ones included).
pub fn whole_catalog_index(model: &Model) -> ContentIndex {
    ContentIndex::build((0..model.catalog.len() as u32).map(|r| (r, model.text(r))))
}

fn last_known(model: &Model, prefix: &[String]) -> Option<u32> {
    prefix.iter().rev().find_map(|id| model.catalog.row(id))
}

impl Ranker for PopularInCategory<'_> {
    fn rank(&mut self, prefix: &[String], k: usize) -> Result<Vec<String>> {
        let m = self.model;
        let pool: Vec<u32> = match last_known(m, prefix) {
            Some(r) => m.rows_in_category(m.attributes.category[r as usize]).to_vec(),
            None => m.popular.clone(),
        };
        let pop = &m.attributes.popularity;
        let mut ranked: Vec<u32> = pool.into_iter().filter(|r| !prefix.iter().any(|p| p == m.item_id(*r))).collect();
        ranked.sort_by(|&a, &b| pop[b as usize].total_cmp(&pop[a as usize]).then(a.cmp(&b)));
        Ok(ranked.into_iter().take(k).map(|r| m.item_id(r).to_string()).collect())
    }
}

impl Ranker for ContentKnn<'_> {
    fn rank(&mut self, prefix: &[String], k: usize) -> Result<Vec<String>> {
        let m = self.model;
        let Some(last) = last_known(m, prefix) else { return Ok(Vec::new()) };
        let seen: HashSet<u32> = prefix.iter().filter_map(|id| m.catalog.row(id)).collect();
        let near = self.index.nearest_to_row(last, k, |r| seen.contains(&r));
        Ok(near.into_iter().map(|(r, _)| m.item_id(r).to_string()).collect())
    }
}

/// The cases whose target is in `targets`.
pub fn cases_for(cases: &[Case], targets: &HashSet<&str>) -> Vec<Case> {
    cases
        .iter()
        .filter(|c| targets.contains(c.target.as_str()))
        .map(|c| Case { prefix: c.prefix.clone(), target: c.target.clone() })
        .collect()
}

/// The engine (a blend) with these updates applied, on every case.
pub fn engine_scores(bytes: &[u8], ranking: Option<&str>, updates: &str, cases: &[Case]) -> Result<Scores> {
    evaluate(cases, || {
        let mut ranker = EngineRanker::new(bytes, ranking)?;
        ranker.update_items(updates)?;
        Ok(ranker)
    })
}

pub fn popular_in_category(model: &Model, cases: &[Case]) -> Result<Scores> {
    evaluate(cases, || Ok(PopularInCategory { model }))
}

pub fn content_knn(model: &Model, index: &ContentIndex, cases: &[Case]) -> Result<Scores> {
    evaluate(cases, || Ok(ContentKnn { model, index }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/online-retail/online-retail.edgerec");
        Model::load(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn the_baselines_rank_by_kind_and_leave_the_session_out() {
        let m = model();
        let prefix = vec!["85123A".to_string(), "22423".to_string()];
        let cake_stand = m.attributes.category[m.catalog.row("22423").unwrap() as usize];
        let popular = PopularInCategory { model: &m }.rank(&prefix, 5).unwrap();
        assert_eq!(popular.len(), 5);
        for id in &popular {
            let r = m.catalog.row(id).unwrap();
            assert_eq!(m.attributes.category[r as usize], cake_stand, "{id}");
            assert!(!prefix.contains(id));
        }
        let index = whole_catalog_index(&m);
        let knn = ContentKnn { model: &m, index: &index }.rank(&prefix, 5).unwrap();
        assert_eq!(knn.len(), 5);
        assert!(!knn.iter().any(|id| prefix.contains(id)));
        assert!(knn.iter().filter(|id| m.title(m.catalog.row(id).unwrap()).contains("Cake")).count() >= 3, "{knn:?}");
    }

    #[test]
    fn a_tenth_is_held_out_the_same_way_every_time() {
        let m = model();
        let held = held_out(&m);
        let share = held.len() as f64 / m.catalog.len() as f64;
        assert!((0.07..0.13).contains(&share), "{share}");
        assert_eq!(held, held_out(&m));
    }
}
