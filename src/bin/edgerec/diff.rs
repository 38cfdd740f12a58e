//! `edgerec diff OLD NEW --test F`: the offline gate before a canary. Both
//! bundles rank the same test sessions through the shipped ranking code;
//! it prints their quality (Recall/MRR@20, coverage), how alike their lists
//! are (overlap@10), their size and speed, and the paired difference in
//! quality with its 95 % interval. NEW fails the gate (exit status 3) when
//! it is worse by more than `--max-drop` points on Recall@20 or MRR@20 and
//! the interval rules out no difference: noise alone never stops a retrain.

use crate::args::{bad, Args};
use crate::eval::{in_parallel, rank_of, read_cases, Case, EngineRanker, Ranker, Scores, TABLE_HEADER};
use crate::inputs::read_file;
use crate::inspect::brotli_len;
use edgerec::bundle::{short_version, version_of};
use edgerec::{Engine, Result};
use std::time::Instant;

const K: usize = 20;
const OVERLAP_AT: usize = 10;

/// What one run of the test sessions gives for the pair.
#[derive(Default)]
struct Pass {
    old: Scores,
    new: Scores,
    /// Per case, NEW minus OLD: hit@20 and reciprocal rank@20.
    recall_diff: Vec<f64>,
    mrr_diff: Vec<f64>,
    overlap: f64,
}

impl Pass {
    fn merge(&mut self, other: Pass) {
        self.old.merge(other.old);
        self.new.merge(other.new);
        self.recall_diff.extend(other.recall_diff);
        self.mrr_diff.extend(other.mrr_diff);
        self.overlap += other.overlap;
    }
}

fn timed(ranker: &mut EngineRanker, case: &Case) -> Result<(Vec<String>, f64)> {
    let started = Instant::now();
    let list = ranker.rank(&case.prefix, K)?;
    Ok((list, started.elapsed().as_secs_f64() * 1e6))
}

fn run_pass(old: &[u8], new: &[u8], cases: &[Case]) -> Result<Pass> {
    let (mut a, mut b) = (EngineRanker::new(old, None)?, EngineRanker::new(new, None)?);
    let mut pass = Pass::default();
    let hit_and_rr = |list: &[String], target: &str| match rank_of(list, target) {
        Some(rank) if rank <= K => (1.0, 1.0 / rank as f64),
        _ => (0.0, 0.0),
    };
    for case in cases {
        let (list_a, micros_a) = timed(&mut a, case)?;
        let (list_b, micros_b) = timed(&mut b, case)?;
        pass.old.add(&list_a, &case.target, micros_a);
        pass.new.add(&list_b, &case.target, micros_b);
        let ((hit_a, rr_a), (hit_b, rr_b)) = (hit_and_rr(&list_a, &case.target), hit_and_rr(&list_b, &case.target));
        pass.recall_diff.push(hit_b - hit_a);
        pass.mrr_diff.push(rr_b - rr_a);
        let top_a = &list_a[..list_a.len().min(OVERLAP_AT)];
        let shared = list_b.iter().take(OVERLAP_AT).filter(|i| top_a.contains(i)).count();
        pass.overlap += shared as f64 / OVERLAP_AT as f64;
    }
    Ok(pass)
}

/// A paired difference in points (percent), with its normal 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

impl Paired {
    pub fn of(diffs: &[f64]) -> Paired {
        let n = diffs.len().max(1) as f64;
        let mean = diffs.iter().sum::<f64>() / n;
        let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        let half = 1.96 * (var / n).sqrt();
        Paired { mean: 100.0 * mean, low: 100.0 * (mean - half), high: 100.0 * (mean + half) }
    }

    /// Worse beyond tolerance: a drop of more than `max_drop` points that
    /// the interval says is real.
    pub fn is_worse(&self, max_drop: f64) -> bool {
        self.mean < -max_drop && self.high < 0.0
    }

    fn describe(&self, name: &str) -> String {
        format!("{name:<10} NEW − OLD {:+.2} points [{:+.2}, {:+.2}] (paired, 95 %)", self.mean, self.low, self.high)
    }
}

/// Median milliseconds to load a bundle (five loads).
fn load_ms(bytes: &[u8]) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        Engine::load(bytes)?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[2])
}

pub fn run(args: &Args) -> Result<bool> {
    let [old_path, new_path] = args.positional.as_slice() else {
        return Err(bad("diff needs two bundles: OLD.edgerec NEW.edgerec".into()));
    };
    let max_drop: f64 = args.parsed("max-drop", 1.0)?;
    let (old, new) = (read_file(old_path)?, read_file(new_path)?);
    let cases = read_cases(args.required("test")?, args.parsed("limit", 0usize)?)?;
    if cases.is_empty() {
        return Err(bad("diff: the test file has no cases".into()));
    }
    let catalog = |bytes: &[u8]| Engine::load(bytes).map(|e| e.model().catalog.clone());
    let (old_catalog, new_catalog) = (catalog(&old)?, catalog(&new)?);
    let mut pass = Pass::default();
    for part in in_parallel(&cases, |part| run_pass(&old, &new, part))? {
        pass.merge(part);
    }
    println!("{} test cases; OLD {old_path}, NEW {new_path}", cases.len());
    println!();
    println!("{TABLE_HEADER}");
    println!("{}", pass.old.row("OLD", old_catalog.len(), |id| old_catalog.row(id).is_some()));
    println!("{}", pass.new.row("NEW", new_catalog.len(), |id| new_catalog.row(id).is_some()));
    println!();
    println!("| bundle | version | items | raw bytes | brotli bytes | load ms (median of 5) |");
    println!("|---|---|---|---|---|---|");
    for (name, bytes, items) in [("OLD", &old, old_catalog.len()), ("NEW", &new, new_catalog.len())] {
        println!(
            "| {name} | {} | {items} | {} | {} | {:.1} |",
            short_version(&version_of(bytes)),
            bytes.len(),
            brotli_len(bytes),
            load_ms(bytes)?
        );
    }
    println!();
    let (recall, mrr) = (Paired::of(&pass.recall_diff), Paired::of(&pass.mrr_diff));
    println!("{}", recall.describe("Recall@20"));
    println!("{}", mrr.describe("MRR@20"));
    println!("overlap@10 {:.1} % of OLD's top 10 also in NEW's", 100.0 * pass.overlap / cases.len() as f64);
    let worse: Vec<&str> = [("Recall@20", recall), ("MRR@20", mrr)]
        .into_iter()
        .filter(|(_, p)| p.is_worse(max_drop))
        .map(|(name, _)| name)
        .collect();
    if worse.is_empty() {
        println!("gate: pass (NEW is not worse than OLD by more than {max_drop} pt offline)");
    } else {
        println!("gate: FAIL (NEW is worse on {} by more than {max_drop} pt offline)", worse.join(" and "));
    }
    Ok(worse.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_needs_a_real_drop_beyond_the_tolerance() {
        // 1,000 cases, NEW loses 50 hits and gains none: −5 points, clearly real.
        let mut diffs = vec![0.0; 1000];
        diffs[..50].iter_mut().for_each(|d| *d = -1.0);
        let p = Paired::of(&diffs);
        assert!((p.mean + 5.0).abs() < 1e-9 && p.high < 0.0, "{p:?}");
        assert!(p.is_worse(1.0));
        assert!(!p.is_worse(6.0), "within a 6-point tolerance");
        // Swings both ways that cancel: no real difference, no failure.
        let mut swings = vec![0.0; 1000];
        swings[..50].iter_mut().for_each(|d| *d = -1.0);
        swings[50..98].iter_mut().for_each(|d| *d = 1.0);
        let p = Paired::of(&swings);
        assert!(p.low < 0.0 && p.high > 0.0 && !p.is_worse(0.0), "{p:?}");
        // Identical models: a zero-width interval at zero.
        assert_eq!(Paired::of(&[0.0; 10]), Paired { mean: 0.0, low: 0.0, high: 0.0 });
    }

    #[test]
    fn a_bundle_diffed_with_itself_agrees_everywhere() {
        let bytes =
            read_file(concat!(env!("CARGO_MANIFEST_DIR"), "/models/online-retail/online-retail.edgerec")).unwrap();
        let engine = Engine::load(&bytes).unwrap();
        let ids = &engine.model().catalog.ids()[..30];
        let cases: Vec<Case> = ids.windows(3).map(|w| Case { prefix: w[..2].to_vec(), target: w[2].clone() }).collect();
        let pass = run_pass(&bytes, &bytes, &cases).unwrap();
        assert_eq!(pass.overlap, cases.len() as f64, "the same lists");
        assert!(pass.recall_diff.iter().chain(&pass.mrr_diff).all(|d| *d == 0.0));
    }
}
