//! The HTML report of `sailplan check --report FILE`: the JSON document of `check` (schema version 1,
//! see docs/check.md) rendered as one self-contained HTML5 page that a support engineer can send to a
//! customer. It exists because the JSON is for machines and the text output is for a terminal, while
//! the person who has to act on the findings usually gets a file by email: so the page needs no
//! network, no JavaScript and no fonts or images from anywhere (a Content-Security-Policy forbids
//! them), prints well, and writes every severity as a word so it reads without colour.
//!
//! The page is built from the JSON document rather than from the typed findings, so what the report
//! shows is exactly what `-o json` says. Every text from the document is HTML-escaped. The output is a
//! pure function of the document (no clock, no randomness), so the same document gives the same bytes.

use std::fmt::Write as _;

use serde_json::Value;

use crate::analyze::Area;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The stylesheet: system fonts only, readable in print and without colour (shared by the rehearsal
/// report, so both reports look alike).
pub const STYLE: &str = r#"
:root {
  --ink: #1d2939; --muted: #667085; --line: #d0d5dd; --soft: #f2f4f7; --accent: #0b4f8a;
  --error: #b42318; --error-bg: #fef3f2; --warning: #93370d; --warning-bg: #fffaeb;
  --info: #175cd3; --info-bg: #eff8ff; --ok: #067647; --ok-bg: #ecfdf3;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: #f8f9fb; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", Arial, sans-serif;
}
.page { max-width: 1100px; margin: 0 auto; padding: 32px 40px 48px; background: #fff; min-height: 100vh; }
header.report { border-top: 6px solid var(--accent); padding-top: 20px; margin-bottom: 8px; }
h1 { font-size: 28px; margin: 0 0 4px; letter-spacing: -0.01em; }
.subtitle { margin: 0 0 20px; color: var(--muted); }
h2 {
  font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--ink);
  text-transform: uppercase; letter-spacing: 0.04em;
}
h3 { font-size: 16px; margin: 22px 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 12px; margin: 0; }
.facts div { flex: 1 1 180px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.facts dt { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); }
.facts dd { margin: 2px 0 0; font-size: 18px; font-weight: 600; }
.verdict { margin: 18px 0 0; padding: 12px 16px; border-radius: 8px; border: 1px solid; border-left-width: 6px; }
.verdict-error { color: var(--error); background: var(--error-bg); }
.verdict-warning { color: var(--warning); background: var(--warning-bg); }
.verdict-ok { color: var(--ok); background: var(--ok-bg); }
table { width: 100%; border-collapse: collapse; margin: 4px 0 8px; font-size: 14px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: #344054; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.none { color: var(--muted); font-style: italic; margin: 4px 0 8px; }
code, .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-top: 5px solid var(--ok); border-radius: 8px; padding: 12px 14px; }
.card.worst-error { border-top-color: var(--error); }
.card.worst-warning { border-top-color: #dc6803; }
.card.worst-info { border-top-color: var(--info); }
.card h3 { margin: 0 0 6px; font-size: 14px; }
.card .total { margin: 0 0 8px; color: var(--muted); }
.card .total-count { font-size: 30px; font-weight: 700; color: var(--ink); margin-right: 4px; }
.card ul { list-style: none; margin: 0; padding: 0; font-size: 13px; }
.card li { display: flex; justify-content: space-between; padding: 2px 0; border-top: 1px dotted var(--line); }
.card li .n { font-weight: 700; font-variant-numeric: tabular-nums; }
.legend { font-size: 13px; color: var(--muted); margin: 12px 0 0; }
.area { margin-top: 8px; }
.area h3 { display: flex; justify-content: space-between; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.area h3 .area-count { color: var(--muted); font-weight: 400; }
.finding {
  border: 1px solid var(--line); border-left: 5px solid var(--muted); border-radius: 6px;
  padding: 10px 14px; margin: 10px 0; break-inside: avoid;
}
.finding.sev-error { border-left-color: var(--error); }
.finding.sev-warning { border-left-color: #dc6803; }
.finding.sev-info { border-left-color: var(--info); }
.finding-head { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; }
.badge {
  display: inline-block; min-width: 72px; text-align: center; padding: 1px 8px; border: 1px solid;
  border-radius: 4px; font-size: 12px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.05em;
}
.badge-error { color: var(--error); background: var(--error-bg); }
.badge-warning { color: var(--warning); background: var(--warning-bg); }
.badge-info { color: var(--info); background: var(--info-bg); }
.badge-other { color: var(--ink); background: var(--soft); }
.finding .code { font-weight: 700; }
.finding .object { color: #344054; }
.finding .message { margin: 8px 0 4px; }
.finding .hint { margin: 0; padding: 6px 10px; background: var(--soft); border-radius: 4px; font-size: 14px; }
.finding .hint strong { font-weight: 700; }
footer { margin-top: 40px; padding-top: 10px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
@media print {
  body { background: #fff; font-size: 11pt; }
  .page { max-width: none; padding: 0; min-height: 0; }
  h2 { break-after: avoid; }
  .card, .finding, tr { break-inside: avoid; }
}
@page { margin: 16mm 14mm; }
"#;

/// The string at `key` of an object, or `fallback` when it is absent, null or not a string.
fn field<'v>(value: &'v Value, key: &str, fallback: &'v str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or(fallback)
}

/// The array at `key`, or an empty slice.
fn list<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// `1 error`, `2 errors`.
fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Finding counts of one area.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    errors: usize,
    warnings: usize,
    info: usize,
    total: usize,
}

impl Counts {
    fn of<'v>(findings: impl Iterator<Item = &'v Value>) -> Counts {
        let mut counts = Counts::default();
        for finding in findings {
            counts.total += 1;
            match field(finding, "severity", "") {
                "error" => counts.errors += 1,
                "warning" => counts.warnings += 1,
                "info" => counts.info += 1,
                _ => {}
            }
        }
        counts
    }

    /// The most severe kind of finding present, as a CSS class suffix.
    fn worst(&self) -> &'static str {
        if self.errors > 0 {
            "error"
        } else if self.warnings > 0 {
            "warning"
        } else if self.total > 0 {
            "info"
        } else {
            "none"
        }
    }
}

/// The areas of the report: every known area in report order, then any other area a finding names
/// (a newer document), titled by its key, so no finding is ever left out.
fn areas(findings: &[Value]) -> Vec<(String, String)> {
    let mut areas: Vec<(String, String)> = Area::ALL
        .iter()
        .filter_map(|area| {
            let key = serde_json::to_value(area).ok()?.as_str()?.to_string();
            Some((key, area.title().to_string()))
        })
        .collect();
    for finding in findings {
        let key = field(finding, "area", "other");
        if !areas.iter().any(|(k, _)| k == key) {
            areas.push((key.to_string(), key.to_string()));
        }
    }
    areas
}

/// `Kind namespace/name`, `Kind name` for cluster-scoped objects, or `cluster-wide`.
fn object_text(finding: &Value) -> String {
    let Some(object) = finding.get("object").filter(|o| o.is_object()) else {
        return "cluster-wide".to_string();
    };
    let (kind, namespace, name) =
        (field(object, "kind", ""), field(object, "namespace", ""), field(object, "name", ""));
    if namespace.is_empty() { format!("{kind} {name}") } else { format!("{kind} {namespace}/{name}") }
}

fn header(out: &mut String, document: &Value, totals: &Counts) {
    let kubernetes = field(document, "kubernetesVersion", "unknown");
    let target = document
        .get("target")
        .and_then(Value::as_str)
        .map_or_else(|| "none (current state only)".to_string(), |t| format!("Istio {t}"));
    let mut versions: Vec<&str> = list(document, "controlPlanes")
        .iter()
        .filter_map(|c| c.get("version").and_then(Value::as_str))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    let running = if versions.is_empty() { "not found".to_string() } else { versions.join(", ") };
    let _ = write!(
        out,
        "<header class=\"report\">\n<h1>Istio health report</h1>\n\
         <p class=\"subtitle\">What runs in this mesh and what needs attention, from <span class=\"mono\">sailplan check</span>.</p>\n\
         <dl class=\"facts\">\n\
         <div><dt>Kubernetes version</dt><dd id=\"kubernetes-version\">{}</dd></div>\n\
         <div><dt>Istio running</dt><dd>{}</dd></div>\n\
         <div><dt>Upgrade target</dt><dd id=\"target\">{}</dd></div>\n\
         <div><dt>Findings</dt><dd>{}</dd></div>\n</dl>\n",
        escape(kubernetes),
        escape(&running),
        escape(&target),
        totals.total,
    );
    let counts = format!(
        "{}, {} and {}",
        plural(totals.errors, "error", "errors"),
        plural(totals.warnings, "warning", "warnings"),
        plural(totals.info, "info finding", "info findings")
    );
    let (class, verdict) = if totals.errors > 0 {
        ("error", "Action needed: fix the errors first")
    } else if totals.warnings > 0 {
        ("warning", "No errors; review the warnings")
    } else {
        ("ok", "No errors and no warnings")
    };
    let _ = write!(
        out,
        "<p class=\"verdict verdict-{class}\" id=\"verdict\"><strong>{verdict}.</strong> {counts}.</p>\n</header>\n"
    );
}

fn installation(out: &mut String, document: &Value) {
    out.push_str("<section id=\"installation\">\n<h2>What is installed</h2>\n<h3>Control planes</h3>\n");
    let planes = list(document, "controlPlanes");
    if planes.is_empty() {
        out.push_str("<p class=\"none\">No Istio control plane was found.</p>\n");
    } else {
        out.push_str(
            "<table id=\"control-planes\">\n<thead><tr><th>Revision</th><th>Namespace</th><th>Version</th>\
             <th>Layout</th><th>Components</th></tr></thead>\n<tbody>\n",
        );
        for plane in planes {
            let layout = if plane.get("legacy").and_then(Value::as_bool) == Some(true) {
                "microservices (pilot, galley, citadel, …)"
            } else {
                "istiod"
            };
            let components: Vec<String> = list(plane, "components")
                .iter()
                .map(|c| format!("{} {}", field(c, "name", "?"), field(c, "version", "?")))
                .collect();
            let _ = writeln!(
                out,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                escape(field(plane, "revision", "?")),
                escape(field(plane, "namespace", "?")),
                escape(field(plane, "version", "unknown")),
                escape(layout),
                escape(&components.join(", ")),
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("<h3>Revision tags</h3>\n");
    let tags = list(document, "revisionTags");
    if tags.is_empty() {
        out.push_str("<p class=\"none\">No revision tags.</p>\n");
    } else {
        out.push_str(
            "<table id=\"revision-tags\">\n<thead><tr><th>Tag</th><th>Points at revision</th></tr></thead>\n<tbody>\n",
        );
        for tag in tags {
            let _ = writeln!(
                out,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
                escape(field(tag, "tag", "?")),
                escape(field(tag, "revision", "?")),
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("<h3>Sidecar proxies</h3>\n");
    let proxies = list(document, "proxies");
    if proxies.is_empty() {
        out.push_str("<p class=\"none\">No injected proxies were found.</p>\n");
    } else {
        out.push_str(
            "<table id=\"proxies\">\n<thead><tr><th>Revision</th><th>Proxy version</th>\
             <th class=\"num\">Pods</th></tr></thead>\n<tbody>\n",
        );
        for row in proxies {
            let count = row.get("count").and_then(Value::as_u64).unwrap_or(0);
            let _ = writeln!(
                out,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{count}</td></tr>",
                escape(match field(row, "revision", "-") {
                    "-" => "none",
                    revision => revision,
                }),
                escape(field(row, "version", "?")),
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
}

fn summary(out: &mut String, areas: &[(String, String)], findings: &[Value]) {
    out.push_str("<section id=\"summary\">\n<h2>Summary by area</h2>\n<div class=\"cards\">\n");
    for (key, title) in areas {
        let counts = Counts::of(findings.iter().filter(|f| field(f, "area", "other") == key));
        let key = escape(key);
        let _ = write!(
            out,
            "<section class=\"card worst-{worst}\" id=\"area-{key}\" data-errors=\"{e}\" data-warnings=\"{w}\" \
             data-info=\"{i}\" data-total=\"{t}\">\n<h3>{title}</h3>\n\
             <p class=\"total\"><span class=\"total-count\">{t}</span> {findings_word}</p>\n\
             <ul>\n<li><span>Errors</span> <span class=\"n\">{e}</span></li>\n\
             <li><span>Warnings</span> <span class=\"n\">{w}</span></li>\n\
             <li><span>Info</span> <span class=\"n\">{i}</span></li>\n</ul>\n</section>\n",
            worst = counts.worst(),
            e = counts.errors,
            w = counts.warnings,
            i = counts.info,
            t = counts.total,
            title = escape(title),
            findings_word = if counts.total == 1 { "finding" } else { "findings" },
        );
    }
    out.push_str(
        "</div>\n<p class=\"legend\"><strong>Error</strong>: breaks now or breaks the upgrade; fix first. \
         <strong>Warning</strong>: risky or deprecated; fix before or during the upgrade. \
         <strong>Info</strong>: worth knowing.</p>\n</section>\n",
    );
}

fn finding_list(out: &mut String, areas: &[(String, String)], findings: &[Value]) {
    out.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    for (key, title) in areas {
        let in_area: Vec<&Value> = findings.iter().filter(|f| field(f, "area", "other") == key).collect();
        let _ = write!(
            out,
            "<section class=\"area\" id=\"findings-{}\">\n<h3><span>{}</span> <span class=\"area-count\">{}</span></h3>\n",
            escape(key),
            escape(title),
            plural(in_area.len(), "finding", "findings"),
        );
        if in_area.is_empty() {
            out.push_str("<p class=\"none\">No findings in this area.</p>\n");
        }
        for finding in in_area {
            let severity = field(finding, "severity", "unknown");
            let class = match severity {
                "error" | "warning" | "info" => severity,
                _ => "other",
            };
            let _ = write!(
                out,
                "<article class=\"finding sev-{class}\">\n<div class=\"finding-head\">\
                 <span class=\"badge badge-{class}\">{}</span> <code class=\"code\">{}</code> \
                 <span class=\"object mono\">{}</span></div>\n\
                 <p class=\"message\">{}</p>\n<p class=\"hint\"><strong>Remediation:</strong> {}</p>\n</article>\n",
                escape(severity),
                escape(field(finding, "code", "?")),
                escape(&object_text(finding)),
                escape(field(finding, "message", "")),
                escape(field(finding, "hint", "")),
            );
        }
        out.push_str("</section>\n");
    }
    out.push_str("</section>\n");
}

/// The HTML report of a `check` JSON document: one self-contained HTML5 page.
pub fn check_html(document: &Value) -> String {
    let findings = list(document, "findings");
    let areas = areas(findings);
    let totals = Counts::of(findings.iter());
    let mut out = String::with_capacity(16 * 1024 + findings.len() * 600);
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"sailplan check\">\n<title>Istio health report</title>\n<style>",
    );
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<div class=\"page\">\n");
    header(&mut out, document, &totals);
    out.push_str("<main>\n");
    installation(&mut out, document);
    summary(&mut out, &areas, findings);
    finding_list(&mut out, &areas, findings);
    let schema = document.get("schemaVersion").and_then(Value::as_u64).unwrap_or(0);
    let _ = write!(
        out,
        "</main>\n<footer>Generated by <span class=\"mono\">sailplan check</span> from report schema version \
         {schema}. The same data is available as JSON with <span class=\"mono\">sailplan check -o json</span>.\
         </footer>\n</div>\n</body>\n</html>\n"
    );
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn escapes_the_five_html_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain → text"), "plain → text");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    fn document() -> Value {
        json!({
            "schemaVersion": 1,
            "kubernetesVersion": "1.18.20",
            "target": "1.6.14",
            "controlPlanes": [{"revision": "legacy", "namespace": "istio-system", "legacy": true, "version": "1.5.10",
                "components": [{"name": "istio-pilot", "version": "1.5.10"}]}],
            "revisionTags": [],
            "proxies": [{"revision": "-", "version": "1.5.10", "count": 3}],
            "summary": {"errors": 2, "warnings": 1, "info": 1,
                "by_area": {"platform": 2, "security": 1, "ingress-egress": 0, "policy": 0, "upgrade-readiness": 1}},
            "findings": [
                {"code": "E-ONE", "severity": "error", "area": "platform", "object": {"kind": "Namespace", "namespace": "", "name": "<b>demo</b>"},
                 "message": "istio.io/rev=\"x\" & more", "hint": "relabel 'it'"},
                {"code": "W-TWO", "severity": "warning", "area": "platform", "message": "m", "hint": "h"},
                {"code": "E-THREE", "severity": "error", "area": "security", "object": {"kind": "MeshPolicy", "namespace": "", "name": "default"}, "message": "m", "hint": "h"},
                {"code": "I-FOUR", "severity": "info", "area": "upgrade-readiness", "message": "m", "hint": "h"},
            ],
        })
    }

    fn card<'h>(html: &'h str, area: &str) -> &'h str {
        let start = html.find(&format!("id=\"area-{area}\"")).expect("the card exists");
        let end = start + html[start..].find("</section>").expect("the card ends");
        &html[start..end]
    }

    #[test]
    fn summary_cards_count_findings_by_area_and_severity() {
        let html = check_html(&document());
        assert!(card(&html, "platform").starts_with(
            "id=\"area-platform\" data-errors=\"1\" data-warnings=\"1\" data-info=\"0\" data-total=\"2\""
        ));
        assert!(card(&html, "platform").contains("<span class=\"total-count\">2</span> findings"));
        assert!(card(&html, "security").starts_with(
            "id=\"area-security\" data-errors=\"1\" data-warnings=\"0\" data-info=\"0\" data-total=\"1\""
        ));
        assert!(card(&html, "security").contains("<span class=\"total-count\">1</span> finding<"));
        assert!(card(&html, "ingress-egress").contains("data-total=\"0\""));
        assert!(card(&html, "upgrade-readiness").contains("data-info=\"1\" data-total=\"1\""));
        assert!(html.contains(
            "<strong>Action needed: fix the errors first.</strong> 2 errors, 1 warning and 1 info finding."
        ));
    }

    #[test]
    fn finding_text_is_escaped_and_the_page_is_self_contained() {
        let html = check_html(&document());
        assert!(html.contains("Namespace &lt;b&gt;demo&lt;/b&gt;"));
        assert!(html.contains("istio.io/rev=&quot;x&quot; &amp; more"));
        assert!(html.contains("relabel &#39;it&#39;"));
        assert!(!html.contains("<b>demo"));
        assert!(html.contains("<span class=\"object mono\">cluster-wide</span>"));
        assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
        assert_eq!(html, check_html(&document()), "deterministic");
    }

    #[test]
    fn findings_in_an_unknown_area_are_still_shown() {
        let mut doc = document();
        doc["findings"].as_array_mut().expect("findings").push(
            json!({"code": "W-NEW", "severity": "warning", "area": "telemetry", "message": "m", "hint": "h"}),
        );
        let html = check_html(&doc);
        assert!(card(&html, "telemetry").contains("data-warnings=\"1\""));
        assert!(html.contains("id=\"findings-telemetry\""));
    }
}
