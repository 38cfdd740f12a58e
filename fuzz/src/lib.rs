//! The fuzz targets (issue 15): each hands outside bytes to the engine the
//! way the product does and checks what the README promises: a typed error
//! or a usable answer, never a panic, never a non-finite number, and a
//! failed call changes nothing. `fuzz_targets/*.rs` give them to libFuzzer
//! (`cargo +nightly fuzz run TARGET`, README "Fuzzing"); the root crate's
//! `tests/fuzz_smoke.rs` runs them on stable over seeds and seeded
//! mutations, inside `npm test`.

pub mod encoder_edits;

use edgerec::decide::terms::ContextType;
use edgerec::decide::{Feedback, OfferRequest};
use edgerec::{Engine, Model, PageRequest, RecommendOptions};
pub use encoder_edits::encoder;
use serde_json::Value;
use std::path::PathBuf;

/// Host time of every call (ms), advanced a second a call.
pub const T0: f64 = 1.7e12;

/// A file of the repository, found from either crate's manifest directory.
pub fn repo_file(rel: &str) -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [here.join(rel), here.join("..").join(rel)].into_iter().find(|p| p.exists()).unwrap_or_else(|| here.join(rel))
}

/// The shipped default bundle.
pub fn default_bundle() -> Vec<u8> {
    std::fs::read(repo_file("models/online-retail/online-retail.edgerec")).expect("the default bundle")
}

thread_local! {
    /// An engine on the default bundle with a short session (so that
    /// decisions run the encoder), loaded once; each run works on a clone.
    static PREPARED: Engine = {
        let mut e = Engine::new(Model::load(&default_bundle()).expect("the default bundle loads")).unwrap();
        e.set_shopper_key("fuzz-shopper").unwrap();
        let items: Vec<String> = e.model().catalog_entries().iter().take(3).map(|c| c.item.to_string()).collect();
        for (kind, item) in [("view", &items[0]), ("add_to_cart", &items[0]), ("view", &items[1])] {
            e.track_at(kind, item, T0).unwrap();
        }
        e
    };
}

/// A fresh engine (a clone of the prepared one: no bundle to read).
pub fn engine() -> Engine {
    PREPARED.with(Engine::clone)
}

/// Everything a failed call must leave as it was: the shopper's state, the
/// policies, the session, the priors and boosts.
pub fn snapshot(e: &mut Engine) -> String {
    format!(
        "{}|{}|{:?}|{:?}|{}|{}|{:?}",
        e.export_state(),
        e.policy().id,
        e.policy_ids(),
        e.session(),
        sorted(e.priors()),
        sorted(e.boosts()),
        e.release(),
    )
}

fn sorted<V: std::fmt::Debug>(m: &std::collections::HashMap<String, V>) -> String {
    format!("{:?}", m.iter().collect::<std::collections::BTreeMap<_, _>>())
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("answers serialise")
}

/// Every number an answer holds is finite: serde_json writes a NaN or an
/// infinity as `null`, so a null is a bug unless its field may be absent.
pub fn assert_finite(answer: &str, optional: &[&str]) {
    fn walk(v: &Value, key: &str, optional: &[&str], path: &mut String) {
        match v {
            Value::Null => assert!(optional.contains(&key), "null (a non-finite number?) at {path}"),
            Value::Array(a) => a.iter().for_each(|x| walk(x, key, optional, path)),
            Value::Object(o) => {
                for (k, x) in o {
                    let at = path.len();
                    path.push('.');
                    path.push_str(k);
                    walk(x, k, optional, path);
                    path.truncate(at);
                }
            }
            _ => {}
        }
    }
    let v: Value = serde_json::from_str(answer).expect("answers are JSON");
    walk(&v, "", optional, &mut String::new());
}

/// Fields of a decision that may be null: no offer, no arm, a purchase
/// never made (a cap's count).
const DECISION_OPTIONAL: &[&str] = &["offer", "arm", "count"];

/// Use an engine the way a storefront does, checking every answer.
pub fn exercise(e: &mut Engine, now: f64) {
    let recs = e.recommend(&RecommendOptions { k: Some(10), ..Default::default() }).expect("recommend");
    assert_finite(&to_json(&recs), &[]);
    let page = e.page(&PageRequest { k: Some(6), ..Default::default() }).expect("page");
    assert_finite(&to_json(&page), &[]);
    let slots: Vec<String> = e.policy().slots.iter().map(|s| s.id.clone()).collect();
    // Without context, and with a value of the declared type in every declared field.
    let declared: edgerec::decide::context::RawContext = e
        .policy()
        .context
        .iter()
        .map(|(name, f)| {
            let value = match f.kind {
                ContextType::Boolean => Value::Bool(false),
                ContextType::Number => serde_json::json!(1),
                ContextType::String => Value::String(f.values.as_ref().map_or("x".into(), |v| v[0].clone())),
            };
            (name.clone(), value)
        })
        .collect();
    for slot in slots {
        for context in [Default::default(), declared.clone()] {
            let req = OfferRequest { slot: slot.clone(), context, ..Default::default() };
            let d = e.next_best_offer(&req, now).expect("a slot of the active policy decides");
            assert_finite(&to_json(&d), DECISION_OPTIONAL);
            e.shown(d.id.unwrap(), now).expect("its decision can be shown");
        }
    }
    let cart = e.price_cart(&Default::default(), now).expect("the cart prices");
    assert_finite(&to_json(&cart), &["message"]);
}

/// Raw bytes as a bundle: refused with a code, or loaded and usable.
pub fn bundle(data: &[u8]) {
    match Engine::load(data) {
        Err(e) => assert!(!e.code().is_empty() && !e.to_string().is_empty()),
        Ok(mut e) => {
            let items: Vec<String> = e.model().catalog_entries().iter().take(2).map(|c| c.item.to_string()).collect();
            for item in &items {
                e.track_at("view", item, T0).unwrap();
            }
            exercise(&mut e, T0);
        }
    }
}

thread_local! {
    static DEFAULT_BUNDLE: edgerec::bundle::Bundle =
        edgerec::bundle::Bundle::from_bytes(&default_bundle()).expect("the default bundle reads");
}

/// Checksum-correct semantic mutations of the default bundle: each 9 bytes
/// set one value (`[field, index: u32, value: u32]`, little-endian) in a
/// price, margin, category, stock flag, session count, co-purchase list, the
/// stored item table or a manifest size; the bundle is then written with fresh
/// checksums and must be refused with a code, or load and answer finitely.
pub fn bundle_fields(data: &[u8]) {
    let mut b = DEFAULT_BUNDLE.with(Clone::clone);
    for op in data.chunks_exact(9).take(16) {
        let i = u32::from_le_bytes([op[1], op[2], op[3], op[4]]) as usize;
        let v = u32::from_le_bytes([op[5], op[6], op[7], op[8]]);
        let (a, cp) = (&mut b.attributes, &mut b.copurchase);
        match op[0] % 10 {
            0 => set(&mut a.price, i, f32::from_bits(v)),
            1 => set(&mut a.margin, i, f32::from_bits(v)),
            2 => set(&mut a.category, i, v),
            3 => set(&mut a.in_stock, i, v as u8),
            4 => set(&mut a.item_sessions, i, v),
            5 => set(&mut cp.offsets, i, v),
            6 => set(&mut cp.neighbors, i, v),
            7 => set(&mut cp.support, i, v),
            // The table as the bundle stores it: product codes (the default
            // bundle's), else int8 codes and scales, else f32 rows.
            8 => match (&mut b.product_codes, &mut b.int8_rows) {
                (Some(pq), _) => match i % 3 {
                    0 => set(&mut pq.codes, i / 3, v as u8),
                    1 => set(&mut pq.codebook, i / 3, f32::from_bits(v)),
                    _ => set(&mut pq.norms, i / 3, f32::from_bits(v)),
                },
                (None, Some(q)) if i.is_multiple_of(2) => set(&mut q.codes, i / 2, v as i8),
                (None, Some(q)) => set(&mut q.scales, i / 2, f32::from_bits(v)),
                (None, None) => set(&mut b.embeddings, i, f32::from_bits(v)),
            },
            _ => {
                let m = &mut b.manifest;
                match i % 4 {
                    0 => m.dim = v as usize,
                    1 => m.item_count = v as usize,
                    2 => m.max_seq_len = v as usize,
                    _ => m.sessions = v as u64,
                }
            }
        }
    }
    if let Ok(bytes) = b.to_bytes() {
        bundle(&bytes);
    }
}

/// `xs[i]` (wrapped to its length) = `v`.
fn set<T>(xs: &mut [T], i: usize, v: T) {
    if !xs.is_empty() {
        let n = xs.len();
        xs[i % n] = v;
    }
}

/// `f` on a fresh engine: if it fails, nothing changed; if it succeeds, the
/// engine still answers everything.
fn refused_or_usable(f: impl FnOnce(&mut Engine) -> edgerec::Result<()>) {
    let mut e = engine();
    let before = snapshot(&mut e);
    match f(&mut e) {
        Err(err) => {
            assert!(!err.code().is_empty());
            assert_eq!(snapshot(&mut e), before, "a failed call ({}) changed the engine", err.code());
        }
        Ok(()) => exercise(&mut e, T0 + 1000.0),
    }
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// A store's policy: refused with the field named, or active and deciding.
pub fn policy(data: &[u8]) {
    let json = text(data);
    refused_or_usable(|e| e.use_policy(&json).map(|_| ()));
}

/// Stored decisioning state: refused, or imported, exported the same, and used.
pub fn state(data: &[u8]) {
    let json = text(data);
    refused_or_usable(|e| {
        e.import_state(&json)?;
        let exported = e.export_state();
        let mut again = engine();
        again.import_state(&exported).expect("what the engine exports it imports");
        assert_eq!(again.export_state(), exported, "export → import → export is stable");
        Ok(())
    });
}

/// The collector's released aggregates, bandit priors or report settings
/// (the first byte picks which).
pub fn aggregates(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    let json = text(rest);
    refused_or_usable(|e| match pick % 3 {
        0 => e.load_aggregates(&json).map(|_| ()),
        1 => e.load_priors(&json).map(|_| ()),
        _ => {
            e.set_reporting(&json)?;
            e.set_consent(true);
            let report = e.preview_report(T0)?;
            if let Some(r) = report {
                assert_finite(&r, &["experiment", "arm", "message"]);
            }
            Ok(())
        }
    });
}

/// The model lifecycle's inputs (first byte `'0'`: a release file, `'1'`:
/// released aggregates judged by `rollout` and `drift` against the seed's
/// release, `'2'`: a placement to join): a coded error or a usable answer.
pub fn release(data: &[u8]) {
    use edgerec::aggregates::{drift, released::Released, rollout};
    use edgerec::release::{Release, Side};
    use edgerec::report::ledger::Day;
    let Some((&pick, rest)) = data.split_first() else { return };
    let json = text(rest);
    match pick % 3 {
        0 => {
            let Ok(r) = Release::parse(&json) else { return };
            for key in ["shopper-1", "shopper-2", "\u{1F600}"] {
                let p = r.place(key);
                assert!(p.share > 0.0 && p.share <= 1.0, "share {}", p.share);
                assert_eq!(Some(&p.bundle), r.bundle(p.side));
                assert!(p.side == Side::Current || r.candidate.is_some());
                refused_or_usable(|e| e.join_release(p));
            }
        }
        1 => {
            let Ok(released) = Released::parse(&json) else { return };
            let seed = std::fs::read_to_string(repo_file("fuzz/seeds/release/release")).expect("the release seed");
            let release = Release::parse(&seed[1..]).expect("the seed release parses");
            let today = Day::parse("2026-11-10").expect("a day");
            if let Ok(v) = rollout::decide(&release, &released, today) {
                assert_finite(&to_json(&v.next), &["candidate", "started", "stepStarted"]);
                let next = Release::parse(&to_json(&v.next)).expect("the next release file parses");
                assert!(next.canary_share >= 0.0 && next.canary_share <= 1.0);
            }
            if let Ok(d) = drift::drift(&released, 1, 7, 0.05) {
                assert!(d.psi.is_finite() && d.psi_low <= d.psi_high, "{d:?}");
            }
        }
        _ => refused_or_usable(|e| {
            let placement = serde_json::from_str(&json)
                .map_err(|err| edgerec::Error::InvalidRelease(format!("not a placement: {err}")))?;
            e.join_release(placement)
        }),
    }
}

/// A sequence of calls with outside values, as JavaScript makes them (a
/// line a call, at most 16; its first byte picks the call, `'0'..='7'` in the seeds). An engine that
/// gets only the calls that succeeded must end the same: a failed call
/// changes nothing.
pub fn calls(data: &[u8]) {
    let mut hostile = engine();
    let mut good = engine();
    let mut now = T0;
    for call in data.split(|&b| b == b'\n').take(16) {
        let Some((&pick, arg)) = call.split_first() else { continue };
        now += 1000.0;
        let arg = text(arg);
        let outcome = |e: &mut Engine| -> edgerec::Result<()> {
            match pick % 8 {
                0 | 1 => {
                    let (kind, item) = arg.split_once(' ').unwrap_or((&arg, ""));
                    e.track_at(kind, item, now).map(|_| ())
                }
                2 => e.recommend(&serde_json::from_str(&arg).map_err(opts)?).map(|r| assert_finite(&to_json(&r), &[])),
                3 => e.page(&serde_json::from_str(&arg).map_err(opts)?).map(|p| assert_finite(&to_json(&p), &[])),
                4 => {
                    let d = e.next_best_offer(&serde_json::from_str(&arg).map_err(opts)?, now)?;
                    assert_finite(&to_json(&d), DECISION_OPTIONAL);
                    e.shown(d.id.unwrap(), now).map(|_| ())
                }
                5 => {
                    let fb: Feedback = serde_json::from_str(&arg).map_err(opts)?;
                    e.feedback(&fb, now)
                }
                6 => e
                    .price_cart(&serde_json::from_str(&arg).map_err(opts)?, now)
                    .map(|c| assert_finite(&to_json(&c), &["message"])),
                _ => e.shown(arg.trim().parse().map_err(|_| opts("not an id"))?, now).map(|_| ()),
            }
        };
        let before = snapshot(&mut hostile);
        match outcome(&mut hostile) {
            Ok(()) => outcome(&mut good).expect("what succeeded on one engine succeeds on its twin"),
            Err(err) => assert_eq!(snapshot(&mut hostile), before, "failed {} changed the engine", err.code()),
        }
    }
    assert_eq!(snapshot(&mut hostile), snapshot(&mut good), "the failed calls left a trace");
}

fn opts(e: impl std::fmt::Display) -> edgerec::Error {
    edgerec::Error::InvalidOptions(e.to_string())
}

/// Routes the endpoint serves, and some it does not.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/recommend"),
    ("POST", "/v1/offer"),
    ("POST", "/v1/cart"),
    ("GET", "/v1/health"),
    ("GET", "/v1/recommend"),
    ("PUT", "/v1/offer"),
    ("POST", "/v1/../offer"),
    ("DELETE", "/"),
    ("POST", "/v1/feedback"),
];

/// One HTTP request to the stateless endpoint (the first byte picks the
/// route): a 2xx or a coded 4xx with a JSON body, never a 5xx or a panic.
pub fn http(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else { return };
    let (method, path) = ROUTES[pick as usize % ROUTES.len()];
    let e = engine();
    let reply = edgerec::api::handle(e.store(), method, path, body, T0);
    assert!(reply.status < 500, "{method} {path}: {} {}", reply.status, reply.body);
    let v: Value = serde_json::from_str(&reply.body).expect("the endpoint answers JSON");
    if reply.status == 200 {
        assert_finite(&reply.body, DECISION_OPTIONAL);
    } else {
        assert!(v["error"]["code"].as_str().is_some_and(|c| !c.is_empty()), "{}", reply.body);
    }
}

/// A target: outside bytes in, a panic if a promise breaks.
pub type Target = fn(&[u8]);

/// Every target by name, for the smoke test and the corpus tools.
pub const TARGETS: &[(&str, Target)] = &[
    ("bundle", bundle),
    ("bundle_fields", bundle_fields),
    ("encoder", encoder),
    ("policy", policy),
    ("state", state),
    ("aggregates", aggregates),
    ("calls", calls),
    ("http", http),
    ("release", release),
    ("prio3", prio3),
];

/// A Prio3 aggregator's and device's inputs (issue 21; first byte: 0 an
/// upload the leader opens, 1 an aggregation request the helper verifies, 2
/// a measurement the device seals), under the fixed task and keys of
/// `prio3-fixture.json` (its seeds are valid): a coded refusal or an answer,
/// and the aggregator still verifies the seed's report afterwards.
pub fn prio3(data: &[u8]) {
    use edgerec::prio3::seal::HpkeConfig;
    use edgerec::prio3::service::{HelpRequest, Service};
    use edgerec::prio3::task::Role;
    use edgerec::prio3::upload::{seal_upload, Measured};
    let Some((&pick, rest)) = data.split_first() else { return };
    let json = text(rest);
    let fixture: Value = serde_json::from_str(include_str!("prio3-fixture.json")).expect("fixture");
    let task = fixture["task"].to_string();
    let key = fixture["verifyKey"].as_str().unwrap_or_default();
    let keys = |who: &str| Value::Array(vec![fixture[who].clone()]).to_string();
    match pick % 3 {
        0 => {
            let leader = Service::new(&task, Role::Leader, key, &keys("leader")).expect("leader");
            if let Err(refusal) = leader.open(&json) {
                assert!(!refusal.code().is_empty());
            }
        }
        1 => {
            let mut helper = Service::new(&task, Role::Helper, key, &keys("helper")).expect("helper");
            if let Ok(request) = serde_json::from_str::<HelpRequest>(&json) {
                let answer = helper.help(&request);
                assert!(answer.message.is_some() != answer.rejected.is_some(), "a message or a rejection");
                if answer.message.is_some() {
                    helper.merge(None, &[request.id]).expect("an accepted report sums");
                }
            }
        }
        _ => {
            let config =
                |who: &str| -> HpkeConfig { serde_json::from_value(fixture[who]["config"].clone()).expect("config") };
            if let Ok(measured) = serde_json::from_str::<Measured>(&json) {
                if let Err(e) = seal_upload(&measured, &config("leader"), &config("helper")) {
                    assert!(!e.code().is_empty());
                }
            }
        }
    }
}
