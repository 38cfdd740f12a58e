//! The live catalog: what the store knows now and the bundle did not —
//! prices, sales, stock, titles, and items added since the build — applied
//! over the loaded model in one step, all or nothing. An added item gets a
//! row in the model's space: the one a patch carries (`edgerec patch`), or
//! one placed from its content beside the learned items it reads like.

use crate::catalog::MAX_ITEM_ID_LEN;
use crate::content::ItemText;
use crate::error::{Error, Result};
use crate::model::{Model, UNCATEGORISED};
use serde::{Deserialize, Serialize};

/// Most updates one call may carry.
pub const MAX_UPDATES: usize = 100_000;
/// Longest title, category, brand, url or image accepted.
const MAX_TEXT: usize = 2048;
/// Highest price accepted (a price past it is a unit error, not a product).
const MAX_PRICE: f32 = 1e9;
/// Largest magnitude of a row value a patch may carry (trained rows are ~1).
const MAX_ROW_VALUE: f32 = 1e3;
/// Gross margin assumed for an added item that names none (as `edgerec build` does).
pub const DEFAULT_MARGIN: f32 = 0.3;
/// Learned items an added item's row is averaged from.
const PLACING_NEIGHBOURS: usize = 10;

/// One item as the host knows it now (JSON, camelCase). Absent fields keep
/// what the engine has; an item the catalog lacks is added, and then needs
/// a `title` and a `price`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemUpdate {
    pub id: String,
    /// The regular price. Given without `salePrice`, it is what the shopper pays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f32>,
    /// What the shopper pays now, at or below the regular price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sale_price: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
    /// Gross margin as a fraction of the price (0..=1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The item's row in the model's space, as `edgerec patch` writes it
    /// (replacing a held item's); an added item without one is placed from
    /// its content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<Vec<f32>>,
}

/// What one `update_items` call did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemsUpdated {
    /// Items the catalog held, changed.
    pub changed: usize,
    /// Items added to the catalog.
    pub added: usize,
    /// Of the added items, those placed from their content (no row given).
    pub placed_from_content: usize,
}

/// Item updates from JSON text (an array of objects), each field read on
/// its own so an error names the item and the field; `null` is refused
/// (leave a field out to keep it).
pub fn parse_updates(json: &str) -> Result<Vec<ItemUpdate>> {
    parse_update_values(serde_json::from_str(json).map_err(not_updates)?)
}

/// `parse_updates` of a JSON value already read (a request's `items`).
pub fn parse_update_values(values: serde_json::Value) -> Result<Vec<ItemUpdate>> {
    let values: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_value(values).map_err(not_updates)?;
    if values.len() > MAX_UPDATES {
        return Err(Error::InvalidOptions(format!("{} item updates in one call; at most {MAX_UPDATES}", values.len())));
    }
    values.into_iter().enumerate().map(|(i, object)| parse_update(i, object)).collect()
}

fn not_updates(e: serde_json::Error) -> Error {
    Error::InvalidOptions(format!("item updates must be an array of objects: {e}"))
}

const FIELDS: [&str; 11] =
    ["id", "price", "salePrice", "inStock", "margin", "title", "category", "brand", "url", "image", "row"];

fn parse_update(index: usize, mut object: serde_json::Map<String, serde_json::Value>) -> Result<ItemUpdate> {
    let item = match object.get("id") {
        Some(serde_json::Value::String(id)) => id.chars().take(64).collect(),
        _ => format!("items[{index}]"),
    };
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        let known = FIELDS.join(", ");
        return Err(Error::InvalidItem {
            item,
            field: unknown.chars().take(64).collect(),
            message: format!("is not a field (known: {known})"),
        });
    }
    let mut take = |field: &str| object.remove(field);
    fn typed<T: serde::de::DeserializeOwned>(
        item: &str,
        field: &str,
        value: Option<serde_json::Value>,
    ) -> Result<Option<T>> {
        let bad = |message: String| Error::InvalidItem { item: item.to_string(), field: field.to_string(), message };
        match value {
            None => Ok(None),
            Some(serde_json::Value::Null) => Err(bad("is null (leave it out to keep the item's value)".into())),
            Some(v) => T::deserialize(v).map(Some).map_err(|e| bad(e.to_string())),
        }
    }
    let id: Option<String> = typed(&item, "id", take("id"))?;
    Ok(ItemUpdate {
        id: id.ok_or_else(|| Error::InvalidItem {
            item: item.clone(),
            field: "id".into(),
            message: "is missing".into(),
        })?,
        price: typed(&item, "price", take("price"))?,
        sale_price: typed(&item, "salePrice", take("salePrice"))?,
        in_stock: typed(&item, "inStock", take("inStock"))?,
        margin: typed(&item, "margin", take("margin"))?,
        title: typed(&item, "title", take("title"))?,
        category: typed(&item, "category", take("category"))?,
        brand: typed(&item, "brand", take("brand"))?,
        url: typed(&item, "url", take("url"))?,
        image: typed(&item, "image", take("image"))?,
        row: match take("row") {
            Some(serde_json::Value::Object(coded)) => Some(int8_row_values(&item, coded)?),
            other => typed(&item, "row", other)?,
        },
    })
}

/// A row as a patch writes it: int8 codes (base64) and their scale, a
/// third of the bytes of the values as text once compressed.
pub fn int8_row(values: &[f32]) -> serde_json::Value {
    use base64::Engine as _;
    let mut codes = vec![0i8; values.len()];
    let scale = crate::int8::quantize_row(values, &mut codes);
    let bytes: Vec<u8> = codes.iter().map(|&c| c as u8).collect();
    serde_json::json!({ "scale": scale, "codes": base64::engine::general_purpose::STANDARD.encode(bytes) })
}

/// The values of a row written as `int8_row` writes it.
fn int8_row_values(item: &str, mut coded: serde_json::Map<String, serde_json::Value>) -> Result<Vec<f32>> {
    use base64::Engine as _;
    let bad = |message: String| Error::InvalidItem { item: item.to_string(), field: "row".into(), message };
    if let Some(extra) = coded.keys().find(|k| *k != "scale" && *k != "codes") {
        return Err(bad(format!("holds {extra:?}; a coded row is {{ scale, codes }}")));
    }
    let scale = coded.remove("scale").and_then(|s| s.as_f64()).filter(|s| s.is_finite() && *s >= 0.0);
    let scale = scale.ok_or_else(|| bad("scale is not a non-negative number".into()))? as f32;
    let codes = match coded.remove("codes") {
        Some(serde_json::Value::String(text)) => base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| bad(format!("codes are not base64: {e}")))?,
        _ => return Err(bad("codes are not a base64 string".into())),
    };
    Ok(codes.into_iter().map(|c| c as i8 as f32 * scale).collect())
}

/// What a catalog patch file says it is (`edgerec patch` writes it).
pub const PATCH_FORMAT: &str = "edgerec-patch/1";

/// A catalog patch: the item updates for one bundle, made without
/// retraining (new products with their rows, price, stock and title
/// changes). Applied only on top of the bundle it was made for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogPatch {
    pub format: String,
    /// The version of the bundle it was made for (`bundle::version_of`).
    pub bundle: String,
    pub items: Vec<ItemUpdate>,
}

/// A patch's updates, once its format and bundle are this model's: a patch
/// for another bundle is refused whole (`PATCH_MISMATCH`), and its items
/// are checked as `parse_updates` checks them.
pub fn parse_patch(json: &str, model: &Model) -> Result<Vec<ItemUpdate>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Head {
        format: String,
        bundle: String,
        items: serde_json::Value,
    }
    let head: Head =
        serde_json::from_str(json).map_err(|e| Error::InvalidOptions(format!("not a catalog patch: {e}")))?;
    if head.format != PATCH_FORMAT {
        return Err(Error::PatchMismatch(format!(
            "format {:?}, not {PATCH_FORMAT:?}",
            head.format.chars().take(64).collect::<String>()
        )));
    }
    if head.bundle != model.version {
        return Err(Error::PatchMismatch(format!(
            "made for bundle {}, this is {}",
            head.bundle.chars().take(80).collect::<String>(),
            model.version
        )));
    }
    parse_update_values(head.items)
}

fn invalid(update: &ItemUpdate, field: &str, message: impl Into<String>) -> Error {
    Error::InvalidItem { item: update.id.chars().take(64).collect(), field: field.to_string(), message: message.into() }
}

fn check_price(update: &ItemUpdate, field: &str, value: Option<f32>) -> Result<()> {
    match value {
        Some(p) if !(p.is_finite() && (0.0..=MAX_PRICE).contains(&p)) => {
            Err(invalid(update, field, format!("{p} is not a price in 0..={MAX_PRICE}")))
        }
        _ => Ok(()),
    }
}

fn check_text(update: &ItemUpdate, field: &str, value: &Option<String>, may_be_empty: bool) -> Result<()> {
    match value {
        Some(t) if t.len() > MAX_TEXT => Err(invalid(update, field, format!("longer than {MAX_TEXT} bytes"))),
        Some(t) if !may_be_empty && t.trim().is_empty() => Err(invalid(update, field, "is empty")),
        _ => Ok(()),
    }
}

/// Everything about one update that can be checked without the catalog,
/// then what an added item needs.
fn check(update: &ItemUpdate, known: Option<u32>, model: &Model) -> Result<()> {
    if update.id.is_empty() || update.id.len() > MAX_ITEM_ID_LEN {
        return Err(invalid(update, "id", format!("must be 1..={MAX_ITEM_ID_LEN} bytes")));
    }
    check_price(update, "price", update.price)?;
    check_price(update, "salePrice", update.sale_price)?;
    let regular = update.price.or_else(|| known.map(|r| model.regular_price(r)));
    if let (Some(sale), Some(regular)) = (update.sale_price, regular) {
        if sale > regular {
            return Err(invalid(update, "salePrice", format!("{sale} is above the regular price {regular}")));
        }
    }
    if let Some(m) = update.margin.filter(|m| !(m.is_finite() && (0.0..=1.0).contains(m))) {
        return Err(invalid(update, "margin", format!("{m} is not a fraction in 0..=1")));
    }
    for (field, value, may_be_empty) in [
        ("title", &update.title, false),
        ("category", &update.category, false),
        ("brand", &update.brand, true),
        ("url", &update.url, true),
        ("image", &update.image, true),
    ] {
        check_text(update, field, value, may_be_empty)?;
    }
    if let Some(row) = &update.row {
        let dim = model.table.dim();
        if row.len() != dim {
            return Err(invalid(update, "row", format!("has {} values; the model's rows have {dim}", row.len())));
        }
        if let Some(v) = row.iter().find(|v| !(v.is_finite() && v.abs() <= MAX_ROW_VALUE)) {
            return Err(invalid(update, "row", format!("holds {v}, outside ±{MAX_ROW_VALUE}")));
        }
    }
    if known.is_none() {
        if update.title.is_none() {
            return Err(invalid(update, "title", "an item the catalog lacks needs a title"));
        }
        if update.price.is_none() && update.sale_price.is_none() {
            return Err(invalid(update, "price", "an item the catalog lacks needs a price"));
        }
    }
    Ok(())
}

impl Model {
    /// The item's regular price (its price when it is not on sale).
    pub fn regular_price(&self, row: u32) -> f32 {
        self.extras.get(&row).and_then(|e| e.regular_price).unwrap_or(self.attributes.price[row as usize])
    }

    /// Apply the host's view of these items: all of them, or, when one is
    /// refused, none (the error names the item and the field).
    pub fn update_items(&mut self, updates: &[ItemUpdate]) -> Result<ItemsUpdated> {
        if updates.len() > MAX_UPDATES {
            return Err(Error::InvalidOptions(format!(
                "{} item updates in one call; at most {MAX_UPDATES}",
                updates.len()
            )));
        }
        // Each id's row, looked up once (ids are unique, so the rows of
        // known items stay valid while added ones are appended).
        let rows: Vec<Option<u32>> = updates.iter().map(|u| self.catalog.row(&u.id)).collect();
        let mut seen = std::collections::HashSet::with_capacity(updates.len());
        let mut added = 0usize;
        for (update, &known) in updates.iter().zip(&rows) {
            check(update, known, self)?;
            if !seen.insert(update.id.as_str()) {
                return Err(invalid(update, "id", "appears twice in one update"));
            }
            added += known.is_none() as usize;
        }
        if self.catalog.len() + added > crate::bundle::MAX_ITEMS {
            return Err(Error::InvalidOptions(format!(
                "{added} added items would take the catalog past {} items",
                crate::bundle::MAX_ITEMS
            )));
        }
        // Rows are placed before anything changes, from the learned items
        // alone, so the result does not depend on the updates' order.
        let mut placed = Vec::with_capacity(added);
        let mut placed_from_content = 0usize;
        let new = updates.iter().zip(&rows).filter(|(_, row)| row.is_none()).map(|(u, _)| u);
        for update in new {
            let row = match &update.row {
                Some(row) => row.clone(),
                None => {
                    placed_from_content += 1;
                    self.place(&ItemText {
                        title: update.title.as_deref().unwrap_or_default(),
                        category: update.category.as_deref().unwrap_or_default(),
                        brand: update.brand.as_deref(),
                        price: update.sale_price.or(update.price).unwrap_or(0.0),
                    })
                }
            };
            placed.push(row);
        }
        let mut placed = placed.into_iter();
        let mut out = ItemsUpdated { added, placed_from_content, ..Default::default() };
        for (update, &known) in updates.iter().zip(&rows) {
            let row = match known {
                Some(row) => {
                    out.changed += 1;
                    row
                }
                None => self.add_item(update, &placed.next().expect("one placed row per added item")),
            };
            self.apply(row, update);
        }
        Ok(out)
    }

    /// A row for an item from its words: the mean of the rows of the learned
    /// items it reads most like, weighted by how alike, at their mean length;
    /// sharing no word with any, the mean of its category's learned rows,
    /// else of the most popular items'.
    pub fn place(&mut self, text: &ItemText) -> Vec<f32> {
        self.place_skipping(text, |_| false)
    }

    /// `place`, never from the rows `skip` names (an evaluation holds
    /// learned items out this way and places them as if new).
    pub fn place_skipping(&mut self, text: &ItemText, skip: impl Fn(u32) -> bool) -> Vec<f32> {
        let mut neighbours = self.content_index().nearest(text, PLACING_NEIGHBOURS, &skip);
        if neighbours.is_empty() {
            let category = self.manifest.categories.iter().position(|c| c == text.category);
            let learned = self.learned_rows;
            let of_kind = category.map_or(&[][..], |c| self.rows_in_category(c as u32));
            let usable = of_kind.iter().filter(|&&r| r < learned && !skip(r));
            neighbours = usable.take(PLACING_NEIGHBOURS).map(|&r| (r, 1.0)).collect();
        }
        if neighbours.is_empty() {
            neighbours =
                self.popular.iter().filter(|&&r| !skip(r)).take(PLACING_NEIGHBOURS).map(|&r| (r, 1.0)).collect();
        }
        self.mean_row(&neighbours)
    }

    /// The mean of these rows, weighted, at their weighted mean length.
    pub fn mean_row(&self, weighted: &[(u32, f32)]) -> Vec<f32> {
        let dim = self.table.dim();
        let mut sum = vec![0f32; dim];
        let (mut total, mut length) = (0f32, 0f32);
        for &(row, w) in weighted {
            for (s, v) in sum.iter_mut().zip(self.table.row(row).iter()) {
                *s += w * v;
            }
            total += w;
            length += w * self.table.norm(row);
        }
        let mean_length = length / total.max(f32::MIN_POSITIVE);
        let sum_length = crate::retrieve::dot(&sum, &sum).sqrt();
        if sum_length > 0.0 {
            sum.iter_mut().for_each(|s| *s *= mean_length / sum_length);
        }
        sum
    }

    /// Append an item (checked) with its row; its columns come from `apply`.
    fn add_item(&mut self, update: &ItemUpdate, row_values: &[f32]) -> u32 {
        self.spell_out_titles();
        let row = self.catalog.push(update.id.clone());
        let table_row = self.table.push_row(row_values);
        debug_assert_eq!(row, table_row);
        let cp = &mut self.copurchase;
        cp.offsets.push(*cp.offsets.last().unwrap_or(&0));
        let category = self.category_index(update.category.as_deref().unwrap_or(UNCATEGORISED));
        let a = &mut self.attributes;
        a.price.push(0.0);
        a.category.push(category);
        a.margin.push(DEFAULT_MARGIN);
        a.in_stock.push(1);
        a.popularity.push(0.0);
        a.item_sessions.push(0);
        self.manifest.titles.push(String::new());
        self.by_category[category as usize].push(row);
        self.manifest.item_count += 1;
        row
    }

    /// A bundle without titles names its items by their ids: spelled out
    /// before an item gets a title of its own.
    fn spell_out_titles(&mut self) {
        if self.manifest.titles.is_empty() {
            self.manifest.titles = self.catalog.ids().to_vec();
        }
    }

    /// The index of a category, added when new.
    fn category_index(&mut self, name: &str) -> u32 {
        match self.manifest.categories.iter().position(|c| c == name) {
            Some(c) => c as u32,
            None => {
                self.manifest.categories.push(name.to_string());
                self.by_category.push(Vec::new());
                self.manifest.categories.len() as u32 - 1
            }
        }
    }

    /// Write an update's fields over the item at `row` (checked already).
    fn apply(&mut self, row: u32, update: &ItemUpdate) {
        let r = row as usize;
        if let Some(values) = &update.row {
            self.table.set_row(row, values);
        }
        if let Some(title) = &update.title {
            self.spell_out_titles();
            self.manifest.titles[r] = title.clone();
            self.content = None;
        }
        if let Some(name) = &update.category {
            let to = self.category_index(name);
            let from = self.attributes.category[r];
            if from != to {
                self.by_category[from as usize].retain(|&x| x != row);
                self.by_category[to as usize].push(row);
                self.attributes.category[r] = to;
                self.content = None;
            }
        }
        let regular = update.price.unwrap_or_else(|| self.regular_price(row));
        if update.price.is_some() || update.sale_price.is_some() {
            let pays = update.sale_price.unwrap_or(regular);
            self.attributes.price[r] = pays;
            let extras = self.extras.entry(row).or_default();
            extras.regular_price = (pays < regular).then_some(regular);
        }
        if let Some(in_stock) = update.in_stock {
            self.attributes.in_stock[r] = in_stock as u8;
        }
        if let Some(margin) = update.margin {
            self.attributes.margin[r] = margin;
        }
        if update.brand.is_some() || update.url.is_some() || update.image.is_some() {
            let extras = self.extras.entry(row).or_default();
            for (slot, value) in
                [(&mut extras.brand, &update.brand), (&mut extras.url, &update.url), (&mut extras.image, &update.image)]
            {
                if let Some(v) = value {
                    *slot = Some(v.clone());
                }
            }
        }
    }
}
