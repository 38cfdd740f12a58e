//! `edgerec build`: trained table + encoder + sessions + catalog → bundle.

use crate::args::Args;
use crate::inputs::{
    missing_items, read_catalog, read_file, read_sessions, read_table, read_text, write_file, CatalogItem,
};
use crate::tune::Tuned;
use edgerec::bundle::{Bundle, EncoderSpec, ItemAttributes, Manifest, ModelCard, TableFormat, FORMAT_VERSION};
use edgerec::encoder::convert::onnx_to_nnef;
use edgerec::mining::{mine, MiningOptions};
use edgerec::{Error, Result};
use std::collections::{BTreeMap, HashMap};

/// Margin assumed for items whose catalog line gives none.
const DEFAULT_MARGIN: f32 = 0.3;

pub fn run(args: &Args) -> Result<()> {
    let table = read_table(args.required("table")?)?;
    let tuned = args.opt("tuned").map(Tuned::read).transpose()?;
    // An explicit --table-format wins over the tuned one.
    let table_format = match (args.opt("table-format"), &tuned) {
        (Some(f), _) => TableFormat::parse(f)?,
        (None, Some(t)) => t.table_format,
        (None, None) => TableFormat::F32,
    };
    // Converted once here: the bundle carries NNEF, which the shipped module reads.
    let encoder = onnx_to_nnef(&read_file(args.required("onnx")?)?, &EncoderSpec::default(), table.dim)?;
    let sessions = read_sessions(args.required("sessions")?)?;
    let mining = mining_options(args)?;
    let (rows, unknown) = session_rows(&table.item_ids, &sessions);
    let n = table.item_ids.len();
    let mined = mine(&rows, n, &mining)?;

    let catalog = match args.opt("catalog") {
        Some(p) => read_catalog(p)?,
        None => HashMap::new(),
    };
    let mut attributes = ItemAttributes {
        popularity: mined.popularity,
        item_sessions: mined.item_sessions,
        ..ItemAttributes::default()
    };
    let Described { mut titles, categories, missing: missing_from_catalog } =
        describe_items(&table.item_ids, &catalog, &mut attributes);

    let mut card: ModelCard = match args.opt("card") {
        Some(p) => serde_json::from_str(&read_text(p)?).map_err(|e| Error::InvalidInput(format!("{p}: {e}")))?,
        None => ModelCard::default(),
    };
    card.metrics.insert("copurchase_pairs".into(), mined.copurchase.neighbors.len() as f64);
    card.metrics.insert("mined_sessions".into(), mined.sessions as f64);
    let policy_json = match args.opt("policy") {
        Some(p) => read_text(p)?,
        None => "{\"version\":1}".to_string(),
    };
    if let Some(t) = &tuned {
        if serde_json::from_str::<serde_json::Value>(&policy_json).is_ok_and(|p| p.get("ranking").is_some()) {
            eprintln!("build: the policy's own `ranking` overrides the tuned blend {}", serde_json::json!(t.ranking));
        }
        t.record_in(&mut card);
    }

    if titles == table.item_ids {
        titles.clear(); // titles that only repeat the ids (no catalog) are not shipped
    }
    let mut bundle = Bundle {
        manifest: Manifest {
            format_version: FORMAT_VERSION,
            item_count: n,
            dim: table.dim,
            max_seq_len: table.max_seq_len,
            encoder: EncoderSpec::default(),
            item_ids: table.item_ids,
            titles,
            categories,
            sessions: mined.sessions as u64,
            model_card: card,
            blend: tuned.as_ref().map(|t| t.ranking),
            checksums: BTreeMap::new(),
        },
        policy_json,
        embeddings: table.values,
        int8_rows: None,
        product_codes: None,
        table_format,
        encoder,
        copurchase: mined.copurchase,
        attributes,
    };
    let learned = bundle.manifest.item_count;
    let placed = place_unlearned_items(&mut bundle, &catalog)?;
    let bytes = bundle.to_bytes()?;
    // Refuse to write a bundle the engine would not load (policy included).
    edgerec::Engine::load(&bytes)?;
    let out = args.required("out")?;
    write_file(out, &bytes)?;
    println!(
        "wrote {out}: {learned} learned items + {placed} placed from their words ({table_format} table), {} co-purchase pairs, {} bytes ({} session ids unknown to the table, {} items without catalog entry)",
        bundle.copurchase.neighbors.len(),
        bytes.len(),
        unknown,
        missing_from_catalog
    );
    Ok(())
}

/// Give every catalog item the table lacks (no sessions to learn from) a
/// row: the engine adds them as a live page would (`Model::update_items`,
/// placed from their words), and their rows and columns are appended to
/// the bundle after the learned ones. Returns how many.
fn place_unlearned_items(bundle: &mut Bundle, catalog: &HashMap<String, CatalogItem>) -> Result<usize> {
    let mut model = edgerec::Model::load(&bundle.to_bytes()?)?;
    let updates = missing_items(catalog, &model);
    if updates.is_empty() {
        return Ok(0);
    }
    model.update_items(&updates)?;
    let (from, to) = (bundle.manifest.item_count, model.catalog.len());
    let m = &mut bundle.manifest;
    m.item_ids = model.catalog.ids().to_vec();
    if !m.titles.is_empty() || !model.manifest.titles.is_empty() {
        m.titles = model.manifest.titles.clone();
    }
    m.categories = model.manifest.categories.clone();
    m.item_count = to;
    for row in from as u32..to as u32 {
        bundle.embeddings.extend_from_slice(&model.table.row(row));
    }
    let (a, added) = (&mut bundle.attributes, &model.attributes);
    a.price.extend_from_slice(&added.price[from..]);
    a.category.extend_from_slice(&added.category[from..]);
    a.margin.extend_from_slice(&added.margin[from..]);
    a.in_stock.extend_from_slice(&added.in_stock[from..]);
    a.popularity.extend_from_slice(&added.popularity[from..]);
    a.item_sessions.extend_from_slice(&added.item_sessions[from..]);
    bundle.copurchase.offsets = model.copurchase.offsets.clone();
    Ok(to - from)
}

/// The co-purchase thresholds, the defaults unless given.
pub fn mining_options(args: &Args) -> Result<MiningOptions> {
    let defaults = MiningOptions::default();
    Ok(MiningOptions {
        min_support: args.parsed("min-support", defaults.min_support)?,
        min_confidence: args.parsed("min-confidence", defaults.min_confidence)?,
        min_lift: args.parsed("min-lift", defaults.min_lift)?,
        max_neighbors: args.parsed("max-neighbors", defaults.max_neighbors)?,
        max_basket: defaults.max_basket,
    })
}

/// Sessions as table rows (ids the table lacks dropped, and counted).
pub fn session_rows(item_ids: &[String], sessions: &[Vec<String>]) -> (Vec<Vec<u32>>, usize) {
    let row_of: HashMap<&str, u32> = item_ids.iter().enumerate().map(|(i, id)| (id.as_str(), i as u32)).collect();
    let mut unknown = 0usize;
    let rows = sessions
        .iter()
        .map(|s| {
            let r: Vec<u32> = s.iter().filter_map(|id| row_of.get(id.as_str()).copied()).collect();
            unknown += s.len() - r.len();
            r
        })
        .filter(|r| !r.is_empty())
        .collect();
    (rows, unknown)
}

/// What the catalog says of the table's items.
pub struct Described {
    pub titles: Vec<String>,
    pub categories: Vec<String>,
    /// Items without a catalog entry.
    pub missing: usize,
}

/// Titles, categories and the per-item columns (price, category, margin,
/// stock) from the catalog; items it lacks get their id as title.
pub fn describe_items(
    item_ids: &[String],
    catalog: &HashMap<String, CatalogItem>,
    attributes: &mut ItemAttributes,
) -> Described {
    let mut categories: Vec<String> = Vec::new();
    let mut category_index: HashMap<String, u32> = HashMap::new();
    let mut titles = Vec::with_capacity(item_ids.len());
    let mut missing = 0usize;
    for id in item_ids {
        let item = catalog.get(id);
        missing += item.is_none() as usize;
        let category = item.map_or("uncategorised", |c| c.category.as_str());
        let next = categories.len() as u32;
        let cat = *category_index.entry(category.to_string()).or_insert_with(|| {
            categories.push(category.to_string());
            next
        });
        titles.push(item.map_or_else(|| id.clone(), |c| c.title.clone()));
        attributes.price.push(item.map_or(0.0, CatalogItem::current_price));
        attributes.category.push(cat);
        attributes.margin.push(item.and_then(|c| c.margin).unwrap_or(DEFAULT_MARGIN));
        attributes.in_stock.push(item.and_then(|c| c.in_stock).unwrap_or(true) as u8);
    }
    Described { titles, categories, missing }
}
