//! The `edgerec` command-line tool: builds and inspects bundles, and runs
//! the same ranking code that ships in the WASM module.

mod args;
mod build;
mod diff;
mod drift;
mod eval;
mod html;
mod inputs;
mod inspect;
mod parity;
mod patch;
mod prio3;
mod recommend;
mod release;
mod repack;
mod report;
mod rollout;
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
  edgerec repack BUNDLE [--table-format F] [--sessions FILE] [--tuned TUNED.json] [--catalog FILE.jsonl] [--out BUNDLE]
  edgerec patch BUNDLE --catalog FILE.jsonl --out PATCH.json
  edgerec set-policy BUNDLE --policy FILE.json [--out BUNDLE]
  edgerec recommend BUNDLE [--events view:ID,add_to_cart:ID,...] [--anchor ID] [--k N]
  edgerec parity ONNX FIXTURE.safetensors [--tolerance 1e-4]
  edgerec report --aggregates FILE.json [--out report.html]
  edgerec eval BUNDLE --test FILE [--train SESSIONS] [--catalog FILE.jsonl] [--published FILE.json] [--limit N]
  edgerec diff OLD.edgerec NEW.edgerec --test FILE [--limit N] [--max-drop PT]
                (exit status 3: NEW is worse offline)
  edgerec tune BUNDLE --valid FILE --out TUNED.json [--limit N] [--max-drop PT]
  edgerec release (--current BUNDLE --experiment NAME | --from RELEASE.json)
                  [--candidate BUNDLE --experiment NAME] [--canary SHARE] [--metric M]
                  [--current-url URL] [--candidate-url URL] [--out release.json]
  edgerec rollout --release RELEASE.json --aggregates FILE.json [--today YYYY-MM-DD]
                  [--out NEXT.json] [--html rollout.html]
  edgerec drift --aggregates FILE.json [--recent-days N] [--baseline-days N]
                [--unknown-threshold SHARE] [--out drift.html]
  edgerec prio3 keygen [--id N]
  edgerec prio3 task BUNDLE [--policy FILE.json] [--epsilon E] [--release-experiment NAME]";

fn main() -> ExitCode {
    let mut raw = std::env::args().skip(1);
    let command = raw.next().unwrap_or_default();
    let mut gate_failed = false;
    let result = Args::parse(raw).and_then(|args| match command.as_str() {
        "build" => build::run(&args),
        "inspect" => inspect::run(&args),
        "recommend" => recommend::run(&args),
        "repack" => repack::run(&args),
        "parity" => parity::run(&args),
        "patch" => patch::run(&args),
        "set-policy" => set_policy::run(&args),
        "report" => report::run(&args),
        "eval" => eval::run(&args),
        "diff" => diff::run(&args).map(|pass| gate_failed = !pass),
        "tune" => tune::run(&args),
        "release" => release::run(&args),
        "rollout" => rollout::run(&args),
        "drift" => drift::run(&args),
        "prio3" => prio3::run(&args),
        _ => {
            eprintln!("{USAGE}");
            Err(args::bad(format!("unknown command {command:?}")))
        }
    });
    match result {
        Ok(()) if gate_failed => ExitCode::from(3),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgerec: error [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}
