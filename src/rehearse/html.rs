//! The HTML report of `sailplan rehearse --report FILE`: the rehearsal as one self-contained page a
//! support engineer can send along with the plan. Like the `check` report (whose stylesheet it
//! shares) it needs no network, no JavaScript and no fonts or images from anywhere (a
//! Content-Security-Policy forbids them), and writes every verdict as a word so it reads without
//! colour. It shows the plan as a timeline of hops and steps with each gate's result, what the
//! migrations did and found, what was removed, the mesh before and after, and the final diff.

use std::fmt::Write as _;

use super::{Ending, NO_DATA_REASON, Rehearsal};
use crate::apply::{StepStatus, Verdict};
use crate::report::{STYLE, escape};
use crate::status::MeshStatus;

/// What the rehearsal report adds to the shared stylesheet: the timeline.
const TIMELINE_STYLE: &str = r#"
.hop { margin: 18px 0 6px; font-size: 15px; }
.timeline { list-style: none; margin: 0; padding: 0 0 0 18px; border-left: 3px solid var(--line); }
.step { position: relative; margin: 0 0 12px; padding: 8px 12px; border: 1px solid var(--line); border-radius: 6px; break-inside: avoid; }
.step::before { content: ""; position: absolute; left: -27px; top: 12px; width: 13px; height: 13px; border-radius: 50%; background: var(--muted); border: 2px solid #fff; }
.step.st-done::before { background: var(--ok); }
.step.st-undone::before, .step.st-failed::before { background: var(--error); }
.step.st-undone, .step.st-failed { border-color: var(--error); background: var(--error-bg); }
.step-head { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: baseline; }
.step-id { font-weight: 700; }
.phase { color: var(--muted); font-size: 13px; }
.gates { list-style: none; margin: 6px 0 0; padding: 0; font-size: 13px; }
.gates li { padding: 2px 0; border-top: 1px dotted var(--line); }
.badge-pass { color: var(--ok); background: var(--ok-bg); }
.badge-fail { color: var(--error); background: var(--error-bg); }
.badge-nodata { color: var(--warning); background: var(--warning-bg); }
.step .why { margin: 6px 0 0; font-size: 13px; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.columns > div { min-width: 0; }
pre.status { background: var(--soft); padding: 10px; border-radius: 6px; overflow-x: auto; font-size: 12px; }
"#;

fn status_word(status: Option<StepStatus>) -> &'static str {
    match status {
        Some(StepStatus::Done) => "done",
        Some(StepStatus::Undone) => "undone",
        Some(StepStatus::Failed) => "failed",
        Some(StepStatus::Running) => "running",
        Some(StepStatus::Pending) | None => "pending",
    }
}

fn header(out: &mut String, rehearsal: &Rehearsal) {
    let plan = &rehearsal.plan;
    let source: Vec<String> =
        plan.spec.source.control_planes.iter().map(|c| format!("{} ({})", c.version, c.revision)).collect();
    let (class, verdict) = match &rehearsal.ending {
        Ending::Completed => ("verdict-ok", "Every step was done and every gate held.".to_string()),
        Ending::GateFailed { step, gate } => {
            ("verdict-error", format!("Gate {gate} failed in step {step}; the step was undone (exit 3)."))
        }
        Ending::Stale => ("verdict-error", "The plan was stale against the simulation (exit 4).".to_string()),
        Ending::Failed => (
            "verdict-error",
            format!("The run stopped: {} (exit 1).", rehearsal.error.as_deref().unwrap_or("unknown error")),
        ),
    };
    let done = rehearsal.steps.iter().filter(|s| s.status == StepStatus::Done).count();
    let _ = write!(
        out,
        "<header class=\"report\">\n<h1>Upgrade rehearsal</h1>\n<p class=\"subtitle\">Plan <span class=\"mono\">{}</span>, \
         run against a simulation of the snapshot</p>\n<dl class=\"facts\">\
         <div><dt>From</dt><dd>{}</dd></div><div><dt>To</dt><dd>{}</dd></div>\
         <div><dt>Hops</dt><dd>{}</dd></div><div><dt>Steps done</dt><dd>{done} of {}</dd></div>\
         <div><dt>Remaining changes</dt><dd>{}</dd></div></dl>\n<p class=\"verdict {class}\">{}</p>\n</header>\n",
        escape(&plan.metadata.id),
        escape(&if source.is_empty() { "nothing installed".to_string() } else { source.join(", ") }),
        escape(&plan.spec.target.version),
        plan.spec.hops.len(),
        plan.spec.steps.len(),
        rehearsal.final_diff.create + rehearsal.final_diff.update + rehearsal.final_diff.delete,
        escape(&verdict)
    );
}

fn timeline(out: &mut String, rehearsal: &Rehearsal) {
    let plan = &rehearsal.plan;
    out.push_str("<h2>Timeline</h2>\n");
    for (number, hop) in plan.spec.hops.iter().enumerate() {
        let _ = writeln!(
            out,
            "<h3 class=\"hop\">Hop {}: {} to {} ({}{})</h3>\n<ol class=\"timeline\">",
            number + 1,
            escape(&hop.from),
            escape(&hop.to),
            escape(&hop.strategy),
            hop.revision.as_deref().map(|r| format!(", revision {}", escape(r))).unwrap_or_default()
        );
        for step in plan.spec.steps.iter().filter(|s| s.hop == number + 1) {
            let record = rehearsal.steps.iter().find(|r| r.id == step.id);
            let status = status_word(record.map(|r| r.status));
            let _ = write!(
                out,
                "<li class=\"step st-{status}\"><div class=\"step-head\"><span class=\"badge badge-other\">{status}</span>\
                 <span class=\"step-id mono\">{}</span><span>{}</span><span class=\"phase\">{}</span></div>",
                escape(&step.id),
                escape(&step.title),
                escape(serde_json::to_value(step.phase).ok().as_ref().and_then(|v| v.as_str()).unwrap_or(""))
            );
            let gates = record.map(|r| r.gates.as_slice()).unwrap_or_default();
            if !gates.is_empty() {
                out.push_str("<ul class=\"gates\">");
                for gate in gates {
                    let (class, word) = match (&gate.verdict, gate.passed) {
                        (Verdict::Pass, _) => ("pass", "pass"),
                        (Verdict::Fail, _) => ("fail", "fail"),
                        (Verdict::NoData, true) => ("nodata", "no data, accepted"),
                        (Verdict::NoData, false) => ("fail", "no data"),
                    };
                    let _ = write!(
                        out,
                        "<li><span class=\"badge badge-{class}\">{word}</span> <span class=\"mono\">{}</span>: {}</li>",
                        escape(&gate.name),
                        escape(&gate.message)
                    );
                }
                out.push_str("</ul>");
            }
            if let Some(message) = record.and_then(|r| r.message.as_deref()) {
                let _ = write!(out, "<p class=\"why\">{}</p>", escape(message));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ol>\n");
    }
}

fn migrations(out: &mut String, rehearsal: &Rehearsal) {
    out.push_str("<h2>Migrations</h2>\n");
    if rehearsal.migrated.is_empty() {
        out.push_str("<p class=\"none\">No migration ran.</p>\n");
    }
    for migrated in &rehearsal.migrated {
        let _ = write!(
            out,
            "<h3><span class=\"mono\">{}</span> (step <span class=\"mono\">{}</span>)</h3>\n<p>Applied {} object(s): {}</p>\n",
            escape(&migrated.source),
            escape(&migrated.step),
            migrated.applied.len(),
            escape(&migrated.applied.join(", "))
        );
        for finding in &migrated.findings {
            let severity = match finding.severity.as_str() {
                "error" | "warning" | "info" => finding.severity.as_str(),
                _ => "other",
            };
            let _ = write!(
                out,
                "<div class=\"finding sev-{severity}\"><div class=\"finding-head\"><span class=\"badge badge-{severity}\">{}</span>\
                 <span class=\"code mono\">{}</span><span class=\"object\">{}</span></div>\
                 <p class=\"message\">{}</p><p class=\"hint\"><strong>What to do:</strong> {}</p></div>",
                escape(&finding.severity),
                escape(&finding.code),
                escape(finding.object.as_deref().unwrap_or("")),
                escape(&finding.message),
                escape(&finding.hint)
            );
            out.push('\n');
        }
    }
    out.push_str("<h2>Removed</h2>\n");
    if rehearsal.removed.is_empty() {
        out.push_str("<p class=\"none\">Nothing was removed.</p>\n");
    } else {
        out.push_str("<table><thead><tr><th>Object</th></tr></thead><tbody>");
        for removed in &rehearsal.removed {
            let _ = write!(out, "<tr><td class=\"mono\">{}</td></tr>", escape(removed));
        }
        out.push_str("</tbody></table>\n");
    }
}

fn mesh_summary(out: &mut String, before: &MeshStatus, after: &MeshStatus) {
    out.push_str("<h2>Before and after</h2>\n<div class=\"columns\">");
    for (title, status) in [("Before", before), ("After", after)] {
        let _ = write!(
            out,
            "<div><h3>{title}</h3><table><thead><tr><th>Revision</th><th>Version</th><th>Tags</th><th class=\"num\">Proxies</th></tr></thead><tbody>"
        );
        for plane in &status.control_planes {
            let _ = write!(
                out,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                escape(&plane.revision),
                escape(plane.version.as_deref().unwrap_or("?")),
                escape(&plane.tags.join(", ")),
                plane.proxies
            );
        }
        let _ = write!(out, "</tbody></table><pre class=\"status\">{}</pre></div>", escape(&status.text()));
    }
    out.push_str("</div>\n");
}

fn final_diff(out: &mut String, rehearsal: &Rehearsal) {
    let _ = writeln!(
        out,
        "<h2>Final diff</h2>\n<p>{}</p>",
        escape(&crate::diff::summary_line(&rehearsal.final_diff))
    );
    if !rehearsal.final_changes.is_empty() {
        out.push_str("<table><thead><tr><th>Change</th><th>Object</th></tr></thead><tbody>");
        for change in &rehearsal.final_changes {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"mono\">{}</td></tr>",
                escape(&format!("{:?}", change.action).to_lowercase()),
                escape(&change.id.to_string())
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("<h2>How this differs from a real apply</h2>\n<ul>");
    for note in &rehearsal.notes {
        let _ = write!(out, "<li>{}</li>", escape(note));
    }
    let accepted = rehearsal.accepted_no_data();
    if !accepted.is_empty() {
        let named: Vec<String> = accepted.iter().map(|(step, gate)| format!("{gate} ({step})")).collect();
        let _ = write!(
            out,
            "<li>No data accepted {}: {}</li>",
            escape(NO_DATA_REASON),
            escape(&named.join(", "))
        );
    }
    out.push_str("</ul>\n");
}

/// The report page. A pure function of the rehearsal except for what the rehearsal itself records
/// (timestamps in gate messages do not appear; step times are not shown).
pub fn page(rehearsal: &Rehearsal) -> String {
    let mut out = String::with_capacity(32 * 1024);
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"sailplan rehearse\">\n<title>Upgrade rehearsal</title>\n<style>",
    );
    out.push_str(STYLE);
    out.push_str(TIMELINE_STYLE);
    out.push_str("</style>\n</head>\n<body>\n<div class=\"page\">\n");
    header(&mut out, rehearsal);
    out.push_str("<main>\n");
    timeline(&mut out, rehearsal);
    migrations(&mut out, rehearsal);
    mesh_summary(&mut out, &rehearsal.before, &rehearsal.after);
    final_diff(&mut out, rehearsal);
    out.push_str(
        "</main>\n<footer>Generated by <span class=\"mono\">sailplan rehearse</span>. The plan ran against an \
         in-memory simulation of the snapshot with the same executor and gates as <span class=\"mono\">sailplan apply</span>; \
         see docs/rehearse.md for what the simulation models.</footer>\n</div>\n</body>\n</html>\n",
    );
    out
}
