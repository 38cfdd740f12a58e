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
    assert!(reason.text.starts_with("often bought with ") && reason.text.contains("(lift "), "{}", reason.text);
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
    // The model keeps the last session it encoded: a page and an offer for
    // the same session state share one encoder run. A repeat must be what a
    // fresh model (no memo) returns, whatever came in between.
    let bytes = default_bytes();
    let model = edgerec::Model::load(&bytes).unwrap();
    let rows = model.manifest.item_count as u32;
    let sessions: Vec<Vec<u32>> =
        vec![vec![0, 1, 2], vec![0, 1, 2], vec![5], vec![0, 1, 2], vec![0, 1], vec![rows - 1, 3]];
    for rows in &sessions {
        let fresh = edgerec::Model::load(&bytes).unwrap();
        assert_eq!(model.encode_rows(rows).unwrap(), fresh.encode_rows(rows).unwrap(), "session {rows:?}");
    }
}
