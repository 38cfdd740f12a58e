//! Aggregate reports on the shipped default bundle: consent, what a report
//! holds and hides, the daily ε budget, sealed previews, the noise against
//! its documented variance, clipping, and released aggregates read back.

mod common;

use common::{default_bytes, strong_pair};
use edgerec::decide::state::Outcome;
use edgerec::decide::{Feedback, OfferRequest};
use edgerec::privacy::Withheld;
use edgerec::report::ledger::{CellCounts, Day, DayCounts, VisitCounts};
use edgerec::report::mechanism::{build_report, CellValues, NoiseModel, Report, ReportSettings, Source, VisitValues};
use edgerec::report::noise::SecureRandom;
use edgerec::{Engine, Error};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// 2026-11-21 10:00 UTC.
const T0: f64 = 1_795_219_200_000.0 + 10.0 * 3_600_000.0;
const DAY: f64 = 86_400_000.0;

fn engine(key: &str) -> Engine {
    let mut e = Engine::load(&default_bytes()).unwrap();
    e.set_shopper_key(key).unwrap();
    e
}

/// A visit: an item in the cart, the cart slot's offer, a click on it.
fn shop(e: &mut Engine, now: f64) {
    let (item, _) = strong_pair(e);
    e.track_at("add_to_cart", &item, now).unwrap();
    let d = e.next_best_offer(&OfferRequest { slot: "cart".into(), ..Default::default() }, now).unwrap();
    e.shown(d.id.unwrap(), now).unwrap();
    if let Some(o) = d.offer {
        let fb = Feedback { slot: "cart".into(), offer: o.id.clone(), outcome: Outcome::Click };
        e.feedback(&fb, now + 1000.0).unwrap();
    }
}

/// A reporter of the given key, outside any model release.
fn source(key: &str) -> Source<'_> {
    Source { shopper_key: key, model: "sha256:test", release: None }
}

fn parse(report: &str) -> Report {
    serde_json::from_str(report).unwrap()
}

/// A key that lands in a given arm of the default experiment.
fn key_in_arm(arm: &str) -> String {
    (0..1000)
        .map(|i| format!("shopper-{i}"))
        .find(|k| {
            let mut e = engine(k);
            let d = e.next_best_offer(&OfferRequest { slot: "cart".into(), ..Default::default() }, T0);
            d.unwrap().arm.unwrap().arm == arm
        })
        .unwrap()
}

#[test]
fn nothing_is_counted_or_reported_without_consent_and_opting_out_erases() {
    let mut e = engine("consent-test");
    shop(&mut e, T0);
    assert_eq!(e.take_report(T0).unwrap(), None);
    assert_eq!(e.privacy_status(T0).withheld, Some(Withheld::NoConsent));
    e.set_consent(true);
    // What happened before consent was never counted.
    assert_eq!(e.take_report(T0).unwrap(), None);
    assert_eq!(e.privacy_status(T0).withheld, Some(Withheld::NothingPending));
    shop(&mut e, T0);
    assert_eq!(e.privacy_status(T0).pending_days, 1);
    e.set_consent(false);
    assert_eq!(e.privacy_status(T0).pending_days, 0);
    e.set_consent(true);
    assert_eq!(e.take_report(T0).unwrap(), None, "opting out erased the pending day");
}

#[test]
fn a_report_holds_the_documented_fields_and_nothing_of_the_shopper() {
    let key = key_in_arm("bandit");
    let mut e = engine(&key);
    e.set_consent(true);
    shop(&mut e, T0);
    let text = e.take_report(T0).unwrap().unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["version", "id", "day", "policy", "model", "mechanism", "cells", "visits", "drift"])
    );
    assert_eq!(v["model"], e.model().version.as_str(), "keyed by the bundle's version");
    assert_eq!(v["drift"]["topScore"].as_array().unwrap().len(), 5);
    assert_eq!(v["day"], "2026-11-21");
    assert!(v["id"].as_str().unwrap().len() == 32);
    assert!(!text.contains(&key), "the shopper key never leaves");
    let (item, partner) = strong_pair(&e);
    assert!(!text.contains(&item) && !text.contains(&partner), "no item ids: {text}");
    assert!(!text.contains("17952"), "no timestamps");
    // The cells are the arm's whole domain, whatever the shopper did.
    let mut idle = engine(&key);
    idle.set_consent(true);
    let d = idle
        .next_best_offer(&OfferRequest { slot: "product".into(), anchor: Some(item.clone()), ..Default::default() }, T0)
        .unwrap();
    idle.shown(d.id.unwrap(), T0).unwrap();
    let other = parse(&idle.take_report(T0).unwrap().unwrap());
    let report = parse(&text);
    let domain =
        |r: &Report| r.cells.iter().map(|c| (c.arm.clone(), c.slot.clone(), c.offer.clone())).collect::<Vec<_>>();
    assert_eq!(domain(&report), domain(&other));
    assert!(report.cells.iter().any(|c| c.arm.as_deref() == Some("bandit") && c.slot == "cart"));
    assert!(report.cells.iter().all(|c| c.arm.as_deref() != Some("policy")), "only the shopper's own arm");
    assert_eq!(report.visits.len(), 1);
    assert_eq!(report.visits[0].arm, "bandit");
    let var = report.mechanism.variance.cells;
    assert!(var.clicks > 0.0 && var.impressions > 0.0 && report.mechanism.epsilon == 1.0);
}

#[test]
fn the_preview_is_byte_for_byte_the_report_taken() {
    let mut e = engine("preview-test");
    e.set_consent(true);
    shop(&mut e, T0);
    let preview = e.preview_report(T0).unwrap().unwrap();
    assert_eq!(e.preview_report(T0 + 60_000.0).unwrap().unwrap(), preview, "sealed: the same noise and id");
    let taken = e.take_report(T0 + 120_000.0).unwrap().unwrap();
    assert_eq!(taken, preview);
    shop(&mut e, T0 + 1000.0);
    assert_eq!(e.preview_report(T0 + 2000.0).unwrap(), None, "the day's ε is spent");
    shop(&mut e, T0 + DAY);
    let next = e.preview_report(T0 + DAY).unwrap().unwrap();
    assert_ne!(next, preview);
    shop(&mut e, T0 + DAY + 1000.0);
    assert_ne!(e.preview_report(T0 + DAY + 2000.0).unwrap().unwrap(), next, "new counts, a new seal");
}

#[test]
fn the_daily_budget_stops_reports_until_the_next_day() {
    let mut e = engine("budget-test");
    e.set_consent(true);
    e.set_reporting(r#"{"epsilon": 0.5, "epsilonPerDay": 1}"#).unwrap();
    let mut made = 0;
    for i in 0..5 {
        shop(&mut e, T0 + i as f64 * 60_000.0);
        if e.take_report(T0 + i as f64 * 60_000.0).unwrap().is_some() {
            made += 1;
        }
    }
    assert_eq!(made, 2, "two reports of ε 0.5 in a day of ε 1");
    let status = e.privacy_status(T0 + 300_000.0);
    assert_eq!(status.withheld, Some(Withheld::BudgetSpent));
    assert!((status.spent_today - 1.0).abs() < 1e-9);
    // The next day has its own budget; the spent day's leftovers are dropped.
    shop(&mut e, T0 + DAY);
    let next = parse(&e.take_report(T0 + DAY).unwrap().unwrap());
    assert_eq!(next.day.to_string(), "2026-11-22");
    assert_eq!(e.privacy_status(T0 + DAY).pending_days, 0);
    // Settings outside the documented range are refused.
    for bad in [
        r#"{"epsilon": 2, "epsilonPerDay": 1}"#,
        r#"{"epsilon": 0}"#,
        r#"{"eps": 1}"#,
        "1",
        r#"{"mechanism": "distributed"}"#,
        r#"{"mechanism": "distributed", "cohort": 1}"#,
        r#"{"mechanism": "local", "cohort": 500}"#,
        r#"{"mechanism": "central"}"#,
    ] {
        assert!(matches!(e.set_reporting(bad), Err(Error::InvalidOptions(_))), "{bad}");
    }
}

#[test]
fn days_are_reported_oldest_first_and_expire_after_thirty_days() {
    let mut e = engine("days-test");
    e.set_consent(true);
    shop(&mut e, T0);
    shop(&mut e, T0 + DAY);
    let first = parse(&e.take_report(T0 + DAY).unwrap().unwrap());
    let second = parse(&e.take_report(T0 + DAY).unwrap().unwrap());
    assert_eq!((first.day.to_string(), second.day.to_string()), ("2026-11-21".into(), "2026-11-22".into()));
    shop(&mut e, T0 + 2.0 * DAY);
    assert_eq!(e.take_report(T0 + 40.0 * DAY).unwrap(), None, "a 38-day-old day is dropped");
}

#[test]
fn state_keeps_consent_and_pending_counts_across_a_reload() {
    let mut e = engine("reload-test");
    e.set_consent(true);
    shop(&mut e, T0);
    let saved = e.export_state();
    let mut again = Engine::load(&default_bytes()).unwrap();
    again.import_state(&saved).unwrap();
    assert!(again.privacy_status(T0).consent);
    assert!(again.take_report(T0).unwrap().is_some());
    let mut bad: Value = serde_json::from_str(&saved).unwrap();
    bad["ledger"]["spent"] = json!({"2026-11-21": -1.0});
    assert!(matches!(again.import_state(&bad.to_string()), Err(Error::InvalidState(_))));
}

/// One fixed shopper-day, reported many times under local and distributed
/// noise: the noise is centred on the clipped truth with the variance the
/// report states (over the row's cohort).
#[test]
fn noise_is_unbiased_with_the_stated_variance_and_clipping_bounds_a_shopper() {
    let local = ReportSettings::default();
    let distributed = ReportSettings::parse(r#"{"mechanism": "distributed", "cohort": 3}"#).unwrap();
    for settings in [local, distributed] {
        check_noise(&settings);
    }
}

fn check_noise(settings: &ReportSettings) {
    let e = engine("noise-test");
    let mut day =
        DayCounts { day: Day::parse("2026-11-21").unwrap(), policy: e.policy().id.clone(), ..Default::default() };
    let heavy = CellCounts { impressions: 40, clicks: 25, add_to_carts: 1, purchases: 0, revenue: 0.0 };
    day.cells.entry("product".into()).or_default().insert("upgrade".into(), heavy);
    let visit = VisitCounts { exposed: true, converted: true, orders: 5, revenue: 900.0, order_session: None };
    day.visits.insert("cart-offers-2026-11".into(), visit);
    let mut rng = SecureRandom::new();
    let n = 4000;
    let reports: Vec<Report> =
        (0..n).map(|_| build_report(e.policy(), &source("noise-test"), &day, settings, &mut rng).unwrap()).collect();
    let cell = reports[0].cells.iter().position(|c| c.slot == "product" && c.offer == "upgrade").unwrap();
    let mut var = reports[0].mechanism.variance.clone();
    let share = |cohort: Option<u32>| 1.0 / f64::from(cohort.unwrap_or(1));
    let (cell_share, visit_share) = (share(reports[0].cells[cell].cohort), share(reports[0].visits[0].cohort));
    var.cells = CellValues::from_array(var.cells.to_array().map(|v| v * cell_share));
    var.visits = VisitValues::from_array(var.visits.to_array().map(|v| v * visit_share));
    // Clipped truth: impressions 1, clicks 1, addToCarts 1; visit: 1, 1, orders 2, revenue 200.
    let checks = [
        (
            "impressions",
            1.0,
            var.cells.impressions,
            reports.iter().map(|r| r.cells[cell].values.impressions).collect::<Vec<_>>(),
        ),
        ("clicks", 1.0, var.cells.clicks, reports.iter().map(|r| r.cells[cell].values.clicks).collect()),
        (
            "addToCarts",
            1.0,
            var.cells.add_to_carts,
            reports.iter().map(|r| r.cells[cell].values.add_to_carts).collect(),
        ),
        ("orders", 2.0, var.visits.orders, reports.iter().map(|r| r.visits[0].values.orders).collect()),
        ("visit revenue", 200.0, var.visits.revenue, reports.iter().map(|r| r.visits[0].values.revenue).collect()),
    ];
    for (name, truth, stated, xs) in checks {
        let mean = xs.iter().sum::<i64>() as f64 / n as f64;
        let observed = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        let se = (stated / n as f64).sqrt();
        println!(
            "{:?} {name}: truth {truth}, mean {mean:.2} (±{:.2}), variance {observed:.1} vs stated {stated:.1}",
            settings.mechanism,
            4.0 * se
        );
        assert!((mean - truth).abs() < 4.0 * se, "{name}: mean {mean} vs clipped truth {truth}");
        assert!((observed / stated - 1.0).abs() < 0.15, "{name}: variance {observed} vs {stated}");
    }
    let ids: BTreeSet<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), n);
}

#[test]
fn released_aggregates_become_bandit_priors() {
    let mut e = engine("priors-test");
    let est = |sum: f64| json!({"sum": sum, "variance": 10.0});
    let cell = |offer: &str, imp: f64, clk: f64| {
        json!({"day": "2026-11-21", "experiment": "cart-offers-2026-11", "arm": "bandit", "slot": "cart", "offer": offer,
               "reports": 60, "impressions": est(imp), "clicks": est(clk), "addToCarts": est(0.0),
               "purchases": est(0.0), "revenue": est(0.0)})
    };
    let released = json!({"store": "default", "policy": "online-retail-default", "k": 50, "withheld": {"cells": 0, "visits": 0},
        "cells": [cell("upgrade", 500.4, 60.2), cell("upgrade", 100.0, 10.0), cell("goes-with", -3.0, 2.0),
                  cell("cart-topup", 20.0, 31.0), cell("gone-offer", 10.0, 1.0)],
        "visits": []});
    assert_eq!(e.load_aggregates(&released.to_string()).unwrap(), 3);
    let p = e.priors();
    assert_eq!((p["upgrade"].shown, p["upgrade"].taken), (600, 70));
    assert_eq!((p["goes-with"].shown, p["goes-with"].taken), (0, 0), "a negative noisy sum is clamped");
    assert_eq!((p["cart-topup"].shown, p["cart-topup"].taken), (20, 20), "takes never exceed shows");
    let mut other = released.clone();
    other["policy"] = json!("someone-else");
    assert!(matches!(e.load_aggregates(&other.to_string()), Err(Error::InvalidOptions(_))));
    assert!(matches!(e.load_aggregates("{\"policy\": 1}"), Err(Error::InvalidOptions(_))));
    assert_eq!(e.priors()["upgrade"].shown, 600, "a refused load changes nothing");
}

/// Distributed noise: the report says so, and each row states its cohort:
/// the store's daily reports times the share of shoppers the row covers
/// (cohort reports sum to one full discrete Laplace: checked on the
/// samplers in `noise.rs`). The stated variance is that of a full draw.
#[test]
fn distributed_reports_carry_a_cohort_share_of_the_noise() {
    let mut e = engine("cohort-test");
    e.set_consent(true);
    assert_eq!(e.privacy_status(T0).mechanism, NoiseModel::Local);
    e.set_reporting(r#"{"mechanism": "distributed", "cohort": 10000}"#).unwrap();
    assert_eq!(e.privacy_status(T0).mechanism, NoiseModel::Distributed);
    shop(&mut e, T0);
    let report = parse(&e.take_report(T0).unwrap().unwrap());
    assert_eq!(report.mechanism.name, "distributed-discrete-laplace");
    assert_eq!(report.mechanism.cohort, Some(10000));
    // Arms weigh 45 / 45 / 10: an arm's rows expect 4,500 or 1,000 reports.
    for c in &report.cells {
        let want = if c.experiment.is_some() { 4500 } else { 10000 };
        assert_eq!(c.cohort, Some(want), "{c:?}");
    }
    let arm = &report.visits[0];
    assert_eq!(arm.cohort, Some(if arm.arm == "holdout" { 1000 } else { 4500 }));
    let day = DayCounts { day: Day::parse("2026-11-21").unwrap(), policy: e.policy().id.clone(), ..Default::default() };
    let full =
        build_report(e.policy(), &source("cohort-test"), &day, &ReportSettings::default(), &mut SecureRandom::new())
            .unwrap();
    assert!(full.cells.iter().all(|c| c.cohort.is_none()) && full.mechanism.cohort.is_none());
    let (a, b) = (&report.mechanism.variance, &full.mechanism.variance);
    for (x, y) in
        a.cells.to_array().iter().zip(b.cells.to_array()).chain(a.visits.to_array().iter().zip(b.visits.to_array()))
    {
        assert!((x / y - 1.0).abs() < 1e-12, "{x} vs {y}");
    }
    // Most shares are exactly 0: a single report hides little from the
    // collector. A share is non-zero with probability 1 − (1 − q)^(2/c),
    // about 0.05 % here, so pure-noise reports of an empty day are counted
    // over many values (one report's 11 cells would make a 1 %-flaky test).
    let settings = ReportSettings { mechanism: NoiseModel::Distributed, cohort: Some(4500), ..Default::default() };
    let mut rng = SecureRandom::new();
    let (mut zeros, mut values) = (0, 0);
    for _ in 0..100 {
        let r = build_report(e.policy(), &source("cohort-test"), &day, &settings, &mut rng).unwrap();
        values += r.cells.len();
        zeros += r.cells.iter().filter(|c| c.values.clicks == 0).count();
    }
    assert!(values >= 1000 && zeros * 100 >= values * 99, "{zeros} of {values} click shares are 0");
}

/// Popularity boosts: the released take rates become the `taken` part of
/// each offer's score, enough to reorder offers of one priority (priority
/// still decides first).
#[test]
fn released_take_rates_boost_offers_in_arbitration() {
    let score = |d: &edgerec::decide::Decision, offer: &str| {
        let t = d.trace.iter().find(|t| t.offer == offer && !t.fallback)?;
        Some((t.score?, t.parts?.taken))
    };
    // The boosts below differ by 1 − low, times the default `taken` weight (0.3).
    let low = (21.0 / 2020.0) / (601.0 / 2020.0);
    // A product page where upgrade and goes-with (priority 1 both in the
    // default policy) score within a boost of each other: the first of the
    // best sellers that has one.
    let popular: Vec<String> = {
        let e = engine("boost-test");
        e.model().popular.iter().map(|&r| e.model().item_id(r).to_string()).collect()
    };
    let (mut e, req, before, up, goes) = popular
        .iter()
        .find_map(|item| {
            let mut e = engine("boost-test");
            e.track_at("view", item, T0).unwrap();
            let req = OfferRequest { slot: "product".into(), anchor: Some(item.clone()), ..Default::default() };
            let before = e.next_best_offer(&req, T0).unwrap();
            let (up, goes) = (score(&before, "upgrade")?, score(&before, "goes-with")?);
            // Won by an offer of a higher priority, which the boosts must not unseat.
            let won_above = before.offer.as_ref().is_some_and(|o| o.id != "upgrade" && o.id != "goes-with");
            (won_above && (up.0 - goes.0).abs() < 0.3 * (1.0 - low)).then_some((e, req, before, up, goes))
        })
        .expect("a best seller with an upgrade and complements of close scores");
    let winner = before.offer.as_ref().expect("the product slot offers something").id.clone();
    let score = |d: &edgerec::decide::Decision, offer: &str| score(d, offer).unwrap();
    assert_eq!((up.1, goes.1), (0.0, 0.0), "no boost before aggregates");
    let (ahead, behind) = if up.0 >= goes.0 { ("upgrade", "goes-with") } else { ("goes-with", "upgrade") };

    // The one behind took 30% of 2,000 showings, the one ahead 1% of 2,000.
    let est = |sum: f64| json!({"sum": sum, "variance": 65.0});
    let cell = |offer: &str, imp: f64, clk: f64| {
        json!({"day": "2026-11-21", "experiment": null, "arm": null, "slot": "product", "offer": offer, "reports": 2000,
               "impressions": est(imp), "clicks": est(clk), "addToCarts": est(0.0), "purchases": est(0.0), "revenue": est(0.0)})
    };
    let released = json!({"policy": "online-retail-default", "k": 50,
        "cells": [cell(behind, 2000.0, 600.0), cell(ahead, 2000.0, 20.0)], "visits": []});
    e.load_aggregates(&released.to_string()).unwrap();
    let boosts = e.boosts().clone();
    assert_eq!(boosts[behind], 1.0);
    assert!((boosts[ahead] - low).abs() < 1e-6);
    assert!((boosts[&winner] - (1.0 + low) / 2.0).abs() < 1e-6, "an offer without data gets the mean boost");

    let after = e.next_best_offer(&req, T0).unwrap();
    let (a, b) = (score(&after, ahead), score(&after, behind));
    assert_eq!((a.1, b.1), (boosts[ahead], 1.0));
    assert!(b.0 > a.0, "the boost reorders them: {behind} {} vs {ahead} {}", b.0, a.0);
    assert_eq!(after.offer.unwrap().id, winner, "priority still decides first");
}

/// Bandit counts at their bounds (a stored state's own, a prior's) still draw
/// finite samples: the sum of the two once overflowed a u64 (fuzzing, issue 15).
#[test]
fn bandit_counts_at_their_bounds_draw_finite_samples() {
    let key = key_in_arm("bandit");
    let mut e = engine(&key);
    let mut state: Value = serde_json::from_str(&e.export_state()).unwrap();
    let offers: Vec<String> = e.policy().offers.iter().map(|o| o.id.clone()).collect();
    let arm_key = |o: &str| format!("cart-offers-2026-11/{o}");
    state["bandit"] = offers.iter().map(|o| (arm_key(o), json!({ "shown": u64::MAX, "taken": 1 }))).collect();
    e.import_state(&state.to_string()).unwrap();
    let too_many = json!({ "complete-the-set": { "shown": 2_000_000_000_000u64, "taken": 1 } });
    assert_eq!(e.load_priors(&too_many.to_string()).unwrap_err().code(), "INVALID_OPTIONS");
    let priors: serde_json::Map<String, Value> =
        offers.iter().map(|o| (o.clone(), json!({ "shown": 1_000_000_000_000u64, "taken": 0 }))).collect();
    e.load_priors(&Value::Object(priors).to_string()).unwrap();
    let (item, _) = strong_pair(&e);
    e.track_at("add_to_cart", &item, T0).unwrap();
    let d = e.next_best_offer(&OfferRequest { slot: "cart".into(), ..Default::default() }, T0).unwrap();
    assert!(d.arm.as_ref().unwrap().bandit);
    let samples: Vec<f64> = d.trace.iter().filter_map(|t| t.sample).collect();
    assert!(!samples.is_empty() && samples.iter().all(|s| s.is_finite() && (0.0..=1.0).contains(s)), "{samples:?}");
}

#[test]
fn a_shopper_in_a_model_release_reports_its_side_and_the_models_drift() {
    let mut e = engine(&key_in_arm("bandit"));
    e.set_consent(true);
    let release = edgerec::release::Release::parse(
        &json!({
            "version": 1, "experiment": "model-w49",
            "current": { "url": "a.edgerec", "version": e.model().version, "dim": e.model().manifest.dim, "catalog": "x" },
            "candidate": { "url": "b.edgerec", "version": format!("sha256:{}", "b".repeat(64)), "dim": e.model().manifest.dim, "catalog": "x" },
            "canaryShare": 0.25,
        })
        .to_string(),
    )
    .unwrap();
    let placement = release.place(&e.state().shopper_key);
    let side = placement.side.name();
    e.join_release(placement).unwrap();
    let known = e.model().item_id(0).to_string();
    e.recommend(&Default::default()).unwrap();
    e.track_at("view", &known, T0).unwrap();
    assert!(
        serde_json::from_str::<Value>(&e.export_state()).unwrap()["ledger"]["pending"][0]["drift"]["topScoreBin"]
            .is_null(),
        "a cold start's list has no model score to count"
    );
    e.recommend(&Default::default()).unwrap();
    e.track_at("view", "a-product-added-yesterday", T0).unwrap();
    let ledger: Value = serde_json::from_str(&e.export_state()).unwrap();
    let day = &ledger["ledger"]["pending"][0];
    assert_eq!(day["drift"]["views"], 2);
    assert_eq!(day["drift"]["unknownViews"], 1);
    assert!(day["drift"]["topScoreBin"].is_u64(), "the ranking's top score was counted: {day}");
    assert_eq!(day["visits"]["model-w49"]["exposed"], true);
    let report = parse(&e.take_report(T0).unwrap().unwrap());
    let row = report.visits.iter().find(|v| v.experiment == "model-w49").expect("the release's row");
    assert_eq!(row.arm, side);
    assert_eq!(report.model, e.model().version);
    // A policy experiment of the release's name is refused, not merged.
    let mut clash = engine("k");
    let placement = edgerec::release::ReleasePlacement {
        experiment: clash.policy().experiments[0].id.clone(),
        ..release.place("k")
    };
    assert_eq!(clash.join_release(placement).unwrap_err().code(), "INVALID_RELEASE");
}
