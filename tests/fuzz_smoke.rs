//! The fuzz targets (fuzz/src/lib.rs), run on stable inside `npm test`: each
//! over its seeds and a bounded number of seeded mutations of them (bit
//! flips, truncations, hostile numbers and strings in place of the seed's).
//! The long coverage-guided runs are `cargo +nightly fuzz run` (docs/contributing.md,
//! "Fuzzing"). `EDGEREC_FUZZ_RUNS` sets the mutations per target.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use std::path::Path;

/// Numbers and strings that broke parsers before, or might.
const HOSTILE_NUMBERS: &[&str] =
    &["0", "-1", "1e308", "-1e308", "1e-300", "4294967296", "18446744073709551616", "3.4e38", "0.0000001", "1e999"];
const HOSTILE_STRINGS: &[&str] =
    &["\"\"", "\"\\u0000\"", "\"../../etc\"", "\"%ff\"", "\"\u{1F600}\"", "null", "[]", "{}", "true", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""];

/// xorshift64*: a fixed seed, the same mutations on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte ranges of the JSON numbers and strings in `data`.
fn tokens(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let start = i;
        match data[i] {
            b'"' => {
                i += 1;
                while i < data.len() && data[i] != b'"' {
                    i += if data[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(data.len());
                out.push((start, i));
            }
            b'-' | b'0'..=b'9' => {
                while i < data.len() && matches!(data[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                out.push((start, i));
            }
            _ => i += 1,
        }
    }
    out
}

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(3) {
        let toks = tokens(&data);
        match rng.below(6) {
            // A token swapped for a hostile one (keeps the JSON well formed, mostly).
            0 | 1 if !toks.is_empty() => {
                let (a, b) = toks[rng.below(toks.len())];
                let pool = if data[a] == b'"' { HOSTILE_STRINGS } else { HOSTILE_NUMBERS };
                let with = pool[rng.below(pool.len())].as_bytes();
                data.splice(a..b, with.iter().copied());
            }
            // A token duplicated elsewhere (repeated keys, odd structure).
            2 if !toks.is_empty() => {
                let (a, b) = toks[rng.below(toks.len())];
                let copy = data[a..b].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, copy);
            }
            3 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            4 if !data.is_empty() => data.truncate(rng.below(data.len())),
            _ if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = [0u8, 0xff, b'{', b'}', b'[', b'"', b'\\', b'\n'][rng.below(8)];
            }
            _ => data.push(rng.below(256) as u8),
        }
    }
    data
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    if target == "bundle" {
        return vec![targets::default_bundle()];
    }
    let dir = targets::repo_file(&format!("fuzz/seeds/{target}"));
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|f| std::fs::read(f.unwrap().path()).unwrap())
        .collect();
    out.sort();
    out
}

fn runs(default: usize) -> usize {
    std::env::var("EDGEREC_FUZZ_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn smoke(name: &str, default_runs: usize) {
    let target = targets::TARGETS.iter().find(|(n, _)| *n == name).unwrap().1;
    let seeds = seeds(name);
    assert!(!seeds.is_empty(), "{name} has seeds");
    for seed in &seeds {
        target(seed);
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
    let n = runs(default_runs);
    for i in 0..n {
        let input = mutate(&seeds[i % seeds.len()], &mut rng);
        let outcome = std::panic::catch_unwind(|| target(&input));
        if outcome.is_err() {
            let dump = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{name}-crash-{i}"));
            std::fs::write(&dump, &input).unwrap();
            panic!("{name}: mutation {i} crashed; the input is in {}", dump.display());
        }
    }
    println!("{name}: {} seeds, {n} mutations, no crash", seeds.len());
}

#[test]
fn bundle_bytes() {
    // Each run loads a 600 KB bundle: fewer of them.
    smoke("bundle", 150);
}

#[test]
fn bundle_fields_rewritten_with_fresh_checksums() {
    smoke("bundle_fields", 60);
}

#[test]
fn encoder_graphs_tars_and_tensor_headers_edited() {
    smoke("encoder", 300);
}

#[test]
fn policies() {
    smoke("policy", 600);
}

#[test]
fn stored_state() {
    smoke("state", 600);
}

#[test]
fn aggregates_priors_and_report_settings() {
    smoke("aggregates", 600);
}

#[test]
fn call_sequences_change_nothing_when_they_fail() {
    smoke("calls", 300);
}

#[test]
fn http_requests() {
    smoke("http", 600);
}

#[test]
fn prio3_uploads_aggregation_requests_and_measurements() {
    smoke("prio3", 300);
}

#[test]
fn release_files_aggregates_and_placements() {
    smoke("release", 600);
}
