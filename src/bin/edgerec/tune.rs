//! `edgerec tune BUNDLE --valid FILE --out TUNED.json [--limit N] [--max-drop PT]`:
//! on held-out cases, pick the blend of the shipped ranking (model,
//! co-purchase, popularity) and the most compact item table whose Recall@20
//! and MRR@20 stay within `--max-drop` points of f32. `edgerec build --tuned`
//! applies the result: the blend goes into the bundle's manifest (the model's
//! own; a store's policy may still override it).
//!
//! The bundle must be mined from sessions that exclude the held-out ones, or
//! the co-purchase rules would have seen the answers (the trainer writes
//! both halves: `fit_sessions.txt`, `valid.tsv`).

use crate::args::{bad, Args};
use crate::eval::{evaluate, read_cases, EngineRanker};
use crate::inputs::read_file;
use edgerec::bundle::{Bundle, TableFormat};
use edgerec::rank::BlendWeights;
use edgerec::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Co-purchase and popularity weights tried beside a model weight of 1.
const COPURCHASE: [f32; 8] = [0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2];
const POPULARITY: [f32; 2] = [0.0, 0.05];
/// Smallest first: the first format within the allowed drop ships.
const COMPACT: [TableFormat; 5] =
    [TableFormat::Pq(4), TableFormat::Pq(3), TableFormat::Pq(2), TableFormat::Int8, TableFormat::F16];

fn ranking(copurchase: f32, popularity: f32) -> BlendWeights {
    BlendWeights { model: 1.0, copurchase, popularity }
}

pub fn run(args: &Args) -> Result<()> {
    let path = args.positional.first().ok_or_else(|| bad("tune needs a BUNDLE path".into()))?;
    let out = args.required("out")?;
    let max_drop: f64 = args.parsed("max-drop", 0.3)?;
    let cases = read_cases(args.required("valid")?, args.parsed("limit", 20_000usize)?)?;
    // The grid and the reference run on an f32 table, whatever the bundle stores.
    let mut bundle = Bundle::from_bytes(&read_file(path)?)?;
    bundle.table_format = TableFormat::F32;
    let bytes = bundle.to_bytes()?;
    let quality = |ranker: &mut EngineRanker, ranking: &BlendWeights| -> Result<(f64, f64)> {
        ranker.set_ranking(&json!(ranking).to_string())?;
        let scores = evaluate(ranker, &cases)?;
        Ok((scores.recall(0), scores.mrr(0)))
    };
    println!("{} held-out cases; blend by Recall@20 + MRR@20 (f32 table)", cases.len());
    println!("| copurchase | popularity | Recall@20 | MRR@20 |\n|---|---|---|---|");
    let mut reference = EngineRanker::new(&bytes, None)?;
    let mut best: Option<(f64, BlendWeights, (f64, f64))> = None;
    for c in COPURCHASE {
        for p in POPULARITY {
            let r = ranking(c, p);
            let (recall, mrr) = quality(&mut reference, &r)?;
            println!("| {c} | {p} | {recall:.2} | {mrr:.2} |");
            if best.as_ref().is_none_or(|b| recall + mrr > b.0) {
                best = Some((recall + mrr, r, (recall, mrr)));
            }
        }
    }
    let (_, blend, full) = best.expect("the grid is not empty");

    let quality_of = |format: TableFormat, (recall20, mrr20): (f64, f64), bundle_bytes: usize| FormatQuality {
        format: format.to_string(),
        recall20,
        mrr20,
        bundle_bytes,
    };
    let mut formats = vec![quality_of(TableFormat::F32, full, bytes.len())];
    let mut chosen = TableFormat::F32;
    for format in COMPACT {
        let mut compact = bundle.clone();
        compact.table_format = format;
        let compact_bytes = compact.to_bytes()?;
        let (recall, mrr) = quality(&mut EngineRanker::new(&compact_bytes, None)?, &blend)?;
        let within = full.0 - recall <= max_drop && full.1 - mrr <= max_drop;
        println!(
            "{format} table: Recall@20 {recall:.2}, MRR@20 {mrr:.2} (f32: {:.2}, {:.2}){}",
            full.0,
            full.1,
            if within { "" } else { " -- drops too much" }
        );
        formats.push(quality_of(format, (recall, mrr), compact_bytes.len()));
        if within && chosen == TableFormat::F32 {
            chosen = format;
        }
    }
    let validation = Validation { cases: cases.len(), recall20: full.0, mrr20: full.1, max_drop, formats };
    let tuned = Tuned { ranking: blend, table_format: chosen, validation };
    let text = serde_json::to_string_pretty(&tuned).map_err(|e| Error::InvalidInput(e.to_string()))?;
    std::fs::write(out, text).map_err(|e| Error::InvalidInput(format!("{out}: {e}")))?;
    println!("ranking {}, {chosen} table -> {out}", json!(blend));
    Ok(())
}

/// What `tune` writes and `build --tuned` applies: the blend (into the
/// bundle's manifest) and the table format, with how they were chosen.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tuned {
    pub ranking: BlendWeights,
    #[serde(with = "format_name")]
    pub table_format: TableFormat,
    #[serde(default)]
    pub validation: Validation,
}

/// The held-out quality behind a tuned file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    pub cases: usize,
    pub recall20: f64,
    pub mrr20: f64,
    pub max_drop: f64,
    pub formats: Vec<FormatQuality>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatQuality {
    pub format: String,
    pub recall20: f64,
    pub mrr20: f64,
    pub bundle_bytes: usize,
}

/// A table format as its name (`pq2`, `int8`, `f16`…).
mod format_name {
    use edgerec::bundle::TableFormat;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(f: &TableFormat, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&f.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TableFormat, D::Error> {
        TableFormat::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Tuned {
    pub fn read(path: &str) -> Result<Tuned> {
        let tuned: Tuned = serde_json::from_slice(&read_file(path)?).map_err(|e| bad(format!("{path}: {e}")))?;
        if !tuned.ranking.is_valid() {
            return Err(bad(format!("{path}: the blend's weights must be finite and >= 0")));
        }
        Ok(tuned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuned_files_are_read_typed_and_bad_ones_are_refused() {
        let dir = std::env::temp_dir().join(format!("edgerec-tune-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tuned.json");
        let path = file.to_str().unwrap();
        std::fs::write(
            &file,
            r#"{"ranking": {"model": 1, "copurchase": 0.2, "popularity": 0}, "table_format": "f16"}"#,
        )
        .unwrap();
        let tuned = Tuned::read(path).unwrap();
        assert_eq!(tuned.table_format, TableFormat::F16);
        assert_eq!(tuned.ranking, BlendWeights { model: 1.0, copurchase: 0.2, popularity: 0.0 });
        for bad in [
            r#"{"ranking": {}, "table_format": "f8"}"#,
            r#"{"table_format": "f32"}"#,
            r#"{"ranking": {"model": -1}, "table_format": "f32"}"#,
            r#"{"ranking": {}, "table_format": "f32", "extra": 1}"#,
            "not json",
        ] {
            std::fs::write(&file, bad).unwrap();
            assert!(Tuned::read(path).is_err(), "{bad}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
