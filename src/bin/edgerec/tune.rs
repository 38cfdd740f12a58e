//! `edgerec tune BUNDLE --valid FILE --out TUNED.json [--limit N] [--max-drop PT]`:
//! on held-out cases, pick the blend of the shipped ranking (model,
//! co-purchase, popularity: a grid, then halved steps around its best) and
//! the recency of its anchors (the one whose lists follow a shopper who
//! moves on best, within `RECENCY_COST` of the best quality), and the most
//! compact item table whose Recall@20 and MRR@20 stay within `--max-drop`
//! points of f32 (smallest first; the first that does ships). Every held-out
//! evaluation runs on all cores. `edgerec build --tuned` applies the result:
//! the blend goes into the bundle's manifest (the model's own; a store's
//! policy may still override it).
//!
//! The bundle must be mined from sessions that exclude the held-out ones, or
//! the co-purchase rules would have seen the answers (the trainer writes
//! both halves: `fit_sessions.txt`, `valid.tsv`).

use crate::args::{bad, Args};
use crate::eval::{evaluate, read_cases, EngineRanker, Follow};
use crate::inputs::{read_file, write_file};
use edgerec::bundle::{Bundle, ModelCard, TableFormat};
use edgerec::rank::BlendWeights;
use edgerec::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Co-purchase and popularity weights tried beside a model weight of 1.
const COPURCHASE: [f32; 8] = [0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2];
const POPULARITY: [f32; 2] = [0.0, 0.05];
/// Weights in a row that score below the best one so far end a climb
/// (co-purchase at a popularity weight, revisit): quality rises to one peak
/// in such a weight, then falls (as on Diginetica and Online Retail).
const FALLS_TO_STOP: usize = 2;

/// A climb through increasing weights: the best score so far and how many
/// weights in a row have fallen below it.
struct Climb {
    peak: f64,
    falls: usize,
}

impl Climb {
    fn new(peak: f64) -> Climb {
        Climb { peak, falls: 0 }
    }

    /// Record `score`; true once `FALLS_TO_STOP` weights in a row trail the peak.
    fn past_peak(&mut self, score: f64) -> bool {
        if score > self.peak {
            (self.peak, self.falls) = (score, 0);
        } else {
            self.falls += 1;
        }
        self.falls == FALLS_TO_STOP
    }
}
/// Rounds of halving the co-purchase step around the grid's best weight.
const REFINE_ROUNDS: usize = 2;
/// A popularity weight whose blend trails the same co-purchase weight
/// without popularity by this much (Recall@20 + MRR@20 points) is ruled out
/// for the rest of the grid: on Diginetica 0.05 lost 16 points at once.
const PRUNE_POINTS: f64 = 2.0;
/// Weights of a viewed item seen again tried at the searched blend (whose
/// own is 0), climbing until past the peak: a fifth of Diginetica's next
/// views are re-views; invoices never repeat an item, so all lose there.
const REVISIT: [f32; 4] = [0.05, 0.1, 0.2, 0.4];
/// Recency weights tried once the blend is chosen: the last views alike (1)
/// down to the latest view only (0).
const RECENCY: [f32; 4] = [1.0, 0.5, 0.25, 0.0];
/// Held-out Recall@20 + MRR@20 points a recency may cost to follow the
/// shopper better ("follow@8"); the one that follows best within it ships.
const RECENCY_COST: f64 = 0.3;
/// Smallest first: the first format within the allowed drop ships.
const COMPACT: [TableFormat; 5] =
    [TableFormat::Pq(4), TableFormat::Pq(3), TableFormat::Pq(2), TableFormat::Int8, TableFormat::F16];

fn ranking(copurchase: f32, popularity: f32) -> BlendWeights {
    BlendWeights { model: 1.0, copurchase, popularity, recency: 1.0, revisit: 0.0 }
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
    let quality = |bundle: &[u8], ranking: &BlendWeights| -> Result<(f64, f64)> {
        let ranking = json!(ranking).to_string();
        let scores = evaluate(&cases, || EngineRanker::new(bundle, Some(&ranking)))?;
        Ok((scores.recall(0), scores.mrr(0)))
    };
    println!("{} held-out cases; blend by Recall@20 + MRR@20 (f32 table)", cases.len());
    println!("| copurchase | popularity | Recall@20 | MRR@20 |\n|---|---|---|---|");
    let mut search = BlendSearch::default();
    search.run(|r| quality(&bytes, r))?;
    let mut reference = EngineRanker::new(&bytes, None)?;
    let (blend, searched) = search.best.expect("the grid is not empty");
    let (blend, searched) = best_revisit(blend, searched, |r| quality(&bytes, r))?;
    println!("\n| recency | Recall@20 | MRR@20 | follow@8: latest two % | earlier only % |\n|---|---|---|---|---|");
    let mut tried = Vec::new();
    for recency in RECENCY {
        let r = BlendWeights { recency, ..blend };
        // The search ran at this blend's own recency: its figures stand.
        let (recall, mrr) = if r == blend { searched } else { quality(&bytes, &r)? };
        reference.set_ranking(&json!(r).to_string())?;
        let follow = reference.follow(&cases)?;
        let (latest, earlier) = follow.map_or((f64::NAN, f64::NAN), |f| (f.latest, f.earlier));
        println!("| {recency} | {recall:.2} | {mrr:.2} | {latest:.1} | {earlier:.1} |");
        tried.push(RecencyTrial { blend: r, quality: (recall, mrr), follow });
    }
    let RecencyTrial { blend, quality: full, follow } = pick_recency(tried);

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
        let (recall, mrr) = quality(&compact_bytes, &blend)?;
        let within = full.0 - recall <= max_drop && full.1 - mrr <= max_drop;
        println!(
            "{format} table: Recall@20 {recall:.2}, MRR@20 {mrr:.2} (f32: {:.2}, {:.2}){}",
            full.0,
            full.1,
            if within { "" } else { " -- drops too much" }
        );
        formats.push(quality_of(format, (recall, mrr), compact_bytes.len()));
        if within {
            // Smallest first: the larger formats cannot ship, so are not tried.
            chosen = format;
            break;
        }
    }
    let validation = Validation {
        cases: cases.len(),
        recall20: full.0,
        mrr20: full.1,
        follow8_latest: follow.map(|f| f.latest),
        follow8_earlier: follow.map(|f| f.earlier),
        max_drop,
        formats,
    };
    let tuned = Tuned { ranking: blend, table_format: chosen, validation };
    let text = serde_json::to_string_pretty(&tuned).map_err(|e| Error::InvalidInput(e.to_string()))?;
    write_file(out, text)?;
    // serde_json writes an f32 as written (json! would widen 0.0875 to 0.08749999…).
    let written = serde_json::to_string(&blend).map_err(|e| Error::InvalidInput(e.to_string()))?;
    println!("ranking {written}, {chosen} table -> {out}");
    Ok(())
}

/// The revisit weight (`REVISIT`) that scores best at `blend`, whose own
/// figures are `searched`.
fn best_revisit(
    mut blend: BlendWeights,
    mut searched: (f64, f64),
    mut quality: impl FnMut(&BlendWeights) -> Result<(f64, f64)>,
) -> Result<(BlendWeights, (f64, f64))> {
    println!("\n| revisit | Recall@20 | MRR@20 |\n|---|---|---|");
    println!("| {} | {:.2} | {:.2} |", blend.revisit, searched.0, searched.1);
    let mut climb = Climb::new(searched.0 + searched.1);
    for revisit in REVISIT {
        let r = BlendWeights { revisit, ..blend };
        let (recall, mrr) = quality(&r)?;
        println!("| {revisit} | {recall:.2} | {mrr:.2} |");
        if recall + mrr > searched.0 + searched.1 {
            (blend, searched) = (r, (recall, mrr));
        }
        if climb.past_peak(recall + mrr) {
            break;
        }
    }
    Ok((blend, searched))
}

/// One recency weight tried on the held-out cases.
struct RecencyTrial {
    blend: BlendWeights,
    quality: (f64, f64),
    follow: Option<Follow>,
}

/// The trial that follows the shopper best among those within
/// `RECENCY_COST` of the best Recall@20 + MRR@20 (the best by quality
/// when the bundle has no product types).
fn pick_recency(tried: Vec<RecencyTrial>) -> RecencyTrial {
    let sum = |t: &RecencyTrial| t.quality.0 + t.quality.1;
    let best = tried.iter().map(sum).fold(f64::MIN, f64::max);
    let follows = |t: &RecencyTrial| t.follow.map_or(0.0, |f| f.latest);
    tried
        .into_iter()
        .filter(|t| sum(t) >= best - RECENCY_COST)
        .max_by(|a, b| follows(a).total_cmp(&follows(b)).then(sum(a).total_cmp(&sum(b))))
        .expect("the best trial is within its own cost")
}

/// The blends tried on held-out cases and the best by Recall@20 + MRR@20.
#[derive(Default)]
struct BlendSearch {
    /// Each blend tried, with its Recall@20 + MRR@20.
    tried: Vec<(BlendWeights, f64)>,
    best: Option<(BlendWeights, (f64, f64))>,
}

impl BlendSearch {
    /// Evaluate `r`; returns its Recall@20 + MRR@20.
    fn try_blend(
        &mut self,
        r: BlendWeights,
        mut quality: impl FnMut(&BlendWeights) -> Result<(f64, f64)>,
    ) -> Result<f64> {
        let (recall, mrr) = quality(&r)?;
        println!("| {} | {} | {recall:.2} | {mrr:.2} |", r.copurchase, r.popularity);
        self.tried.push((r, recall + mrr));
        if self.best.is_none_or(|(_, (br, bm))| recall + mrr > br + bm) {
            self.best = Some((r, (recall, mrr)));
        }
        Ok(recall + mrr)
    }

    /// The grid (popularity weights ruled out early when they trail, the
    /// co-purchase climb stopped past its peak), then halved co-purchase
    /// steps around its best.
    fn run(&mut self, mut quality: impl FnMut(&BlendWeights) -> Result<(f64, f64)>) -> Result<()> {
        for p in POPULARITY {
            let mut climb = Climb::new(f64::MIN);
            for c in COPURCHASE {
                let score = self.try_blend(ranking(c, p), &mut quality)?;
                if climb.past_peak(score) {
                    println!("(copurchase above {c} not tried: past the peak at popularity {p})");
                    break;
                }
                let without = self.score_of(ranking(c, 0.0));
                if let Some(w) = without.filter(|w| score < w - PRUNE_POINTS) {
                    println!(
                        "(popularity {p} ruled out: {:.2} points below popularity 0 at copurchase {c})",
                        w - score
                    );
                    break;
                }
            }
        }
        // The grid doubles its steps; halve them around the best co-purchase
        // weight, where held-out quality is flat enough for a small step to count.
        for _ in 0..REFINE_ROUNDS {
            for r in self.midpoints() {
                self.try_blend(r, &mut quality)?;
            }
        }
        Ok(())
    }

    /// The Recall@20 + MRR@20 of a blend already tried.
    fn score_of(&self, r: BlendWeights) -> Option<f64> {
        self.tried.iter().find(|(t, _)| *t == r).map(|(_, s)| *s)
    }

    /// The co-purchase weights halfway between the best blend's and the
    /// nearest tried on each side (at the best's popularity weight).
    fn midpoints(&self) -> Vec<BlendWeights> {
        let Some((best, _)) = self.best else { return Vec::new() };
        let beside = || self.tried.iter().filter(|(t, _)| t.popularity == best.popularity).map(|(t, _)| t.copurchase);
        let below = beside().filter(|&x| x < best.copurchase).reduce(f32::max);
        let above = beside().filter(|&x| x > best.copurchase).reduce(f32::min);
        [below, above]
            .into_iter()
            .flatten()
            // Rounded to 1e-4, so the weights print and store as written.
            .map(|x| BlendWeights { copurchase: ((x + best.copurchase) * 5000.0).round() / 10_000.0, ..best })
            .collect()
    }
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
    /// The storefront's top 8 after a change of product type: the share of
    /// the last two items' types and of earlier items' only (`eval`'s follow@8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow8_latest: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow8_earlier: Option<f64>,
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
    /// The held-out figures behind this blend, in a model card's metrics.
    pub fn record_in(&self, card: &mut ModelCard) {
        let v = &self.validation;
        for (key, value) in [("recall20", v.recall20), ("mrr20", v.mrr20), ("cases", v.cases as f64)] {
            card.metrics.insert(format!("tuned_valid_{key}"), value);
        }
    }

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
    fn the_recency_that_follows_best_within_the_cost_ships() {
        let trial = |recency: f32, recall: f64, latest: f64| RecencyTrial {
            blend: BlendWeights { recency, ..ranking(0.1, 0.0) },
            quality: (recall, 20.0),
            follow: Some(Follow { prefixes: 100, latest, earlier: 50.0 - latest }),
        };
        let pick = |t: Vec<RecencyTrial>| pick_recency(t).blend.recency;
        // 0.25 follows best and costs 0.2 points: it ships; 0 costs 1 point: ruled out.
        assert_eq!(
            pick(vec![trial(1.0, 50.0, 20.0), trial(0.5, 49.9, 25.0), trial(0.25, 49.8, 30.0), trial(0.0, 49.0, 40.0)]),
            0.25
        );
        // Following better never outweighs quality past the cost.
        assert_eq!(pick(vec![trial(1.0, 50.0, 20.0), trial(0.0, 49.0, 40.0)]), 1.0);
        // Without product types, the best quality.
        let untyped = |recency, recall| RecencyTrial { follow: None, ..trial(recency, recall, 0.0) };
        assert_eq!(pick(vec![untyped(1.0, 49.9), untyped(0.5, 50.0)]), 0.5);
    }

    #[test]
    fn popularity_weights_that_trail_are_ruled_out_after_one_try() {
        let mut search = BlendSearch::default();
        let mut calls = 0;
        // Best at copurchase 0.1; any popularity costs 15 points.
        search
            .run(|r| {
                calls += 1;
                Ok((50.0 - (r.copurchase - 0.1).abs() as f64 * 10.0 - r.popularity as f64 * 300.0, 17.0))
            })
            .unwrap();
        assert_eq!(search.best.unwrap().0, ranking(0.1, 0.0));
        // 5 without popularity (0 to 0.4: 0.2 and 0.4 fall past the peak), 1 with,
        // 4 refinements (around 0.1: 0.075, 0.15, then 0.0875, 0.1125).
        assert_eq!(calls, 5 + 1 + 2 * REFINE_ROUNDS);
    }

    #[test]
    fn the_revisit_weight_climbs_until_past_its_peak() {
        let mut tried = Vec::new();
        let peak_at = |best: f32| move |r: &BlendWeights| Ok((50.0 - (r.revisit - best).abs() as f64 * 10.0, 18.0));
        let (blend, _) = best_revisit(ranking(0.1, 0.0), (49.0, 18.0), |r| {
            tried.push(r.revisit);
            peak_at(0.1)(r)
        })
        .unwrap();
        assert_eq!(blend, BlendWeights { revisit: 0.1, ..ranking(0.1, 0.0) });
        assert_eq!(tried, vec![0.05, 0.1, 0.2, 0.4], "0.2 and 0.4 fall past 0.1");
        // Where every revisit weight loses (no re-views), two tries and 0 stays.
        tried.clear();
        let (blend, searched) = best_revisit(ranking(0.1, 0.0), (60.0, 18.0), |r| {
            tried.push(r.revisit);
            peak_at(0.0)(r)
        })
        .unwrap();
        assert_eq!((blend.revisit, searched), (0.0, (60.0, 18.0)));
        assert_eq!(tried, vec![0.05, 0.1]);
    }

    #[test]
    fn the_search_halves_the_step_around_the_best_blend() {
        let mut search = BlendSearch::default();
        for (c, quality) in [(0.0, 50.0), (0.05, 52.0), (0.1, 51.0)] {
            search.try_blend(ranking(c, 0.0), |_| Ok((quality, 17.0))).unwrap();
        }
        search.try_blend(ranking(0.05, 0.05), |_| Ok((40.0, 16.0))).unwrap();
        let mids: Vec<f32> = search.midpoints().iter().map(|r| r.copurchase).collect();
        assert_eq!(mids, vec![0.025, 0.075]);
        search.try_blend(ranking(0.075, 0.0), |_| Ok((52.5, 17.0))).unwrap();
        assert_eq!(search.best.unwrap().0, ranking(0.075, 0.0));
        let mids: Vec<f32> = search.midpoints().iter().map(|r| r.copurchase).collect();
        assert_eq!(mids, vec![0.0625, 0.0875]);
    }

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
        assert_eq!(tuned.ranking, ranking(0.2, 0.0));
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
