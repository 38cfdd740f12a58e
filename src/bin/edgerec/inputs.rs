//! Reading the builder's inputs (sessions, catalog, trained table) and
//! writing its outputs.

use edgerec::{Error, Result};
use safetensors::SafeTensors;
use serde::Deserialize;
use std::collections::HashMap;

pub fn read_file(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::InvalidInput(format!("{path}: {e}")))
}

/// Write `bytes` to `path`, creating its folder first (a new `--work` folder
/// is a normal thing to name).
pub fn write_file(path: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
    let folder = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(folder) = folder {
        std::fs::create_dir_all(folder).map_err(|e| Error::InvalidInput(format!("{}: {e}", folder.display())))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::InvalidInput(format!("{path}: {e}")))
}

pub fn read_text(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::InvalidInput(format!("{path}: {e}")))
}

/// One session per line, whitespace-separated item ids, in order.
pub fn read_sessions(path: &str) -> Result<Vec<Vec<String>>> {
    Ok(read_text(path)?
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect())
}

/// One catalog line (JSON Lines): schema/catalog.schema.json, what
/// `edgerec-train` writes from a store's exports.
#[derive(Debug, Deserialize)]
// brand, url, image, description and variants are read so that an imported
// catalog loads; the bundle does not carry them yet.
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct CatalogItem {
    pub id: String,
    pub title: String,
    /// The regular price; absent where the store's exports carry none.
    #[serde(default)]
    pub price: Option<f32>,
    /// What a shopper pays now, where below `price`.
    #[serde(default)]
    pub sale_price: Option<f32>,
    pub category: String,
    #[serde(default)]
    pub margin: Option<f32>,
    #[serde(default)]
    pub in_stock: Option<bool>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub variants: Vec<String>,
}

impl CatalogItem {
    /// The price a shopper pays today: the sale price where there is one.
    pub fn current_price(&self) -> f32 {
        match (self.sale_price, self.price) {
            (Some(sale), Some(regular)) if sale < regular => sale,
            (_, Some(regular)) => regular,
            (sale, None) => sale.unwrap_or(0.0),
        }
    }
}

impl CatalogItem {
    /// The item as an update the engine applies (`Model::update_items`):
    /// as `build` describes a learned item, a line without a price costs 0
    /// and one without a title is named by its id.
    pub fn update(&self) -> edgerec::ItemUpdate {
        let sale = self.sale_price.filter(|&s| self.price.is_none_or(|p| s < p));
        let title = if self.title.trim().is_empty() { &self.id } else { &self.title };
        edgerec::ItemUpdate {
            id: self.id.clone(),
            price: self.price.or(sale).or(Some(0.0)),
            sale_price: sale,
            in_stock: self.in_stock,
            margin: self.margin,
            title: Some(title.clone()),
            category: Some(self.category.clone()).filter(|c| !c.trim().is_empty()),
            brand: self.brand.clone().filter(|b| !b.trim().is_empty()),
            url: self.url.clone(),
            image: self.image.clone(),
            row: None,
        }
    }
}

/// The catalog's items `model` lacks, as updates that add them (by id).
pub fn missing_items(catalog: &HashMap<String, CatalogItem>, model: &edgerec::Model) -> Vec<edgerec::ItemUpdate> {
    let mut out: Vec<edgerec::ItemUpdate> =
        catalog.values().filter(|c| model.catalog.row(&c.id).is_none()).map(CatalogItem::update).collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

pub fn read_catalog(path: &str) -> Result<HashMap<String, CatalogItem>> {
    let mut items = HashMap::new();
    for (i, line) in read_text(path)?.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let item: CatalogItem =
            serde_json::from_str(line).map_err(|e| Error::InvalidInput(format!("{path}:{}: {e}", i + 1)))?;
        items.insert(item.id.clone(), item);
    }
    Ok(items)
}

/// The trainer's output: `item_embeddings` [n, d] f32 and, in metadata,
/// `item_ids` (JSON list, row order) and `max_seq_len`.
pub struct TrainedTable {
    pub item_ids: Vec<String>,
    pub dim: usize,
    pub max_seq_len: usize,
    pub values: Vec<f32>,
}

pub fn read_table(path: &str) -> Result<TrainedTable> {
    let bytes = read_file(path)?;
    let bad = |m: String| Error::InvalidInput(format!("{path}: {m}"));
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let item_ids: Vec<String> = serde_json::from_str(meta.get("item_ids").ok_or_else(|| bad("no item_ids".into()))?)
        .map_err(|e| bad(format!("item_ids: {e}")))?;
    let max_seq_len: usize =
        meta.get("max_seq_len").and_then(|v| v.parse().ok()).ok_or_else(|| bad("no max_seq_len".into()))?;
    let view = st.tensor("item_embeddings").map_err(|e| bad(e.to_string()))?;
    let (n, dim) = match view.shape() {
        [n, d] if *n == item_ids.len() => (*n, *d),
        s => return Err(bad(format!("item_embeddings shape {s:?} does not match {} ids", item_ids.len()))),
    };
    if view.dtype() != safetensors::Dtype::F32 {
        return Err(bad("item_embeddings must be F32".into()));
    }
    let values = edgerec::bundle::f32s_from_le(view.data());
    debug_assert_eq!(values.len(), n * dim);
    Ok(TrainedTable { item_ids, dim, max_seq_len, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_in_a_new_folder_is_written_and_the_folder_made() {
        let dir = std::env::temp_dir().join(format!("edgerec-write-{}", std::process::id()));
        let file = dir.join("work/tuning.edgerec");
        write_file(file.to_str().unwrap(), b"bytes").unwrap();
        assert_eq!(read_file(file.to_str().unwrap()).unwrap(), b"bytes");
        // A folder that cannot be made is named in the error.
        let blocked = file.join("below-a-file.json");
        let err = write_file(blocked.to_str().unwrap(), b"x").unwrap_err().to_string();
        assert!(err.contains("tuning.edgerec"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
