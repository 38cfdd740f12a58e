//! What an item is, read from its words: a TF-IDF index over the catalog's
//! titles, categories, brands and price bands. An item no shopper has met
//! yet (added after the build) is placed beside the items it reads like,
//! and "similar items" can keep to items of the same kind.

use crate::score::{best_first, by_score};
use std::collections::HashMap;

/// Words too common in product titles to say what an item is.
const STOPWORDS: [&str; 12] = ["a", "an", "and", "the", "of", "with", "for", "in", "on", "to", "set", "x"];
/// A category says more about what an item is than any one title word.
const CATEGORY_WEIGHT: f32 = 2.0;
/// Price bands a half octave wide: an item at £4 reads a little like one at £5.
const BANDS_PER_OCTAVE: f32 = 2.0;
/// A price band says the least.
const PRICE_WEIGHT: f32 = 0.5;

/// What the index reads of one item.
#[derive(Debug, Clone, Copy)]
pub struct ItemText<'a> {
    pub title: &'a str,
    pub category: &'a str,
    pub brand: Option<&'a str>,
    pub price: f32,
}

/// The words of an item, each with the weight of its kind (before IDF).
fn terms(item: &ItemText) -> Vec<(String, f32)> {
    let mut out: Vec<(String, f32)> = Vec::new();
    let mut push = |term: String, weight: f32| {
        if !out.iter().any(|(t, _)| *t == term) {
            out.push((term, weight));
        }
    };
    for word in item.title.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() >= 2 && !STOPWORDS.contains(&word.as_str()) {
            push(word, 1.0);
        }
    }
    let category = item.category.trim().to_lowercase();
    if !category.is_empty() {
        push(format!("category:{category}"), CATEGORY_WEIGHT);
    }
    if let Some(brand) = item.brand.map(|b| b.trim().to_lowercase()).filter(|b| !b.is_empty()) {
        push(format!("brand:{brand}"), 1.0);
    }
    if item.price.is_finite() && item.price > 0.0 {
        push(format!("price:{}", (item.price.log2() * BANDS_PER_OCTAVE).round() as i32), PRICE_WEIGHT);
    }
    out
}

/// A TF-IDF index over the items it was built from (their rows, as given).
#[derive(Debug, Clone, Default)]
pub struct ContentIndex {
    terms: HashMap<String, u32>,
    /// Rows holding each term, with the term's TF-IDF weight in the row.
    postings: Vec<Vec<(u32, f32)>>,
    /// Inverse document frequency of each term.
    idf: Vec<f32>,
    /// Length of each row's weighted vector, by row (0: not indexed).
    lengths: Vec<f32>,
    /// Each indexed row's terms and their weights before IDF.
    weights: HashMap<u32, Vec<(u32, f32)>>,
}

std::thread_local! {
    /// One query's dot products by row and the rows it touched: kept
    /// between queries, so placing a catalog costs no allocation a query.
    static SCRATCH: std::cell::RefCell<(Vec<f32>, Vec<u32>)> = Default::default();
}

impl ContentIndex {
    /// Index `items` (row, text); rows not given are never neighbours.
    pub fn build<'a>(items: impl Iterator<Item = (u32, ItemText<'a>)>) -> ContentIndex {
        let mut index = ContentIndex::default();
        let mut docs: Vec<(u32, Vec<(u32, f32)>)> = Vec::new();
        let mut document_frequency: Vec<u32> = Vec::new();
        for (row, text) in items {
            let mut termed = Vec::new();
            for (term, weight) in terms(&text) {
                let next = index.terms.len() as u32;
                let id = *index.terms.entry(term).or_insert(next);
                if id as usize == document_frequency.len() {
                    document_frequency.push(0);
                }
                document_frequency[id as usize] += 1;
                termed.push((id, weight));
            }
            docs.push((row, termed));
        }
        let n = docs.len().max(1) as f32;
        index.idf = document_frequency.iter().map(|&df| (n / df as f32).ln() + 1.0).collect();
        index.postings = vec![Vec::new(); index.idf.len()];
        let rows = docs.iter().map(|(r, _)| *r as usize + 1).max().unwrap_or(0);
        index.lengths = vec![0.0; rows];
        for (row, termed) in docs {
            let mut length = 0f32;
            for &(t, w) in &termed {
                let weighted = w * index.idf[t as usize];
                index.postings[t as usize].push((row, weighted));
                length += weighted * weighted;
            }
            index.lengths[row as usize] = length.sqrt();
            index.weights.insert(row, termed);
        }
        index
    }

    /// Indexed rows.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// The `k` indexed rows that read most like `item`, by cosine of their
    /// TF-IDF vectors, best first (ties by lower row); none share a word: empty.
    pub fn nearest(&self, item: &ItemText, k: usize, skip: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        let query: Vec<(u32, f32)> = terms(item)
            .into_iter()
            .filter_map(|(term, w)| self.terms.get(&term).map(|&t| (t, w * self.idf[t as usize])))
            .collect();
        self.rank(&query, k, skip)
    }

    /// The `k` indexed rows that read most like the indexed `row`.
    pub fn nearest_to_row(&self, row: u32, k: usize, skip: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        let query: Vec<(u32, f32)> = self
            .weights
            .get(&row)
            .map(|termed| termed.iter().map(|&(t, w)| (t, w * self.idf[t as usize])).collect())
            .unwrap_or_default();
        self.rank(&query, k, |r| r == row || skip(r))
    }

    fn rank(&self, query: &[(u32, f32)], k: usize, skip: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        let query_length = query.iter().map(|&(_, w)| w * w).sum::<f32>().sqrt();
        if query_length == 0.0 || k == 0 {
            return Vec::new();
        }
        SCRATCH.with(|scratch| {
            let (dots, touched) = &mut *scratch.borrow_mut();
            if dots.len() < self.lengths.len() {
                dots.resize(self.lengths.len(), 0.0);
            }
            for &(t, qw) in query {
                for &(row, dw) in &self.postings[t as usize] {
                    let dot = &mut dots[row as usize];
                    if *dot == 0.0 {
                        touched.push(row); // weights are positive: 0 is untouched
                    }
                    *dot += qw * dw;
                }
            }
            let mut scored: Vec<(u32, f32)> = Vec::with_capacity(touched.len());
            for row in touched.drain(..) {
                let dot = std::mem::take(&mut dots[row as usize]);
                if !skip(row) {
                    let length = (query_length * self.lengths[row as usize]).max(f32::MIN_POSITIVE);
                    scored.push((row, dot / length));
                }
            }
            if scored.len() > k {
                scored.select_nth_unstable_by(k - 1, by_score);
                scored.truncate(k);
            }
            best_first(&mut scored);
            scored
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'a>(title: &'a str, category: &'a str, price: f32) -> ItemText<'a> {
        ItemText { title, category, brand: None, price }
    }

    #[test]
    fn an_item_reads_most_like_items_of_its_kind() {
        let items = [
            text("Regency Cakestand 3 Tier", "cake stand", 12.75),
            text("Sweetheart Cakestand", "cake stand", 9.95),
            text("Glass Cake Cover and Plate", "cake cover", 4.95),
            text("Cream Heart Card Holder", "card holder", 3.95),
            text("Lunch Bag Red Retrospot", "lunch bag", 1.65),
            text("Lunch Bag Spaceboy Design", "lunch bag", 1.65),
        ];
        let index = ContentIndex::build(items.iter().enumerate().map(|(r, t)| (r as u32, *t)));
        assert_eq!(index.len(), 6);
        let new = text("Pink Cakestand Vintage Doily", "cake stand", 10.95);
        let near = index.nearest(&new, 3, |_| false);
        assert_eq!(near.iter().map(|n| n.0).take(2).collect::<Vec<_>>(), [1, 0], "{near:?}");
        assert!(near[0].1 > 0.0 && near[0].1 <= 1.0 + 1e-6);
        let bag = index.nearest(&text("Lunch Bag Woodland", "lunch bag", 1.65), 2, |_| false);
        assert_eq!(bag.iter().map(|n| n.0).collect::<Vec<_>>(), [4, 5]);
        // An indexed row's own neighbours leave it out; `skip` is honoured.
        assert_eq!(index.nearest_to_row(4, 1, |_| false)[0].0, 5);
        assert!(index.nearest_to_row(4, 5, |r| r == 5).iter().all(|n| n.0 != 5 && n.0 != 4));
    }

    #[test]
    fn words_shared_with_nothing_find_nothing() {
        let index = ContentIndex::build([(0, text("Doormat Union Flag", "doormat", 7.95))].into_iter());
        assert!(index.nearest(&text("Zzz", "", f32::NAN), 5, |_| false).is_empty());
        assert!(index.nearest(&text("", "", 0.0), 5, |_| false).is_empty());
        assert!(ContentIndex::default().nearest(&text("Doormat", "doormat", 1.0), 5, |_| false).is_empty());
    }
}
