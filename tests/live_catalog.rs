//! The live catalog on the shipped default bundle: an item added after the
//! build is recommended (on its own page and on others'), prices and stock
//! from the host are honoured everywhere, an unknown anchor is never fatal,
//! and a refused update changes nothing.

mod common;

use edgerec::decide::OfferRequest;
use edgerec::{Engine, PageRequest, RecommendOptions};
use serde_json::{json, Value};

fn engine() -> Engine {
    Engine::load(&common::default_bytes()).unwrap()
}

/// A cake stand the bundle never saw, in the shopper's words only.
fn new_cake_stand() -> Value {
    json!({ "id": "NEW-CAKE-1", "title": "Pink Regency Cakestand 3 Tier", "category": "cake stand", "price": 14.95 })
}

fn page(e: &Engine, anchor: &str, k: usize) -> edgerec::Page {
    e.page(&PageRequest { k: Some(k), anchor: Some(anchor.into()), ..Default::default() }).unwrap()
}

fn ids(list: &[edgerec::rank::Recommendation]) -> Vec<String> {
    list.iter().map(|r| r.view.item.clone()).collect()
}

#[test]
fn an_added_item_is_placed_among_its_kind_and_recommended_on_its_own_page_and_on_others() {
    let mut e = engine();
    let items_before = e.model().catalog.len();
    let done = e.update_items(&json!([new_cake_stand()]).to_string()).unwrap();
    assert_eq!((done.added, done.changed, done.placed_from_content), (1, 0, 1));
    assert_eq!(e.model().catalog.len(), items_before + 1);

    // Its own page: no error, and its look-alikes are cake stands.
    let own = page(&e, "NEW-CAKE-1", 6);
    let similar = own.similar.unwrap();
    assert_eq!(similar.len(), 6);
    let stands = similar.iter().filter(|r| r.view.category == "cake stand").count();
    assert!(
        stands >= 4,
        "the new cake stand's similar items: {:?}",
        similar.iter().map(|r| &r.view.title).collect::<Vec<_>>()
    );
    assert!(!own.recommended.unwrap().is_empty());
    assert_eq!(own.stats.unknown_items, 0);

    // Others' pages: the Regency Cakestand (22423) lists it among its look-alikes.
    let regency = page(&e, "22423", 10);
    assert!(ids(regency.similar.as_ref().unwrap()).contains(&"NEW-CAKE-1".to_string()), "{:?}", regency.similar);
    // And a shopper browsing cake stands is recommended it.
    for id in ["22423", "22776", "22236", "21843"] {
        e.track("view", id).unwrap();
    }
    let recs = e.recommend(&RecommendOptions { k: Some(20), ..Default::default() }).unwrap();
    let added = recs.items.iter().find(|r| r.view.item == "NEW-CAKE-1").expect("the new cake stand is recommended");
    assert_eq!((added.view.title.as_str(), added.view.price), ("Pink Regency Cakestand 3 Tier", 14.95));
}

#[test]
fn an_unknown_anchor_is_counted_not_fatal_on_every_call() {
    let mut e = engine();
    e.track("view", "85123A").unwrap();
    let p = page(&e, "NOT-IN-THE-BUNDLE", 4);
    assert_eq!(p.stats.unknown_items, 1);
    assert_eq!(p.recommended.unwrap().len(), 4, "the page follows the session");
    let req = OfferRequest { slot: "product".into(), anchor: Some("NOT-IN-THE-BUNDLE".into()), ..Default::default() };
    e.next_best_offer(&req, 1.7e12).unwrap();
}

#[test]
fn prices_sales_and_stock_from_the_host_are_what_every_answer_shows() {
    let mut e = engine();
    e.track("add_to_cart", "85123A").unwrap();
    let before = e.price_cart(&Default::default(), 1.7e12).unwrap();
    e.update_items(r#"[{"id": "85123A", "price": 3.5, "salePrice": 2.0}]"#).unwrap();
    let after = e.price_cart(&Default::default(), 1.7e12).unwrap();
    assert_ne!(before.total, after.total);
    assert_eq!(after.total, 2.0);
    let view = e.model().view(e.model().catalog.row("85123A").unwrap());
    assert_eq!((view.price, view.regular_price), (2.0, Some(3.5)));
    // The sale ends: a price alone is what the shopper pays.
    e.update_items(r#"[{"id": "85123A", "price": 3.25}]"#).unwrap();
    let view = e.model().view(e.model().catalog.row("85123A").unwrap());
    assert_eq!((view.price, view.regular_price), (3.25, None));

    // An item out of stock never appears where the policy asks for stock:
    // mark every item the product slot offers out of stock, one by one.
    let mut e = engine();
    let (item, _) = common::strong_pair(&e);
    let req = OfferRequest { slot: "product".into(), anchor: Some(item.clone()), ..Default::default() };
    let mut marked = Vec::new();
    for round in 0..8 {
        let decision = e.next_best_offer(&req, 1.7e12 + round as f64).unwrap();
        let shown: Vec<String> = serde_json::to_value(&decision).unwrap()["offer"]["items"]
            .as_array()
            .map(|items| {
                items.iter().filter(|i| i["add"] == true).map(|i| i["item"].as_str().unwrap().to_string()).collect()
            })
            .unwrap_or_default();
        for id in &shown {
            assert!(!marked.contains(id), "round {round}: {id} is out of stock but offered");
        }
        let Some(first) = shown.first() else { break };
        e.update_items(&json!([{ "id": first, "inStock": false }]).to_string()).unwrap();
        marked.push(first.clone());
    }
    assert!(!marked.is_empty(), "the product slot offered items to mark");
}

#[test]
fn a_refused_update_names_the_item_and_field_and_changes_nothing() {
    let mut e = engine();
    e.track("view", "85123A").unwrap();
    let page_before = serde_json::to_string(&page(&e, "22423", 6)).unwrap();
    let dim = e.model().table.dim();
    let good = new_cake_stand();
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!([good, { "id": "22423", "price": -1 }]), "INVALID_ITEM", "\"22423\": price"),
        (json!([{ "id": "22423", "price": 5, "salePrice": 6 }]), "INVALID_ITEM", "salePrice"),
        (json!([{ "id": "22423", "margin": 1.5 }]), "INVALID_ITEM", "margin"),
        (json!([{ "id": "22423", "price": null }]), "INVALID_ITEM", "price is null"),
        (json!([{ "id": "22423", "colour": "red" }]), "INVALID_ITEM", "colour is not a field"),
        (json!([{ "id": "22423", "price": "cheap" }]), "INVALID_ITEM", "price invalid type"),
        (
            json!([good, { "id": "NEW-2", "title": "Mug", "price": 1, "row": vec![0.1; dim - 1] }]),
            "INVALID_ITEM",
            "row has",
        ),
        (json!([{ "id": "NEW-3", "title": "Mug", "price": 1, "row": vec![1e9; dim] }]), "INVALID_ITEM", "row holds"),
        (json!([{ "id": "NEW-4", "price": 1 }]), "INVALID_ITEM", "title an item the catalog lacks"),
        (json!([{ "id": "NEW-5", "title": "Mug" }]), "INVALID_ITEM", "price an item the catalog lacks"),
        (json!([good, good]), "INVALID_ITEM", "appears twice"),
        (json!([{ "price": 1 }]), "INVALID_ITEM", "items[0]"),
        (json!({ "id": "22423" }), "INVALID_OPTIONS", "array"),
    ];
    for (updates, code, says) in cases {
        let err = e.update_items(&updates.to_string()).unwrap_err();
        assert_eq!(err.code(), code, "{updates}: {err}");
        assert!(err.to_string().contains(says), "{updates}: {err} (wants {says:?})");
    }
    // A million updates: refused before any is read further.
    let million = format!("[{}]", vec![r#"{"id":"22423","price":1}"#; 1_000_000].join(","));
    assert_eq!(e.update_items(&million).unwrap_err().code(), "INVALID_OPTIONS");
    assert_eq!(e.model().catalog.row("NEW-CAKE-1"), None, "nothing of a refused update is applied");
    assert_eq!(serde_json::to_string(&page(&e, "22423", 6)).unwrap(), page_before);
}

#[test]
fn a_row_given_with_the_item_is_used_as_it_is() {
    let mut e = engine();
    let row: Vec<f32> = e.model().table.row(e.model().catalog.row("22423").unwrap()).to_vec();
    let mut item = new_cake_stand();
    item["row"] = json!(row);
    let done = e.update_items(&json!([item]).to_string()).unwrap();
    assert_eq!((done.added, done.placed_from_content), (1, 0));
    let added = e.model().catalog.row("NEW-CAKE-1").unwrap();
    let stored = e.model().table.row(added);
    assert!(stored.iter().zip(&row).all(|(a, b)| (a - b).abs() < 0.02), "stored as the table stores rows");
}

#[test]
fn a_request_filter_holds_on_every_list_slot_and_offer() {
    use edgerec::filter::ItemFilter;
    let mut e = engine();
    e.update_items(r#"[{"id": "22423", "brand": "Regency"}, {"id": "22699", "brand": "Regency"}]"#).unwrap();
    for id in ["85123A", "22423", "47566"] {
        e.track("view", id).unwrap();
    }
    let cheap_in_stock = ItemFilter { max_price: Some(2.0), in_stock: Some(true), ..Default::default() };
    let recs = e
        .recommend(&RecommendOptions { k: Some(20), filter: Some(cheap_in_stock.clone()), ..Default::default() })
        .unwrap();
    assert_eq!(recs.items.len(), 20);
    assert!(recs.items.iter().all(|r| r.view.price <= 2.0 && r.view.in_stock), "{:?}", recs.items);

    // A category page: only that kind, on every slot of a page (14 lunch
    // bags: the anchor, a set of up to 4 and three slots of 3 leave some for the last).
    let bags = ItemFilter { categories: vec!["lunch bag".into()], ..Default::default() };
    let p = e
        .page(&PageRequest {
            k: Some(3),
            anchor: Some("20725".into()),
            filter: Some(bags.clone()),
            ..Default::default()
        })
        .unwrap();
    let recommended = p.recommended.unwrap();
    assert!(!recommended.is_empty());
    for list in [&recommended, p.similar.as_ref().unwrap(), p.bought_together.as_ref().unwrap()] {
        assert!(list.iter().all(|r| r.view.category == "lunch bag"), "{list:?}");
    }
    for set in p.complete_the_set.unwrap() {
        assert!(set.items.iter().filter(|i| i.add).all(|i| i.view.category == "lunch bag"));
    }

    // Brands (from updateItems) and ids, in and out.
    let regency = ItemFilter { brands: vec!["Regency".into()], ..Default::default() };
    let only = e.recommend(&RecommendOptions { k: Some(5), filter: Some(regency), ..Default::default() }).unwrap();
    let only: Vec<String> = only.items.iter().map(|r| r.view.item.clone()).collect();
    assert!(!only.is_empty() && only.iter().all(|id| id == "22699"), "{only:?}");
    let no_regency =
        ItemFilter { exclude_brands: vec!["Regency".into()], exclude_ids: vec!["22697".into()], ..Default::default() };
    let rest = e.recommend(&RecommendOptions { k: Some(50), filter: Some(no_regency), ..Default::default() }).unwrap();
    assert!(rest.items.iter().all(|r| r.view.item != "22699" && r.view.item != "22697"));

    // nextBestOffer: what the filter or `exclude` leaves out is never offered.
    let (item, _) = common::strong_pair(&e);
    let req = OfferRequest { slot: "product".into(), anchor: Some(item.clone()), ..Default::default() };
    let offered = |d: &edgerec::decide::Decision| -> Vec<String> {
        serde_json::to_value(d).unwrap()["offer"]["items"]
            .as_array()
            .map(|items| {
                items.iter().filter(|i| i["add"] == true).map(|i| i["item"].as_str().unwrap().to_string()).collect()
            })
            .unwrap_or_default()
    };
    let first = offered(&e.next_best_offer(&req, 1.7e12).unwrap());
    assert!(!first.is_empty());
    let without = OfferRequest { exclude: first.clone(), ..req.clone() };
    let second = offered(&e.next_best_offer(&without, 1.7e12 + 1.0).unwrap());
    assert!(second.iter().all(|id| !first.contains(id)), "{first:?} then {second:?}");
    let pricey = OfferRequest { filter: Some(ItemFilter { min_price: Some(10.0), ..Default::default() }), ..req };
    let third = offered(&e.next_best_offer(&pricey, 1.7e12 + 2.0).unwrap());
    assert!(third.iter().all(|id| m_price(&e, id) >= 10.0), "{third:?}");

    // A bad filter is a coded error naming the field.
    for (bad, says) in [
        (ItemFilter { min_price: Some(5.0), max_price: Some(1.0), ..Default::default() }, "filter.minPrice"),
        (ItemFilter { max_price: Some(f32::NAN), ..Default::default() }, "filter.maxPrice"),
        (ItemFilter { ids: vec!["x".into(); 10_001], ..Default::default() }, "filter.ids"),
    ] {
        let err = e.recommend(&RecommendOptions { filter: Some(bad), ..Default::default() }).unwrap_err();
        assert_eq!(err.code(), "INVALID_OPTIONS");
        assert!(err.to_string().contains(says), "{err}");
    }
}

fn m_price(e: &Engine, id: &str) -> f32 {
    e.model().attributes.price[e.model().catalog.row(id).unwrap() as usize]
}

#[test]
fn items_placed_from_their_words_take_at_most_a_quarter_of_a_list_ahead_of_learned_ones() {
    let mut e = engine();
    // A catalog grown mostly new: a placed twin of each of the 300 best sellers.
    let m = e.model();
    let twins: Vec<Value> = m.popular.iter().take(300).enumerate().map(|(i, &r)| {
        json!({ "id": format!("TWIN-{i}"), "title": format!("New {}", m.title(r)), "category": m.category(r), "price": 1.0 })
    }).collect();
    e.update_items(&Value::Array(twins).to_string()).unwrap();
    for id in ["85123A", "22423", "47566"] {
        e.track("view", id).unwrap();
    }
    let recs = e.recommend(&RecommendOptions { k: Some(20), ..Default::default() }).unwrap();
    let new = recs.items.iter().filter(|r| r.view.item.starts_with("TWIN-")).count();
    assert_eq!(recs.items.len(), 20);
    assert!((1..=5).contains(&new), "{new} of 20 are placed twins");
    // A list of new items only (a filter) still fills: the rest follow, not dropped.
    let only_new =
        edgerec::filter::ItemFilter { ids: (0..300).map(|i| format!("TWIN-{i}")).collect(), ..Default::default() };
    let recs = e.recommend(&RecommendOptions { k: Some(20), filter: Some(only_new), ..Default::default() }).unwrap();
    assert_eq!(recs.items.len(), 20);
}

#[test]
fn a_promotion_keeps_its_share_of_places_for_the_items_it_names() {
    use edgerec::filter::ItemFilter;
    use edgerec::Promotion;
    let e = {
        let mut e = engine();
        for id in ["85123A", "22423", "47566"] {
            e.track("view", id).unwrap();
        }
        e
    };
    let plain = e.recommend(&RecommendOptions { k: Some(10), ..Default::default() }).unwrap();
    assert!(plain.items.iter().all(|r| r.view.category != "lunch bag" && r.promotion.is_none()));
    let bags = Promotion {
        name: "lunch-bags".into(),
        percent: 25,
        filter: ItemFilter { categories: vec!["lunch bag".into()], ..Default::default() },
    };
    let opts = RecommendOptions { k: Some(10), promotion: Some(bags.clone()), ..Default::default() };
    let promoted = e.recommend(&opts).unwrap().items;
    assert_eq!(promoted.len(), 10);
    // 25 % of 10, rounded up: three lunch bags, each marked and told, spread
    // so the i-th of three is no later than place (i + 1)·10 / 4.
    let places: Vec<usize> = promoted
        .iter()
        .enumerate()
        .filter(|(_, r)| r.promotion.as_deref() == Some("lunch-bags"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(places.len(), 3, "{promoted:?}");
    for (i, &place) in places.iter().enumerate() {
        assert!(place <= (i + 1) * 10 / 4, "promoted at {places:?}");
        let r = &promoted[place];
        assert_eq!(r.view.category, "lunch bag");
        assert_eq!((r.reasons[0].code, r.reasons[0].text.as_str()), ("promoted", "Featured by the store"));
    }
    // The other seven are the plain list's first seven, in order.
    let others: Vec<&str> = promoted.iter().filter(|r| r.promotion.is_none()).map(|r| r.view.item.as_str()).collect();
    let first_seven: Vec<&str> = plain.items.iter().take(7).map(|r| r.view.item.as_str()).collect();
    assert_eq!(others, first_seven);

    // Within the call's filter, and on a page's "recommended" slot.
    let cheap = ItemFilter { max_price: Some(1.0), ..Default::default() };
    let within = e.recommend(&RecommendOptions { filter: Some(cheap.clone()), ..opts.clone() }).unwrap().items;
    assert!(within.iter().all(|r| r.view.price <= 1.0), "{within:?}");
    let p = e
        .page(&PageRequest {
            k: Some(8),
            anchor: Some("22423".into()),
            promotion: Some(bags.clone()),
            ..Default::default()
        })
        .unwrap();
    let marked = p.recommended.unwrap().iter().filter(|r| r.promotion.is_some()).count();
    assert_eq!(marked, 2, "25 % of 8");

    // A promotion nothing matches keeps no places; bad values are coded errors naming the field.
    let none = Promotion {
        filter: ItemFilter { categories: vec!["no such kind".into()], ..Default::default() },
        ..bags.clone()
    };
    let full = e.recommend(&RecommendOptions { promotion: Some(none), ..opts.clone() }).unwrap().items;
    assert_eq!(full.len(), 10);
    for (bad, says) in [
        (Promotion { percent: 0, ..bags.clone() }, "promotion.percent"),
        (Promotion { name: String::new(), ..bags.clone() }, "promotion.name"),
        (
            Promotion { filter: ItemFilter { min_price: Some(-1.0), ..Default::default() }, ..bags.clone() },
            "promotion.filter.minPrice",
        ),
    ] {
        let err = e.recommend(&RecommendOptions { promotion: Some(bad), ..opts.clone() }).unwrap_err();
        assert_eq!(err.code(), "INVALID_OPTIONS");
        assert!(err.to_string().contains(says), "{err}");
    }
}

#[test]
fn a_v1_request_carries_its_own_item_updates_and_the_shared_store_keeps_none() {
    use edgerec::api::handle;
    let e = engine();
    let post = |path: &str, body: Value| {
        let reply = handle(e.store(), "POST", path, body.to_string().as_bytes(), 1.7e12);
        (reply.status, serde_json::from_str::<Value>(&reply.body).unwrap())
    };
    // A product the bundle lacks, sent with the request: its own page answers with cake stands.
    let (status, page) = post(
        "/v1/recommend",
        json!({ "anchor": "NEW-CAKE-1", "k": 4, "slots": ["similar"], "items": [new_cake_stand()],
                "events": [{ "type": "view", "item": "NEW-CAKE-1" }] }),
    );
    assert_eq!(status, 200, "{page}");
    let similar = page["similar"].as_array().unwrap();
    assert_eq!(similar.len(), 4);
    assert!(similar.iter().all(|r| r["category"] == "cake stand"), "{similar:?}");
    assert_eq!(page["stats"]["unknownItems"], 0);

    // A sale price from the host is what the cart charges, for that request only.
    let cart = |items: Option<Value>| {
        let mut body = json!({ "shopperKey": "s-1", "events": [{ "type": "add_to_cart", "item": "22423" }] });
        if let Some(items) = items {
            body["items"] = items;
        }
        post("/v1/cart", body)
    };
    let (_, on_sale) = cart(Some(json!([{ "id": "22423", "price": 12.75, "salePrice": 9.99 }])));
    let (_, plain) = cart(None);
    assert_eq!(on_sale["total"], 9.99, "{on_sale}");
    assert_eq!(plain["total"], 12.75, "{plain}");
    assert_eq!(m_price(&e, "22423"), 12.75, "the shared store is unchanged");

    // Out of stock in this request: never the product offer's item.
    let (item, partner) = common::strong_pair(&e);
    let offer = |items: Value| {
        post("/v1/offer", json!({ "slot": "product", "anchor": item, "shopperKey": "s-2", "items": items })).1
    };
    let shows = |d: &Value| d["decision"].to_string().contains(&format!("\"item\":\"{partner}\""));
    assert!(shows(&offer(json!([]))), "the partner is offered while in stock");
    assert!(!shows(&offer(json!([{ "id": partner, "inStock": false }]))));

    // A refused update refuses the request, naming the item and field.
    let (status, err) = post("/v1/recommend", json!({ "items": [{ "id": "22423", "price": -1 }] }));
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "INVALID_ITEM");
    assert!(err["error"]["message"].as_str().unwrap().contains("price"), "{err}");
}
