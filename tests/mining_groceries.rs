//! Co-purchase mining against the arules reference on Groceries: the rule
//! {other vegetables} → {whole milk} has support 0.0748, confidence 0.3868,
//! lift 1.5136 (Hahsler et al., arules documentation).

mod common;

use edgerec::mining::{mine, MiningOptions};
use std::collections::HashMap;

#[test]
fn groceries_rules_match_arules() {
    let text = std::fs::read_to_string(common::shared_data("groceries/groceries.csv")).unwrap();
    let mut ids: HashMap<String, u32> = HashMap::new();
    let baskets: Vec<Vec<u32>> = text
        .lines()
        .map(|l| {
            l.split(',')
                .map(|name| {
                    let next = ids.len() as u32;
                    *ids.entry(name.trim().to_string()).or_insert(next)
                })
                .collect()
        })
        .collect();
    assert_eq!(baskets.len(), 9835);
    assert_eq!(ids.len(), 169);
    let opts =
        MiningOptions { min_support: 1, min_confidence: 0.0, min_lift: 0.0, max_neighbors: 200, max_basket: 100 };
    let m = mine(&baskets, ids.len(), &opts).unwrap();
    let (veg, milk) = (ids["other vegetables"], ids["whole milk"]);
    let cp = &m.copurchase;
    let j = cp.range(veg as usize).find(|&j| cp.neighbors[j] == milk).expect("the rule is mined");
    assert!((cp.support[j] as f32 / 9835.0 - 0.0748).abs() < 5e-4, "support {}", cp.support[j]);
    assert!((cp.confidence[j] - 0.3868).abs() < 5e-4, "confidence {}", cp.confidence[j]);
    assert!((cp.lift[j] - 1.5136).abs() < 5e-4, "lift {}", cp.lift[j]);
    assert!((m.popularity[milk as usize] - 0.2555).abs() < 5e-4);
}
