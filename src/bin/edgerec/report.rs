//! `edgerec report --aggregates FILE.json [--out report.html]`: the lift
//! report a merchandiser reads, from the collector's released aggregates
//! (`GET /v1/aggregates`). One self-contained HTML page: per experiment a
//! table of arms (intervals include the privacy noise), the lift of each
//! arm over the holdout, and bars with error bars per day.

use crate::args::Args;
use crate::html::esc;
use crate::inputs::{read_text, write_file};
use edgerec::aggregates::lift::{experiment_results, ArmResult, ExperimentResult, Ratio};
use edgerec::aggregates::released::Released;
use edgerec::Result;
use std::fmt::Write;

pub fn run(args: &Args) -> Result<()> {
    let released = Released::parse(&read_text(args.required("aggregates")?)?)?;
    let out = args.opt("out").unwrap_or("edgerec-report.html");
    let results = experiment_results(&released);
    let html = page(&released, &results);
    write_file(out, html)?;
    for e in &results {
        for a in &e.arms {
            let conv = a.conversion.map_or("n/a".into(), |r| pct(&r));
            println!("{} / {}: {} device-days, conversion {conv}", e.experiment, a.arm, a.reports);
        }
    }
    println!("report -> {out}");
    Ok(())
}

fn pct(r: &Ratio) -> String {
    format!("{:.1}% ± {:.1}", 100.0 * r.value, 100.0 * (r.high() - r.value))
}

fn money(r: &Ratio) -> String {
    format!("{:.2} ± {:.2}", r.value, r.high() - r.value)
}

fn cell(r: Option<Ratio>, fmt: fn(&Ratio) -> String) -> String {
    r.map_or("<td class=na>too noisy</td>".into(), |r| format!("<td>{}</td>", fmt(&r)))
}

/// The lift's plain reading: whether the 95% interval excludes zero.
fn verdict(l: &Ratio) -> (&'static str, &'static str) {
    if l.low() > 0.0 {
        ("up", "better than holdout")
    } else if l.high() < 0.0 {
        ("down", "worse than holdout")
    } else {
        ("flat", "not distinguishable yet")
    }
}

type Metric = (&'static str, fn(&ArmResult) -> Option<Ratio>, fn(&Ratio) -> String);

const METRICS: [Metric; 5] = [
    ("Conversion", |a| a.conversion, pct),
    ("Revenue per visitor", |a| a.revenue_per_visitor, money),
    ("AOV", |a| a.aov, money),
    ("Attach rate", |a| a.attach_rate, pct),
    ("Offer CTR", |a| a.ctr, pct),
];

const COLOURS: [&str; 6] = ["#2f6fb0", "#d9822b", "#7a7a7a", "#3a9d5d", "#a04ca0", "#b03a3a"];

/// Grouped bars (one group per day, one bar per arm) with 95% error bars.
fn chart(title: &str, e: &ExperimentResult, metric: fn(&ArmResult) -> Option<Ratio>) -> String {
    let (w, h, pad) = (640.0, 220.0, 36.0);
    let groups = &e.by_day;
    let top =
        groups.iter().flat_map(|(_, arms)| arms.iter().filter_map(|a| metric(a).map(|r| r.high()))).fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let y = |v: f64| h - pad - (v.max(0.0) / top) * (h - 2.0 * pad);
    let group_w = (w - 2.0 * pad) / groups.len().max(1) as f64;
    let bar_w = group_w * 0.8 / e.arms.len().max(1) as f64;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><text x="{pad}" y="18" class="t">{t}</text><line x1="{pad}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/><text x="4" y="{ty}" class="s">{top:.3}</text>"##,
        t = esc(title),
        b = h - pad,
        r = w - pad,
        ty = y(top) + 4.0,
    );
    for (g, (day, arms)) in groups.iter().enumerate() {
        let x0 = pad + g as f64 * group_w + group_w * 0.1;
        let _ = write!(svg, r#"<text x="{}" y="{}" class="s">{}</text>"#, x0, h - pad + 14.0, esc(&day[5..]));
        for (i, a) in arms.iter().enumerate() {
            let Some(r) = metric(a) else { continue };
            let x = x0 + i as f64 * bar_w;
            let colour = COLOURS[i % COLOURS.len()];
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{} {}: {:.4} [{:.4}, {:.4}]</title></rect>"#,
                y(r.value),
                bar_w * 0.9,
                (h - pad - y(r.value)).max(0.0),
                esc(&a.arm),
                esc(day),
                r.value,
                r.low(),
                r.high()
            );
            let cx = x + bar_w * 0.45;
            let _ = write!(
                svg,
                r##"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="#222"/>"##,
                y(r.low()),
                y(r.high())
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn experiment_section(e: &ExperimentResult) -> String {
    let mut s = format!(
        "<h2>Experiment {}</h2><p class=s>{} to {} · ",
        esc(&e.experiment),
        e.days.first().map_or("", |d| d),
        e.days.last().map_or("", |d| d)
    );
    let legend: Vec<String> = e
        .arms
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                r#"<span class=k style="background:{}"></span>{}{}"#,
                COLOURS[i % COLOURS.len()],
                esc(&a.arm),
                if a.holdout { " (holdout)" } else { "" }
            )
        })
        .collect();
    s.push_str(&legend.join(" "));
    s.push_str("</p><table><tr><th>Arm</th><th>Device-days</th><th>Exposed visitors</th>");
    for (name, _, _) in METRICS {
        let _ = write!(s, "<th>{name}</th>");
    }
    s.push_str("</tr>");
    for a in &e.arms {
        let _ = write!(
            s,
            "<tr><td>{}{}</td><td>{}</td><td>{:.0} ± {:.0}</td>",
            esc(&a.arm),
            if a.holdout { " (holdout)" } else { "" },
            a.reports,
            a.exposed.sum,
            1.96 * a.exposed.variance.sqrt()
        );
        for (_, metric, fmt) in METRICS {
            s.push_str(&cell(metric(a), fmt));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    if let Some(base) = e.arms.iter().find(|a| a.holdout) {
        s.push_str("<h3>Lift vs holdout</h3><table><tr><th>Arm</th>");
        for (name, _, _) in METRICS.iter().take(4) {
            let _ = write!(s, "<th>{name}</th>");
        }
        s.push_str("</tr>");
        for a in e.arms.iter().filter(|a| !a.holdout) {
            let _ = write!(s, "<tr><td>{}</td>", esc(&a.arm));
            for (_, metric, _) in METRICS.iter().take(4) {
                match metric(a).zip(metric(base)).and_then(|(x, b)| x.lift_over(&b)) {
                    Some(l) => {
                        let (class, words) = verdict(&l);
                        let _ = write!(
                            s,
                            "<td class={class}>{:+.1}% [{:+.1}, {:+.1}]<br><small>{words}</small></td>",
                            100.0 * l.value,
                            100.0 * l.low(),
                            100.0 * l.high()
                        );
                    }
                    None => s.push_str("<td class=na>too noisy</td>"),
                }
            }
            s.push_str("</tr>");
        }
        s.push_str("</table>");
    } else {
        s.push_str("<p class=s>No holdout arm in these aggregates: no lift to compute.</p>");
    }
    s.push_str("<div class=charts>");
    for (name, metric, _) in METRICS.iter().take(4) {
        s.push_str(&chart(&format!("{name} by day (95% intervals)"), e, *metric));
    }
    s.push_str("</div>");
    s
}

fn page(r: &Released, results: &[ExperimentResult]) -> String {
    let mut body = String::new();
    for e in results {
        body.push_str(&experiment_section(e));
    }
    if results.is_empty() {
        body.push_str("<p>No experiment has released cells yet (each needs at least k reports).</p>");
    }
    let body = format!(
        r#"<h1>Offer experiments: {policy}</h1>
<p>From the collector's released aggregates: each cell sums at least <b>k = {k}</b> device reports. Every report is differentially private on the device (discrete Laplace noise, ε per device-day as configured), and every interval below includes that noise as well as ordinary sampling error, so wide intervals mean "wait for more traffic", not "no effect". Per-visitor figures are over visitors who reached an experiment slot (the holdout saw no offer there).</p>
{body}
<p class=s>Made by <code>edgerec report</code>. {withheld}</p>
"#,
        policy = esc(&r.policy),
        k = r.k,
        withheld = if r.cells.is_empty() { "No cells released yet." } else { "" },
    );
    crate::html::page(&format!("edgerec lift report: {}", r.policy), &body)
}
