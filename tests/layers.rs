//! The house is one-way (docs/architecture.md, "Layers"): every module of
//! `src/` sits in a layer of the table there, a module imports only from its
//! own layer or the ones below, and the files import one another without a
//! circle. Read from the source text, the way a reviewer would: every path
//! through `crate::`, `super::` or `self::`, and the child modules a facade
//! names in its `use`s, followed through `pub use` re-exports to the file that
//! defines the item.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path inside the crate: `["decide", "compile"]`; the root is `[]`.
type ModPath = Vec<String>;

struct SourceFile {
    module: ModPath,
    tokens: Vec<String>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The library's files (`src/bin` is the CLI, a crate of its own on top).
fn source_files(dir: &Path, module: &[String], out: &mut Vec<SourceFile>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "bin" {
                source_files(&path, &[module, &[name]].concat(), out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = if name == "mod" || name == "lib" { module.to_vec() } else { [module, &[name]].concat() };
            let tokens = tokens(&std::fs::read_to_string(&path).unwrap());
            out.push(SourceFile { module, tokens });
        }
    }
}

/// Identifiers, `::` and single punctuation; comments, strings and chars dropped.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 1;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                i += 1;
            }
        } else if c == 'r' && (next == Some('"') || (next == Some('#') && chars.get(i + 2) == Some(&'"'))) {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            i += 2 + hashes;
            while i < chars.len() && !(chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|&h| h == '#')) {
                i += 1;
            }
            i += 1 + hashes;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || next == Some('\\')) {
            // A char literal ('x', '\n', '\u{1F}'); a lifetime has no closing quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && next == Some(':') {
            out.push("::".into());
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
            i += 1;
        }
    }
    out
}

/// Paths starting at `tokens[at]`: `a::b::{c, d::e}` gives `a::b::c` and
/// `a::b::d::e`; returns them and the index after the path.
fn paths_at(tokens: &[String], mut at: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        match tokens.get(at).map(String::as_str) {
            Some("{") => {
                let mut found = Vec::new();
                at += 1;
                while at < tokens.len() && tokens[at] != "}" {
                    if tokens[at] == "," {
                        at += 1;
                        continue;
                    }
                    let (inner, next) = paths_at(tokens, at);
                    found.extend(inner.into_iter().map(|p| [prefix.clone(), p].concat()));
                    at = next.max(at + 1);
                    // Skip `as name` and anything else up to the next item.
                    while at < tokens.len() && tokens[at] != "," && tokens[at] != "}" {
                        at += 1;
                    }
                }
                return (found, at + 1);
            }
            Some(t) if t.chars().all(|c| c.is_alphanumeric() || c == '_') || t == "*" => {
                prefix.push(t.to_string());
                at += 1;
                if tokens.get(at).map(String::as_str) == Some("::") {
                    at += 1;
                } else {
                    return (vec![prefix], at);
                }
            }
            _ => return (vec![prefix], at),
        }
    }
}

struct Crate {
    files: Vec<SourceFile>,
    modules: BTreeSet<ModPath>,
    /// Per module, `pub use` names and the absolute paths they stand for.
    reexports: BTreeMap<ModPath, BTreeMap<String, ModPath>>,
}

impl Crate {
    fn read() -> Crate {
        let mut files = Vec::new();
        source_files(&repo().join("src"), &[], &mut files);
        let modules = files.iter().map(|f| f.module.clone()).collect();
        let mut krate = Crate { files, modules, reexports: BTreeMap::new() };
        for f in &krate.files {
            let mut names = BTreeMap::new();
            for (i, t) in f.tokens.iter().enumerate() {
                if t == "use" && i > 0 && f.tokens[i - 1] == "pub" {
                    for path in krate.use_paths(f, i + 1) {
                        if let Some(last) = path.last() {
                            names.insert(last.clone(), path.clone());
                        }
                    }
                }
            }
            krate.reexports.insert(f.module.clone(), names);
        }
        krate
    }

    /// The absolute paths of the `use` item starting at `tokens[at]`.
    fn use_paths(&self, f: &SourceFile, at: usize) -> Vec<ModPath> {
        let (paths, _) = paths_at(&f.tokens, at);
        paths.into_iter().filter_map(|p| self.absolute(&f.module, &p, true)).collect()
    }

    /// `path` as written in `module`, from the crate root; None for other crates.
    fn absolute(&self, module: &ModPath, path: &[String], in_use: bool) -> Option<ModPath> {
        let (first, rest) = path.split_first()?;
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => module.clone(),
            "super" => module[..module.len().checked_sub(1)?].to_vec(),
            // A `use` of a child module by its bare name (a facade's `pub use read::…`).
            child if in_use && self.modules.contains(&[module.clone(), vec![child.to_string()]].concat()) => {
                return Some([module.clone(), path.to_vec()].concat());
            }
            _ => return None,
        };
        let mut rest = rest;
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
        Some([base, rest.to_vec()].concat())
    }

    /// The module that defines what `path` names, through re-exports.
    fn defining_module(&self, path: &[String]) -> ModPath {
        let mut path = path.to_vec();
        for _ in 0..16 {
            let module = (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|m| self.modules.contains(m)).unwrap();
            let Some(name) = path.get(module.len()) else { return module };
            match self.reexports.get(&module).and_then(|names| names.get(name)) {
                Some(target) if target != &path[..=module.len()] => {
                    path = [target.clone(), path[module.len() + 1..].to_vec()].concat();
                }
                _ => return module,
            }
        }
        path
    }

    /// Every import edge between two modules (an ancestor naming its own
    /// descendants, as a facade declares and re-exports them, is not one).
    fn edges(&self) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
        for f in &self.files {
            let t = &f.tokens;
            let mut found: Vec<ModPath> = Vec::new();
            // Inline modules (`mod tests { … }`) move what `self` and `super` mean.
            let (mut inline, mut depth, mut opened): (ModPath, usize, Vec<usize>) = (Vec::new(), 0, Vec::new());
            for i in 0..t.len() {
                let scope = [f.module.clone(), inline.clone()].concat();
                let after_sep = i > 0 && t[i - 1] == "::";
                match t[i].as_str() {
                    "{" => {
                        depth += 1;
                        if i >= 2 && t[i - 2] == "mod" {
                            inline.push(t[i - 1].clone());
                            opened.push(depth);
                        }
                    }
                    "}" => {
                        if opened.last() == Some(&depth) {
                            opened.pop();
                            inline.pop();
                        }
                        depth = depth.saturating_sub(1);
                    }
                    "use" => {
                        let (paths, _) = paths_at(t, i + 1);
                        found.extend(paths.iter().filter_map(|p| self.absolute(&scope, p, true)));
                    }
                    "crate" | "super" | "self" if !after_sep && t.get(i + 1).is_some_and(|s| s == "::") => {
                        let (paths, _) = paths_at(t, i);
                        found.extend(paths.iter().filter_map(|p| self.absolute(&scope, p, false)));
                    }
                    _ => {}
                }
            }
            for path in found {
                let target = self.defining_module(&path);
                if target != f.module && !target.starts_with(&f.module) {
                    edges.entry(f.module.clone()).or_default().insert(target);
                }
            }
        }
        edges
    }
}

fn name(m: &ModPath) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

/// The layer table of docs/architecture.md: `| n | `a`, `b` | job |` rows
/// under "## Layers", module name → layer number.
fn layer_table() -> BTreeMap<String, usize> {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let section = doc.split("\n## Layers").nth(1).expect("docs/architecture.md has a Layers section");
    let section = section.split("\n## ").next().unwrap();
    let mut table = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Ok(layer) = cells.get(1).unwrap_or(&"").parse::<usize>() else { continue };
        for module in cells[2].split(',').map(|m| m.trim().trim_matches('`')).filter(|m| !m.is_empty()) {
            assert!(table.insert(module.to_string(), layer).is_none(), "{module} is in two layers");
        }
    }
    table
}

#[test]
fn every_module_imports_only_from_its_layer_or_below() {
    let krate = Crate::read();
    let table = layer_table();
    let layer_of = |m: &ModPath| -> Option<usize> { m.first().and_then(|top| table.get(top)).copied() };
    let tops: BTreeSet<String> = krate.modules.iter().filter_map(|m| m.first().cloned()).collect();
    let unplaced: Vec<_> = tops.iter().filter(|m| !table.contains_key(*m)).collect();
    assert!(unplaced.is_empty(), "modules missing from docs/architecture.md's layer table: {unplaced:?}");
    let gone: Vec<_> = table.keys().filter(|m| !tops.contains(*m)).collect();
    assert!(gone.is_empty(), "the layer table names modules src/ does not have: {gone:?}");
    let mut upward = Vec::new();
    for (from, targets) in krate.edges() {
        for to in targets {
            if let (Some(a), Some(b)) = (layer_of(&from), layer_of(&to)) {
                if b > a {
                    upward.push(format!("{} (layer {a}) imports {} (layer {b})", name(&from), name(&to)));
                }
            }
        }
    }
    assert!(upward.is_empty(), "imports against the layer table:\n{}", upward.join("\n"));
}

#[test]
fn no_file_imports_round_in_a_circle() {
    let edges = Crate::read().edges();
    // Depth-first search; a back edge closes a circle, reported whole.
    fn visit(
        m: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        stack: &mut Vec<ModPath>,
        done: &mut BTreeSet<ModPath>,
    ) -> Option<Vec<ModPath>> {
        if let Some(at) = stack.iter().position(|s| s == m) {
            return Some([&stack[at..], std::slice::from_ref(m)].concat());
        }
        if done.contains(m) {
            return None;
        }
        stack.push(m.clone());
        for next in edges.get(m).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, stack, done) {
                return Some(circle);
            }
        }
        stack.pop();
        done.insert(m.clone());
        None
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        if let Some(circle) = visit(m, &edges, &mut Vec::new(), &mut done) {
            panic!("an import circle: {}", circle.iter().map(name).collect::<Vec<_>>().join(" → "));
        }
    }
}

#[test]
fn the_reader_sees_the_imports_it_checks() {
    // The edges this test stands on, read from files that must keep them.
    let edges = Crate::read().edges();
    let has = |from: &str, to: &str| {
        let path = |s: &str| s.split("::").map(str::to_string).collect::<ModPath>();
        edges.get(&path(from)).is_some_and(|t| t.contains(&path(to)))
    };
    assert!(has("engine", "store"), "a plain `use crate::…`");
    assert!(has("bundle::read", "bundle::manifest"), "through the facade's `pub use manifest::…`");
    assert!(has("encoder::graph_ops", "bundle::manifest"), "`crate::bundle::EncoderSpec`, re-exported");
    assert!(has("decide::cart", "decide::compiled"), "a sibling through `super::`");
    assert!(!has("bundle", "bundle::read"), "a facade naming its own children is not an edge");
}

#[test]
fn a_folders_facade_only_declares() {
    // A facade's naming of its own children is not counted as an import (it
    // would make every folder a circle), so a `mod.rs` that also held types or
    // logic its children import could hide one: it declares and re-exports only.
    let mut files = Vec::new();
    source_files(&repo().join("src"), &[], &mut files);
    let mut facades = 0;
    for dir in std::fs::read_dir(repo().join("src")).unwrap().map(|e| e.unwrap().path()) {
        let facade = dir.join("mod.rs");
        if !facade.exists() {
            continue;
        }
        facades += 1;
        let tokens = tokens(&std::fs::read_to_string(&facade).unwrap());
        let mut statements: Vec<Vec<&str>> = vec![Vec::new()];
        let mut depth = 0;
        let mut attribute = false;
        for t in &tokens {
            match t.as_str() {
                "#" if depth == 0 => attribute = true,
                "[" | "{" | "(" => depth += 1,
                "]" | "}" | ")" => {
                    depth -= 1;
                    if depth == 0 && attribute {
                        attribute = false;
                        continue;
                    }
                }
                _ => {}
            }
            if attribute {
                continue;
            }
            if t == ";" && depth == 0 {
                statements.push(Vec::new());
            } else {
                statements.last_mut().unwrap().push(t.as_str());
            }
        }
        for s in statements.iter().filter(|s| !s.is_empty()) {
            let rest = match s.as_slice() {
                ["pub", "(", "crate", ")", rest @ ..] | ["pub", rest @ ..] | rest => rest,
            };
            let declares = matches!(rest, ["mod", _] | ["use", ..]);
            assert!(declares, "{} holds more than declarations: {}", facade.display(), s.join(" "));
        }
    }
    assert!(facades >= 6, "the folders' facades were read ({facades})");
}
