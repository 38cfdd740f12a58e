//! `edgerec patch BUNDLE --catalog FILE.jsonl --out PATCH.json`: what a
//! store's catalog says now that the bundle does not, as a catalog patch a
//! page, a Worker or the Fastly app applies on top of that bundle
//! (`applyPatch`), no retraining: products the bundle lacks with their rows
//! (placed from their words, as `updateItems` would place them), and the
//! price, sale, stock, margin, title and category of the others where they
//! changed.

use crate::args::{bad, Args};
use crate::inputs::{read_catalog, read_file, write_file, CatalogItem};
use edgerec::content::ItemText;
use edgerec::live::{CatalogPatch, PATCH_FORMAT};
use edgerec::{ItemUpdate, Model, Result};

/// A price change smaller than half a penny is no change.
const PRICE_EPSILON: f32 = 0.005;

pub fn run(args: &Args) -> Result<()> {
    let path = args.positional.first().ok_or_else(|| bad("patch needs a BUNDLE path".into()))?;
    let mut model = Model::load(&read_file(path)?)?;
    let catalog = read_catalog(args.required("catalog")?)?;
    let mut items: Vec<&CatalogItem> = catalog.values().collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    let (mut added, mut changed) = (Vec::new(), Vec::new());
    for item in items {
        match model.catalog.row(&item.id) {
            None => added.push(placed(&mut model, item)),
            Some(row) => changed.extend(changes(&model, row, item)),
        }
    }
    let (new, updated) = (added.len(), changed.len());
    added.extend(changed);
    let patch = CatalogPatch { format: PATCH_FORMAT.into(), bundle: model.version.clone(), items: added };
    // Through text, not `to_value`: an f32 price writes as 9.99, not as its f64 widening.
    let text = serde_json::to_string(&patch).map_err(|e| bad(format!("the patch cannot be written: {e}")))?;
    let mut value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("the patch: {e}")))?;
    // Rows go as int8 codes: the bytes a page downloads.
    for (item, update) in value["items"].as_array_mut().into_iter().flatten().zip(&patch.items) {
        if let Some(row) = &update.row {
            item["row"] = edgerec::live::int8_row(row);
        }
    }
    let json = value.to_string();
    // The engine must take what it is handed: check it on the bundle now.
    let mut check = Model::load(&read_file(path)?)?;
    check.update_items(&edgerec::live::parse_patch(&json, &check)?)?;
    let out = args.required("out")?;
    write_file(out, json.as_bytes())?;
    println!(
        "wrote {out}: {new} products added, {updated} changed, {} bytes, for bundle {}",
        json.len(),
        model.version
    );
    Ok(())
}

/// A product the bundle lacks, with its row placed from its words.
fn placed(model: &mut Model, item: &CatalogItem) -> ItemUpdate {
    let mut update = item.update();
    let text = ItemText {
        title: &item.title,
        category: &item.category,
        brand: item.brand.as_deref(),
        price: item.current_price(),
    };
    update.row = Some(model.place(&text));
    update
}

/// The fields of `item` that differ from what the bundle holds for `row`.
fn changes(model: &Model, row: u32, item: &CatalogItem) -> Option<ItemUpdate> {
    let r = row as usize;
    let a = &model.attributes;
    let mut update = ItemUpdate { id: item.id.clone(), ..Default::default() };
    let wanted = item.update();
    if (item.current_price() - a.price[r]).abs() >= PRICE_EPSILON || wanted.sale_price.is_some() {
        (update.price, update.sale_price) = (wanted.price, wanted.sale_price);
    }
    update.in_stock = item.in_stock.filter(|&s| s != (a.in_stock[r] != 0));
    update.margin = item.margin.filter(|m| (m - a.margin[r]).abs() > 1e-4);
    update.title = Some(item.title.clone()).filter(|t| t != model.title(row));
    update.category = wanted.category.filter(|c| c != model.category(row));
    let unchanged = ItemUpdate { id: item.id.clone(), ..Default::default() };
    (update != unchanged).then_some(update)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/online-retail/online-retail.edgerec");

    #[test]
    fn a_patch_carries_new_products_and_changes_and_applies_on_its_bundle_only() {
        let dir = std::env::temp_dir().join(format!("edgerec-patch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (catalog, out) = (dir.join("catalog.jsonl"), dir.join("store.patch.json"));
        std::fs::write(
            &catalog,
            [
                r#"{"id": "22423", "title": "Regency Cakestand 3 Tier", "category": "cake stand", "price": 9.99, "in_stock": false}"#,
                r#"{"id": "NEW-1", "title": "Pink Regency Cakestand 3 Tier", "category": "cake stand", "price": 14.95}"#,
                r#"{"id": "85123A", "title": "White Hanging Heart T-Light Holder", "category": "t-light holder", "price": 2.55}"#,
            ]
            .join("\n"),
        )
        .unwrap();
        let args = |v: &[&str]| Args::parse(v.iter().map(|s| s.to_string())).unwrap();
        run(&args(&[BUNDLE, "--catalog", catalog.to_str().unwrap(), "--out", out.to_str().unwrap()])).unwrap();
        let json = std::fs::read_to_string(&out).unwrap();
        let patch: serde_json::Value = serde_json::from_str(&json).unwrap();
        let items = patch["items"].as_array().unwrap();
        assert_eq!(items[0]["id"], "NEW-1");
        assert!(items[0]["row"]["codes"].is_string(), "rows go as int8 codes");
        assert_eq!(items[1], serde_json::json!({ "id": "22423", "price": 9.99, "inStock": false }));
        assert_eq!(items.len(), 2 + (items.len() > 2) as usize, "85123A changed only if its price did");

        let mut engine = edgerec::Engine::load(&read_file(BUNDLE).unwrap()).unwrap();
        let done = engine.apply_patch(&json).unwrap();
        assert_eq!((done.added, done.placed_from_content), (1, 0));
        let m = engine.model();
        let row = m.catalog.row("NEW-1").unwrap();
        assert_eq!(m.category(row), "cake stand");
        assert!(!m.view(m.catalog.row("22423").unwrap()).in_stock);

        // Another bundle's patch, or not a patch: refused whole, nothing applied.
        let mut fresh = edgerec::Engine::load(&read_file(BUNDLE).unwrap()).unwrap();
        let other = json.replace(&patch["bundle"].as_str().unwrap()[7..15], "00000000");
        assert_eq!(fresh.apply_patch(&other).unwrap_err().code(), "PATCH_MISMATCH");
        let wrong = json.replace("edgerec-patch/1", "edgerec-patch/9");
        assert_eq!(fresh.apply_patch(&wrong).unwrap_err().code(), "PATCH_MISMATCH");
        let broken = json.replace("\"codes\":\"", "\"codes\":\"!!");
        assert_eq!(fresh.apply_patch(&broken).unwrap_err().code(), "INVALID_ITEM");
        assert_eq!(fresh.apply_patch("[]").unwrap_err().code(), "INVALID_OPTIONS");
        assert!(fresh.model().catalog.row("NEW-1").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
