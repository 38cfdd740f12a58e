//! Page slots and the HTTP endpoint on the shipped default bundle.

mod common;

use common::{default_bytes, strong_pair};
use edgerec::api::{handle, MAX_BODY_BYTES, MAX_EVENTS};
use edgerec::page::PageSlot;
use edgerec::{Engine, PageRequest};
use serde_json::{json, Value};

/// Host time of the requests (ms).
const NOW: f64 = 1.7e12;

fn engine() -> Engine {
    Engine::load(&default_bytes()).unwrap()
}

fn post(e: &Engine, body: &Value) -> (u16, Value) {
    let reply = handle(e.store(), "POST", "/v1/recommend", body.to_string().as_bytes(), NOW);
    (reply.status, serde_json::from_str(&reply.body).expect("every reply is JSON"))
}

#[test]
fn a_product_page_fills_every_slot_around_its_item() {
    let e = engine();
    let (anchor, _) = strong_pair(&e);
    let page = e.page(&PageRequest { anchor: Some(anchor.clone()), k: Some(6), ..Default::default() }).unwrap();

    let similar = page.similar.unwrap();
    assert_eq!(similar.len(), 6);
    assert!(similar.iter().all(|r| r.view.item != anchor && r.reasons[0].code == "similar"));
    assert!(similar.windows(2).all(|w| w[0].score >= w[1].score), "cosine order");
    assert!(similar.iter().all(|r| r.score <= 1.0001 && r.score > 0.0));

    let together = page.bought_together.unwrap();
    assert!(!together.is_empty());
    assert!(together.windows(2).all(|w| w[0].parts.copurchase >= w[1].parts.copurchase));
    let reason = &together[0].reasons[0];
    assert!(reason.text.starts_with("Often bought together with the "), "{reason:?}");
    assert!(reason.detail.as_deref().is_some_and(|d| d.contains("% of the orders holding it, lift ")), "{reason:?}");

    let bundles = page.complete_the_set.unwrap();
    assert!(!bundles.is_empty());
    for b in &bundles {
        assert_eq!(b.items[0].view.item, anchor, "a bundle starts from the item on screen");
        assert!(!b.items[0].add && b.items[1..].iter().all(|i| i.add));
        assert!(b.items.len() >= 2 && b.items.len() <= 4);
        let sum: f32 = b.items.iter().map(|i| i.view.price).sum();
        assert!((b.total_price - sum).abs() < 1e-3);
    }
    assert!(bundles.windows(2).all(|w| w[0].score >= w[1].score));
    assert_eq!(page.recommended.unwrap().len(), 6);
}

/// One item, one place: the first set, then bought together, similar and
/// recommended each leave out what a slot before them shows, and what the
/// host excludes (the page's offer) is in none of them.
#[test]
fn a_page_shows_each_item_once_in_the_stated_priority() {
    let e = engine();
    let mut checked = 0;
    for anchor in e.model().catalog_entries().into_iter().take(60).map(|c| c.item) {
        let all = |exclude: Vec<String>| {
            e.page(&PageRequest { anchor: Some(anchor.clone()), k: Some(6), exclude, ..Default::default() }).unwrap()
        };
        let page = all(Vec::new());
        let ids = |items: &Option<Vec<edgerec::rank::Recommendation>>| -> Vec<String> {
            items.iter().flatten().map(|r| r.view.item.clone()).collect()
        };
        let set: Vec<String> = page
            .complete_the_set
            .iter()
            .flatten()
            .take(1)
            .flat_map(|b| b.items.iter().map(|i| i.view.item.clone()))
            .collect();
        let mut seen: Vec<String> = set.clone();
        for slot in [ids(&page.bought_together), ids(&page.similar), ids(&page.recommended)] {
            for id in &slot {
                assert!(!seen.contains(id), "{id} twice on the page of {anchor}");
            }
            seen.extend(slot);
        }
        // Each list is still full where the catalog has enough to show.
        assert_eq!(page.similar.as_ref().map(Vec::len), Some(6));
        assert_eq!(page.recommended.as_ref().map(Vec::len), Some(6));
        // The offer's items, excluded by the host, appear nowhere.
        let offer: Vec<String> = ids(&page.similar).into_iter().take(2).collect();
        let without = all(offer.clone());
        let set_items =
            without.complete_the_set.iter().flatten().flat_map(|b| b.items.iter().skip(1).map(|i| &i.view.item));
        let shown: Vec<&String> = [&without.bought_together, &without.similar, &without.recommended]
            .into_iter()
            .flatten()
            .flatten()
            .map(|r| &r.view.item)
            .chain(set_items)
            .collect();
        assert!(offer.iter().all(|o| !shown.contains(&o)), "{offer:?} excluded on the page of {anchor}");
        checked += usize::from(!set.is_empty());
    }
    assert!(checked >= 10, "{checked} pages had a set");
}

#[test]
fn only_the_slots_asked_for_are_filled() {
    let mut e = engine();
    let (item, _) = strong_pair(&e);
    e.track("add_to_cart", &item).unwrap();
    let page = e.page(&PageRequest { slots: Some(vec![PageSlot::BoughtTogether]), ..Default::default() }).unwrap();
    assert!(!page.bought_together.unwrap().is_empty());
    assert!(page.recommended.is_none() && page.similar.is_none() && page.complete_the_set.is_none());
}

#[test]
fn slots_react_to_the_session() {
    let mut e = engine();
    let (a, b) = strong_pair(&e);
    let before = e.page(&PageRequest::default()).unwrap();
    e.track("view", &a).unwrap();
    e.track("add_to_cart", &b).unwrap();
    let after = e.page(&PageRequest::default()).unwrap();
    assert_ne!(before.recommended, after.recommended);
    // Without an anchor, item slots follow the cart's last item.
    let together = after.bought_together.unwrap();
    let b_title = &e.model().title(e.model().catalog.row(&b).unwrap()).to_string();
    assert!(!together.is_empty());
    assert!(together.iter().all(|r| r.view.item != b && r.reasons[0].text.contains(b_title.as_str())));
    assert!(after.complete_the_set.unwrap().iter().all(|x| x.items[0].view.item == b));
}

#[test]
fn the_endpoint_answers_what_the_engine_computes() {
    let mut e = engine();
    let (a, b) = strong_pair(&e);
    let body =
        json!({ "events": [{ "type": "view", "item": a }, { "type": "add_to_cart", "item": b, "ts": 1.5 }], "k": 4 });
    let (status, page) = post(&e, &body);
    assert_eq!(status, 200, "{page}");
    e.track("view", &a).unwrap();
    e.track("add_to_cart", &b).unwrap();
    let local = e.page(&PageRequest { k: Some(4), ..Default::default() }).unwrap();
    let local: Value = serde_json::from_str(&serde_json::to_string(&local).unwrap()).unwrap();
    assert_eq!(page, local);
    assert_eq!(page["recommended"].as_array().unwrap().len(), 4);
}

#[test]
fn bad_requests_are_4xx_with_a_code_and_a_message() {
    let e = engine();
    let (a, _) = strong_pair(&e);
    let cases: Vec<(&[u8], u16, &str)> = vec![
        (b"{\"events\": [", 400, "INVALID_REQUEST"),
        (b"not json", 400, "INVALID_REQUEST"),
        (b"\xff\xfe", 400, "INVALID_REQUEST"),
        (br#"{"events": [{"type": "click", "item": "x"}]}"#, 400, "INVALID_EVENT"),
        (br#"{"events": [{"type": "view"}]}"#, 400, "INVALID_REQUEST"),
        (br#"{"events": [], "colour": "red"}"#, 400, "INVALID_REQUEST"),
        (br#"{"k": 0}"#, 400, "INVALID_OPTIONS"),
        (br#"{"slots": ["everything"]}"#, 400, "INVALID_REQUEST"),
        (br#"{"events": [{"type": "view", "item": "NO-SUCH-ITEM"}]}"#, 422, "UNKNOWN_ITEM"),
    ];
    for (body, status, code) in cases {
        let reply = handle(e.store(), "POST", "/v1/recommend", body, NOW);
        let v: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!((reply.status, v["error"]["code"].as_str().unwrap_or("")), (status, code), "{}", reply.body);
        assert!(v["error"]["message"].as_str().unwrap().len() > 10);
    }
    let unknown =
        handle(e.store(), "POST", "/v1/recommend", br#"{"events": [{"type": "view", "item": "NO-SUCH-ITEM"}]}"#, NOW);
    assert!(unknown.body.contains("NO-SUCH-ITEM"), "the message names the unknown id: {}", unknown.body);
    // An anchor the catalog lacks (a product newer than the bundle) is counted, never fatal.
    let anchor = handle(e.store(), "POST", "/v1/recommend", br#"{"anchor": "NO-SUCH-ITEM", "k": 2}"#, NOW);
    let v: Value = serde_json::from_str(&anchor.body).unwrap();
    assert_eq!((anchor.status, &v["stats"]["unknownItems"]), (200, &json!(1)), "{}", anchor.body);

    let big = vec![b' '; MAX_BODY_BYTES + 1];
    assert_eq!(handle(e.store(), "POST", "/v1/recommend", &big, NOW).status, 413);
    let many: Vec<Value> = (0..=MAX_EVENTS).map(|_| json!({ "type": "view", "item": a })).collect();
    assert_eq!(post(&e, &json!({ "events": many })).0, 400);
    assert_eq!(handle(e.store(), "GET", "/v1/recommend", b"", NOW).status, 405);
    assert_eq!(handle(e.store(), "GET", "/nope", b"", NOW).status, 404);
    assert_eq!(handle(e.store(), "GET", "/v1/health", b"", NOW).status, 200);
}

#[test]
fn skip_unknown_serves_the_known_part_of_a_session() {
    let e = engine();
    let (a, _) = strong_pair(&e);
    let body = json!({ "events": [{ "type": "view", "item": "NEW-ITEM" }, { "type": "view", "item": a }], "skipUnknown": true });
    let (status, page) = post(&e, &body);
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["stats"]["unknownItems"], 1);
    assert_eq!(page["stats"]["sessionLength"], 1);
}

#[test]
fn similar_items_are_of_the_items_kind_unless_the_store_asks_for_any() {
    let e = engine();
    // The journeys a shopper tried: a cake stand, a lunch bag, a doormat.
    for (anchor, kind) in [("22423", "cake stand"), ("20725", "lunch bag"), ("48187", "doormat")] {
        let req = PageRequest {
            k: Some(5),
            anchor: Some(anchor.into()),
            slots: Some(vec![PageSlot::Similar]),
            ..Default::default()
        };
        let similar = e.page(&req).unwrap().similar.unwrap();
        assert_eq!(similar.len(), 5);
        let kinds: Vec<&str> = similar.iter().map(|r| r.view.category.as_str()).collect();
        assert!(kinds.iter().all(|k| *k == kind), "{anchor}: {kinds:?}");
        let any = e.page(&PageRequest { similar_any_kind: true, ..req }).unwrap().similar.unwrap();
        if anchor == "22423" {
            assert!(
                any.iter().any(|r| r.view.category != kind),
                "any kind: the embedding's neighbours of the cake stand"
            );
        }
    }
    // A kind with fewer items than asked for is filled from the nearest of other kinds, after it.
    let m = e.model();
    let (lone, _) = (0..m.catalog.len() as u32)
        .map(|r| (r, m.rows_in_category(m.attributes.category[r as usize]).len()))
        .find(|&(_, n)| n == 1)
        .expect("a kind with one item");
    let req = PageRequest {
        k: Some(4),
        anchor: Some(m.item_id(lone).into()),
        slots: Some(vec![PageSlot::Similar]),
        ..Default::default()
    };
    assert_eq!(e.page(&req).unwrap().similar.unwrap().len(), 4);
}
