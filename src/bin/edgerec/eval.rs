//! `edgerec eval`: offline next-item quality on a `prefix<TAB>target` file
//! (or whole sessions, every prefix), through the ranking code that ships
//! in the WASM module, beside baselines and published figures.
//!
//! Protocol (SR-GNN's): every case ranks the whole catalog; Recall@k is the
//! share of cases whose target is in the top k, MRR@k the mean of 1/rank
//! (0 below k), NDCG@k the mean of 1/log2(rank + 1). Items viewed earlier in
//! the session may be recommended (a fifth of Diginetica's targets are
//! re-views), as `recommend({includeViewed: true})` does in the browser.

mod baselines;
mod cold;
mod follow;

use crate::args::{bad, Args};
use crate::inputs::{read_catalog, read_file};
use baselines::{ItemKnn, Popularity, SessionKnn, Sessions};
use edgerec::{Engine, Error, RecommendOptions, Result};
pub use follow::Follow;
use std::collections::HashSet;
use std::time::Instant;

/// One test case: the items seen, oldest first, and the next one.
pub struct Case {
    pub prefix: Vec<String>,
    pub target: String,
}

pub fn read_cases(path: &str, limit: usize) -> Result<Vec<Case>> {
    let text = String::from_utf8(read_file(path)?).map_err(|_| bad(format!("{path} is not UTF-8")))?;
    let mut cases = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        match line.split_once('\t') {
            Some((prefix, target)) => {
                let target = target.trim().to_string();
                if target.is_empty() || prefix.trim().is_empty() {
                    return Err(bad(format!("{path}: a line is not `prefix<TAB>target`: {line:?}")));
                }
                cases.push(Case { prefix: words(prefix), target });
            }
            None => {
                let s = words(line);
                cases.extend((1..s.len()).map(|i| Case { prefix: s[..i].to_vec(), target: s[i].clone() }));
            }
        }
    }
    if limit > 0 {
        cases.truncate(limit);
    }
    Ok(cases)
}

/// Anything that ranks items for a session prefix.
pub trait Ranker {
    fn rank(&mut self, prefix: &[String], k: usize) -> Result<Vec<String>>;
}

/// The shipped engine with a given blend of its ranking.
pub struct EngineRanker {
    engine: Engine,
}

impl EngineRanker {
    pub fn new(bytes: &[u8], ranking: Option<&str>) -> Result<EngineRanker> {
        let mut ranker = EngineRanker { engine: Engine::load(bytes)? };
        if let Some(weights) = ranking {
            ranker.set_ranking(weights)?;
        }
        Ok(ranker)
    }

    /// How the storefront's list follows a shopper who moves on (`follow`).
    pub fn follow(&mut self, cases: &[Case]) -> Result<Option<Follow>> {
        follow::follow(&mut self.engine, cases)
    }

    /// The store's catalog as the live page would set it (`update_items`, JSON).
    pub fn update_items(&mut self, updates_json: &str) -> Result<()> {
        self.engine.update_items(updates_json).map(|_| ())
    }

    /// Rank with these blend weights (JSON) from now on; the bundle stays loaded.
    pub fn set_ranking(&mut self, weights: &str) -> Result<()> {
        self.engine.use_policy(&format!(r#"{{"version": 1, "id": "eval", "ranking": {weights}}}"#))?;
        Ok(())
    }
}

impl Ranker for EngineRanker {
    fn rank(&mut self, prefix: &[String], k: usize) -> Result<Vec<String>> {
        self.engine.reset();
        for item in prefix {
            // Items the bundle does not know are skipped, as on a live page.
            let _ = self.engine.track("view", item);
        }
        let opts = RecommendOptions { k: Some(k), include_viewed: true, ..Default::default() };
        Ok(self.engine.recommend(&opts)?.items.into_iter().map(|r| r.view.item).collect())
    }
}

/// The accumulated metrics of one ranker.
#[derive(Default)]
pub struct Scores {
    cases: usize,
    hits: [f64; 2],
    rr: [f64; 2],
    ndcg: f64,
    shown: HashSet<String>,
    micros: Vec<f64>,
}

const CUTS: [usize; 2] = [20, 10];

impl Scores {
    /// Recall at `CUTS[cut]`, in percent.
    pub fn recall(&self, cut: usize) -> f64 {
        100.0 * self.hits[cut] / self.cases.max(1) as f64
    }

    /// MRR at `CUTS[cut]`, in percent.
    pub fn mrr(&self, cut: usize) -> f64 {
        100.0 * self.rr[cut] / self.cases.max(1) as f64
    }

    pub fn add(&mut self, list: &[String], target: &str, micros: f64) {
        self.cases += 1;
        self.micros.push(micros);
        if let Some(rank) = rank_of(list, target) {
            for (c, cut) in CUTS.iter().enumerate() {
                if rank <= *cut {
                    self.hits[c] += 1.0;
                    self.rr[c] += 1.0 / rank as f64;
                }
            }
            if rank <= CUTS[0] {
                self.ndcg += 1.0 / (rank as f64 + 1.0).log2();
            }
        }
        self.shown.extend(list.iter().take(CUTS[0]).cloned());
    }

    pub fn merge(&mut self, other: Scores) {
        self.cases += other.cases;
        for c in 0..CUTS.len() {
            self.hits[c] += other.hits[c];
            self.rr[c] += other.rr[c];
        }
        self.ndcg += other.ndcg;
        self.shown.extend(other.shown);
        self.micros.extend(other.micros);
    }

    /// The table row; coverage counts the catalog's items among those shown.
    pub fn row(&mut self, name: &str, catalog: usize, known: impl Fn(&str) -> bool) -> String {
        let pct = |x: f64| 100.0 * x / self.cases.max(1) as f64;
        self.micros.sort_by(f64::total_cmp);
        let q =
            |p: f64| self.micros.get(((self.micros.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
        format!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.3} | {:.3} |",
            self.recall(0),
            self.mrr(0),
            self.recall(1),
            self.mrr(1),
            pct(self.ndcg),
            100.0 * self.shown.iter().filter(|id| known(id)).count() as f64 / catalog.max(1) as f64,
            q(0.5) / 1000.0,
            q(0.99) / 1000.0,
        )
    }
}

/// The 1-based rank of `target` in `list`, if it is there.
pub fn rank_of(list: &[String], target: &str) -> Option<usize> {
    list.iter().position(|i| i == target).map(|pos| pos + 1)
}

/// The header of the table `Scores::row` fills.
pub const TABLE_HEADER: &str = "| ranker | Recall@20 | MRR@20 | Recall@10 | MRR@10 | NDCG@20 | coverage@20 % | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|---|---|";

fn evaluate_serial(ranker: &mut dyn Ranker, cases: &[Case]) -> Result<Scores> {
    let mut scores = Scores::default();
    for case in cases {
        let started = Instant::now();
        let list = ranker.rank(&case.prefix, CUTS[0])?;
        let micros = started.elapsed().as_secs_f64() * 1e6;
        scores.add(&list, &case.target, micros);
    }
    Ok(scores)
}

/// Run `work` on every core: the cases cut into one contiguous run per
/// thread, the results in the cases' order.
pub fn in_parallel<T: Send>(cases: &[Case], work: impl Fn(&[Case]) -> Result<T> + Sync) -> Result<Vec<T>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let run = cases.len().div_ceil(threads).max(1);
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = cases.chunks(run).map(|part| scope.spawn(move || work(part))).collect();
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| Error::InvalidInput("an evaluation thread panicked".into()))?)
            .collect()
    })
}

/// Evaluate on every core, each thread with its own ranker (`make`, called
/// in the thread), the scores merged — the same figures as one ranker in
/// one thread, since every case is ranked from a reset state.
pub fn evaluate<R: Ranker>(cases: &[Case], make: impl Fn() -> Result<R> + Sync) -> Result<Scores> {
    let mut total = Scores::default();
    for scores in in_parallel(cases, |part| evaluate_serial(&mut make()?, part))? {
        total.merge(scores);
    }
    Ok(total)
}

/// Published figures to print beside ours: `[{"model", "recall20", "mrr20", "source"}]`.
#[derive(serde::Deserialize)]
struct Published {
    model: String,
    recall20: f64,
    mrr20: f64,
    source: String,
}

pub fn run(args: &Args) -> Result<()> {
    let path = args.positional.first().ok_or_else(|| bad("eval needs a BUNDLE path".into()))?;
    let bytes = read_file(path)?;
    let cases = read_cases(args.required("test")?, args.parsed("limit", 0usize)?)?;
    let mut shipped = EngineRanker::new(&bytes, None)?;
    let catalog = shipped.engine.model().catalog.clone();
    println!("{} test cases, {} items in {path}", cases.len(), catalog.len());
    println!();
    println!("{TABLE_HEADER}");
    let print_row = |name: &str, mut scores: Scores| {
        println!("{}", scores.row(name, catalog.len(), |id| catalog.row(id).is_some()));
    };
    let engine = |ranking: Option<&'static str>| evaluate(&cases, || EngineRanker::new(&bytes, ranking));
    print_row("edgerec (shipped blend)", engine(None)?);
    let follows = shipped.follow(&cases)?;
    print_row("edgerec model only", engine(Some(r#"{"model": 1, "copurchase": 0, "popularity": 0}"#))?);
    print_row("co-purchase rules (bundle)", engine(Some(r#"{"model": 0, "copurchase": 1, "popularity": 0.05}"#))?);
    if let Some(train) = args.opt("train") {
        let sessions = Sessions::read(train)?;
        print_row("popularity", evaluate(&cases, || Ok(Popularity::new(&sessions)))?);
        print_row("item-kNN (last item)", evaluate(&cases, || Ok(ItemKnn::new(&sessions)))?);
        print_row("SKNN (k 100, sample 500)", evaluate(&cases, || Ok(SessionKnn::sknn(&sessions)))?);
        print_row("V-SKNN (k 100, sample 500)", evaluate(&cases, || Ok(SessionKnn::vsknn(&sessions)))?);
    }
    if let Some(file) = args.opt("published") {
        let published: Vec<Published> = serde_json::from_slice(&read_file(file)?)
            .map_err(|e| bad(format!("{file}: not a list of published figures: {e}")))?;
        for p in published {
            println!("| {} (published: {}) | {:.2} | {:.2} | | | | | | |", p.model, p.source, p.recall20, p.mrr20);
        }
    }
    if let Some(f) = follows {
        println!("\nedgerec (shipped blend) {}", f.describe());
    }
    if let Some(file) = args.opt("catalog") {
        cold_start(&bytes, shipped.engine.model(), &read_catalog(file)?, &cases)?;
    }
    Ok(())
}

/// The cold-start tables (`cold`): the catalog's items the bundle lacks
/// added as a live page adds them, and a tenth of the learned items held out.
fn cold_start(
    bytes: &[u8],
    bundle: &edgerec::Model,
    catalog: &std::collections::HashMap<String, crate::inputs::CatalogItem>,
    cases: &[Case],
) -> Result<()> {
    let new = crate::inputs::missing_items(catalog, bundle);
    let new_json = cold::as_json(&new);
    let mut model = bundle.clone();
    model.update_items(&new)?;
    let n = model.catalog.len();
    println!("\nCold start: {} catalog items the bundle lacks, added from their words (`updateItems`).", new.len());
    println!("\nAll {} test cases, the catalog's new items added:\n\n{TABLE_HEADER}", cases.len());
    println!(
        "{}",
        cold::engine_scores(bytes, None, &new_json, cases)?
            .row("edgerec (shipped blend)", n, |id| model.catalog.row(id).is_some())
    );

    // New: no session of the item was learned from (placed by `edgerec build`, or added just now).
    let unlearned = (0..n as u32).filter(|&r| model.attributes.item_sessions[r as usize] == 0);
    let targets: HashSet<&str> = unlearned.map(|r| model.item_id(r)).collect();
    let new_cases = cold::cases_for(cases, &targets);
    let index = cold::whole_catalog_index(&model);
    println!(
        "\nThe {} cases whose target is a new item ({} items no session was learned from):\n\n{TABLE_HEADER}",
        new_cases.len(),
        targets.len()
    );
    let rows = [
        ("edgerec (shipped blend)", cold::engine_scores(bytes, None, &new_json, &new_cases)?),
        ("edgerec model only", cold::engine_scores(bytes, Some(cold::MODEL_ONLY), &new_json, &new_cases)?),
        ("popular in category", cold::popular_in_category(&model, &new_cases)?),
        ("content-kNN (last item)", cold::content_knn(&model, &index, &new_cases)?),
    ];
    for (name, mut scores) in rows {
        println!("{}", scores.row(name, n, |id| model.catalog.row(id).is_some()));
    }

    let mut held_model = bundle.clone();
    let held = cold::held_out(&held_model);
    let held_ids: HashSet<&str> = held.iter().map(|&r| bundle.item_id(r)).collect();
    let held_cases = cold::cases_for(cases, &held_ids);
    let content = cold::as_json(&cold::re_placed(&mut held_model, &held, cold::Placement::Content));
    let centroid = cold::as_json(&cold::re_placed(&mut held_model, &held, cold::Placement::CategoryCentroid));
    for &r in &held {
        held_model.attributes.popularity[r as usize] = 0.0; // a new item has no sessions yet
    }
    let held_index = cold::whole_catalog_index(&held_model);
    let m = bundle.catalog.len();
    println!(
        "\nHeld out: {} learned items (one in {}), rows re-placed from the others; the {} cases whose target is one (model only):\n\n{TABLE_HEADER}",
        held.len(),
        cold::HOLD_OUT_ONE_IN,
        held_cases.len()
    );
    let rows = [
        ("learned rows (the upper bound)", cold::engine_scores(bytes, Some(cold::MODEL_ONLY), "[]", &held_cases)?),
        ("placed from words (shipped)", cold::engine_scores(bytes, Some(cold::MODEL_ONLY), &content, &held_cases)?),
        (
            "placed at the category's centroid",
            cold::engine_scores(bytes, Some(cold::MODEL_ONLY), &centroid, &held_cases)?,
        ),
        ("popular in category", cold::popular_in_category(&held_model, &held_cases)?),
        ("content-kNN (last item)", cold::content_knn(&held_model, &held_index, &held_cases)?),
    ];
    for (name, mut scores) in rows {
        println!("{}", scores.row(name, m, |id| bundle.catalog.row(id).is_some()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn metrics_follow_the_protocol() {
        let mut s = Scores::default();
        let ranked = list(&["a", "b", "c"]);
        s.add(&ranked, "a", 1.0); // rank 1
        s.add(&ranked, "c", 1.0); // rank 3
        s.add(&ranked, "z", 1.0); // a miss
        let long: Vec<String> = (0..20).map(|i| format!("i{i}")).collect();
        s.add(&long, "i14", 1.0); // rank 15: @20, not @10
        assert_eq!(s.cases, 4);
        assert_eq!(s.hits, [3.0, 2.0]);
        assert!((s.rr[0] - (1.0 + 1.0 / 3.0 + 1.0 / 15.0)).abs() < 1e-12);
        assert!((s.rr[1] - (1.0 + 1.0 / 3.0)).abs() < 1e-12);
        assert!((s.ndcg - (1.0 + 0.5 + 1.0 / 16f64.log2())).abs() < 1e-12);
        let row = s.row("x", 100, |_| true);
        assert!(row.starts_with("| x | 75.00 | 35.00 | 50.00 | 33.33 |"), "{row}");
        // Coverage: 23 items shown, of a 100-item catalog; one unknown to it.
        let coverage = |row: &str| row.split(" | ").nth(6).unwrap().to_string();
        assert_eq!(coverage(&row), "23.0");
        assert_eq!(coverage(&s.row("x", 100, |id| id != "a")), "22.0");
    }

    #[test]
    fn whole_sessions_expand_to_every_prefix() {
        let dir = std::env::temp_dir().join(format!("edgerec-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("test.txt");
        std::fs::write(&file, "1 2\t3\n4 5 6\n").unwrap();
        let cases = read_cases(file.to_str().unwrap(), 0).unwrap();
        let shown: Vec<(usize, &str)> = cases.iter().map(|c| (c.prefix.len(), c.target.as_str())).collect();
        assert_eq!(shown, vec![(2, "3"), (1, "5"), (2, "6")]);
        std::fs::write(&file, "1 2\t\n").unwrap();
        assert!(read_cases(file.to_str().unwrap(), 0).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
