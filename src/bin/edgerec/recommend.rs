//! `edgerec recommend`: the shipped ranking, from the command line.

use crate::args::{bad, Args};
use crate::inputs::read_file;
use edgerec::{Engine, RecommendOptions, Result};
use std::io::Write;

pub fn run(args: &Args) -> Result<()> {
    let path = args.positional.first().ok_or_else(|| bad("recommend needs a BUNDLE path".into()))?;
    let mut engine = Engine::load(&read_file(path)?)?;
    for event in args.opt("events").unwrap_or("").split(',').filter(|e| !e.is_empty()) {
        let (kind, item) = event.split_once(':').ok_or_else(|| bad(format!("event {event:?} is not TYPE:ID")))?;
        engine.track(kind, item)?;
    }
    let opts = RecommendOptions {
        k: Some(args.parsed("k", 10)?),
        anchor: args.opt("anchor").map(str::to_string),
        ..Default::default()
    };
    let recs = engine.recommend(&opts)?;
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{}", serde_json::to_string_pretty(&recs).unwrap_or_default());
    Ok(())
}
