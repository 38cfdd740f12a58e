//! `edgerec repack BUNDLE [--table-format F] [--sessions FILE] [--tuned FILE]
//! [--out BUNDLE]`: rewrite a bundle in the current compact
//! form — an ONNX encoder becomes NNEF (what the shipped module reads),
//! statistics become counts, titles that only repeat the ids are dropped —
//! keeping the model, statistics and policy. `--table-format` also
//! re-stores the item table; `--sessions` re-mines the statistics from other
//! sessions (the same mining flags as `build`), so a tuning bundle can be cut
//! from a trained one without its table files; `--tuned` puts a tune file's
//! blend into the manifest (the table stays as it is).

use crate::args::{bad, Args};
use crate::build::{mining_options, session_rows};
use crate::inputs::{read_file, read_sessions, write_file};
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

/// Append what the repack did to the model card's notes.
fn note(card: &mut ModelCard, what: &str) {
    card.notes = format!("{} {what}", card.notes).trim().to_string();
}
