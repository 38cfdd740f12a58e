//! `edgerec inspect BUNDLE`: manifest, and what every part costs: raw bytes
//! and brotli (quality 11, what a CDN serves pre-compressed).

use crate::args::{bad, Args};
use crate::inputs::read_file;
use edgerec::bundle::{meta_keys, version_of, Bundle};
use edgerec::Result;
use safetensors::SafeTensors;
use std::fmt::Write as _;
use std::io::Write as _;

pub fn brotli_len(bytes: &[u8]) -> usize {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    match brotli::BrotliCompress(&mut &bytes[..], &mut out, &params) {
        Ok(n) => n,
        Err(_) => bytes.len(),
    }
}

fn part(out: &mut String, name: &str, detail: &str, bytes: &[u8]) {
    let _ = writeln!(out, "  {name:<24} {detail:<22} {:>10} raw {:>10} brotli", bytes.len(), brotli_len(bytes));
}

pub fn run(args: &Args) -> Result<()> {
    let path = args.positional.first().ok_or_else(|| bad("inspect needs a BUNDLE path".into()))?;
    let bytes = read_file(path)?;
    let bundle = Bundle::from_bytes(&bytes)?;
    let m = &bundle.manifest;
    let mut out = String::new();
    let _ = writeln!(out, "bundle       {path} ({} bytes raw, {} brotli)", bytes.len(), brotli_len(&bytes));
    let _ = writeln!(out, "version      {} (what release files and reports name)", version_of(&bytes));
    let _ = writeln!(out, "format       v{}", m.format_version);
    let _ = writeln!(out, "items        {} (dim {}, sequence length <= {})", m.item_count, m.dim, m.max_seq_len);
    let _ = writeln!(out, "categories   {}", m.categories.len());
    let _ = writeln!(
        out,
        "encoder      {:?}, input {:?} -> output {:?}",
        bundle.encoder.format, m.encoder.input, m.encoder.output
    );
    let _ = writeln!(out, "model card   {}", serde_json::to_string_pretty(&m.model_card).unwrap_or_default());
    let _ = match &m.blend {
        Some(b) => writeln!(
            out,
            "blend        model {}, copurchase {}, popularity {}, recency {}, revisit {} (the model's; a policy `ranking` overrides it)",
            b.model, b.copurchase, b.popularity, b.recency, b.revisit
        ),
        None => writeln!(out, "blend        the engine's default"),
    };
    let _ = writeln!(out, "policy       {}", bundle.policy_json);
    let _ = writeln!(out, "parts:");
    // Deserialising again is cheap and gives the stored dtypes and shapes.
    if let Ok(st) = SafeTensors::deserialize(&bytes) {
        let mut names = st.names();
        names.sort();
        for name in names {
            if let Ok(v) = st.tensor(name) {
                part(&mut out, name, &format!("{:?} {:?}", v.dtype(), v.shape()), v.data());
            }
        }
    }
    part(&mut out, "manifest: item ids", "JSON", json(&m.item_ids).as_bytes());
    part(&mut out, "manifest: titles", "JSON", json(&m.titles).as_bytes());
    part(&mut out, "manifest: categories", "JSON", json(&m.categories).as_bytes());
    part(&mut out, meta_keys::POLICY, "JSON", bundle.policy_json.as_bytes());
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(())
}

/// A manifest field as the JSON it is stored as.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
