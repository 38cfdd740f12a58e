//! `edgerec tune BUNDLE --valid FILE --out TUNED.json [--limit N] [--max-drop PT]`:
//! on held-out cases, pick the blend of the shipped ranking (model,
//! co-purchase, popularity) and the most compact item table whose Recall@20
//! and MRR@20 stay within `--max-drop` points of f32. `edgerec build --tuned`
//! applies the result.
//!
//! The bundle must be mined from sessions that exclude the held-out ones, or
//! the co-purchase rules would have seen the answers (the trainer writes
//! both halves: `fit_sessions.txt`, `valid.tsv`).

use crate::args::{bad, Args};
use crate::eval::{evaluate, read_cases, EngineRanker};
use crate::inputs::read_file;
use edgerec::bundle::{Bundle, TableFormat};
use edgerec::{Error, Result};
use serde_json::{json, Value};

/// Co-purchase and popularity weights tried beside a model weight of 1.
const COPURCHASE: [f64; 8] = [0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2];
const POPULARITY: [f64; 2] = [0.0, 0.05];
/// Smallest first: the first format within the allowed drop ships.
const COMPACT: [TableFormat; 5] =
    [TableFormat::Pq(4), TableFormat::Pq(3), TableFormat::Pq(2), TableFormat::Int8, TableFormat::F16];

fn ranking(copurchase: f64, popularity: f64) -> Value {
    json!({"model": 1.0, "copurchase": copurchase, "popularity": popularity})
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
    let quality = |ranker: &mut EngineRanker, ranking: &Value| -> Result<(f64, f64)> {
        ranker.set_ranking(&ranking.to_string())?;
        let scores = evaluate(ranker, &cases)?;
        Ok((scores.recall(0), scores.mrr(0)))
    };
    println!("{} held-out cases; blend by Recall@20 + MRR@20 (f32 table)", cases.len());
    println!("| copurchase | popularity | Recall@20 | MRR@20 |\n|---|---|---|---|");
    let mut reference = EngineRanker::new(&bytes, None)?;
    let mut best: Option<(f64, Value, (f64, f64))> = None;
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

    let mut formats = vec![json!({"format": "f32", "recall20": full.0, "mrr20": full.1, "bundle_bytes": bytes.len()})];
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
        formats.push(json!({"format": format.to_string(), "recall20": recall, "mrr20": mrr, "bundle_bytes": compact_bytes.len()}));
        if within && chosen == TableFormat::F32 {
            chosen = format;
        }
    }
    let tuned = json!({
        "ranking": blend,
        "table_format": chosen.to_string(),
        "validation": {"cases": cases.len(), "recall20": full.0, "mrr20": full.1, "max_drop": max_drop, "formats": formats},
    });
    let text = serde_json::to_string_pretty(&tuned).map_err(|e| Error::InvalidInput(e.to_string()))?;
    std::fs::write(out, text).map_err(|e| Error::InvalidInput(format!("{out}: {e}")))?;
    println!("ranking {blend}, {chosen} table -> {out}");
    Ok(())
}

/// What `tune` wrote, as `build --tuned` applies it.
pub struct Tuned {
    pub ranking: Value,
    pub table_format: TableFormat,
    pub validation: Value,
}

impl Tuned {
    pub fn read(path: &str) -> Result<Tuned> {
        let v: Value = serde_json::from_slice(&read_file(path)?).map_err(|e| bad(format!("{path}: {e}")))?;
        let format = v["table_format"].as_str().ok_or_else(|| bad(format!("{path}: no table_format")))?;
        if !v["ranking"].is_object() {
            return Err(bad(format!("{path}: no ranking object")));
        }
        Ok(Tuned {
            ranking: v["ranking"].clone(),
            table_format: TableFormat::parse(format)?,
            validation: v["validation"].clone(),
        })
    }

    /// The store's policy with this blend as its ranking.
    pub fn apply_to_policy(&self, policy_json: &str) -> Result<String> {
        let mut policy: Value =
            serde_json::from_str(policy_json).map_err(|e| bad(format!("the policy is not JSON: {e}")))?;
        let object = policy.as_object_mut().ok_or_else(|| bad("the policy is not a JSON object".into()))?;
        object.insert("ranking".into(), self.ranking.clone());
        Ok(policy.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuned_blends_replace_the_policy_ranking_and_bad_files_are_refused() {
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
        let policy: Value = serde_json::from_str(
            &tuned.apply_to_policy(r#"{"version": 1, "ranking": {"model": 0.5}, "offers": []}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(policy["ranking"]["copurchase"], 0.2);
        assert_eq!(policy["offers"], json!([]));
        assert!(tuned.apply_to_policy("[1]").is_err());
        for bad in [r#"{"ranking": {}, "table_format": "f8"}"#, r#"{"table_format": "f32"}"#, "not json"] {
            std::fs::write(&file, bad).unwrap();
            assert!(Tuned::read(path).is_err(), "{bad}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
