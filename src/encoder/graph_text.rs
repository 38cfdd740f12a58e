//! Bounds on the graph text, checked by a scan of its tokens before tract's
//! parser sees it (issue 36). That parser recurses once per nesting level
//! (a bracket or a prefix operator) and tries each level twice, so its time
//! is exponential in nesting and its stack linear: 20 levels took 46 s and a
//! few thousand overflowed the WebAssembly stack. Each statement is bounded
//! here, and so is their number (building the graph is quadratic in it).

use crate::error::{Error, Result};

/// Brackets and prefix operators open at once in one statement (the shipped
/// graphs need 4; 8 parses in microseconds).
pub const MAX_NESTING: usize = 8;
/// Statements in the whole text (the shipped graphs have ~60). Each costs
/// tract's building even as an alias: 1,000 parenthesised aliases took 1.4 s to load
/// in WebAssembly.
pub const MAX_STATEMENTS: usize = 500;
/// Infix operators in one statement: each is a level of the expression tree
/// that evaluating it recurses through (the shipped graphs have at most 2;
/// six chains of 64 took 0.7 s to load in WebAssembly).
pub const MAX_OPERATORS: usize = 16;
/// Operations in the whole text (invocations and infix operators): each is
/// a node tract builds and optimises, the load's cost (the shipped graphs
/// have ~75; 943 statements of two took 0.7 s to load in WebAssembly;
/// the load at these bounds is in `npm run bench`, "Hostile loads").
pub const MAX_OPERATIONS: usize = 500;
/// Largest integer literal: more than any dimension, axis or index an
/// encoder within the contract needs, far from the 2³¹ that trips tract.
pub const MAX_INTEGER: u64 = 1 << 24;

/// What the scan keeps of one statement.
#[derive(Default)]
struct Statement {
    operators: usize,
    prefixes: usize,
}

/// Where the scan is: whether the next `+`, `-` or `!` is a prefix.
#[derive(PartialEq)]
enum After {
    Operand,
    Operator,
}

/// `MODEL_CONTRACT` naming the line of the first bound the text exceeds.
pub fn check(text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let (mut at, mut line) = (0, 1);
    let (mut depth, mut statements, mut operations) = (0usize, 0usize, 0usize);
    let mut current = Statement::default();
    let mut after = After::Operator;
    let refuse = |line: usize, what: String| Err(Error::contract(format!("graph.nnef line {line}: {what}")));
    while at < bytes.len() {
        let c = bytes[at];
        let next = bytes.get(at + 1).copied().unwrap_or(0);
        let starts_number = next.is_ascii_digit() || bytes[at + 1..].starts_with(b"inf");
        match c {
            b'\n' => line += 1,
            0x80.. => return refuse(line, "a character outside NNEF's grammar (not in a string)".into()),
            b' ' | b'\t' | b'\r' => {}
            b'#' => {
                at = text[at..].find('\n').map_or(bytes.len(), |n| at + n);
                continue;
            }
            b'"' | b'\'' => {
                at = string_end(bytes, at)
                    .ok_or_else(|| Error::contract(format!("graph.nnef line {line}: unterminated string")))?;
                after = After::Operand;
            }
            b'0'..=b'9' => {
                let end = number_end(bytes, at);
                check_integer(&text[at..end]).or_else(|m| refuse(line, m))?;
                at = end;
                after = After::Operand;
                continue;
            }
            b'-' if next == b'>' => {
                at += 2;
                after = After::Operator;
                continue;
            }
            b'-' if after == After::Operator && starts_number => {
                let end = if next == b'i' { at + 4 } else { number_end(bytes, at + 1) };
                check_integer(&text[at + 1..end]).or_else(|m| refuse(line, m))?;
                at = end;
                after = After::Operand;
                continue;
            }
            b'+' | b'-' | b'!' if after == After::Operator => current.prefixes += 1,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let end = at + bytes[at..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
                match &text[at..end] {
                    "for" | "yield" => {
                        return refuse(line, "comprehensions are not part of the encoder contract".into())
                    }
                    "if" | "else" | "in" => {
                        current.operators += 1;
                        after = After::Operator;
                    }
                    _ => after = After::Operand,
                }
                // An invocation: a name, maybe a generic `<scalar>`, then `(`.
                if matches!(bytes.get(end), Some(b'(' | b'<')) {
                    operations += 1;
                }
                at = end;
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                after = After::Operator;
            }
            b')' | b']' | b'}' => {
                depth = match depth.checked_sub(1) {
                    Some(d) => d,
                    None => return refuse(line, format!("unbalanced {:?}", c as char)),
                };
                after = After::Operand;
            }
            b',' | b':' | b'=' if next != b'=' => after = After::Operator,
            b';' => {
                statements += 1;
                if statements > MAX_STATEMENTS {
                    return refuse(line, format!("more than {MAX_STATEMENTS} statements"));
                }
                current = Statement::default();
                after = After::Operator;
            }
            _ => {
                // An infix operator (two-character ones count once).
                if matches!((c, next), (b'=' | b'!' | b'<' | b'>', b'=') | (b'&', b'&') | (b'|', b'|')) {
                    at += 1;
                }
                current.operators += 1;
                operations += 1;
                after = After::Operator;
            }
        }
        if depth + current.prefixes > MAX_NESTING {
            return refuse(line, format!("nests deeper than {MAX_NESTING} brackets and prefix operators"));
        }
        if operations > MAX_OPERATIONS {
            return refuse(line, format!("more than {MAX_OPERATIONS} operations in the graph"));
        }
        if current.operators > MAX_OPERATORS {
            return refuse(line, format!("a statement with more than {MAX_OPERATORS} operators"));
        }
        at += 1;
    }
    Ok(())
}

/// Index of the closing quote of the string opening at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            q if q == bytes[start] => return Some(at),
            _ => at += 1,
        }
    }
    None
}

/// End of the numeric literal starting at `start` (tract's grammar:
/// digits, an optional fraction and an optional exponent).
fn number_end(bytes: &[u8], start: usize) -> usize {
    let digits = |from: usize| from + bytes[from.min(bytes.len())..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut at = digits(start);
    if bytes.get(at) == Some(&b'.') {
        at = digits(at + 1);
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(at + 1), Some(b'+' | b'-')));
        if bytes.get(at + 1 + sign).is_some_and(u8::is_ascii_digit) {
            at = digits(at + 1 + sign);
        }
    }
    at
}

/// An integer literal (no fraction or exponent) within ±`MAX_INTEGER`.
fn check_integer(literal: &str) -> std::result::Result<(), String> {
    if literal.bytes().all(|b| b.is_ascii_digit()) && literal.parse::<u64>().map_or(true, |v| v > MAX_INTEGER) {
        return Err(format!("integer {literal} is larger than the contract's {MAX_INTEGER}"));
    }
    Ok(())
}
