//! `edgerec rollout --release release.json --aggregates aggregates.json
//! [--today YYYY-MM-DD] [--out NEXT.json] [--html rollout.html]`: promote,
//! continue or roll back the release's candidate (`aggregates::rollout`), write
//! the next release file and a page with the estimate, its interval and a
//! plot per day.

use crate::args::{bad, Args};
use crate::html::{esc, page};
use crate::inputs::{read_text, write_file};
use edgerec::aggregates::released::Released;
use edgerec::aggregates::rollout::{decide, MetricTest, RolloutVerdict};
use edgerec::day::Day;
use edgerec::release::Release;
use edgerec::Result;
use std::fmt::Write;

/// Today's UTC day, or `--today`.
pub fn today(args: &Args) -> Result<Day> {
    match args.opt("today") {
        Some(d) => Day::parse(d).ok_or_else(|| bad(format!("--today must be YYYY-MM-DD, not {d:?}"))),
        None => {
            let ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_millis() as f64);
            Ok(Day::of(ms))
        }
    }
}

fn pct(x: f64) -> String {
    format!("{:+.1} %", 100.0 * x)
}

fn summary(t: &MetricTest) -> String {
    match t.pooled {
        Some(p) => format!("{} [{}, {}] over {} days", pct(p.value), pct(p.low), pct(p.high), t.days.len()),
        None => "no day above the noise yet".into(),
    }
}

/// A guardrail whose interval is wider than ±100 % cannot fire: say so
/// rather than let it look like a safeguard.
fn too_noisy(t: &MetricTest) -> &'static str {
    match t.pooled {
        Some(p) if p.high - p.value > 1.0 => " (too noisy to guard yet: more device-days, or more of ε on this metric)",
        _ => "",
    }
}

pub fn run(args: &Args) -> Result<()> {
    let release = Release::parse(&read_text(args.required("release")?)?)?;
    let released = Released::parse(&read_text(args.required("aggregates")?)?)?;
    let verdict = decide(&release, &released, today(args)?)?;
    let out = args.opt("out").unwrap_or("release.next.json");
    let html = args.opt("html").unwrap_or("edgerec-rollout.html");
    let next = serde_json::to_string_pretty(&verdict.next).map_err(|e| bad(e.to_string()))?;
    write_file(out, next + "\n")?;
    write_file(html, rollout_page(&release, &verdict))?;
    println!("decision: {} ({})", verdict.decision.name(), verdict.reason);
    println!("{}: {}", release.metric.label(), summary(&verdict.primary));
    for (g, t) in &verdict.guardrails {
        println!("guardrail {} (may drop {}): {}{}", g.metric.label(), pct(-g.max_drop), summary(t), too_noisy(t));
    }
    println!("device-days: current {}, candidate {}", verdict.reports.0, verdict.reports.1);
    println!("canary share next: {:.0} %", 100.0 * verdict.next.canary_share);
    println!("next release -> {out}, page -> {html}");
    Ok(())
}

/// Per-day lifts (95 % bars) and the pooled always-valid band.
fn chart(t: &MetricTest) -> String {
    let (w, h, pad) = (640.0, 240.0, 40.0);
    let n = t.days.len().max(1) as f64;
    let lows = t.days.iter().flat_map(|d| [d.lift.low(), d.pooled.low]);
    let highs = t.days.iter().flat_map(|d| [d.lift.high(), d.pooled.high]);
    let (lo, hi) = (lows.fold(-0.05, f64::min).max(-1.0), highs.fold(0.05, f64::max).min(1.0));
    let y = |v: f64| pad + (hi - v.clamp(lo, hi)) / (hi - lo) * (h - 2.0 * pad);
    let x = |i: usize| pad + (i as f64 + 0.5) / n * (w - 2.0 * pad);
    let label = format!("{} lift by day", t.metric.label());
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-label="{l}"><text x="{pad}" y="18" class="t">{l}</text><line x1="{pad}" y1="{z:.1}" x2="{r}" y2="{z:.1}" stroke="#999"/><text x="2" y="{zt:.1}" class="s">0</text><text x="2" y="{ht:.1}" class="s">{hl}</text><text x="2" y="{lt:.1}" class="s">{ll}</text>"##,
        l = esc(&label),
        z = y(0.0),
        zt = y(0.0) + 4.0,
        r = w - pad,
        ht = y(hi) + 4.0,
        hl = pct(hi),
        lt = y(lo),
        ll = pct(lo),
    );
    let band: Vec<String> =
        t.days.iter().enumerate().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(d.pooled.high))).collect();
    let back: Vec<String> =
        t.days.iter().enumerate().rev().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(d.pooled.low))).collect();
    if !band.is_empty() {
        let _ = write!(
            svg,
            r##"<polygon points="{} {}" fill="#2f6fb0" fill-opacity="0.15"><title>always-valid interval of the pooled lift</title></polygon>"##,
            band.join(" "),
            back.join(" ")
        );
        let line: Vec<String> =
            t.days.iter().enumerate().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(d.pooled.value))).collect();
        let _ =
            write!(svg, r##"<polyline points="{}" fill="none" stroke="#2f6fb0" stroke-width="2"/>"##, line.join(" "));
    }
    for (i, d) in t.days.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="#d9822b"/><circle cx="{cx:.1}" cy="{:.1}" r="3" fill="#d9822b"><title>{}: {} [{}, {}]</title></circle><text x="{tx:.1}" y="{ty}" class="s">{}</text>"##,
            y(d.lift.low()),
            y(d.lift.high()),
            y(d.lift.value),
            esc(&d.day),
            pct(d.lift.value),
            pct(d.lift.low()),
            pct(d.lift.high()),
            esc(d.day.get(5..).unwrap_or(&d.day)),
            cx = x(i),
            tx = x(i) - 14.0,
            ty = h - pad + 16.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn rollout_page(release: &Release, v: &RolloutVerdict) -> String {
    let candidate = release.candidate.as_ref().map_or("", |c| c.version.as_str());
    let mut body = format!(
        "<h1>Model rollout: {}</h1><p><b>RolloutStep: {}</b> — {}</p><p class=s>current {} · candidate {} · canary {:.0} % → {:.0} % · device-days current {}, candidate {}</p>",
        esc(&release.experiment),
        v.decision.name(),
        esc(&v.reason),
        esc(&release.current.version),
        esc(candidate),
        100.0 * release.canary_share,
        100.0 * v.next.canary_share,
        v.reports.0,
        v.reports.1,
    );
    body.push_str("<table><tr><th>Metric</th><th>Role</th><th>Candidate vs current (always-valid interval)</th></tr>");
    let _ = write!(
        body,
        "<tr><td>{}</td><td>decides</td><td>{}</td></tr>",
        release.metric.label(),
        esc(&summary(&v.primary))
    );
    for (g, t) in &v.guardrails {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>guardrail: may drop {}</td><td>{}</td></tr>",
            g.metric.label(),
            pct(-g.max_drop),
            esc(&(summary(t) + too_noisy(t)))
        );
    }
    body.push_str("</table><div class=charts>");
    body.push_str(&chart(&v.primary));
    for (_, t) in &v.guardrails {
        body.push_str(&chart(t));
    }
    let _ = write!(
        body,
        "</div><p class=s>Dots: each day's lift with its 95 % interval. Band: the pooled lift's confidence sequence (mSPRT, τ = {}, α = {}): it holds on every day at once, so reading this page daily does not inflate the error rate. Every interval counts the reports' privacy noise. Made by <code>edgerec rollout</code>.</p>",
        release.min_effect, release.alpha
    );
    page(&format!("edgerec rollout: {}", release.experiment), &body)
}
