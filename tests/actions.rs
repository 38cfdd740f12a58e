//! Next-best actions beside item offers: arbitration by expected value
//! (priority, then P(take) × value, with the trace showing both), context
//! predicates from the session and the host, the free-delivery gap filler
//! on the shipped bundle, channel caps in the state a server-side caller
//! keeps, and the policy and request errors that name their field.

mod common;

use common::{default_bytes, strong_pair};
use edgerec::decide::value::{DEFAULT_TAKE_RATE, PRIOR_SHOWS};
use edgerec::decide::{Decision, OfferRequest, OfferTrace, Verdict};
use edgerec::Engine;
use serde_json::{json, Value};

const T0: f64 = 1.7e12;
const MINUTE: f64 = 60_000.0;
const DAY: f64 = 24.0 * 60.0 * MINUTE;

fn engine_with(policy: &Value) -> Engine {
    let mut e = Engine::load(&default_bytes()).unwrap();
    e.use_policy(&policy.to_string()).unwrap();
    e.set_shopper_key("action-shopper").unwrap();
    e
}

fn ask(e: &mut Engine, slot: &str, context: Value, now: f64) -> Decision {
    let context = serde_json::from_value(context).unwrap();
    e.next_best_offer(&OfferRequest { slot: slot.into(), context, ..Default::default() }, now).unwrap()
}

fn trace<'a>(d: &'a Decision, offer: &str) -> &'a OfferTrace {
    d.trace.iter().find(|t| t.offer == offer).unwrap_or_else(|| panic!("no trace of {offer}"))
}

fn chosen(d: &Decision) -> &str {
    d.offer.as_ref().map_or("none", |o| o.id.as_str())
}

const CONTEXT: &str = r#"{
    "channel": { "type": "string", "values": ["web", "email", "push", "agent"] },
    "loggedIn": { "type": "boolean" },
    "tier": { "type": "number" },
    "locale": { "type": "string" }
}"#;

/// A policy of one slot "s" holding `offers` (and the declared context).
fn policy(offers: Value) -> Value {
    let ids: Vec<Value> = offers.as_array().unwrap().iter().map(|o| o["id"].clone()).collect();
    json!({
        "version": 1, "id": "actions", "currency": "GBP",
        "context": serde_json::from_str::<Value>(CONTEXT).unwrap(),
        "offers": offers,
        "slots": [{ "id": "s", "placement": "productPage", "offers": ids }]
    })
}

fn club(value: f64, eligibility: Value) -> Value {
    json!({
        "id": "club", "kind": "action", "title": "Join the club", "message": "Free delivery for members",
        "url": "/club", "payload": { "cta": "Join" }, "value": value, "eligibility": eligibility
    })
}

#[test]
fn actions_and_items_arbitrate_by_priority_then_expected_value() {
    let probe = engine_with(&policy(json!([club(1.0, json!([]))])));
    let (a, _) = strong_pair(&probe);
    let goes_with = json!({ "id": "goes-with", "kind": "crossSell", "count": 1 });
    let mut e = engine_with(&policy(json!([club(1000.0, json!([])), goes_with.clone()])));
    e.track_at("view", &a, T0).unwrap();
    let d = ask(&mut e, "s", json!({}), T0);
    let (action, item) = (trace(&d, "club"), trace(&d, "goes-with"));
    // No aggregates yet: every offer's P(take) is the default slot rate.
    let (action, item) = (action.worth.unwrap(), item.worth.unwrap());
    assert_eq!((action.p_take, item.p_take), (DEFAULT_TAKE_RATE, DEFAULT_TAKE_RATE));
    assert_eq!(action.value, 1000.0);
    let shown = d.offer.as_ref().unwrap();
    assert_eq!(shown.id, "club", "worth 1000 a take, it beats an item's margin");
    assert_eq!((shown.worth.value, shown.worth.expected_value), (1000.0, 1000.0 * DEFAULT_TAKE_RATE));
    let action_content = shown.action.as_ref().unwrap();
    assert_eq!((action_content.title.as_str(), action_content.url.as_deref()), ("Join the club", Some("/club")));
    assert!(shown.items.is_empty());
    // The item offer's value is what its item earns: price × margin.
    assert!(item.value > 0.0 && item.value < 1000.0, "{}", item.value);
    assert_eq!(item.expected_value, item.p_take * item.value);

    // Released aggregates: the action is hardly ever taken, the item often.
    // P(take) is each offer's rate shrunk toward the slot's pooled rate.
    e.load_priors(r#"{"club": {"shown": 100000, "taken": 1}, "goes-with": {"shown": 900, "taken": 300}}"#).unwrap();
    let d = ask(&mut e, "s", json!({}), T0 + 1.0);
    let slot_rate = 301.0 / 100_900.0;
    let shrunk = |taken: f64, shown: f64| (taken + PRIOR_SHOWS * slot_rate) / (shown + PRIOR_SHOWS);
    let (action, item) = (trace(&d, "club").worth.unwrap(), trace(&d, "goes-with").worth.unwrap());
    assert!((action.p_take - shrunk(1.0, 100_000.0)).abs() < 1e-12);
    assert!((item.p_take - shrunk(300.0, 900.0)).abs() < 1e-12);
    let winner = if action.expected_value > item.expected_value { "club" } else { "goes-with" };
    assert_eq!(chosen(&d), winner, "the higher expected value wins: {:?} vs {:?}", action, item);
    assert_eq!(winner, "goes-with");

    // Priority still decides first.
    let mut first = club(1.0, json!([]));
    first["priority"] = json!(5);
    let mut e = engine_with(&policy(json!([first, goes_with])));
    e.track_at("view", &a, T0).unwrap();
    assert_eq!(chosen(&ask(&mut e, "s", json!({}), T0)), "club");
}

#[test]
fn context_predicates_read_the_session_the_clock_and_the_host() {
    let probe = engine_with(&policy(json!([club(1.0, json!([]))])));
    let (a, b) = strong_pair(&probe);
    let category = probe.model().category(probe.model().catalog.row(&a).unwrap()).to_string();
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "pageViews": { "min": 3 } }), "three product views"),
        (json!({ "secondsInSession": { "min": 300 } }), "five minutes in"),
        (json!({ "visits": { "min": 2 } }), "a second visit"),
        (json!({ "itemViewed": { "atLeast": 2, "items": [a.clone()] } }), "the same item twice"),
        (json!({ "categoryViews": { "atLeast": 3, "categories": [category.clone()] } }), "a category three times"),
        (json!({ "cartGap": { "threshold": 1000, "max": 999.99 } }), "a cart under the threshold"),
        (json!({ "context": { "loggedIn": false, "channel": ["web", "push"] } }), "a logged-out web shopper"),
        (json!({ "context": { "tier": { "min": 2 } } }), "tier 2 and up"),
    ];
    for (pred, what) in cases {
        let mut e = engine_with(&policy(json!([club(5.0, json!([pred.clone()]))])));
        // Before: one view, a second in, first visit, empty cart, no context.
        e.track_at("view", &a, T0).unwrap();
        let before = ask(&mut e, "s", json!({}), T0 + 1000.0);
        assert_eq!(before.offer, None, "{what}: not yet ({pred})");
        assert_eq!(trace(&before, "club").verdict, Verdict::Ineligible);
        // After: the shopper does the thing.
        let mut now = T0 + 2000.0;
        match what {
            "three product views" | "the same item twice" | "a category three times" => {
                e.track_at("view", &a, now).unwrap();
                e.track_at("view", &a, now).unwrap();
            }
            "five minutes in" => now = T0 + 6.0 * MINUTE,
            "a second visit" => now = T0 + 60.0 * MINUTE,
            "a cart under the threshold" => {
                e.track_at("add_to_cart", &b, now).unwrap();
            }
            _ => {}
        }
        let context = match what {
            "a logged-out web shopper" => json!({ "loggedIn": false, "channel": "web" }),
            "tier 2 and up" => json!({ "tier": 3 }),
            _ => json!({}),
        };
        let after = ask(&mut e, "s", context, now);
        assert_eq!(chosen(&after), "club", "{what}: {:?}", trace(&after, "club").rules);
        assert!(!after.offer.unwrap().reasons.is_empty(), "{what}: an action says why");
    }
    // A context value that does not match, or is absent, fails the predicate.
    let mut e = engine_with(&policy(json!([club(5.0, json!([{ "context": { "loggedIn": false } }]))])));
    assert_eq!(ask(&mut e, "s", json!({ "loggedIn": true }), T0).offer, None);
    assert_eq!(ask(&mut e, "s", json!({}), T0).offer, None);
}

#[test]
fn an_action_says_why_in_the_shoppers_words() {
    let probe = engine_with(&policy(json!([club(1.0, json!([]))])));
    let (a, _) = strong_pair(&probe);
    let mut e = engine_with(&policy(json!([club(5.0, json!([{ "pageViews": { "min": 3 } }]))])));
    for _ in 0..3 {
        e.track_at("view", &a, T0).unwrap();
    }
    let d = ask(&mut e, "s", json!({}), T0);
    let reasons = &d.offer.unwrap().reasons;
    assert_eq!(reasons[0].text, "You have looked at 3 products this visit");
}

#[test]
fn request_context_is_checked_against_the_declared_fields() {
    let mut e = engine_with(&policy(json!([club(5.0, json!([]))])));
    let req = |context: Value| OfferRequest {
        slot: "s".into(),
        context: serde_json::from_value(context).unwrap(),
        ..Default::default()
    };
    for (context, field) in [
        (json!({ "mood": "happy" }), "context.mood"),
        (json!({ "loggedIn": "yes" }), "context.loggedIn"),
        (json!({ "tier": "gold" }), "context.tier"),
        (json!({ "channel": "fax" }), "context.channel"),
        (json!({ "channel": null }), "context.channel"),
        (json!({ "locale": { "lang": "en" } }), "context.locale"),
    ] {
        let err = e.next_best_offer(&req(context.clone()), T0).unwrap_err();
        assert_eq!(err.code(), "INVALID_REQUEST", "{context}");
        assert!(err.to_string().contains(field), "{context}: {err}");
    }
    // The engine is still usable.
    assert_eq!(chosen(&e.next_best_offer(&req(json!({ "channel": "web" })), T0).unwrap()), "club");
}

#[test]
fn bad_actions_thresholds_and_channel_caps_are_policy_errors_naming_the_field() {
    let bad = |offer: Value, field: &str| {
        let err = Engine::load(&default_bytes()).unwrap().use_policy(&policy(json!([offer])).to_string()).unwrap_err();
        assert_eq!(err.code(), "INVALID_POLICY");
        assert!(err.to_string().contains(field), "{field}: {err}");
    };
    let mut no_value = club(1.0, json!([]));
    no_value.as_object_mut().unwrap().remove("value");
    bad(no_value, "offers[0].value");
    bad(club(-1.0, json!([])), "offers[0].value");
    let mut huge = club(1.0, json!([]));
    huge["value"] = json!(1e300);
    bad(huge, "offers[0].value");
    // Not finite: JSON has no infinity, and a number past f64's range is refused as it is read.
    let text = policy(json!([club(7.0, json!([]))])).to_string().replace("\"value\":7.0", "\"value\":1e999");
    assert!(text.contains("1e999"));
    let err = Engine::load(&default_bytes()).unwrap().use_policy(&text).unwrap_err();
    assert_eq!(err.code(), "INVALID_POLICY");
    assert!(err.to_string().contains("offers[0].value"), "{err}");
    let mut formula = club(1.0, json!([]));
    formula["value"] = json!({ "margin": 1 });
    bad(formula, "offers[0].value");
    let mut no_title = club(1.0, json!([]));
    no_title.as_object_mut().unwrap().remove("title");
    bad(no_title, "offers[0].title");
    bad(club(1.0, json!([{ "inStock": true }])), "offers[0].eligibility[0]");
    bad(club(1.0, json!([{ "context": { "mood": "happy" } }])), "offers[0].eligibility[0].context.mood");
    bad(club(1.0, json!([{ "context": { "loggedIn": "no" } }])), "offers[0].eligibility[0].context.loggedIn");
    bad(club(1.0, json!([{ "cartGap": { "threshold": -5 } }])), "offers[0].eligibility[0].cartGap.threshold");
    bad(club(1.0, json!([{ "itemViewed": { "atLeast": 0 } }])), "offers[0].eligibility[0].itemViewed.atLeast");
    let gap = |threshold: Value| json!({ "id": "g", "kind": "fillTheGap", "threshold": threshold });
    bad(gap(json!(-1)), "offers[0].threshold");
    bad(gap(json!(0)), "offers[0].threshold");
    bad(json!({ "id": "g", "kind": "fillTheGap" }), "offers[0].threshold");
    bad(json!({ "id": "g", "kind": "fillTheGap", "threshold": 30, "count": 3 }), "offers[0].count");
    bad(json!({ "id": "x", "kind": "crossSell", "threshold": 30 }), "offers[0].threshold");
    let mut uncapped = club(1.0, json!([]));
    uncapped["caps"] = json!({ "channels": { "email": {} } });
    bad(uncapped, "offers[0].caps.channels.email");
    let mut unknown_channel = club(1.0, json!([]));
    unknown_channel["caps"] = json!({ "channels": { "fax": { "perWeek": 1 } } });
    bad(unknown_channel, "offers[0].caps.channels.fax");
}

/// The shipped policy's free-delivery gap filler (£30) on carts of real
/// items: what it adds takes the cart over the threshold, the message names
/// the gap, and a wider pool never overshoots more.
#[test]
fn the_gap_filler_takes_a_cart_over_the_threshold_with_the_least_overshoot() {
    let shipped: Value =
        serde_json::from_str(include_str!("../models/online-retail/policy.json")).expect("shipped policy");
    let gap_offer = |pool: usize| {
        let mut o = shipped["offers"].as_array().unwrap().iter().find(|o| o["id"] == "free-delivery").unwrap().clone();
        o["pool"] = json!(pool);
        o["eligibility"] = json!([{ "inStock": true }]);
        o
    };
    let probe = Engine::load(&default_bytes()).unwrap();
    let (a, b) = strong_pair(&probe);
    let price = |item: &str| probe.model().attributes.price[probe.model().catalog.row(item).unwrap() as usize] as f64;
    // Units of each item until the cart is £25 to £30: the shipped offer's
    // gap (at most £5, two or three of this store's typical items).
    let fill_to = |items: &[&str], target: f64| {
        let mut lines = Vec::new();
        let mut value = 0.0;
        while value < target {
            let item = items[lines.len() % items.len()];
            lines.push(item.to_string());
            value += price(item);
        }
        if value >= 30.0 {
            lines.pop();
        }
        lines
    };
    let mut offered = 0;
    for cart in [fill_to(&[&a], 25.0), fill_to(&[&a, &b], 25.5), fill_to(&[&b], 27.0)] {
        let mut overshoots = Vec::new();
        for pool in [1, 5, 20, 100] {
            let mut e = engine_with(&policy(json!([gap_offer(pool)])));
            for item in &cart {
                e.track_at("add_to_cart", item, T0).unwrap();
            }
            let d = ask(&mut e, "s", json!({}), T0);
            let Some(o) = d.offer.as_ref() else { continue };
            let fill = o.gap.unwrap();
            let price: f64 = o.items.iter().map(|i| (i.view.price as f64 * 100.0).round()).sum();
            let cart_cents = (fill.cart_value * 100.0).round();
            assert!(cart_cents + price >= 3000.0, "{cart:?}: {fill:?}");
            assert_eq!((cart_cents + price - 3000.0).round(), (fill.overshoot * 100.0).round());
            assert_eq!(o.message.as_deref(), Some(format!("Add £{:.2} for free delivery", fill.gap).as_str()));
            assert!((1..=2).contains(&o.items.len()));
            assert!(o.items.iter().all(|i| !cart.contains(&i.view.item)), "adds what the cart lacks");
            overshoots.push(fill.overshoot);
            offered += (pool >= 20) as usize;
        }
        assert!(overshoots.windows(2).all(|w| w[1] <= w[0] + 1e-9), "{cart:?}: {overshoots:?}");
    }
    assert_eq!(offered, 6, "from the 20 best-ranked items, every cart's gap is filled");
    // A cart at or over the threshold, or an empty one, has no gap to fill.
    let mut e = engine_with(&policy(json!([gap_offer(20)])));
    assert_eq!(trace(&ask(&mut e, "s", json!({}), T0), "free-delivery").verdict, Verdict::NoCandidates);
    for _ in 0..200 {
        e.track_at("add_to_cart", &a, T0).unwrap();
    }
    assert_eq!(trace(&ask(&mut e, "s", json!({}), T0), "free-delivery").verdict, Verdict::NoCandidates);
}

/// Server-side channels: `/v1/offer` with `context.channel`, the state
/// travelling with each call. A channel cap counts that channel only; a
/// plain cap counts every channel; `/v1/feedback` logs the take.
#[test]
fn channel_caps_hold_across_calls_in_the_state_the_caller_keeps() {
    let e = Engine::load(&default_bytes()).unwrap();
    let (a, _) = strong_pair(&e);
    let call = |path: &str, body: Value| -> Value {
        let r = edgerec::api::handle(e.store(), "POST", path, body.to_string().as_bytes(), 0.0);
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).unwrap()
    };
    let offer = |channel: &str, state: &Value, now: f64| {
        let mut body = json!({
            "events": [{ "type": "purchase", "item": a }], "slot": "message", "shopperKey": "crm-42",
            "context": { "channel": channel }, "now": now
        });
        if !state.is_null() {
            body["state"] = state.clone();
        }
        call("/v1/offer", body)
    };
    let first = offer("email", &Value::Null, T0);
    assert_eq!(first["decision"]["offer"]["id"], "weekly-pick", "{}", first["decision"]);
    let second = offer("email", &first["state"], T0 + DAY);
    assert_ne!(second["decision"]["offer"]["id"], "weekly-pick", "one offer email a week");
    let capped = second["decision"]["trace"][0]["caps"].as_array().unwrap().clone();
    assert!(capped.iter().any(|c| c["channel"] == "email" && c["passed"] == false), "{capped:?}");
    let push = offer("push", &second["state"], T0 + DAY);
    assert_eq!(push["decision"]["offer"]["id"], "weekly-pick", "push has caps of its own");
    let week_later = offer("email", &push["state"], T0 + 8.0 * DAY);
    assert_eq!(week_later["decision"]["offer"]["id"], "weekly-pick");

    // The agent console: the add-on shows only in the agent channel, and the
    // agent logs the customer's acceptance.
    let agent = call(
        "/v1/offer",
        json!({ "events": [{ "type": "purchase", "item": a }], "slot": "service", "shopperKey": "crm-42",
                "context": { "channel": "agent" }, "state": week_later["state"], "now": T0 + 9.0 * DAY }),
    );
    let add_on = &agent["decision"]["offer"];
    assert_eq!(add_on["id"], "agent-add-on", "{}", agent["decision"]);
    assert!(add_on["message"].as_str().unwrap().starts_with("Suggest"));
    let logged = call(
        "/v1/feedback",
        json!({ "slot": "service", "offer": "agent-add-on", "outcome": "click", "shopperKey": "crm-42",
                "state": agent["state"], "now": T0 + 9.0 * DAY + 1.0 }),
    );
    let last = logged["state"]["log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["offer"].as_str(), last["outcome"].as_str()), (Some("agent-add-on"), Some("click")));
    let web = call(
        "/v1/offer",
        json!({ "events": [{ "type": "purchase", "item": a }], "slot": "service", "shopperKey": "crm-42",
                "context": { "channel": "web" }, "now": T0 }),
    );
    assert_eq!(web["decision"]["offer"], Value::Null, "the add-on is for agents");
    let r = edgerec::api::handle(
        e.store(),
        "POST",
        "/v1/offer",
        json!({ "slot": "message", "shopperKey": "k", "context": { "channel": "fax" } }).to_string().as_bytes(),
        0.0,
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("INVALID_REQUEST") && r.body.contains("context.channel"), "{}", r.body);
}
