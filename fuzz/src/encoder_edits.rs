//! The encoder target (issue 36): the shipped encoder's NNEF tar edited the
//! way a hostile or broken bundle would be (its graph text token by token,
//! its `.dat` headers field by field, its tar entries), then loaded. Every
//! edit reaches the readers: the input is an edit script, not bytes to
//! checksum. The load answers `Ok` or a coded error, never panics, and
//! returns within a bound (libFuzzer's `-timeout`, the smoke test's own).

use edgerec::bundle::{Bundle, EncoderSpec};
use edgerec::encoder::{EncoderBytes, EncoderFormat};
use std::io::Read;

/// A tar's plain files, in order.
pub fn tar_entries(tar: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(tar);
    let entries = archive.entries().expect("a tar");
    entries
        .map(|entry| {
            let mut entry = entry.expect("an entry");
            let name = entry.path().expect("a name").to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("its bytes");
            (name, bytes)
        })
        .collect()
}

/// A tar of `entries` (GNU headers: any name, as a hostile writer would).
pub fn tar_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        // `append_data` refuses `..`; a hostile tar need not.
        let name_field = &mut header.as_old_mut().name;
        let n = name.len().min(name_field.len());
        name_field[..n].copy_from_slice(&name.as_bytes()[..n]);
        header.set_cksum();
        builder.append(&header, bytes.as_slice()).expect("an in-memory tar");
    }
    builder.into_inner().expect("an in-memory tar")
}

/// The shipped bundle's encoder tar with `graph.nnef` replaced by `graph`.
pub fn with_graph(entries: &[(String, Vec<u8>)], graph: &str) -> Vec<u8> {
    let edited: Vec<_> = entries
        .iter()
        .map(|(name, bytes)| {
            (name.clone(), if name == "graph.nnef" { graph.as_bytes().to_vec() } else { bytes.clone() })
        })
        .collect();
    tar_of(&edited)
}

/// What an edit puts in place of a token: attribute values that once
/// tripped tract, names of operators in and out of the contract, brackets.
const TOKENS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "5",
    "7",
    "8",
    "9",
    "100",
    "300",
    "2147483647",
    "16777217",
    "-2147483648",
    "1e38",
    "inf",
    "0.5",
    "scan_body_0",
    "tract_core_properties",
    "sum_reduce",
    "transpose",
    "squeeze",
    "unsqueeze",
    "matmul",
    "tile",
    "pad",
    "tract_core_range",
    "tract_core_broadcast",
    "external",
    "variable",
    "hidden",
    "axes",
    "axis",
    "body",
    "\"full\"",
    "\"last\"",
    "L",
    "embeddings",
    "session",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    "=",
    "-",
    "!",
    "+",
    "*",
    "\"",
    ":",
    "#",
    "for",
    "i\"x\"",
];

/// Text spliced into the graph whole.
const SNIPPETS: &[&str] = &[
    "fragment f(x: tensor<scalar>) -> (y: tensor<scalar>) { y = f(x); }\n",
    "  extra = tile(session, multiples = [100000, 100000]);\n",
    "  extra = tract_core_range(0, 16777216, 1);\n",
    "  extra = [for i in [1, 2] yield i];\n",
    "  extra = add(session, session);\n",
    "version 1.0;\n",
];

/// Entry names a tar may carry besides the contract's.
const NAMES: &[&str] = &["graph.quant", "sub/graph.nnef", "../x.dat", "x.txt", "graph.nnef", "R.dat", ""];

/// Values a `.dat` header field is set to.
const FIELD_VALUES: &[u32] = &[0, 1, 2, 4, 5, 8, 9, 16, 32, 64, 100, 300, 1 << 29, 0x8000_0000, u32::MAX];

/// Reads an edit script's bytes, any length, as numbers.
struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn byte(&mut self) -> Option<usize> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b as usize)
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> Option<T> {
        let b = self.byte()?;
        from.get(b % from.len().max(1)).copied()
    }
}

/// A line's tokens: runs of word characters, runs of spaces, single others.
fn tokens(line: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    for c in line.chars() {
        match out.last_mut() {
            Some(last) if (word(c) && last.chars().all(word)) || (c == ' ' && last.chars().all(|l| l == ' ')) => {
                last.push(c)
            }
            _ => out.push(c.to_string()),
        }
    }
    out
}

/// The shipped encoder's tar after the edits `script` describes.
pub fn edited(base: &[(String, Vec<u8>)], script: &[u8]) -> Vec<u8> {
    let mut entries = base.to_vec();
    let graph_at = entries.iter().position(|e| e.0 == "graph.nnef").expect("the shipped encoder has a graph");
    let text = String::from_utf8(entries[graph_at].1.clone()).expect("the shipped graph is text");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut s = Script(script);
    while let Some(op) = s.byte() {
        let (Some(a), Some(b)) = (s.byte(), s.byte()) else { break };
        if lines.is_empty() {
            // Every line dropped: edits go on in one empty line.
            lines.push(String::new());
        }
        let line = (a << 8 | b) % lines.len();
        match op % 8 {
            0 | 1 => {
                let mut toks = tokens(&lines[line]);
                let (Some(at), Some(with)) = (s.byte(), s.pick(TOKENS)) else { break };
                if !toks.is_empty() {
                    let at = at % toks.len();
                    toks[at] = with.to_string();
                    lines[line] = toks.concat();
                }
            }
            2 => {
                // Nest a token: brackets or prefix operators, a few or thousands.
                let mut toks = tokens(&lines[line]);
                let (Some(at), Some(k)) = (s.byte(), s.byte()) else { break };
                let depth = if k >= 224 { (k - 223) * 100 } else { k % 24 };
                if !toks.is_empty() {
                    let at = at % toks.len();
                    let (open, close) = [("(", ")"), ("[", "]"), ("-", ""), ("!", "")][k % 4];
                    toks[at] = format!("{}{}{}", open.repeat(depth), toks[at], close.repeat(depth));
                    lines[line] = toks.concat();
                }
            }
            3 => {
                let Some(times) = s.byte() else { break };
                let copy = lines[line].clone();
                let at = line.min(lines.len());
                lines.splice(at..at, std::iter::repeat_n(copy, times * 8));
            }
            4 if !lines.is_empty() => {
                lines.remove(line);
            }
            5 => {
                let Some(snippet) = s.pick(SNIPPETS) else { break };
                lines.insert(line.min(lines.len()), snippet.to_string());
            }
            6 => {
                // A `.dat` header field: data size, rank, a dimension, bits, item type.
                let (Some(field), Some(value)) = (s.byte(), s.pick(FIELD_VALUES)) else { break };
                let dats: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].0.ends_with(".dat")).collect();
                if let Some(&i) = dats.get(line % dats.len().max(1)) {
                    let at = [4, 8, 12, 16, 20, 44, 48][field % 7];
                    let bytes = &mut entries[i].1;
                    if bytes.len() >= at + 4 {
                        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
                    }
                }
            }
            _ => {
                // A tar entry dropped, copied under another name, or cut short.
                let (Some(how), Some(name)) = (s.byte(), s.pick(NAMES)) else { break };
                let i = line % entries.len().max(1);
                match how % 3 {
                    0 if i != graph_at && i < entries.len() => drop(entries.remove(i)),
                    1 if i < entries.len() => entries.push((name.to_string(), entries[i].1.clone())),
                    _ if i < entries.len() && i != graph_at => entries[i].1.truncate(how * 4),
                    _ => {}
                }
            }
        }
    }
    let graph = lines.join("\n");
    let graph_at = entries.iter().position(|e| e.0 == "graph.nnef").unwrap_or(graph_at.min(entries.len()));
    if graph_at < entries.len() {
        entries[graph_at].1 = graph.into_bytes();
    }
    tar_of(&entries)
}

thread_local! {
    /// The shipped bundle's encoder, its entries and its contract.
    static BASE: (Vec<(String, Vec<u8>)>, EncoderSpec, usize, usize) = {
        let bundle = Bundle::from_bytes(&super::default_bundle()).expect("the default bundle");
        let m = &bundle.manifest;
        (tar_entries(&bundle.encoder.bytes), m.encoder.clone(), m.dim, m.max_seq_len)
    };
}

/// Load the edited encoder: a coded error or a working encoder, never a panic.
pub fn encoder(script: &[u8]) {
    BASE.with(|(entries, spec, dim, max_seq_len)| {
        let bytes = EncoderBytes { format: EncoderFormat::Nnef, bytes: edited(entries, script) };
        match edgerec::encoder::Encoder::load(&bytes, spec, *dim, *max_seq_len) {
            Ok(encoder) => {
                let encoded = encoder.encode(&vec![0.5; dim * 2]);
                assert!(encoded.is_ok() || encoded.is_err_and(|e| e.code() == "MODEL_RUN"));
            }
            Err(e) => assert!(matches!(e.code(), "MODEL_CONTRACT" | "BUNDLE_INVALID"), "{e}"),
        }
    })
}
