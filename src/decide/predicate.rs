//! One eligibility predicate, whole: as the store writes it (`Predicate`),
//! resolved against the catalog (`Cond`), checked (contradictions, depth,
//! rule cycles), named in a trace (`describe`) and evaluated for a shopper
//! (`Cond::holds`, with what it measured and what it says to the shopper).
//! A new predicate is added here and in `schema/policy.schema.json`.

use super::facts::Facts;
use super::gap::money;
use super::terms::{
    check_id, check_limit, invalid, ContextField, ContextMatch, ContextType, Range, MAX_AMOUNT, MAX_LIST,
};
use crate::error::Result;
use crate::model::Model;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Deepest a predicate nests inside `all`, `any` and `not`.
const MAX_DEPTH: usize = 16;

/// One eligibility condition, in one of two forms of one definition: as
/// the store writes it, `{"name": argument}` naming items, categories and
/// rules (`Predicate`, the defaults), or resolved against the catalog to
/// rows, category indexes and rule indexes (`Cond`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Predicate<Id = String, RuleRef = String> {
    /// Sum of price × quantity over the cart.
    CartValue(Range),
    /// Units in the cart.
    CartQuantity(Range),
    /// The cart holds an item of one of these categories.
    CategoryInCart(Vec<Id>),
    /// The session viewed an item of one of these categories.
    CategoryViewed(Vec<Id>),
    /// The cart holds one of these items.
    ItemInCart(Vec<Id>),
    /// The offered item is of one of these categories.
    Category(Vec<Id>),
    /// The offered item's price.
    Price(Range),
    /// The offered item's price over the focus item's price.
    PriceBand(Range),
    /// The offered item is (true) or is not (false) in stock.
    InStock(bool),
    /// The offered item is not in the cart and was not bought (true).
    NotOwned(bool),
    /// The host flagged the shopper with this segment.
    Segment(String),
    /// Page views (product views) this session.
    PageViews(Range),
    /// Seconds since this session's first decision or event.
    SecondsInSession(Range),
    /// Visits (sessions) so far, this one included.
    Visits(Range),
    /// The cart is under `threshold` by an amount within `min..=max`.
    CartGap(GapRange),
    /// Some item (of `items`, or any) was viewed at least `atLeast` times this session.
    ItemViewed(ViewCount<Id>),
    /// Items of some category (of `categories`, or any) were viewed at least
    /// `atLeast` times this session.
    CategoryViews(ViewCount<Id>),
    /// The request's host context: every named field matches (a string is
    /// equal, a list holds it, a range contains a number, a boolean is equal).
    Context(BTreeMap<String, ContextMatch>),
    All(Vec<Predicate<Id, RuleRef>>),
    Any(Vec<Predicate<Id, RuleRef>>),
    Not(Box<Predicate<Id, RuleRef>>),
    /// A named rule of the policy.
    Rule(RuleRef),
}

/// A predicate resolved against the catalog: what decisions evaluate.
pub type Cond = Predicate<u32, usize>;

/// How far the cart is under a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapRange {
    pub threshold: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl GapRange {
    pub fn range(&self) -> Range {
        Range { min: self.min, max: self.max }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ViewCount<Id = String> {
    pub at_least: u32,
    /// `itemViewed`: the items counted (any when absent).
    pub items: Option<Vec<Id>>,
    /// `categoryViews`: the categories counted (any when absent).
    pub categories: Option<Vec<Id>>,
}

/// An eligibility condition and how the trace names it.
#[derive(Debug, Clone)]
pub struct Check {
    pub cond: Cond,
    pub label: String,
}

impl Cond {
    /// Whether the condition holds for this shopper and the offered `item` (None
    /// for an action: a condition on the item never holds).
    pub fn holds(&self, shopper: &Facts, rules: &[Cond], item: Option<u32>) -> bool {
        let attrs = &shopper.model.attributes;
        let price = item.map_or(f64::NAN, |i| attrs.price[i as usize] as f64);
        match self {
            Cond::CartValue(r) => r.contains(shopper.cart_value),
            Cond::CartQuantity(r) => r.contains(shopper.cart_quantity as f64),
            Cond::CategoryInCart(cs) => cs.iter().any(|c| shopper.cart_categories.binary_search(c).is_ok()),
            Cond::CategoryViewed(cs) => cs.iter().any(|c| shopper.viewed_categories.binary_search(c).is_ok()),
            Cond::ItemInCart(rows) => rows.iter().any(|r| shopper.session.cart().contains(r)),
            Cond::Category(cs) => item.is_some_and(|i| cs.contains(&attrs.category[i as usize])),
            Cond::Price(r) => item.is_some() && r.contains(price),
            Cond::PriceBand(r) => match (item, shopper.focus) {
                (Some(_), Some(f)) if attrs.price[f as usize] > 0.0 => {
                    r.contains(price / attrs.price[f as usize] as f64)
                }
                _ => false,
            },
            Cond::InStock(want) => item.is_some_and(|i| (attrs.in_stock[i as usize] != 0) == *want),
            Cond::NotOwned(want) => item.is_some_and(|i| shopper.owns(i) != *want),
            Cond::Segment(s) => shopper.segments.iter().any(|x| x == s),
            Cond::PageViews(r) => r.contains(shopper.session.views() as f64),
            Cond::SecondsInSession(r) => r.contains(shopper.seconds_in_session),
            Cond::Visits(r) => r.contains(shopper.visits as f64),
            Cond::CartGap(g) => {
                let gap = shopper.cart_gap(g.threshold);
                gap > 0.0 && g.range().contains(gap)
            }
            Cond::ItemViewed(v) => shopper.item_views(v.items.as_deref()) >= v.at_least,
            Cond::CategoryViews(v) => shopper.category_views(v.categories.as_deref()) >= v.at_least,
            Cond::Context(fields) => fields.iter().all(|(k, m)| shopper.context.get(k).is_some_and(|v| v.matches(m))),
            Cond::All(cs) => cs.iter().all(|c| c.holds(shopper, rules, item)),
            Cond::Any(cs) => cs.iter().any(|c| c.holds(shopper, rules, item)),
            Cond::Not(c) => !c.holds(shopper, rules, item),
            Cond::Rule(i) => rules[*i].holds(shopper, rules, item),
        }
    }

    /// The measured value a trace shows beside a predicate, if it has one.
    pub fn detail(&self, shopper: &Facts, item: Option<u32>) -> Option<String> {
        let attrs = &shopper.model.attributes;
        match (self, item) {
            (Cond::CartValue(_), _) => Some(format!("cart value {:.2}", shopper.cart_value)),
            (Cond::CartQuantity(_), _) => Some(format!("{} units in cart", shopper.cart_quantity)),
            (Cond::CartGap(g), _) => Some(format!("{:.2} to go", shopper.cart_gap(g.threshold))),
            (Cond::PageViews(_), _) => Some(format!("{} page views", shopper.session.views())),
            (Cond::SecondsInSession(_), _) => Some(format!("{:.0} s in session", shopper.seconds_in_session)),
            (Cond::Visits(_), _) => Some(format!("visit {}", shopper.visits)),
            (Cond::ItemViewed(v), _) => Some(format!("{} views", shopper.item_views(v.items.as_deref()))),
            (Cond::CategoryViews(v), _) => Some(format!("{} views", shopper.category_views(v.categories.as_deref()))),
            (Cond::Context(fields), _) => Some(
                fields
                    .keys()
                    .map(|k| match shopper.context.get(k) {
                        Some(v) => format!("{k} {v}"),
                        None => format!("{k} not given"),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (Cond::Price(_), Some(i)) => Some(format!("price {:.2}", attrs.price[i as usize])),
            (Cond::PriceBand(_), Some(i)) => {
                shopper.focus.map(|f| format!("{:.2} / {:.2}", attrs.price[i as usize], attrs.price[f as usize]))
            }
            (Cond::Category(_), Some(i)) => Some(format!("item is a {}", shopper.model.category(i))),
            _ => None,
        }
    }

    /// A condition the shopper met, said to them ("You have looked at 5
    /// products this visit"); None for what a shopper would not read as a
    /// reason (segments, context, negations, item conditions).
    pub fn in_words(&self, shopper: &Facts, rules: &[Cond], currency: Option<&str>) -> Option<String> {
        if !self.holds(shopper, rules, None) {
            return None;
        }
        match self {
            Cond::PageViews(_) => Some(format!("You have looked at {} products this visit", shopper.session.views())),
            Cond::SecondsInSession(_) => {
                Some(format!("You have been browsing for {} minutes", (shopper.seconds_in_session / 60.0).round()))
            }
            Cond::Visits(r) if r.min.is_some_and(|m| m > 1.0) => Some("Welcome back".to_string()),
            Cond::CartGap(g) => Some(format!(
                "Your basket is {} away from {}",
                money(shopper.cart_gap(g.threshold), currency),
                money(g.threshold, currency)
            )),
            Cond::CartValue(_) | Cond::CartQuantity(_) => Some("What is in your basket".to_string()),
            Cond::ItemViewed(..) => Some("You came back to the same product".to_string()),
            Cond::CategoryViews(..) | Cond::CategoryViewed(_) => Some("What you have been browsing".to_string()),
            Cond::Rule(i) => rules[*i].in_words(shopper, rules, currency),
            Cond::All(cs) => cs.iter().find_map(|c| c.in_words(shopper, rules, currency)),
            _ => None,
        }
    }
}

/// Whether a condition reads the offered item (directly or through a rule).
fn reads_item(c: &Cond, rules: &[Cond]) -> bool {
    match c {
        Cond::Category(_) | Cond::Price(_) | Cond::PriceBand(_) | Cond::InStock(_) | Cond::NotOwned(_) => true,
        Cond::All(cs) | Cond::Any(cs) => cs.iter().any(|c| reads_item(c, rules)),
        Cond::Not(c) => reads_item(c, rules),
        Cond::Rule(i) => rules.get(*i).is_some_and(|r| reads_item(r, rules)),
        _ => false,
    }
}

pub(super) fn check_range(path: &str, r: &Range) -> Result<()> {
    for v in [r.min, r.max].into_iter().flatten() {
        if !(v.is_finite() && v >= 0.0) {
            return Err(invalid(path, "bounds must be finite numbers >= 0"));
        }
    }
    if let (Some(lo), Some(hi)) = (r.min, r.max) {
        if lo > hi {
            return Err(invalid(path, format!("contradictory: min {lo} > max {hi}")));
        }
    }
    Ok(())
}

/// Resolves a policy's predicates against the catalog: its named rules
/// first (`Resolver::rules`), then each offer's eligibility.
pub(super) struct Resolver<'a> {
    model: &'a Model,
    rule_index: HashMap<&'a str, usize>,
    /// Each rule's levels (`levels`), once the rules are resolved.
    rule_levels: Vec<usize>,
    /// The context fields the policy declares.
    pub context: &'a BTreeMap<String, ContextField>,
}

impl<'a> Resolver<'a> {
    /// Resolve the named rules: each id checked, none in a circle, each
    /// within the depth bound counting the rules it uses.
    pub(super) fn rules(
        model: &'a Model,
        named: &'a BTreeMap<String, Predicate>,
        context: &'a BTreeMap<String, ContextField>,
    ) -> Result<(Resolver<'a>, Vec<Cond>)> {
        let rule_index = named.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        let mut resolver = Resolver { model, rule_index, rule_levels: Vec::new(), context };
        let mut rules = Vec::with_capacity(named.len());
        for (name, p) in named {
            check_id(&format!("rules.{name}"), name)?;
            rules.push(resolver.cond(&format!("rules.{name}"), p, 0)?);
        }
        let names: Vec<&str> = named.keys().map(|k| k.as_str()).collect();
        resolver.rule_levels = rule_levels(&names, &rules)?;
        Ok((resolver, rules))
    }

    /// Resolve an offer's eligibility (at `path`), each condition named for
    /// the trace; an offer with no item (`item_free`) may not read one.
    pub(super) fn eligibility(
        &self,
        path: &str,
        predicates: &[Predicate],
        rules: &[Cond],
        item_free: bool,
    ) -> Result<Vec<Check>> {
        let mut checks = Vec::with_capacity(predicates.len());
        for (i, p) in predicates.iter().enumerate() {
            let at = format!("{path}[{i}]");
            let cond = self.cond(&at, p, 0)?;
            check_levels(&at, &cond, &self.rule_levels)?;
            if item_free && reads_item(&cond, rules) {
                return Err(invalid(at, "an action has no item: price, category, stock and ownership do not apply"));
            }
            checks.push(Check { cond, label: describe(p) });
        }
        let conds: Vec<Cond> = checks.iter().map(|c| c.cond.clone()).collect();
        check_satisfiable(path, &conds)?;
        Ok(checks)
    }

    pub(super) fn item(&self, path: &str, id: &str) -> Result<u32> {
        self.model.catalog.row(id).ok_or_else(|| invalid(path, format!("item {id:?} is not in the bundle's catalog")))
    }

    fn items(&self, path: &str, ids: &[String]) -> Result<Vec<u32>> {
        check_limit(path, ids.len(), MAX_LIST)?;
        if ids.is_empty() {
            return Err(invalid(path, "an empty list can never match"));
        }
        ids.iter().enumerate().map(|(i, id)| self.item(&format!("{path}[{i}]"), id)).collect()
    }

    /// A view count needs a count of at least 1 and lists only its own kind.
    fn view_count(&self, path: &str, v: &ViewCount, other: &str) -> Result<()> {
        if v.at_least == 0 {
            return Err(invalid(format!("{path}.atLeast"), "must be >= 1 (0 always holds)"));
        }
        let lists_other = if other == "items" { v.items.is_some() } else { v.categories.is_some() };
        if lists_other {
            return Err(invalid(format!("{path}.{other}"), format!("this count does not read {other}")));
        }
        Ok(())
    }

    /// Context matches, each on a declared field and of its type.
    fn context_match(
        &self,
        path: &str,
        fields: &BTreeMap<String, ContextMatch>,
    ) -> Result<BTreeMap<String, ContextMatch>> {
        if fields.is_empty() {
            return Err(invalid(path, "name at least one context field"));
        }
        let mut out = BTreeMap::new();
        for (name, m) in fields {
            let at = format!("{path}.{name}");
            let field = self.context.get(name).ok_or_else(|| {
                let declared: Vec<&str> = self.context.keys().map(String::as_str).collect();
                let declared = if declared.is_empty() { "none".to_string() } else { declared.join(", ") };
                invalid(&at, format!("the policy declares no context field {name:?} (declared: {declared})"))
            })?;
            let allowed = |v: &String| field.values.as_ref().is_none_or(|vs| vs.contains(v));
            match (field.kind, m) {
                (ContextType::Boolean, ContextMatch::Boolean(_)) => {}
                (ContextType::Number, ContextMatch::Number(r)) => check_range(&at, r)?,
                (ContextType::String, ContextMatch::Text(v)) if allowed(v) => {}
                (ContextType::String, ContextMatch::OneOf(vs)) if !vs.is_empty() && vs.iter().all(allowed) => {}
                (ContextType::String, ContextMatch::Text(_) | ContextMatch::OneOf(_)) => {
                    return Err(invalid(at, "a value the field does not declare (or an empty list)"));
                }
                (kind, _) => {
                    return Err(invalid(at, format!("context.{name} is declared a {}", kind.name())));
                }
            }
            out.insert(name.clone(), m.clone());
        }
        Ok(out)
    }

    fn categories(&self, path: &str, names: &[String]) -> Result<Vec<u32>> {
        check_limit(path, names.len(), MAX_LIST)?;
        if names.is_empty() {
            return Err(invalid(path, "an empty list can never match"));
        }
        let cats = &self.model.manifest.categories;
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                cats.iter()
                    .position(|c| c == n)
                    .map(|p| p as u32)
                    .ok_or_else(|| invalid(format!("{path}[{i}]"), format!("category {n:?} is not in the bundle")))
            })
            .collect()
    }

    fn cond(&self, path: &str, p: &Predicate, depth: usize) -> Result<Cond> {
        if depth > MAX_DEPTH {
            return Err(invalid(path, format!("predicates nest deeper than {MAX_DEPTH} levels")));
        }
        let range = |name: &str, r: &Range| check_range(&format!("{path}.{name}"), r).map(|_| *r);
        Ok(match p {
            Predicate::CartValue(r) => Cond::CartValue(range("cartValue", r)?),
            Predicate::CartQuantity(r) => Cond::CartQuantity(range("cartQuantity", r)?),
            Predicate::Price(r) => Cond::Price(range("price", r)?),
            Predicate::PriceBand(r) => Cond::PriceBand(range("priceBand", r)?),
            Predicate::CategoryInCart(c) => {
                Cond::CategoryInCart(self.categories(&format!("{path}.categoryInCart"), c)?)
            }
            Predicate::CategoryViewed(c) => {
                Cond::CategoryViewed(self.categories(&format!("{path}.categoryViewed"), c)?)
            }
            Predicate::Category(c) => Cond::Category(self.categories(&format!("{path}.category"), c)?),
            Predicate::ItemInCart(ids) => Cond::ItemInCart(self.items(&format!("{path}.itemInCart"), ids)?),
            Predicate::PageViews(r) => Cond::PageViews(range("pageViews", r)?),
            Predicate::SecondsInSession(r) => Cond::SecondsInSession(range("secondsInSession", r)?),
            Predicate::Visits(r) => Cond::Visits(range("visits", r)?),
            Predicate::CartGap(g) => {
                let p = format!("{path}.cartGap");
                if !(g.threshold.is_finite() && g.threshold > 0.0 && g.threshold <= MAX_AMOUNT) {
                    return Err(invalid(
                        format!("{p}.threshold"),
                        format!("must be a finite amount > 0 and <= {MAX_AMOUNT}"),
                    ));
                }
                check_range(&p, &g.range())?;
                Cond::CartGap(*g)
            }
            Predicate::ItemViewed(v) => {
                let p = format!("{path}.itemViewed");
                self.view_count(&p, v, "categories")?;
                let rows = match &v.items {
                    Some(ids) => Some(self.items(&format!("{p}.items"), ids)?),
                    None => None,
                };
                Cond::ItemViewed(ViewCount { at_least: v.at_least, items: rows, categories: None })
            }
            Predicate::CategoryViews(v) => {
                let p = format!("{path}.categoryViews");
                self.view_count(&p, v, "items")?;
                let cats = match &v.categories {
                    Some(c) => Some(self.categories(&format!("{p}.categories"), c)?),
                    None => None,
                };
                Cond::CategoryViews(ViewCount { at_least: v.at_least, items: None, categories: cats })
            }
            Predicate::Context(fields) => Cond::Context(self.context_match(&format!("{path}.context"), fields)?),
            Predicate::InStock(b) => Cond::InStock(*b),
            Predicate::NotOwned(b) => Cond::NotOwned(*b),
            Predicate::Segment(s) => {
                check_id(&format!("{path}.segment"), s)?;
                Cond::Segment(s.clone())
            }
            Predicate::All(ps) | Predicate::Any(ps) => {
                let name = if matches!(p, Predicate::All(_)) { "all" } else { "any" };
                let p2 = format!("{path}.{name}");
                check_limit(&p2, ps.len(), MAX_LIST)?;
                if ps.is_empty() {
                    return Err(invalid(p2, "an empty list is ambiguous; leave the predicate out"));
                }
                let conds = ps
                    .iter()
                    .enumerate()
                    .map(|(i, q)| self.cond(&format!("{p2}[{i}]"), q, depth + 1))
                    .collect::<Result<Vec<_>>>()?;
                if name == "all" {
                    check_satisfiable(&p2, &conds)?;
                    Cond::All(conds)
                } else {
                    Cond::Any(conds)
                }
            }
            Predicate::Not(q) => Cond::Not(Box::new(self.cond(&format!("{path}.not"), q, depth + 1)?)),
            Predicate::Rule(name) => Cond::Rule(
                *self
                    .rule_index
                    .get(name.as_str())
                    .ok_or_else(|| invalid(format!("{path}.rule"), format!("no rule is named {name:?}")))?,
            ),
        })
    }
}

/// negation, disjoint ranges of one measure, or stock both required and
/// refused.
fn check_satisfiable(path: &str, conds: &[Cond]) -> Result<()> {
    for c in conds {
        if let Cond::Not(inner) = c {
            if conds.contains(inner) {
                return Err(invalid(path, "contradictory: a condition and its negation must both hold"));
            }
        }
    }
    type Pick = fn(&Cond) -> Option<Range>;
    let measures: [(&str, Pick); 7] = [
        ("cartValue", |c| if let Cond::CartValue(r) = c { Some(*r) } else { None }),
        ("pageViews", |c| if let Cond::PageViews(r) = c { Some(*r) } else { None }),
        ("secondsInSession", |c| if let Cond::SecondsInSession(r) = c { Some(*r) } else { None }),
        ("visits", |c| if let Cond::Visits(r) = c { Some(*r) } else { None }),
        ("cartQuantity", |c| if let Cond::CartQuantity(r) = c { Some(*r) } else { None }),
        ("price", |c| if let Cond::Price(r) = c { Some(*r) } else { None }),
        ("priceBand", |c| if let Cond::PriceBand(r) = c { Some(*r) } else { None }),
    ];
    for (name, pick) in measures {
        let lo = conds.iter().filter_map(pick).filter_map(|r| r.min).fold(f64::NEG_INFINITY, f64::max);
        let hi = conds.iter().filter_map(pick).filter_map(|r| r.max).fold(f64::INFINITY, f64::min);
        if lo > hi {
            return Err(invalid(path, format!("contradictory: {name} must be >= {lo} and <= {hi}")));
        }
    }
    let stock: Vec<bool> =
        conds.iter().filter_map(|c| if let Cond::InStock(b) = c { Some(*b) } else { None }).collect();
    if stock.contains(&true) && stock.contains(&false) {
        return Err(invalid(path, "contradictory: inStock both true and false"));
    }
    Ok(())
}

/// Levels of evaluation a condition takes, the rules it uses included: checking
/// an offer recurses once a level, so this is what bounds the stack.
const MAX_LEVELS: usize = MAX_DEPTH + 1;

fn levels(c: &Cond, rule_levels: &[usize]) -> usize {
    match c {
        Cond::Rule(i) => 1 + rule_levels.get(*i).copied().unwrap_or(0),
        Cond::All(cs) | Cond::Any(cs) => 1 + cs.iter().map(|c| levels(c, rule_levels)).max().unwrap_or(0),
        Cond::Not(c) => 1 + levels(c, rule_levels),
        _ => 1,
    }
}

fn check_levels(path: &str, c: &Cond, rule_levels: &[usize]) -> Result<()> {
    let n = levels(c, rule_levels);
    if n > MAX_LEVELS {
        return Err(invalid(path, format!("nests {n} levels deep counting the rules it uses (at most {MAX_LEVELS})")));
    }
    Ok(())
}

/// Named rules may use each other, never in a circle, and each within
/// `MAX_LEVELS` counting the rules it uses; returns each rule's levels.
fn rule_levels(names: &[&str], rules: &[Cond]) -> Result<Vec<usize>> {
    fn refs(c: &Cond, out: &mut Vec<usize>) {
        match c {
            Cond::Rule(i) => out.push(*i),
            Cond::All(cs) | Cond::Any(cs) => cs.iter().for_each(|c| refs(c, out)),
            Cond::Not(c) => refs(c, out),
            _ => {}
        }
    }
    // None = not yet known; `path` holds the rules being resolved. A chain
    // of references longer than MAX_LEVELS is too deep whatever it holds,
    // so the search itself never goes deeper than that.
    fn visit(
        i: usize,
        rules: &[Cond],
        known: &mut [Option<usize>],
        path: &mut Vec<usize>,
        names: &[&str],
    ) -> Result<()> {
        if known[i].is_some() {
            return Ok(());
        }
        if let Some(start) = path.iter().position(|&p| p == i) {
            let cycle: Vec<&str> = path[start..].iter().chain([&i]).map(|&p| names[p]).collect();
            return Err(invalid(format!("rules.{}", names[i]), format!("rules form a cycle: {}", cycle.join(" → "))));
        }
        if path.len() >= MAX_LEVELS {
            return Err(invalid(
                format!("rules.{}", names[path[0]]),
                format!("uses rules more than {MAX_LEVELS} deep (at most {MAX_LEVELS} levels in all)"),
            ));
        }
        path.push(i);
        let mut next = Vec::new();
        refs(&rules[i], &mut next);
        for n in next {
            visit(n, rules, known, path, names)?;
        }
        path.pop();
        let resolved: Vec<usize> = known.iter().map(|k| k.unwrap_or(0)).collect();
        check_levels(&format!("rules.{}", names[i]), &rules[i], &resolved)?;
        known[i] = Some(levels(&rules[i], &resolved));
        Ok(())
    }
    let mut known = vec![None; rules.len()];
    for i in 0..rules.len() {
        visit(i, rules, &mut known, &mut Vec::new(), names)?;
    }
    Ok(known.into_iter().map(|k| k.unwrap_or(0)).collect())
}

/// How the trace names a predicate: short, readable by a merchandiser.
pub fn describe(p: &Predicate) -> String {
    fn range(name: &str, r: &Range) -> String {
        match (r.min, r.max) {
            (Some(lo), Some(hi)) => format!("{lo} <= {name} <= {hi}"),
            (Some(lo), None) => format!("{name} >= {lo}"),
            (None, Some(hi)) => format!("{name} <= {hi}"),
            (None, None) => format!("any {name}"),
        }
    }
    match p {
        Predicate::CartValue(r) => range("cart value", r),
        Predicate::CartQuantity(r) => range("cart quantity", r),
        Predicate::Price(r) => range("price", r),
        Predicate::PriceBand(r) => range("price / focus price", r),
        Predicate::CategoryInCart(c) => format!("cart holds a {}", c.join(" or ")),
        Predicate::CategoryViewed(c) => format!("viewed a {}", c.join(" or ")),
        Predicate::Category(c) => format!("item is a {}", c.join(" or ")),
        Predicate::ItemInCart(ids) => format!("cart holds item {}", ids.join(" or ")),
        Predicate::InStock(true) => "in stock".into(),
        Predicate::InStock(false) => "out of stock".into(),
        Predicate::NotOwned(true) => "not in cart or bought".into(),
        Predicate::NotOwned(false) => "in cart or bought".into(),
        Predicate::Segment(s) => format!("shopper in segment {s}"),
        Predicate::PageViews(r) => range("page views", r),
        Predicate::SecondsInSession(r) => range("seconds in session", r),
        Predicate::Visits(r) => range("visits", r),
        Predicate::CartGap(g) => range(&format!("gap to {}", g.threshold), &g.range()),
        Predicate::ItemViewed(v) => match &v.items {
            Some(ids) => format!("viewed item {} at least {} times", ids.join(" or "), v.at_least),
            None => format!("viewed an item at least {} times", v.at_least),
        },
        Predicate::CategoryViews(v) => match &v.categories {
            Some(c) => format!("viewed {} at least {} times", c.join(" or "), v.at_least),
            None => format!("viewed one category at least {} times", v.at_least),
        },
        Predicate::Context(fields) => fields
            .iter()
            .map(|(k, m)| match m {
                ContextMatch::Boolean(b) => format!("{k} is {b}"),
                ContextMatch::Text(t) => format!("{k} is {t}"),
                ContextMatch::OneOf(ts) => format!("{k} is {}", ts.join(" or ")),
                ContextMatch::Number(r) => range(k, r),
            })
            .collect::<Vec<_>>()
            .join(" and "),
        Predicate::All(ps) => format!("all of ({})", ps.iter().map(describe).collect::<Vec<_>>().join("; ")),
        Predicate::Any(ps) => format!("any of ({})", ps.iter().map(describe).collect::<Vec<_>>().join("; ")),
        Predicate::Not(q) => format!("not ({})", describe(q)),
        Predicate::Rule(n) => format!("rule {n}"),
    }
}
