//! "Add £3.20 for free delivery": the item, or pair, among the items the
//! model ranks well, that brings the cart over a threshold with the least
//! overshoot. Amounts in whole cents, as the cart prices them.

use serde::Serialize;

/// How a gap filler reaches its threshold (amounts in the catalog's currency).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GapFill {
    pub threshold: f64,
    pub cart_value: f64,
    /// What the cart lacks before the items are added.
    pub gap: f64,
    /// How far past the threshold the items take it.
    pub overshoot: f64,
}

impl GapFill {
    pub fn new(threshold_cents: i64, cart_cents: i64, overshoot_cents: i64) -> GapFill {
        let amount = |c: i64| c as f64 / 100.0;
        GapFill {
            threshold: amount(threshold_cents),
            cart_value: amount(cart_cents),
            gap: amount(threshold_cents - cart_cents),
            overshoot: amount(overshoot_cents),
        }
    }
}

/// The pick of `ranked` (rows and their prices in cents, best-ranked
/// first) that covers `gap` cents with the least overshoot: one item, or a
/// pair when `max_items` is 2. Ties go to fewer items, then to the better
/// ranked. Returns the positions in `ranked` and the overshoot.
pub fn least_overshoot(gap: i64, ranked: &[(u32, i64)], max_items: usize) -> Option<(Vec<usize>, i64)> {
    // (overshoot, items, rank sum) orders the picks; smaller is better.
    let mut best: Option<((i64, usize, usize), Vec<usize>)> = None;
    let mut consider = |picks: Vec<usize>, total: i64| {
        if total < gap {
            return;
        }
        let key = (total - gap, picks.len(), picks.iter().sum());
        if best.as_ref().is_none_or(|(k, _)| key < *k) {
            best = Some((key, picks));
        }
    };
    for (i, &(_, price)) in ranked.iter().enumerate() {
        consider(vec![i], price);
        if max_items >= 2 {
            for (j, &(_, other)) in ranked.iter().enumerate().skip(i + 1) {
                consider(vec![i, j], price.saturating_add(other));
            }
        }
    }
    best.map(|((overshoot, _, _), picks)| (picks, overshoot))
}

/// The offer's message with `{gap}` (and `{threshold}`) filled in, as the
/// store's currency writes them; "Add … for free delivery" by default.
pub fn message(template: Option<&str>, fill: &GapFill, currency: Option<&str>) -> String {
    let template = template.unwrap_or("Add {gap} for free delivery");
    template.replace("{gap}", &money(fill.gap, currency)).replace("{threshold}", &money(fill.threshold, currency))
}

/// An amount with its currency's symbol where the symbol is unambiguous
/// (£3.20, €3.20, $3.20), else with its code (3.20 CHF), else bare.
pub fn money(amount: f64, currency: Option<&str>) -> String {
    match currency {
        Some("GBP") => format!("£{amount:.2}"),
        Some("EUR") => format!("€{amount:.2}"),
        Some("USD") => format!("${amount:.2}"),
        Some(code) => format!("{amount:.2} {code}"),
        None => format!("{amount:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_overshoot_wins_then_fewer_items_then_rank() {
        let ranked = [(10, 500), (11, 250), (12, 120), (13, 100), (14, 330)];
        // Gap 3.20: a single 3.30 overshoots 0.10; 2.50 + 1.00 = 3.50 overshoots 0.30.
        assert_eq!(least_overshoot(320, &ranked, 2), Some((vec![4], 10)));
        // Gap 3.70: 2.50 + 1.20 is exact.
        assert_eq!(least_overshoot(370, &ranked, 2), Some((vec![1, 2], 0)));
        // Singles only: 5.00 is the one that reaches 3.70.
        assert_eq!(least_overshoot(370, &ranked, 1), Some((vec![0], 130)));
        // Nothing reaches 9.00.
        assert_eq!(least_overshoot(900, &ranked, 2), None);
        // A tie in overshoot: the single beats the pair, the better rank the worse.
        assert_eq!(least_overshoot(250, &[(1, 130), (2, 120), (3, 250)], 2), Some((vec![2], 0)));
        assert_eq!(least_overshoot(100, &[(1, 100), (2, 100)], 2), Some((vec![0], 0)));
    }

    #[test]
    fn messages_name_the_gap_in_the_store_currency() {
        let fill = GapFill::new(3000, 2680, 0);
        assert_eq!(fill.gap, 3.2);
        assert_eq!(message(None, &fill, Some("GBP")), "Add £3.20 for free delivery");
        assert_eq!(
            message(Some("{gap} more for a gift over {threshold}"), &fill, None),
            "3.20 more for a gift over 30.00"
        );
        assert_eq!(money(3.2, Some("CHF")), "3.20 CHF");
    }
}
