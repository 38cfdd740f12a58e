//! Request-time filters: which items one call may show, said by the host
//! (a category page, a price range, "in stock only", a brand the store
//! does not want beside another). Every list, slot and offer of the call
//! keeps to it; categories and brands the catalog does not hold yet match
//! nothing, and are no error (the catalog may hold them tomorrow).

use crate::error::{Error, Result};
use crate::model::Model;
use serde::Deserialize;
use std::collections::HashSet;

/// Most entries of one list of a filter.
pub const MAX_FILTER_ENTRIES: usize = 10_000;

/// A filter as the host writes it (JSON, camelCase): an item passes when
/// it is in every inclusive list given, in none of the exclusive ones, and
/// within the price range and stock state given.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemFilter {
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub brands: Vec<String>,
    #[serde(default)]
    pub exclude_ids: Vec<String>,
    #[serde(default)]
    pub exclude_categories: Vec<String>,
    #[serde(default)]
    pub exclude_brands: Vec<String>,
    pub min_price: Option<f32>,
    pub max_price: Option<f32>,
    pub in_stock: Option<bool>,
}

/// A filter resolved against the catalog.
#[derive(Debug, Clone, Default)]
pub struct RowFilter {
    ids: Option<HashSet<u32>>,
    exclude_ids: HashSet<u32>,
    categories: Option<Vec<u32>>,
    exclude_categories: Vec<u32>,
    brands: Option<Vec<String>>,
    exclude_brands: Vec<String>,
    min_price: f32,
    max_price: f32,
    in_stock: Option<bool>,
}

fn bad(field: &str, message: impl std::fmt::Display) -> Error {
    Error::InvalidOptions(format!("filter.{field}: {message}"))
}

impl ItemFilter {
    /// Check the filter and resolve it against `model`'s catalog.
    pub fn compile(&self, model: &Model) -> Result<RowFilter> {
        let lists = [
            ("ids", &self.ids),
            ("categories", &self.categories),
            ("brands", &self.brands),
            ("excludeIds", &self.exclude_ids),
            ("excludeCategories", &self.exclude_categories),
            ("excludeBrands", &self.exclude_brands),
        ];
        for (field, list) in lists {
            if list.len() > MAX_FILTER_ENTRIES {
                return Err(bad(field, format!("{} entries; at most {MAX_FILTER_ENTRIES}", list.len())));
            }
        }
        for (field, price) in [("minPrice", self.min_price), ("maxPrice", self.max_price)] {
            if let Some(p) = price.filter(|p| !(p.is_finite() && *p >= 0.0)) {
                return Err(bad(field, format!("{p} is not a price")));
            }
        }
        let (min_price, max_price) = (self.min_price.unwrap_or(0.0), self.max_price.unwrap_or(f32::INFINITY));
        if min_price > max_price {
            return Err(bad("minPrice", format!("{min_price} is above maxPrice {max_price}")));
        }
        let rows = |ids: &[String]| ids.iter().filter_map(|id| model.catalog.row(id)).collect::<HashSet<u32>>();
        let categories = |names: &[String]| -> Vec<u32> {
            let known = &model.manifest.categories;
            names.iter().filter_map(|n| known.iter().position(|c| c == n)).map(|c| c as u32).collect()
        };
        Ok(RowFilter {
            ids: given(&self.ids).map(rows),
            exclude_ids: rows(&self.exclude_ids),
            categories: given(&self.categories).map(categories),
            exclude_categories: categories(&self.exclude_categories),
            brands: given(&self.brands).map(<[String]>::to_vec),
            exclude_brands: self.exclude_brands.clone(),
            min_price,
            max_price,
            in_stock: self.in_stock,
        })
    }
}

/// An inclusive list, when the host gave one (an empty list is no list).
fn given(list: &[String]) -> Option<&[String]> {
    (!list.is_empty()).then_some(list)
}

impl RowFilter {
    /// Whether the item at `row` may be shown.
    pub fn allows(&self, model: &Model, row: u32) -> bool {
        let r = row as usize;
        let a = &model.attributes;
        let category = a.category[r];
        // The brand is looked up only where a list names brands (most filters do not).
        let in_list = |list: &[String]| {
            !list.is_empty()
                && model.extras.get(&row).and_then(|e| e.brand.as_deref()).is_some_and(|b| list.iter().any(|x| x == b))
        };
        self.ids.as_ref().is_none_or(|ids| ids.contains(&row))
            && !self.exclude_ids.contains(&row)
            && self.categories.as_ref().is_none_or(|cs| cs.contains(&category))
            && !self.exclude_categories.contains(&category)
            && self.brands.as_deref().is_none_or(in_list)
            && !in_list(&self.exclude_brands)
            && (self.min_price..=self.max_price).contains(&a.price[r])
            && self.in_stock.is_none_or(|want| (a.in_stock[r] != 0) == want)
    }
}

/// The filter a request gives, resolved (None: every item may be shown).
pub fn compile(filter: Option<&ItemFilter>, model: &Model) -> Result<Option<RowFilter>> {
    filter.map(|f| f.compile(model)).transpose()
}

/// A promotion (as Amazon Personalize's): a share of a list's places kept
/// for the best-ranked items a filter allows (the store's own brand, a
/// clearance category), shown among the list's other items.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Promotion {
    /// The store's name for it (1..=63 characters), in the promoted items'
    /// `promotion` field and their reason's detail.
    pub name: String,
    /// The share of the list's places kept for it, 1..=100 percent (at
    /// least one place); fewer when fewer items match.
    pub percent: u32,
    /// Which items it promotes.
    pub filter: ItemFilter,
}

/// A promotion resolved against the catalog.
#[derive(Debug, Clone)]
pub struct RowPromotion {
    pub name: String,
    percent: u32,
    pub filter: RowFilter,
}

impl Promotion {
    /// Check the promotion and resolve its filter against `model`'s catalog.
    pub fn compile(&self, model: &Model) -> Result<RowPromotion> {
        let bad = |field: &str, message: String| Error::InvalidOptions(format!("promotion.{field}: {message}"));
        let name_len = self.name.chars().count();
        if !(1..=63).contains(&name_len) || self.name.chars().any(char::is_control) {
            return Err(bad("name", format!("{:?} is not 1..=63 printable characters", self.name)));
        }
        if !(1..=100).contains(&self.percent) {
            return Err(bad("percent", format!("{} is outside 1..=100", self.percent)));
        }
        let filter = self.filter.compile(model).map_err(|e| match e {
            Error::InvalidOptions(m) => Error::InvalidOptions(format!("promotion.{m}")),
            other => other,
        })?;
        Ok(RowPromotion { name: self.name.clone(), percent: self.percent, filter })
    }
}

impl RowPromotion {
    /// The places it keeps in a list of `k`: its share, rounded up.
    pub fn places(&self, k: usize) -> usize {
        (k * self.percent as usize).div_ceil(100).clamp(1, k)
    }
}

/// The promotion a request gives, resolved.
pub fn compile_promotion(promotion: Option<&Promotion>, model: &Model) -> Result<Option<RowPromotion>> {
    promotion.map(|p| p.compile(model)).transpose()
}

/// A request's filter with its `exclude` ids added to it.
pub fn compile_excluding(filter: Option<&ItemFilter>, exclude: &[String], model: &Model) -> Result<Option<RowFilter>> {
    if exclude.is_empty() {
        return compile(filter, model);
    }
    let mut merged = filter.cloned().unwrap_or_default();
    merged.exclude_ids.extend_from_slice(exclude);
    merged.compile(model).map(Some)
}
