//! The parsed graph checked against the model contract before tract builds
//! it (issue 36): only operators a session encoder uses, fragments that do
//! not call themselves, and the attributes that tract trusts (a GRU's
//! hidden size, axes) within range. What needs the tensors' ranks to check
//! is left to tract, whose checks are complete there.

use super::graph_text::MAX_INTEGER;
use crate::bundle::EncoderSpec;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use tract_nnef::ast::{Argument, Document, LValue, Literal, RValue, Subscript};

/// Operators of the contract: element-wise maths and logic, reductions,
/// products, shape changes that keep the element count, and the recurrent
/// and attention blocks. Not operators that size their output from an
/// attribute (`tile`, `pad`, `tract_core_broadcast`, `tract_core_range`,
/// `tract_core_one_hot`), sub-models or quantised kernels.
const OPERATORS: &[&str] = &[
    "abs",
    "acos",
    "acosh",
    "add",
    "and",
    "argmax_reduce",
    "argmin_reduce",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "ceil",
    "concat",
    "copy",
    "cos",
    "cosh",
    "div",
    "eq",
    "exp",
    "external",
    "floor",
    "ge",
    "gt",
    "le",
    "leaky_relu",
    "log",
    "lt",
    "matmul",
    "max",
    "max_reduce",
    "min",
    "min_reduce",
    "mul",
    "ne",
    "neg",
    "not",
    "or",
    "pow",
    "recip",
    "reshape",
    "round",
    "rsqrt",
    "select",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "slice",
    "softmax",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "sub",
    "sum_reduce",
    "tan",
    "tanh",
    "transpose",
    "unsqueeze",
    "unstack",
    "variable",
    "tract_core_cast",
    "tract_core_cumsum",
    "tract_core_dyn_slice",
    "tract_core_einsum",
    "tract_core_erf",
    "tract_core_external",
    "tract_core_gather",
    "tract_core_gelu_approx",
    "tract_core_gru_epilogue",
    "tract_core_gru_seq",
    "tract_core_hard_swish",
    "tract_core_is_inf",
    "tract_core_is_nan",
    "tract_core_log_softmax",
    "tract_core_lstm_epilogue",
    "tract_core_matmul",
    "tract_core_pow_const",
    "tract_core_product_reduce",
    "tract_core_rms_norm",
    "tract_core_round_even",
    "tract_core_scaled_rms_norm",
    "tract_core_scan",
    "tract_core_silu",
    "tract_core_softmax",
    "tract_core_trilu",
];
/// Operators tract reads two operands of without counting them (found by the fuzzer).
const BINARY: &[&str] =
    &["add", "sub", "mul", "div", "pow", "min", "max", "and", "or", "eq", "ne", "lt", "gt", "le", "ge"];
/// Fragments (tract writes one per scan body).
const MAX_FRAGMENTS: usize = 16;
/// A tensor's rank (NNEF's limit).
const MAX_RANK: i64 = 8;

/// The parameter names of an operator tract knows, in order (None for one
/// it does not declare): what a positional argument binds to.
pub type Parameters<'a> = &'a dyn Fn(&str) -> Option<Vec<String>>;

/// `MODEL_CONTRACT` naming the first operator, fragment or attribute refused.
/// An argument given by position is checked under the name it binds to
/// (`external(-1)` is `shape = -1`), as tract binds it.
pub fn check(doc: &Document, spec: &EncoderSpec, parameters: Parameters) -> Result<()> {
    let graph = &doc.graph_def;
    if graph.parameters.iter().map(|p| p.0.as_str()).ne([spec.input.as_str()]) {
        return Err(Error::contract(format!("the graph's inputs are not [{:?}]", spec.input)));
    }
    if graph.results.first().map(|r| r.0.as_str()) != Some(spec.output.as_str()) {
        return Err(Error::contract(format!("the graph's first output is not {:?}", spec.output)));
    }
    if doc.fragments.len() > MAX_FRAGMENTS {
        return Err(Error::contract(format!("{} fragments; the contract allows {MAX_FRAGMENTS}", doc.fragments.len())));
    }
    // Who calls whom: the graph as "", each fragment by its name.
    let mut calls: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for fragment in &doc.fragments {
        let name = fragment.decl.id.0.as_str();
        if OPERATORS.contains(&name) || calls.contains_key(name) {
            return Err(Error::contract(format!("fragment {name:?} is defined twice or shadows an operator")));
        }
        calls.insert(name, BTreeSet::new());
    }
    let declared = |op: &str| {
        let fragment = doc.fragments.iter().find(|f| f.decl.id.0 == op);
        fragment.map(|f| f.decl.parameters.iter().map(|p| p.id.0.clone()).collect()).or_else(|| parameters(op))
    };
    let bodies = doc.fragments.iter().map(|f| (f.decl.id.0.as_str(), f.body.as_deref().unwrap_or(&[])));
    for (caller, body) in bodies.chain([("", graph.body.as_slice())]) {
        let mut called = BTreeSet::new();
        let mut assigned = BTreeSet::new();
        for assignment in body {
            // NNEF assigns each tensor once; tract accepted a name assigned again,
            // in time that grew with the square of the repeats (880 took 1.5 s).
            if let Some(name) = assigned_twice(&assignment.left, &mut assigned) {
                return Err(Error::contract(format!("{name:?} is assigned twice (NNEF assigns each tensor once)")));
            }
            // tract wires an assignment under its first name, unchecked.
            if names_nothing(&assignment.left) {
                return Err(Error::contract("an assignment names no tensor"));
            }
            visit(&assignment.right, &mut |invoked, arguments| {
                if !OPERATORS.contains(&invoked) && !calls.contains_key(invoked) {
                    return Err(Error::contract(format!("operator {invoked:?} is not part of the encoder contract")));
                }
                if BINARY.contains(&invoked) && arguments.len() < 2 {
                    return Err(Error::contract(format!("{invoked} needs two operands")));
                }
                let names = declared(invoked).unwrap_or_default();
                let arguments: Vec<(Option<&str>, &RValue)> = arguments
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        (a.id.as_ref().map(|id| id.0.as_str()).or(names.get(i).map(String::as_str)), &a.rvalue)
                    })
                    .collect();
                check_attributes(invoked, &arguments)?;
                called.insert(invoked);
                called.extend(arguments.iter().filter(|a| a.0 == Some("body")).filter_map(|a| string(a.1)));
                Ok(())
            })?;
        }
        if caller.is_empty() {
            calls.insert("", called);
        } else if let Some(entry) = calls.get_mut(caller) {
            *entry = called;
        }
    }
    if let Some(cycle) = find_cycle(&calls) {
        return Err(Error::contract(format!("fragment {cycle:?} calls itself")));
    }
    Ok(())
}

/// The first name `left` assigns that `assigned` already holds (adding the others).
fn assigned_twice<'a>(left: &'a LValue, assigned: &mut BTreeSet<&'a str>) -> Option<&'a str> {
    match left {
        LValue::Identifier(id) => (!assigned.insert(id.0.as_str())).then_some(id.0.as_str()),
        LValue::Array(items) | LValue::Tuple(items) => items.iter().find_map(|item| assigned_twice(item, assigned)),
    }
}

/// Whether `left` (`a`, `(a, b)`, `[a]`) names no tensor at all: `()`, `[]`.
fn names_nothing(left: &LValue) -> bool {
    match left {
        LValue::Identifier(_) => false,
        LValue::Array(items) | LValue::Tuple(items) => items.iter().all(names_nothing),
    }
}

/// Each invocation in `value` (depth-first), with its arguments.
fn visit<'a>(value: &'a RValue, f: &mut impl FnMut(&'a str, &'a [Argument]) -> Result<()>) -> Result<()> {
    match value {
        RValue::Invocation(inv) => {
            f(inv.id.0.as_str(), &inv.arguments)?;
            inv.arguments.iter().try_for_each(|a| visit(&a.rvalue, f))
        }
        RValue::Binary(a, _, b) => visit(a, f).and_then(|_| visit(b, f)),
        RValue::Unary(_, a) => visit(a, f),
        RValue::Tuple(items) | RValue::Array(items) => items.iter().try_for_each(|v| visit(v, f)),
        RValue::Subscript(a, sub) => {
            visit(a, f)?;
            match sub.as_ref() {
                Subscript::Single(s) => visit(s, f),
                Subscript::Range(from, to) => from.iter().chain(to).try_for_each(|v| visit(v, f)),
            }
        }
        RValue::IfThenElse(ite) => [&ite.cond, &ite.then, &ite.otherwise].into_iter().try_for_each(|v| visit(v, f)),
        RValue::Comprehension(_) => Err(Error::contract("comprehensions are not part of the encoder contract")),
        RValue::Identifier(_) | RValue::Literal(_) => Ok(()),
    }
}

fn string(value: &RValue) -> Option<&str> {
    match value {
        RValue::Literal(Literal::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn integer(value: &RValue) -> Option<i64> {
    match value {
        RValue::Literal(Literal::Numeric(n)) => n.parse().ok(),
        RValue::Unary(op, v) if op == "-" => integer(v).map(|i| -i),
        _ => None,
    }
}

/// The integers of an array (or a one-element group), if it holds only integers.
fn integers(value: &RValue) -> Option<Vec<i64>> {
    match value {
        RValue::Array(items) | RValue::Tuple(items) => items.iter().map(integer).collect(),
        v => integer(v).map(|i| vec![i]),
    }
}

/// The attributes tract uses without checking them (each once panicked it).
fn check_attributes(op: &str, arguments: &[(Option<&str>, &RValue)]) -> Result<()> {
    let refuse = |what: &str, why: &str| Err(Error::contract(format!("{op}: {what} {why}")));
    for &(name, value) in arguments {
        let Some(name) = name else { continue };
        match name {
            "hidden" if !integer(value).is_some_and(|h| (1..=MAX_INTEGER as i64).contains(&h)) => {
                return refuse("hidden", "must be a positive size");
            }
            "axes" => {
                let Some(axes) = integers(value) else { return refuse("axes", "must be integers") };
                let mut seen = axes.clone();
                seen.sort_unstable();
                seen.dedup();
                if seen.len() != axes.len() || axes.iter().any(|a| !(0..MAX_RANK).contains(a)) {
                    return refuse("axes", &format!("{axes:?} must be distinct axes in 0..{MAX_RANK}"));
                }
                if op == "transpose" && seen != (0..axes.len() as i64).collect::<Vec<_>>() {
                    return refuse("axes", &format!("{axes:?} is not a permutation"));
                }
            }
            // tract asserts that every size it builds is non-negative; a reshape's -1 is "the rest".
            "shape" | "multiples" => {
                let least = if op == "reshape" { -1 } else { 0 };
                let size_or_symbol = |v: &RValue| match v {
                    RValue::Identifier(_) => true,
                    v => integer(v).is_some_and(|n| (least..=MAX_INTEGER as i64).contains(&n)),
                };
                let sizes = match value {
                    RValue::Array(items) | RValue::Tuple(items) => items.iter().all(size_or_symbol),
                    v => size_or_symbol(v),
                };
                if !sizes {
                    return refuse(name, &format!("must be sizes in {least}..={MAX_INTEGER} or symbols"));
                }
            }
            "axis" if !integer(value).is_some_and(|a| (-MAX_RANK..MAX_RANK).contains(&a)) => {
                return refuse("axis", &format!("must be an axis in -{MAX_RANK}..{MAX_RANK}"));
            }
            "expr" if op == "tract_core_einsum" => {
                let Some(expr) = string(value).filter(|e| einsum_is_plain(e)) else {
                    return refuse("expr", "must be plain einsum: letters, one per axis, every output axis an input's");
                };
                let inputs = arguments.first().map(|a| match a.1 {
                    RValue::Array(items) => items.len(),
                    _ => 0,
                });
                if inputs != Some(expr.split("->").next().unwrap_or("").split(',').count()) {
                    return refuse("expr", &format!("{expr:?} does not name one term per input"));
                }
            }
            // (body name, tensor, axis, chunk) for inputs; (name, "full"|"last", axis, chunk) for outputs.
            "scan" | "output" if op == "tract_core_scan" => {
                let RValue::Array(mappings) = value else { return refuse(name, "must be an array") };
                for mapping in mappings {
                    let RValue::Tuple(fields) = mapping else { return refuse(name, "must hold tuples") };
                    let (axis, chunk) = (fields.get(2).and_then(integer), fields.get(3).and_then(integer));
                    if !axis.is_some_and(|a| (0..MAX_RANK).contains(&a)) || chunk.is_none_or(|c| c == 0) {
                        return refuse(name, "needs an axis in 0..8 and a non-zero chunk");
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `ab,cb->ac`: each term at most `MAX_RANK` distinct letters, every output
/// letter an input's (what tract's einsum reads without further checks).
fn einsum_is_plain(expr: &str) -> bool {
    let Some((inputs, output)) = expr.split_once("->") else { return false };
    let term_ok = |t: &str| {
        t.len() <= MAX_RANK as usize
            && t.bytes().all(|b| b.is_ascii_lowercase())
            && t.bytes().collect::<BTreeSet<_>>().len() == t.len()
    };
    inputs.split(',').all(term_ok) && term_ok(output) && output.bytes().all(|b| inputs.as_bytes().contains(&b))
}

/// A fragment on a cycle of calls, if any (a depth-first search).
fn find_cycle<'a>(calls: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Option<&'a str> {
    fn on_cycle<'a>(
        node: &'a str,
        calls: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        open: &mut BTreeSet<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<&'a str> {
        if open.contains(node) {
            return Some(node);
        }
        if !done.insert(node) {
            return None;
        }
        open.insert(node);
        let found = calls.get(node).into_iter().flatten().find_map(|next| on_cycle(next, calls, open, done));
        open.remove(node);
        found
    }
    let (mut open, mut done) = (BTreeSet::new(), BTreeSet::new());
    calls.keys().find_map(|node| on_cycle(node, calls, &mut open, &mut done))
}
