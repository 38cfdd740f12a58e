//! `edgerec repack BUNDLE [--table-format F] [--out BUNDLE]`: rewrite a
//! bundle in the current compact form — an ONNX encoder becomes NNEF (what
//! the shipped module reads), statistics become counts, titles that only
//! repeat the ids are dropped — keeping the model, statistics and policy;
//! `--table-format` also re-stores the item table.

use crate::args::{bad, Args};
use crate::inputs::read_file;
use edgerec::bundle::{Bundle, TableFormat};
use edgerec::encoder::convert::onnx_to_nnef;
use edgerec::encoder::EncoderFormat;
use edgerec::{Engine, Error, Result};

pub fn run(args: &Args) -> Result<()> {
    let path = args.positional.first().ok_or_else(|| bad("repack needs a BUNDLE path".into()))?;
    let before = read_file(path)?;
    let mut bundle = Bundle::from_bytes(&before)?;
    if let Some(format) = args.opt("table-format") {
        let format = TableFormat::parse(format)?;
        if format != bundle.table_format {
            let card = &mut bundle.manifest.model_card;
            card.notes =
                format!("{} Item table re-stored as {format} by `edgerec repack`.", card.notes).trim().to_string();
        }
        bundle.table_format = format;
    }
    if bundle.manifest.titles == bundle.manifest.item_ids {
        bundle.manifest.titles.clear();
    }
    if bundle.encoder.format == EncoderFormat::Onnx {
        bundle.encoder = onnx_to_nnef(&bundle.encoder.bytes, &bundle.manifest.encoder, bundle.manifest.dim)?;
        let card = &mut bundle.manifest.model_card;
        card.notes =
            format!("{} Encoder converted from ONNX to NNEF by `edgerec repack`.", card.notes).trim().to_string();
    }
    let bytes = bundle.to_bytes()?;
    // Refuse to write a bundle the engine would not load.
    Engine::load(&bytes)?;
    let out = args.opt("out").unwrap_or(path);
    std::fs::write(out, &bytes).map_err(|e| Error::InvalidInput(format!("{out}: {e}")))?;
    println!("repacked {path} -> {out}: {} -> {} bytes", before.len(), bytes.len());
    Ok(())
}
