//! The `edgerec` command-line tool: builds and inspects bundles, and runs
//! the same ranking code that ships in the WASM module.

mod args;
mod build;
mod eval;
mod inputs;
mod inspect;
mod parity;
mod recommend;
mod repack;
mod report;
mod set_policy;
mod tune;

use args::Args;
use std::process::ExitCode;

const USAGE: &str = "usage:
  edgerec build --sessions FILE --table FILE --onnx FILE [--catalog FILE.jsonl]
                [--policy FILE.json] [--card FILE.json] [--min-support N]
                [--min-confidence X] [--min-lift X] [--max-neighbors N]
                [--table-format f32|f16|int8] [--tuned TUNED.json] --out BUNDLE
  edgerec inspect BUNDLE
  edgerec repack BUNDLE [--table-format F] [--sessions FILE] [--tuned TUNED.json] [--out BUNDLE]
  edgerec set-policy BUNDLE --policy FILE.json [--out BUNDLE]
  edgerec recommend BUNDLE [--events view:ID,add_to_cart:ID,...] [--anchor ID] [--k N]
  edgerec parity ONNX FIXTURE.safetensors [--tolerance 1e-4]
  edgerec report --aggregates FILE.json [--out report.html]
  edgerec eval BUNDLE --test FILE [--train SESSIONS] [--published FILE.json] [--limit N]
  edgerec tune BUNDLE --valid FILE --out TUNED.json [--limit N] [--max-drop PT]";

fn main() -> ExitCode {
    let mut raw = std::env::args().skip(1);
    let command = raw.next().unwrap_or_default();
    let result = Args::parse(raw).and_then(|args| match command.as_str() {
        "build" => build::run(&args),
        "inspect" => inspect::run(&args),
        "recommend" => recommend::run(&args),
        "repack" => repack::run(&args),
        "parity" => parity::run(&args),
        "set-policy" => set_policy::run(&args),
        "report" => report::run(&args),
        "eval" => eval::run(&args),
        "tune" => tune::run(&args),
        _ => {
            eprintln!("{USAGE}");
            Err(args::bad(format!("unknown command {command:?}")))
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgerec: error [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}
