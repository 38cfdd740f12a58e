//! Properties of decisioning over random policies and shopper journeys
//! (an ineligible or capped offer is never shown), and a simulation of
//! thousands of shoppers that the bandit and the holdout must pass.

mod common;

use common::default_bytes;
use edgerec::decide::state::Outcome;
use edgerec::decide::{Feedback, OfferRequest};
use edgerec::Engine;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

const T0: f64 = 1.7e12;
const DAY: f64 = 86_400_000.0;
const SESSION_GAP: f64 = 30.0 * 60_000.0;

fn bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(default_bytes)
}

/// Catalog items the tests draw from: (id, price, category).
fn pool() -> &'static [(String, f64, String)] {
    static POOL: OnceLock<Vec<(String, f64, String)>> = OnceLock::new();
    POOL.get_or_init(|| {
        let e = Engine::load(bytes()).unwrap();
        let all = e.model().catalog_entries();
        // Every 150th item of the popularity order: a spread of prices and categories.
        all.iter().step_by(150).take(20).map(|c| (c.item.to_string(), c.price as f64, c.category.to_string())).collect()
    })
}

/// Every catalog item's price and category, for checking what the model chose.
fn catalog() -> &'static std::collections::HashMap<String, (f64, String)> {
    static CATALOG: OnceLock<std::collections::HashMap<String, (f64, String)>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let e = Engine::load(bytes()).unwrap();
        e.model()
            .catalog_entries()
            .iter()
            .map(|c| (c.item.to_string(), (c.price as f64, c.category.to_string())))
            .collect()
    })
}

/// A predicate the test can check on its own, without the engine.
#[derive(Debug, Clone)]
enum Rule {
    CartValue(f64, f64),
    Price(f64, f64),
    Category(String),
    NotOwned,
    Segment(&'static str),
}

impl Rule {
    fn json(&self) -> Value {
        match self {
            Rule::CartValue(lo, hi) => json!({ "cartValue": { "min": lo, "max": hi } }),
            Rule::Price(lo, hi) => json!({ "price": { "min": lo, "max": hi } }),
            Rule::Category(c) => json!({ "category": [c] }),
            Rule::NotOwned => json!({ "notOwned": true }),
            Rule::Segment(s) => json!({ "segment": s }),
        }
    }

    fn holds(&self, shopper: &Shopper, id: &str) -> bool {
        let (price, category) = &catalog()[id];
        // The engine compares f32 prices.
        let price = *price as f32 as f64;
        match self {
            Rule::CartValue(lo, hi) => (*lo..=*hi).contains(&shopper.cart_value()),
            Rule::Price(lo, hi) => (*lo..=*hi).contains(&price),
            Rule::Category(c) => c == category,
            Rule::NotOwned => !shopper.owns(id),
            Rule::Segment(s) => shopper.segments.contains(s),
        }
    }
}

#[derive(Debug, Clone)]
struct OfferSpec {
    /// A fixed item, or None for a model-chosen cross-sell of `count` items.
    item: Option<usize>,
    count: usize,
    rules: Vec<Rule>,
    per_session: Option<u32>,
    per_day: Option<u32>,
    per_week: Option<u32>,
    after_dismissals: Option<u32>,
}

#[derive(Debug, Clone)]
enum Step {
    AddToCart(usize),
    /// A decision shown on a new page (after a `view`) or on a re-render of this one.
    Decide {
        advance_ms: f64,
        vip: bool,
        new_page: bool,
    },
    Dismiss,
    NewVisit,
}

/// The test's own model of the shopper, kept beside the engine's.
#[derive(Default)]
struct Shopper {
    cart: Vec<(usize, u32)>,
    segments: Vec<&'static str>,
    /// (time, session, offer index, page view) of every impression, and dismissals.
    shown: Vec<(f64, u32, usize, u32)>,
    /// (session, page view, offer index, items) of what was on screen.
    seen: Vec<(u32, u32, usize, Vec<String>)>,
    view: u32,
    /// (time, offer index, session) of every dismissal.
    dismissed: Vec<(f64, usize, u32)>,
    session: u32,
    last_seen: Option<f64>,
}

impl Shopper {
    fn owns(&self, id: &str) -> bool {
        self.cart.iter().any(|(i, _)| pool()[*i].0 == id)
    }

    fn cart_value(&self) -> f64 {
        // The engine sums f32 prices; compare at f32 precision.
        self.cart.iter().map(|(i, q)| (pool()[*i].1 as f32) as f64 * *q as f64).sum()
    }

    fn touch(&mut self, now: f64) {
        if self.last_seen.is_some_and(|t| now - t > SESSION_GAP) {
            self.session += 1;
        }
        self.last_seen = Some(self.last_seen.map_or(now, |t| t.max(now)));
    }

    fn under_caps(&self, o: &OfferSpec, ix: usize, now: f64) -> bool {
        // What this page view already shows does not count against it.
        let mine = || self.shown.iter().filter(|s| s.2 == ix && (s.1, s.3) != (self.session, self.view));
        let session = mine().filter(|s| s.1 == self.session).count() as u32;
        let day = mine().filter(|s| now - s.0 < DAY).count() as u32;
        let week = mine().filter(|s| now - s.0 < 7.0 * DAY).count() as u32;
        let dismissed = self.dismissed.iter().filter(|d| d.1 == ix && now - d.0 < 30.0 * DAY).count() as u32;
        o.per_session.is_none_or(|l| session < l)
            && o.per_day.is_none_or(|l| day < l)
            && o.per_week.is_none_or(|l| week < l)
            && o.after_dismissals.is_none_or(|l| dismissed < l)
            // "No thanks" retires the offer for the rest of its session.
            && !self.dismissed.iter().any(|d| d.1 == ix && d.2 == self.session)
    }
}

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        (0.0..30.0f64, 0.0..60.0f64).prop_map(|(a, b)| Rule::CartValue(a.min(b), a.max(b))),
        (0.0..10.0f64, 0.0..20.0f64).prop_map(|(a, b)| Rule::Price(a.min(b), a.max(b))),
        (0..20usize).prop_map(|i| Rule::Category(pool()[i].2.clone())),
        Just(Rule::NotOwned),
        Just(Rule::Segment("vip")),
    ]
}

fn offer_spec() -> impl Strategy<Value = OfferSpec> {
    let cap = || proptest::option::of(1..4u32);
    let item = prop_oneof![3 => (0..20usize).prop_map(Some), 1 => Just(None)];
    (item, 1..4usize, proptest::collection::vec(rule(), 0..3), cap(), cap(), cap(), cap()).prop_map(
        |(item, count, rules, per_session, per_day, week_extra, after_dismissals)| OfferSpec {
            item,
            count,
            rules,
            per_session,
            per_day,
            // A weekly cap below the daily one is refused as contradictory.
            per_week: week_extra.map(|w| w + per_day.unwrap_or(0)),
            after_dismissals,
        },
    )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..20usize).prop_map(Step::AddToCart),
        6 => (prop_oneof![Just(0.0), 1.0..3.0e6f64, 1.0e6..2.0 * DAY], any::<bool>(), any::<bool>())
            .prop_map(|(advance_ms, vip, new_page)| Step::Decide { advance_ms, vip, new_page }),
        1 => Just(Step::Dismiss),
        1 => Just(Step::NewVisit),
    ]
}

fn policy_json(offers: &[OfferSpec]) -> String {
    let specs: Vec<Value> = offers
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut caps = serde_json::Map::new();
            for (k, v) in [
                ("perSession", o.per_session),
                ("perDay", o.per_day),
                ("perWeek", o.per_week),
                ("afterDismissals", o.after_dismissals),
            ] {
                if let Some(v) = v {
                    caps.insert(k.into(), json!(v));
                }
            }
            let mut spec = json!({
                "id": format!("o{i}"), "kind": "item",
                "priority": i as i32 % 3,
                "eligibility": o.rules.iter().map(Rule::json).collect::<Vec<_>>(),
                "caps": caps,
            });
            match o.item {
                Some(item) => spec["items"] = json!([pool()[item].0]),
                None => {
                    spec["kind"] = json!("crossSell");
                    spec["count"] = json!(o.count);
                }
            }
            spec
        })
        .collect();
    let ids: Vec<String> = (0..offers.len()).map(|i| format!("o{i}")).collect();
    json!({ "version": 1, "id": "prop", "offers": specs,
            "slots": [{ "id": "s", "placement": "cart", "offers": ids[1..], "fallback": ids[0] }] })
    .to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn an_ineligible_or_capped_offer_is_never_shown(
        offers in proptest::collection::vec(offer_spec(), 2..6)
            // The fallback (o0) is a fixed item, so "nothing withheld" can be checked.
            .prop_filter("o0 is an item", |o| o[0].item.is_some()),
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        let mut e = Engine::load(bytes()).unwrap();
        // Contradictory random rules are refused at load; skip those cases.
        prop_assume!(e.use_policy(&policy_json(&offers)).is_ok());
        e.set_shopper_key("prop-shopper").unwrap();
        let mut me = Shopper::default();
        let mut now = T0;
        let mut last_offer: Option<usize> = None;
        for step in steps {
            match step {
                Step::AddToCart(i) => {
                    e.track("add_to_cart", &pool()[i].0).unwrap();
                    match me.cart.iter_mut().find(|(j, _)| *j == i) {
                        Some((_, q)) => *q += 1,
                        None => me.cart.push((i, 1)),
                    }
                }
                Step::NewVisit => {
                    e.reset();
                    me.session += 1;
                    me.view = 0;
                    me.cart.clear();
                }
                Step::Dismiss => {
                    if let Some(ix) = last_offer {
                        let fb = Feedback { slot: "s".into(), offer: format!("o{ix}"), outcome: Outcome::Dismiss };
                        e.feedback(&fb, now).unwrap();
                        me.touch(now);
                        me.dismissed.push((now, ix, me.session));
                    }
                }
                Step::Decide { advance_ms, vip, new_page } => {
                    now += advance_ms;
                    if new_page {
                        e.track("view", &pool()[0].0).unwrap();
                        me.view += 1;
                    }
                    me.segments = if vip { vec!["vip"] } else { vec![] };
                    let req = OfferRequest {
                        slot: "s".into(),
                        segments: me.segments.iter().map(|s| s.to_string()).collect(),
                        ..Default::default()
                    };
                    let d = e.next_best_offer(&req, now).unwrap();
                    me.touch(now);
                    last_offer = None;
                    if let Some(o) = &d.offer {
                        let ix: usize = o.id[1..].parse().unwrap();
                        let spec = &offers[ix];
                        for shown in &o.items {
                            for r in &spec.rules {
                                prop_assert!(r.holds(&me, &shown.view.item), "{} shows {} though {r:?} fails", o.id, shown.view.item);
                            }
                        }
                        prop_assert!(me.under_caps(spec, ix, now), "{} shown over its caps", o.id);
                        match spec.item {
                            Some(item) => prop_assert_eq!(&o.items[0].view.item, &pool()[item].0),
                            None => {
                                prop_assert!(o.items.len() <= spec.count);
                                prop_assert!(o.items.iter().all(|i| !me.owns(&i.view.item)), "a cross-sell offered what is in the cart");
                            }
                        }
                        // Shown: counted once per page view.
                        let items: Vec<String> = o.items.iter().map(|i| i.view.item.clone()).collect();
                        let seen = (me.session, me.view, ix, items);
                        let counted = e.shown(d.id.unwrap(), now).unwrap();
                        prop_assert_eq!(counted, !me.seen.contains(&seen), "{} counted {}", o.id, counted);
                        if counted {
                            me.shown.push((now, me.session, ix, me.view));
                            me.seen.push(seen);
                        }
                        last_offer = Some(ix);
                    }
                    // And no offer goes unshown while one is eligible and uncapped.
                    let any_ok = offers.iter().enumerate().any(|(ix, s)| {
                        s.item.is_some_and(|item| s.rules.iter().all(|r| r.holds(&me, &pool()[item].0)))
                            && me.under_caps(s, ix, now)
                    });
                    if d.offer.is_none() {
                        prop_assert!(!any_ok, "an eligible, uncapped offer was withheld: {:?}", d.trace);
                    }
                }
            }
        }
    }
}

/// 10,000 shoppers with known take rates per offer; each device decides
/// with the priors the collector released at the last sync (every 250
/// shoppers), as the privacy design has it: devices learn only from
/// aggregates.
#[test]
fn the_bandit_finds_the_best_offer_and_the_holdout_keeps_its_share() {
    let items: Vec<String> = pool().iter().take(3).map(|p| p.0.clone()).collect();
    let rates = [0.04, 0.06, 0.12];
    let policy = json!({
        "version": 1, "id": "sim",
        "offers": items.iter().enumerate().map(|(i, it)| json!({ "id": format!("o{i}"), "kind": "item", "items": [it] })).collect::<Vec<_>>(),
        "slots": [{ "id": "s", "placement": "cart", "offers": ["o0", "o1", "o2"] }],
        "experiments": [{ "id": "x", "salt": "sim", "slots": ["s"], "arms": [
            { "id": "bandit", "weight": 90, "bandit": { "alpha": 1, "beta": 1 } },
            { "id": "holdout", "weight": 10, "holdout": true }
        ] }]
    });
    let mut e = Engine::load(bytes()).unwrap();
    e.use_policy(&policy.to_string()).unwrap();
    let (shoppers, sync_every) = (10_000, 250);
    let mut released = [(0u64, 0u64); 3]; // (shown, taken) at the collector
    let mut pending = [(0u64, 0u64); 3];
    let mut holdout = 0;
    let mut best_late = (0, 0); // (best shown, all shown) in the last 2,000 shoppers
    let mut coin = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..shoppers {
        if i % sync_every == 0 {
            for k in 0..3 {
                released[k].0 += pending[k].0;
                released[k].1 += pending[k].1;
            }
            pending = [(0, 0); 3];
            let priors: serde_json::Map<String, Value> =
                (0..3).map(|k| (format!("o{k}"), json!({ "shown": released[k].0, "taken": released[k].1 }))).collect();
            e.load_priors(&Value::Object(priors).to_string()).unwrap();
        }
        e.set_shopper_key(&format!("sim-shopper-{i}")).unwrap();
        let d = e.next_best_offer(&OfferRequest { slot: "s".into(), ..Default::default() }, T0 + i as f64).unwrap();
        if d.arm.as_ref().unwrap().holdout {
            holdout += 1;
            continue;
        }
        let k: usize = d.offer.as_ref().unwrap().id[1..].parse().unwrap();
        // xorshift64: the shopper's own coin, independent of the engine's draws.
        coin ^= coin << 13;
        coin ^= coin >> 7;
        coin ^= coin << 17;
        let took = (coin >> 11) as f64 / (1u64 << 53) as f64 <= rates[k];
        if took {
            e.feedback(&Feedback { slot: "s".into(), offer: format!("o{k}"), outcome: Outcome::Click }, T0 + i as f64)
                .unwrap();
        }
        pending[k].0 += 1;
        pending[k].1 += took as u64;
        if i >= shoppers - 2_000 {
            best_late.1 += 1;
            best_late.0 += (k == 2) as usize;
        }
    }
    let best_share = best_late.0 as f64 / best_late.1 as f64;
    let holdout_share = holdout as f64 / shoppers as f64;
    println!(
        "bandit: best offer (take rate 12%) shown to {:.1}% of the last 2,000 shoppers; holdout {:.2}% (configured 10%); shows {:?}",
        100.0 * best_share,
        100.0 * holdout_share,
        released
    );
    assert!(best_share > 0.8, "best-arm share {best_share}");
    assert!((holdout_share - 0.10).abs() <= 0.01, "holdout share {holdout_share}");
}
