//! `edgerec drift --aggregates FILE.json [--recent-days 1] [--baseline-days 7]
//! [--unknown-threshold 0.05] [--out drift.html]`: whether the shoppers or
//! the catalog moved away from the model (`aggregates::drift`), printed and as
//! a page with the two top-score histograms side by side.

use crate::args::Args;
use crate::html::{esc, page};
use crate::inputs::{read_text, write_file};
use edgerec::aggregates::drift::{drift, Drift, PSI_ALERT};
use edgerec::aggregates::released::Released;
use edgerec::report::ledger::TOP_SCORE_EDGES;
use edgerec::Result;
use std::fmt::Write;

pub fn run(args: &Args) -> Result<()> {
    let released = Released::parse(&read_text(args.required("aggregates")?)?)?;
    let threshold: f64 = args.parsed("unknown-threshold", 0.05)?;
    let d = drift(&released, args.parsed("recent-days", 1)?, args.parsed("baseline-days", 7)?, threshold)?;
    let out = args.opt("out").unwrap_or("edgerec-drift.html");
    write_file(out, drift_page(&d, threshold))?;
    for line in lines(&d, threshold) {
        println!("{line}");
    }
    println!("page -> {out}");
    Ok(())
}

fn lines(d: &Drift, threshold: f64) -> Vec<String> {
    let mut out = vec![
        format!("model {}", d.model.as_deref().unwrap_or("(reports without a version)")),
        format!(
            "top-score PSI {:.3} [{:.3}, {:.3}], {} recent day(s) against {} baseline day(s)",
            d.psi,
            d.psi_low,
            d.psi_high,
            d.recent_days.len(),
            d.baseline_days.len()
        ),
    ];
    if d.psi_alert {
        out.push(format!("ALERT: the model's scores have shifted (PSI above {PSI_ALERT} beyond the noise)"));
    } else if d.psi > PSI_ALERT {
        out.push(format!("watch: PSI is above {PSI_ALERT}, but within the noise"));
    }
    match &d.unknown {
        Some(u) => {
            out.push(format!(
                "unknown items: {:.1} % of views [{:.1}, {:.1}]",
                100.0 * u.value,
                100.0 * u.low(),
                100.0 * u.high()
            ));
            if d.retrain {
                out.push(format!(
                    "retrain: {:.0} % of viewed items are unknown to the model (threshold {:.0} %)",
                    100.0 * u.value,
                    100.0 * threshold
                ));
            }
        }
        None => out.push("unknown items: too few views above the noise".into()),
    }
    out
}

fn bins_chart(d: &Drift) -> String {
    let (w, h, pad) = (640.0, 220.0, 36.0);
    let top = d.baseline.iter().chain(&d.recent).fold(0.01f64, |m, &x| m.max(x)) * 1.1;
    let n = d.baseline.len().max(1) as f64;
    let group = (w - 2.0 * pad) / n;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="Top score, baseline and recent"><text x="{pad}" y="18" class="t">Model top score: baseline (grey) and recent (blue)</text>"##
    );
    let edges: Vec<String> = TOP_SCORE_EDGES.iter().map(|e| format!("{e}")).collect();
    for (i, (q, p)) in d.baseline.iter().zip(&d.recent).enumerate() {
        let x = pad + i as f64 * group + group * 0.1;
        let bar = |v: f64| (h - 2.0 * pad) * v / top;
        let label = match i {
            0 => format!("< {}", edges[0]),
            i if i == edges.len() => format!("≥ {}", edges[i - 1]),
            i => format!("{}–{}", edges[i - 1], edges[i]),
        };
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#7a7a7a"><title>baseline {:.1} %</title></rect><rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#2f6fb0"><title>recent {:.1} %</title></rect><text x="{x:.1}" y="{}" class="s">{}</text>"##,
            h - pad - bar(*q),
            bar(*q),
            100.0 * q,
            x + group * 0.4,
            h - pad - bar(*p),
            bar(*p),
            100.0 * p,
            h - pad + 14.0,
            esc(&label),
            bw = group * 0.38,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn drift_page(d: &Drift, threshold: f64) -> String {
    let mut body = String::from("<h1>Model drift</h1><ul>");
    for line in lines(d, threshold) {
        let _ = write!(body, "<li>{}</li>", esc(&line));
    }
    let _ = write!(
        body,
        "</ul><p class=s>Baseline days {} · recent days {}</p><div class=charts>{}</div><p class=s>PSI over the model's top probability in each shopper-day's first ranking (5 bins), from the reports' noisy drift rows. The interval draws each bin from its privacy noise and sampling error; the alert needs its lower end above {PSI_ALERT}. Made by <code>edgerec drift</code>.</p>",
        esc(&d.baseline_days.join(", ")),
        esc(&d.recent_days.join(", ")),
        bins_chart(d)
    );
    page("edgerec drift", &body)
}
