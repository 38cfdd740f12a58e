//! `edgerec repack BUNDLE [--table-format F] [--sessions FILE] [--tuned FILE]
//! [--catalog FILE.jsonl] [--out BUNDLE]`: rewrite a bundle in the current compact
//! form — an ONNX encoder becomes NNEF (what the shipped module reads),
//! statistics become counts, titles that only repeat the ids are dropped —
//! keeping the model, statistics and policy. `--table-format` also
//! re-stores the item table; `--sessions` re-mines the statistics from other
//! sessions (the same mining flags as `build`), so a tuning bundle can be cut
//! from a trained one without its table files; `--tuned` puts a tune file's
//! blend into the manifest (the table stays as it is); `--catalog` re-reads
//! its items' titles, categories, prices, margins and stock from a catalog
//! (a cleaned catalog without retraining; items the bundle lacks are left
//! to `edgerec patch`).

use crate::args::{bad, Args};
use crate::build::{describe_items, mining_options, session_rows, Described};
use crate::inputs::{read_catalog, read_file, read_sessions, write_file};
use crate::tune::Tuned;
use edgerec::bundle::{Bundle, ModelCard, TableFormat};
use edgerec::encoder::convert::onnx_to_nnef;
use edgerec::encoder::EncoderFormat;
use edgerec::mining::mine;
use edgerec::{Engine, Result};

pub fn run(args: &Args) -> Result<()> {
    let path = args.positional.first().ok_or_else(|| bad("repack needs a BUNDLE path".into()))?;
    let before = read_file(path)?;
    let mut bundle = Bundle::from_bytes(&before)?;
    if let Some(format) = args.opt("table-format") {
        let format = TableFormat::parse(format)?;
        if format != bundle.table_format {
            note(&mut bundle.manifest.model_card, &format!("Item table re-stored as {format} by `edgerec repack`."));
        }
        bundle.table_format = format;
    }
    if let Some(sessions) = args.opt("sessions") {
        remine(&mut bundle, sessions, args)?;
    }
    if let Some(catalog) = args.opt("catalog") {
        recatalog(&mut bundle, catalog)?;
    }
    if let Some(tuned) = args.opt("tuned") {
        let tuned = Tuned::read(tuned)?;
        tuned.record_in(&mut bundle.manifest.model_card);
        bundle.manifest.blend = Some(tuned.ranking);
    }
    if bundle.manifest.titles == bundle.manifest.item_ids {
        bundle.manifest.titles.clear();
    }
    if bundle.encoder.format == EncoderFormat::Onnx {
        bundle.encoder = onnx_to_nnef(&bundle.encoder.bytes, &bundle.manifest.encoder, bundle.manifest.dim)?;
        note(&mut bundle.manifest.model_card, "Encoder converted from ONNX to NNEF by `edgerec repack`.");
    }
    let bytes = bundle.to_bytes()?;
    // Refuse to write a bundle the engine would not load.
    Engine::load(&bytes)?;
    let out = args.opt("out").unwrap_or(path);
    write_file(out, &bytes)?;
    println!("repacked {path} -> {out}: {} -> {} bytes", before.len(), bytes.len());
    Ok(())
}

/// The bundle's co-purchase pairs and popularity mined again from the
/// sessions in `path` (ids the bundle lacks are skipped and counted).
fn remine(bundle: &mut Bundle, path: &str, args: &Args) -> Result<()> {
    let (rows, unknown) = session_rows(&bundle.manifest.item_ids, &read_sessions(path)?);
    let mined = mine(&rows, bundle.manifest.item_count, &mining_options(args)?)?;
    let card = &mut bundle.manifest.model_card;
    card.metrics.insert("copurchase_pairs".into(), mined.copurchase.neighbors.len() as f64);
    card.metrics.insert("mined_sessions".into(), mined.sessions as f64);
    note(card, &format!("Statistics re-mined from {} sessions by `edgerec repack`.", mined.sessions));
    println!(
        "re-mined {} sessions: {} co-purchase pairs ({unknown} session ids unknown to the bundle)",
        mined.sessions,
        mined.copurchase.neighbors.len()
    );
    bundle.manifest.sessions = mined.sessions as u64;
    bundle.copurchase = mined.copurchase;
    bundle.attributes.popularity = mined.popularity;
    bundle.attributes.item_sessions = mined.item_sessions;
    Ok(())
}

/// The bundle's items described again from the catalog at `path` (what
/// the sessions taught the bundle, popularity included, is kept).
fn recatalog(bundle: &mut Bundle, path: &str) -> Result<()> {
    let catalog = read_catalog(path)?;
    let a = &mut bundle.attributes;
    let mut attributes = edgerec::bundle::ItemAttributes {
        popularity: std::mem::take(&mut a.popularity),
        item_sessions: std::mem::take(&mut a.item_sessions),
        ..Default::default()
    };
    let Described { titles, categories, missing } =
        describe_items(&bundle.manifest.item_ids, &catalog, &mut attributes);
    bundle.attributes = attributes;
    bundle.manifest.titles = titles;
    bundle.manifest.categories = categories;
    note(&mut bundle.manifest.model_card, &format!("Items described again from {path} by `edgerec repack`."));
    println!("re-described {} items from {path} ({missing} without a catalog entry)", bundle.manifest.item_count);
    Ok(())
}

/// Append what the repack did to the model card's notes.
fn note(card: &mut ModelCard, what: &str) {
    card.notes = format!("{} {what}", card.notes).trim().to_string();
}
