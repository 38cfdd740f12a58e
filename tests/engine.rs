//! The engine end to end on the shipped default bundle.

mod common;

use common::{default_bytes, strong_pair};
use edgerec::{Engine, RecommendOptions, Tracked};

fn engine() -> Engine {
    Engine::load(&default_bytes()).unwrap()
}

fn opts(k: usize) -> RecommendOptions {
    RecommendOptions { k: Some(k), ..Default::default() }
}

#[test]
fn an_empty_session_gets_popular_items() {
    let recs = engine().recommend(&opts(5)).unwrap();
    assert_eq!(recs.items.len(), 5);
    assert!(!recs.stats.encoded);
    assert!(recs.items.iter().all(|r| r.reasons[0].code == "popular"));
    let pops: Vec<f32> = recs.items.iter().map(|r| r.parts.popularity).collect();
    assert!(pops.windows(2).all(|w| w[0] >= w[1]), "{pops:?}");
}

#[test]
fn a_cart_item_brings_its_co_purchases_with_reasons() {
    let mut e = engine();
    let (item, neighbour) = strong_pair(&e);
    assert_eq!(e.track("add_to_cart", &item).unwrap(), Tracked::Known);
    let recs = e.recommend(&opts(10)).unwrap();
    assert!(recs.stats.encoded);
    let hit = recs.items.iter().find(|r| r.view.item == neighbour).expect("the strongest neighbour is recommended");
    let reason = hit.reasons.iter().find(|r| r.code == "copurchase").expect("a co-purchase reason");
    // In the shopper's words; the figures are the store's, in `detail`.
    assert!(
        reason.text.starts_with("Often bought together with the ") && !reason.text.contains("lift"),
        "{}",
        reason.text
    );
    assert!(reason.detail.as_deref().is_some_and(|d| d.contains("lift ")), "{:?}", reason.detail);
    assert!(recs.items.iter().all(|r| r.view.item != item), "items in the cart are not recommended");
}

#[test]
fn the_session_model_changes_the_ranking() {
    let mut a = engine();
    let mut b = engine();
    let ids = &a.model().catalog.ids().to_vec();
    a.track("view", &ids[10]).unwrap();
    b.track("view", &ids[2000]).unwrap();
    let ra: Vec<String> = a.recommend(&opts(10)).unwrap().items.into_iter().map(|r| r.view.item).collect();
    let rb: Vec<String> = b.recommend(&opts(10)).unwrap().items.into_iter().map(|r| r.view.item).collect();
    assert_ne!(ra, rb);
}

#[test]
fn unknown_items_are_skipped_and_counted() {
    let mut e = engine();
    assert_eq!(e.track("view", "NO-SUCH-ITEM").unwrap(), Tracked::UnknownItem);
    let mut o = opts(3);
    o.anchor = Some("ALSO-UNKNOWN".into());
    o.exclude = vec!["NOPE".into()];
    let recs = e.recommend(&o).unwrap();
    assert_eq!(recs.items.len(), 3);
    assert_eq!(recs.stats.unknown_items, 3);
}

#[test]
fn bad_events_and_options_are_typed_errors_and_change_nothing() {
    let mut e = engine();
    let id = e.model().catalog.id(5).to_string();
    assert_eq!(e.track("click", &id).unwrap_err().code(), "INVALID_EVENT");
    assert_eq!(e.track("view", "").unwrap_err().code(), "INVALID_EVENT");
    assert_eq!(e.track("view", &"x".repeat(10_000)).unwrap_err().code(), "INVALID_EVENT");
    assert_eq!(e.session().events(), 0);
    assert_eq!(e.recommend(&opts(0)).unwrap_err().code(), "INVALID_OPTIONS");
    assert_eq!(e.recommend(&opts(100_000)).unwrap_err().code(), "INVALID_OPTIONS");
    assert_eq!(e.recommend(&opts(4)).unwrap().items.len(), 4);
}

#[test]
fn a_session_of_100k_events_stays_bounded_and_fast() {
    let mut e = engine();
    let ids = e.model().catalog.ids().to_vec();
    for i in 0..100_000 {
        let kind = if i % 10 == 0 { "add_to_cart" } else { "view" };
        e.track(kind, &ids[(i * 7919) % ids.len()]).unwrap();
    }
    assert_eq!(e.session().events(), 100_000);
    assert!(e.session().recent().len() <= edgerec::session::MAX_RECENT);
    let recs = e.recommend(&opts(10)).unwrap();
    assert_eq!(recs.items.len(), 10);
}

#[test]
fn anchor_and_exclusions_are_honoured() {
    let e = engine();
    let (item, neighbour) = strong_pair(&e);
    let o = RecommendOptions { k: Some(10), anchor: Some(item.clone()), ..Default::default() };
    let recs = e.recommend(&o).unwrap();
    assert!(recs.items.iter().any(|r| r.view.item == neighbour));
    assert!(recs.items.iter().all(|r| r.view.item != item));
    let o = RecommendOptions { exclude: vec![neighbour.clone()], ..o };
    assert!(e.recommend(&o).unwrap().items.iter().all(|r| r.view.item != neighbour));
}

#[test]
fn a_session_is_encoded_once_and_a_repeat_gives_the_encoders_own_answer() {
    // A session keeps the last encoding it was asked for: a page and an
    // offer for the same session state share one encoder run. Every answer
    // must be what an engine without that memo returns, whatever came in
    // between (new events, another anchor, the same state again).
    let mut e = engine();
    let ids: Vec<String> = e.model().catalog_entries().into_iter().take(6).map(|c| c.item).collect();
    let steps: Vec<(&str, Option<&str>)> = vec![
        (ids[0].as_str(), None),
        (ids[1].as_str(), None),
        (ids[1].as_str(), Some(ids[2].as_str())),
        (ids[1].as_str(), None),
        (ids[3].as_str(), Some(ids[2].as_str())),
        (ids[3].as_str(), Some(ids[2].as_str())),
    ];
    let mut seen: Vec<&str> = Vec::new();
    for (view, anchor) in steps {
        if seen.last() != Some(&view) {
            e.track("view", view).unwrap();
            seen.push(view);
        }
        let opts = RecommendOptions { k: Some(10), anchor: anchor.map(str::to_string), ..Default::default() };
        let mut fresh = engine();
        for v in &seen {
            fresh.track("view", v).unwrap();
        }
        assert_eq!(e.recommend(&opts).unwrap(), fresh.recommend(&opts).unwrap(), "after {seen:?}, anchor {anchor:?}");
    }
}

/// One session query serves a page and an offer (issue 16): the offer's
/// model part of an item is the probability the page's ranking shows for it.
#[test]
fn a_page_and_an_offer_share_one_softmax_and_one_focus() {
    let mut e = engine();
    let (a, _) = strong_pair(&e);
    e.track("view", &a).unwrap();
    let page = e.page(&edgerec::PageRequest { k: Some(20), ..Default::default() }).unwrap();
    let listed: std::collections::HashMap<String, f32> =
        page.recommended.unwrap().into_iter().map(|r| (r.view.item, r.parts.model)).collect();
    let policy = r#"{"version": 1, "id": "one-query", "offers": [
        {"id": "complement", "kind": "crossSell", "count": 1, "ranking": {"model": 1, "lift": 0, "margin": 0, "popularity": 0, "taken": 0}}],
        "slots": [{"id": "s", "placement": "productPage", "offers": ["complement"]}]}"#;
    e.use_policy(policy).unwrap();
    let offer =
        e.next_best_offer(&edgerec::decide::OfferRequest { slot: "s".into(), ..Default::default() }, 0.0).unwrap();
    let chosen = offer.offer.expect("a complement for a strong pair");
    let item = &chosen.items[0].view.item;
    let row = e.model().catalog.row(item).unwrap();
    let query = edgerec::query::SessionQuery::new(e.model(), e.session(), None, 0, 1.0).unwrap();
    assert_eq!(chosen.parts.model, query.probability(row), "{item}: the offer reads the query's softmax");
    if let Some(p) = listed.get(item) {
        assert_eq!(chosen.parts.model, *p, "{item}: the offer and the ranking read one softmax");
    }
    assert_eq!(query.focus, e.model().catalog.row(&a), "no anchor, no cart: the focus is the last view");
    // The model part is a probability over the model's pool: never above 1,
    // and the listed items' parts sum to at most 1.
    assert!(listed.values().sum::<f32>() <= 1.0 + 1e-5);
    assert!(chosen.parts.model > 0.0 && chosen.parts.model <= 1.0);
}

/// The blend is the model's: the bundle's manifest carries it, a policy's
/// `ranking` overrides it, and a bundle with a broken blend is refused.
#[test]
fn the_bundle_carries_the_blend_and_a_policy_may_override_it() {
    use edgerec::rank::BlendWeights;
    let mut b = common::default_bundle();
    b.policy_json = r#"{"version": 1}"#.into();
    let tuned = BlendWeights { model: 1.0, copurchase: 0.2, popularity: 0.0, recency: 1.0, revisit: 0.0 };
    b.manifest.blend = Some(tuned);
    let mut e = Engine::load(&b.to_bytes().unwrap()).unwrap();
    assert_eq!(e.weights(), tuned);
    e.use_policy(r#"{"version": 1, "id": "store", "ranking": {"model": 0.5, "copurchase": 1, "popularity": 0}}"#)
        .unwrap();
    assert_eq!(e.weights(), BlendWeights { model: 0.5, copurchase: 1.0, popularity: 0.0, recency: 1.0, revisit: 0.0 });
    e.use_policy(r#"{"version": 1, "id": "plain"}"#).unwrap();
    assert_eq!(e.weights(), tuned, "a policy without `ranking` keeps the bundle's blend");
    b.manifest.blend = Some(BlendWeights { model: f32::NAN, ..tuned });
    assert_eq!(Engine::load(&b.to_bytes().unwrap()).unwrap_err().code(), "BUNDLE_INVALID");
}

/// A blend with `revisit` brings viewed items back, the latest first and
/// with a reason in the shopper's words, only where a list may show them.
#[test]
fn the_revisit_part_brings_back_the_latest_views_where_allowed() {
    let mut e = engine();
    let ids: Vec<String> = e.model().catalog.ids().iter().take(300).step_by(100).cloned().collect();
    for id in &ids {
        e.track("view", id).unwrap();
    }
    e.use_policy(
        r#"{"version": 1, "id": "back", "ranking": {"model": 1, "copurchase": 0, "popularity": 0, "revisit": 2}}"#,
    )
    .unwrap();
    let again = RecommendOptions { include_viewed: true, ..opts(10) };
    let recs = e.recommend(&again).unwrap();
    let firsts: Vec<&str> = recs.items.iter().take(3).map(|r| r.view.item.as_str()).collect();
    assert_eq!(firsts, [&ids[2], &ids[1], &ids[0]], "the latest view first");
    let top = &recs.items[0];
    assert_eq!(top.parts.revisit, 1.0);
    assert_eq!(recs.items[1].parts.revisit, edgerec::rank::REVISIT_DECAY);
    assert_eq!(top.reasons[0].code, "viewed");
    assert_eq!(top.reasons[0].text, "You looked at this earlier");
    let fresh = e.recommend(&opts(10)).unwrap();
    assert!(fresh.items.iter().all(|r| !ids.contains(&r.view.item) && r.parts.revisit == 0.0), "viewed items stay out");
    e.use_policy(r#"{"version": 1, "id": "plain", "ranking": {"model": 1, "copurchase": 0, "popularity": 0}}"#)
        .unwrap();
    assert!(e.recommend(&again).unwrap().items.iter().all(|r| r.parts.revisit == 0.0), "revisit 0: no part");
}

/// The decisioning state and the report ledger are kept apart in the engine
/// and travel as one JSON object: a round trip keeps both, a state written
/// without a ledger has nothing pending, and a bad day is refused.
#[test]
fn the_stored_state_carries_decisions_and_ledger_in_one_object() {
    let mut e = engine();
    e.set_consent(true);
    let decision =
        e.next_best_offer(&edgerec::decide::OfferRequest { slot: "cart".into(), ..Default::default() }, 1.7e12);
    if let Ok(d) = decision {
        e.shown(d.id.unwrap(), 1.7e12).unwrap();
    }
    let exported = e.export_state();
    let json: serde_json::Value = serde_json::from_str(&exported).unwrap();
    assert!(json["ledger"]["consent"].as_bool().unwrap());
    let mut other = engine();
    other.import_state(&exported).unwrap();
    assert_eq!(other.export_state(), exported, "a round trip keeps state and ledger");
    let mut bare = json.clone();
    bare.as_object_mut().unwrap().remove("ledger");
    other.import_state(&bare.to_string()).unwrap();
    assert!(!other.privacy_status(1.7e12).consent, "no ledger: nothing consented, nothing pending");
    let mut bad = json.clone();
    bad["ledger"]["spent"] = serde_json::json!({"2026-02-30": 0.5});
    assert_eq!(other.import_state(&bad.to_string()).unwrap_err().code(), "INVALID_STATE");
    assert_eq!(other.export_state(), bare_export(&bare), "a refused import changed nothing");
}

fn bare_export(bare: &serde_json::Value) -> String {
    let mut e = engine();
    e.import_state(&bare.to_string()).unwrap();
    e.export_state()
}
