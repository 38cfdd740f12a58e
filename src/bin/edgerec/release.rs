//! `edgerec release`: write the release file for a store's bundles. The
//! first one names the current bundle; each week's names a new candidate
//! for a canary (`--from` the live release keeps its current bundle, its
//! settings and history). Version ids, dimension and catalog are read off
//! the bundles, so the file cannot name what the bundles are not.

use crate::args::{bad, Args};
use crate::inputs::{read_file, read_text, write_file};
use edgerec::bundle::{version_of, Bundle};
use edgerec::release::{BundleRef, Release};
use edgerec::Result;

/// The reference a release keeps of the bundle at `path`, served at `url`.
fn bundle_ref(path: &str, url: Option<&str>) -> Result<BundleRef> {
    let bytes = read_file(path)?;
    let bundle = Bundle::from_bytes(&bytes)?;
    let file_name = std::path::Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or(path);
    Ok(BundleRef {
        url: url.unwrap_or(file_name).to_string(),
        version: version_of(&bytes),
        dim: bundle.manifest.dim,
        catalog: bundle.manifest.model_card.dataset.clone(),
    })
}

pub fn run(args: &Args) -> Result<()> {
    let mut release = match (args.opt("from"), args.opt("current")) {
        (Some(from), None) => Release::parse(&read_text(from)?)?,
        (None, Some(path)) => Release::new(args.required("experiment")?, bundle_ref(path, args.opt("current-url"))?),
        _ => return Err(bad("release needs --current BUNDLE (a first release) or --from RELEASE.json".into())),
    };
    if let Some(experiment) = args.opt("experiment") {
        release.experiment = experiment.to_string();
    }
    if let Some(metric) = args.opt("metric") {
        release.metric = serde_json::from_value(serde_json::Value::String(metric.into())).map_err(|_| {
            bad(format!("--metric must be one of revenuePerVisitor, conversion, attachRate, takeRate, not {metric:?}"))
        })?;
    }
    if let Some(path) = args.opt("candidate") {
        if args.opt("from").is_some() && args.opt("experiment").is_none() {
            return Err(bad("a new candidate needs a new --experiment name (it re-draws the canary)".into()));
        }
        release.candidate = Some(bundle_ref(path, args.opt("candidate-url"))?);
        release.canary_share = args.parsed("canary", release.steps[0])?;
        (release.started, release.step_started) = (None, None);
    }
    release.check()?;
    let out = args.opt("out").unwrap_or("release.json");
    let text = serde_json::to_string_pretty(&release).map_err(|e| bad(e.to_string()))?;
    write_file(out, text + "\n")?;
    let candidate = release.candidate.as_ref().map_or("none".to_string(), |c| format!("{} ({})", c.url, c.version));
    println!(
        "release -> {out}: current {} ({}), candidate {candidate}, canary {:.0} %",
        release.current.url,
        release.current.version,
        100.0 * release.canary_share
    );
    Ok(())
}
