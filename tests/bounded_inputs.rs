//! Numbers a store or a host hands the engine that it could not carry
//! through (issue 36, "every input crosses the boundary typed"): weights
//! whose products overflow a score, clocks whose day the state cannot
//! hold. Each is refused where it comes in, with what was refused named,
//! and nothing changes.

mod common;

use common::{default_bundle, default_bytes};
use edgerec::decide::cart::CartRequest;
use edgerec::decide::state::Outcome;
use edgerec::decide::{Feedback, OfferRequest};
use edgerec::{BlendWeights, Engine, Error, RecommendOptions};
use serde_json::{json, Value};

const T0: f64 = 1.7e12;
/// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
const FIRST_MS: f64 = -62_167_219_200_000.0;
const LAST_MS: f64 = 253_402_300_799_999.0;
/// Near f32::MAX: a product with any part near 1 is already at the edge.
const HUGE: f32 = 3.4e38;
/// The largest weight accepted (`edgerec::score::MAX_WEIGHT`).
const MAX_WEIGHT: f32 = 1e6;

fn engine() -> Engine {
    Engine::load(&default_bytes()).unwrap()
}

/// Keys whose value is JSON `null` anywhere in `v` (NaN and infinities serialise as null).
fn nulls(v: &Value) -> Vec<String> {
    fn walk(v: &Value, key: &str, out: &mut Vec<String>) {
        match v {
            Value::Null => out.push(key.to_string()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, key, out)),
            Value::Object(o) => o.iter().for_each(|(k, x)| walk(x, k, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

/// A session with a cart, so that every part of a score is in play.
fn shopping(e: &mut Engine) {
    let ids = e.model().catalog.ids().to_vec();
    e.track("view", &ids[3]).unwrap();
    e.track("add_to_cart", "85123A").unwrap();
}

fn with_blend(field: &str, w: f32) -> BlendWeights {
    let mut b = BlendWeights::default();
    match field {
        "model" => b.model = w,
        "copurchase" => b.copurchase = w,
        "popularity" => b.popularity = w,
        "revisit" => b.revisit = w,
        other => panic!("no blend weight {other}"),
    }
    b
}

const BLEND_FIELDS: [&str; 4] = ["model", "copurchase", "popularity", "revisit"];

#[test]
fn a_manifest_blend_weight_that_could_overflow_a_score_is_refused_at_load_with_the_field_named() {
    for field in BLEND_FIELDS {
        let mut b = default_bundle();
        b.manifest.blend = Some(with_blend(field, HUGE));
        let err = Engine::load(&b.to_bytes().unwrap()).expect_err(field);
        assert_eq!(err.code(), "BUNDLE_INVALID", "{field}: {err}");
        assert!(err.to_string().contains(&format!("manifest.blend.{field}")), "{field}: {err}");
    }
    // At the bound, every score is finite.
    for field in BLEND_FIELDS {
        let mut b = default_bundle();
        b.manifest.blend = Some(with_blend(field, MAX_WEIGHT));
        let mut e = Engine::load(&b.to_bytes().unwrap()).unwrap_or_else(|e| panic!("{field} = {MAX_WEIGHT}: {e}"));
        shopping(&mut e);
        let opts = RecommendOptions { k: Some(50), include_viewed: true, ..Default::default() };
        let recs = serde_json::to_value(e.recommend(&opts).unwrap()).unwrap();
        assert_eq!(nulls(&recs), Vec::<String>::new(), "{field} = {MAX_WEIGHT}: every number finite");
    }
}

#[test]
fn a_policy_ranking_weight_that_could_overflow_a_score_is_refused_with_its_path() {
    let policy_error = |policy: &Value| match engine().use_policy(&policy.to_string()) {
        Err(Error::InvalidPolicy { path, message }) => (path, message),
        other => panic!("expected INVALID_POLICY for {policy}, got {other:?}"),
    };
    for field in BLEND_FIELDS {
        let policy = json!({ "version": 1, "ranking": { field: HUGE } });
        let (path, message) = policy_error(&policy);
        assert_eq!(path, format!("ranking.{field}"), "{message}");
    }
    for field in ["model", "lift", "margin", "priceStep", "popularity", "taken"] {
        let policy = json!({
            "version": 1,
            "offers": [
                { "id": "fine", "kind": "crossSell" },
                { "id": "huge", "kind": "crossSell", "ranking": { field: HUGE } }
            ],
            "slots": [{ "id": "s", "placement": "cart", "offers": ["fine", "huge"] }]
        });
        let (path, message) = policy_error(&policy);
        assert_eq!(path, format!("offers[1].ranking.{field}"), "{message}");
    }
    // At the bound, the lists and the offers carry finite scores.
    let all = |w: f32| json!({ "model": w, "lift": w, "margin": w, "priceStep": w, "popularity": w, "taken": w });
    let policy = json!({
        "version": 1, "id": "loud",
        "ranking": { "model": MAX_WEIGHT, "copurchase": MAX_WEIGHT, "popularity": MAX_WEIGHT, "revisit": MAX_WEIGHT },
        "offers": [
            { "id": "x", "kind": "crossSell", "count": 3, "ranking": all(MAX_WEIGHT) },
            { "id": "u", "kind": "upsell", "count": 3, "ranking": all(MAX_WEIGHT) },
            { "id": "c", "kind": "completeTheSet", "count": 2, "ranking": all(MAX_WEIGHT) },
            { "id": "g", "kind": "fillTheGap", "threshold": 10, "ranking": all(MAX_WEIGHT) }
        ],
        "slots": [
            { "id": "cross", "placement": "cart", "offers": ["x"] },
            { "id": "up", "placement": "productPage", "offers": ["u"] },
            { "id": "set", "placement": "productPage", "offers": ["c"] },
            { "id": "gap", "placement": "cart", "offers": ["g"] }
        ]
    });
    let mut e = engine();
    e.use_policy(&policy.to_string()).unwrap();
    shopping(&mut e);
    let opts = RecommendOptions { k: Some(50), include_viewed: true, ..Default::default() };
    let recs = serde_json::to_value(e.recommend(&opts).unwrap()).unwrap();
    assert_eq!(nulls(&recs), Vec::<String>::new(), "every ranking score finite");
    let mut offered = 0;
    for slot in ["cross", "up", "set", "gap"] {
        let req = OfferRequest { slot: slot.into(), anchor: Some("85123A".into()), ..Default::default() };
        let d = e.next_best_offer(&req, T0).unwrap();
        offered += d.offer.is_some() as usize;
        // (a null `offer` is none made; a null score would be under `score`)
        let text = serde_json::to_value(&d).unwrap();
        let bad: Vec<String> =
            nulls(&text).into_iter().filter(|k| !["arm", "count", "offer"].contains(&k.as_str())).collect();
        assert!(bad.is_empty(), "{slot}: null values under {bad:?}");
    }
    assert!(offered >= 3, "offers were made at the bound ({offered})");
}

/// One slot "s" with a cross-sell "o": something to decide, show, take.
fn decisioning_engine() -> Engine {
    let mut e = engine();
    let policy = json!({
        "version": 1, "id": "t",
        "offers": [{ "id": "o", "kind": "crossSell", "count": 2 }],
        "slots": [{ "id": "s", "placement": "cart", "offers": ["o"] }]
    });
    e.use_policy(&policy.to_string()).unwrap();
    e.set_shopper_key("clock-shopper").unwrap();
    e.set_consent(true);
    e
}

/// Every call that takes a time, at `now`: what a visit does.
fn visit(e: &mut Engine, now: f64) {
    e.track_at("view", "85123A", now).unwrap();
    e.track_at("add_to_cart", "85123A", now).unwrap();
    let d = e.next_best_offer(&OfferRequest { slot: "s".into(), ..Default::default() }, now).unwrap();
    e.shown(d.id.unwrap(), now).unwrap();
    e.feedback(&Feedback { slot: "s".into(), offer: "o".into(), outcome: Outcome::Click }, now).unwrap();
    e.price_cart(&CartRequest::default(), now).unwrap();
    e.track_at("purchase", "85123A", now).unwrap();
    e.privacy(now).unwrap();
    e.preview_report(now).unwrap();
}

fn round_trips(e: &Engine, when: &str) {
    let exported = e.export_state();
    let mut again = decisioning_engine();
    again.import_state(&exported).unwrap_or_else(|err| panic!("{when}: the engine's own state is refused: {err}"));
    assert_eq!(again.export_state(), exported, "{when}");
}

#[test]
fn state_written_at_the_first_and_last_times_of_years_0_to_9999_round_trips() {
    for (when, times) in [
        ("year 0", vec![FIRST_MS]),
        ("year 9999", vec![LAST_MS]),
        ("year 0, then year 9999", vec![FIRST_MS, FIRST_MS + 1.0, LAST_MS - 1.0, LAST_MS]),
    ] {
        let mut e = decisioning_engine();
        for &now in &times {
            visit(&mut e, now);
        }
        let state: Value = serde_json::from_str(&e.export_state()).unwrap();
        assert!(!state["ledger"]["pending"].as_array().unwrap().is_empty(), "{when}: counts pending");
        round_trips(&e, when);
        // The reports of those days are made and the state still reads back.
        let report = e.take_report(times[times.len() - 1]).unwrap();
        assert!(report.is_some(), "{when}: a report is made");
        round_trips(&e, when);
    }
}

#[test]
fn a_clock_outside_years_0_to_9999_is_refused_everywhere_and_changes_nothing() {
    let mut e = decisioning_engine();
    visit(&mut e, T0);
    let d = e.next_best_offer(&OfferRequest { slot: "s".into(), ..Default::default() }, T0).unwrap();
    let id = d.id.unwrap();
    let before = e.export_state();
    let bad = [LAST_MS + 1.0, 1e300, f64::MAX, FIRST_MS - 1.0, -1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
    for now in bad {
        let refused = |what: &str, r: Result<(), Error>| {
            let err = r.expect_err(&format!("{what} at {now}"));
            assert_eq!(err.code(), "INVALID_OPTIONS", "{what} at {now}: {err}");
            let text = err.to_string();
            assert!(text.contains("clock") && text.contains("years 0–9999"), "{what} at {now}: {text}");
        };
        refused("track", e.track_at("view", "85123A", now).map(drop));
        refused("track a purchase", e.track_at("purchase", "85123A", now).map(drop));
        let req = OfferRequest { slot: "s".into(), ..Default::default() };
        refused("nextBestOffer", e.next_best_offer(&req, now).map(drop));
        refused("shown", e.shown(id, now).map(drop));
        let fb = Feedback { slot: "s".into(), offer: "o".into(), outcome: Outcome::Dismiss };
        refused("feedback", e.feedback(&fb, now));
        refused("priceCart", e.price_cart(&CartRequest::default(), now).map(drop));
        refused("privacy", e.privacy(now).map(drop));
        refused("previewReport", e.preview_report(now).map(drop));
        refused("takeReport", e.take_report(now).map(drop));
        // The infallible status reads without dropping anything.
        e.privacy_status(now);
        assert_eq!(e.export_state(), before, "a refused clock at {now} changed the state");
        // The stateless endpoint answers the same refusal.
        let body = json!({ "slot": "cart", "shopperKey": "k", "now": now, "events": [{ "type": "add_to_cart", "item": "85123A" }] });
        let body = serde_json::to_vec(&body).unwrap();
        let reply = edgerec::api::handle(e.store(), "POST", "/v1/offer", &body, T0);
        if now.is_finite() {
            assert_eq!(reply.status, 400, "{now}: {}", reply.body);
            assert!(reply.body.contains("INVALID_OPTIONS"), "{now}: {}", reply.body);
        }
        let reply = edgerec::api::handle(e.store(), "POST", "/v1/cart", br#"{"shopperKey": "k"}"#, now);
        assert_eq!(reply.status, 400, "{now}: {}", reply.body);
    }
    // The decision refused at those times is still there to show.
    assert!(e.shown(id, T0 + 1.0).is_ok());
    round_trips(&e, "after the refusals");
}
