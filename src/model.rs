//! A loaded bundle, ready to serve: immutable, shared by every session
//! (one per page in a browser, one per isolate at the edge).

use crate::bundle::{Bundle, CoPurchase, ItemAttributes, Manifest};
use crate::catalog::Catalog;
use crate::content::{ContentIndex, ItemText};
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::retrieve::ItemTable;

/// How many of the most popular items are kept ready for cold starts.
const POPULAR_KEPT: usize = 256;
/// Categories that hold items of many kinds (a catalog's catch-all, and
/// the one an added item naming none gets): no kind to keep to.
pub const CATCH_ALL_CATEGORIES: [&str; 2] = ["other", UNCATEGORISED];
/// The category of an item that names none.
pub const UNCATEGORISED: &str = "uncategorised";

/// An item a set or an offer shows: `add` is false for the item in focus
/// that a set is built around (already on screen or in the cart).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OfferedItem {
    #[serde(flatten)]
    pub view: ItemView,
    pub add: bool,
}

/// An item as the shopper sees it: the one view every catalog entry,
/// ranked item, set member and offered item is built from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemView {
    pub item: String,
    pub title: String,
    pub price: f32,
    pub category: String,
    pub in_stock: bool,
    /// The regular price, where the item is on sale below it (`price`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regular_price: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// What the host told the engine of an item beyond the bundle's columns
/// (`Model::update_items`): kept only for items it named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemExtras {
    pub regular_price: Option<f32>,
    pub brand: Option<String>,
    pub url: Option<String>,
    pub image: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Model {
    /// The bundle's version id (`bundle::version_of` its bytes).
    pub version: String,
    pub manifest: Manifest,
    pub policy_json: String,
    pub catalog: Catalog,
    pub table: ItemTable,
    pub encoder: Encoder,
    pub copurchase: CoPurchase,
    pub attributes: ItemAttributes,
    /// Rows by descending popularity (the first `POPULAR_KEPT`).
    pub popular: Vec<u32>,
    pub max_popularity: f32,
    /// Rows of each category (index = category), for upsells.
    pub(crate) by_category: Vec<Vec<u32>>,
    /// Items the bundle has rows for, learned from sessions (the rest were
    /// placed from their content): the first `learned_rows` rows.
    pub(crate) learned_rows: u32,
    /// The host's extra item data, by row.
    pub(crate) extras: std::collections::HashMap<u32, ItemExtras>,
    /// The content index over the learned items' words, built when first
    /// needed and dropped when a title or category changes.
    pub(crate) content: Option<ContentIndex>,
}

impl Model {
    /// Read, validate and prepare a bundle.
    pub fn load(bytes: &[u8]) -> Result<Model> {
        Model::from_bundle(Bundle::from_bytes(bytes)?, crate::bundle::version_of(bytes))
    }

    fn from_bundle(mut bundle: Bundle, version: String) -> Result<Model> {
        // The ids move into the catalog (`manifest.item_ids` is left empty).
        let catalog = Catalog::new(std::mem::take(&mut bundle.manifest.item_ids));
        let m = &bundle.manifest;
        let encoder = Encoder::load(&bundle.encoder, &m.encoder, m.dim, m.max_seq_len)?;
        let pop = &bundle.attributes.popularity;
        let mut popular: Vec<u32> = (0..pop.len() as u32).collect();
        popular.sort_by(|&a, &b| pop[b as usize].total_cmp(&pop[a as usize]).then(a.cmp(&b)));
        popular.truncate(POPULAR_KEPT);
        let max_popularity = pop.iter().fold(0f32, |m, &p| m.max(p));
        let mut by_category = vec![Vec::new(); m.categories.len()];
        for (row, &c) in bundle.attributes.category.iter().enumerate() {
            by_category[c as usize].push(row as u32);
        }
        let model = Model {
            table: match bundle.int8_rows {
                Some(q) => ItemTable::from_int8(q.codes, q.scales, m.dim),
                None => ItemTable::new(bundle.embeddings, m.dim),
            },
            encoder,
            catalog,
            copurchase: bundle.copurchase,
            learned_rows: learned_rows(&bundle.attributes.item_sessions),
            attributes: bundle.attributes,
            popular,
            max_popularity,
            by_category,
            extras: Default::default(),
            content: None,
            policy_json: bundle.policy_json,
            manifest: bundle.manifest,
            version,
        };
        // One session through the encoder now: an encoder whose output is out
        // of bounds is refused at load, not on every later call.
        if let Some(&row) = model.popular.first() {
            model.encode_rows(&[row]).map_err(|e| Error::ModelContract(format!("a one-item session: {e}")))?;
        }
        Ok(model)
    }

    pub fn item_id(&self, row: u32) -> &str {
        self.catalog.id(row)
    }

    /// The row of an item the host names on screen (an anchor), and 1 when
    /// it names one the catalog does not hold (counted, never fatal: the
    /// page is then about the session alone).
    pub fn anchor_row(&self, id: Option<&str>) -> (Option<u32>, u64) {
        let row = id.and_then(|id| self.catalog.row(id));
        (row, (id.is_some() && row.is_none()) as u64)
    }

    /// The words of an item, as the content index reads them.
    pub fn text(&self, row: u32) -> ItemText<'_> {
        ItemText {
            title: self.title(row),
            category: self.category(row),
            brand: self.extras.get(&row).and_then(|e| e.brand.as_deref()),
            price: self.attributes.price[row as usize],
        }
    }

    /// The content index over the items whose rows were learned.
    pub fn content_index(&mut self) -> &ContentIndex {
        if self.content.is_none() {
            let index = ContentIndex::build((0..self.learned_rows).map(|r| (r, self.text(r))));
            self.content = Some(index);
        }
        self.content.as_ref().expect("built above")
    }

    pub fn title(&self, row: u32) -> &str {
        // A bundle without display data names items by their ids.
        self.manifest.titles.get(row as usize).map_or(self.catalog.id(row), String::as_str)
    }

    /// Whether the item's category names one kind of thing (not the
    /// catch-all), so that "similar" and "upgrade" may keep to it.
    pub fn has_kind(&self, row: u32) -> bool {
        !CATCH_ALL_CATEGORIES.contains(&self.category(row))
    }

    pub fn category(&self, row: u32) -> &str {
        &self.manifest.categories[self.attributes.category[row as usize] as usize]
    }

    /// Every row of category `c`.
    pub fn rows_in_category(&self, c: u32) -> &[u32] {
        self.by_category.get(c as usize).map_or(&[], |v| v.as_slice())
    }

    /// The item at `row` as the shopper sees it.
    pub fn view(&self, row: u32) -> ItemView {
        let extras = self.extras.get(&row);
        ItemView {
            item: self.item_id(row).to_string(),
            title: self.title(row).to_string(),
            price: self.attributes.price[row as usize],
            category: self.category(row).to_string(),
            in_stock: self.attributes.in_stock[row as usize] != 0,
            regular_price: extras.and_then(|e| e.regular_price),
            url: extras.and_then(|e| e.url.clone()),
            image: extras.and_then(|e| e.image.clone()),
        }
    }

    /// What a storefront lists: every item, most popular first.
    pub fn catalog_entries(&self) -> Vec<ItemView> {
        let pop = &self.attributes.popularity;
        let mut rows: Vec<u32> = (0..self.catalog.len() as u32).collect();
        rows.sort_by(|&a, &b| pop[b as usize].total_cmp(&pop[a as usize]).then(a.cmp(&b)));
        rows.into_iter().map(|r| self.view(r)).collect()
    }

    /// Session vector for a sequence of rows (oldest first): the one way to
    /// the encoder (`SessionQuery` calls it through the session's memo).
    pub fn encode_rows(&self, rows: &[u32]) -> Result<Vec<f32>> {
        let mut seq = Vec::with_capacity(rows.len() * self.table.dim());
        for &r in rows {
            seq.extend_from_slice(&self.table.row(r));
        }
        self.encoder.encode(&seq)
    }
}

/// The first rows are the learned ones: a bundle built with its whole
/// catalog appends the items placed from content (no sessions) after them.
fn learned_rows(item_sessions: &[u32]) -> u32 {
    item_sessions.iter().rposition(|&s| s > 0).map_or(item_sessions.len(), |last| last + 1) as u32
}
