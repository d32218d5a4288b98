//! Version-gate pruning: a speed-up for Handlebars compilation that leaves output unchanged.
//!
//! Our charts serve every Istio version from one set of templates, gating differences with
//! `{{#if (semverCompare "RANGE" Chart.AppVersion)}}`. `Chart.AppVersion` is fixed for a render, so
//! before compiling we evaluate those gates and keep only the branch that will run; then we compile
//! only the partials that the remaining text can reach. A gate is pruned only in the plain form: an
//! `if`/`unless` whose sole condition is that `semverCompare`, with at most a plain `{{else}}`, whose
//! tags each stand alone on their line (so Handlebars' stand-alone line rules give the same output)
//! and use no `~`. Anything else is left for Handlebars to evaluate.

use std::collections::{BTreeMap, BTreeSet};

use super::fold::LineShifts;
use crate::version::{Constraint, parse_lenient};

/// A `{{…}}` tag: its byte span and its text.
#[derive(Debug, Clone, Copy)]
struct Tag<'t> {
    start: usize,
    end: usize,
    text: &'t str,
}

/// Every `{{…}}` tag of `text`, or `None` for forms this pass does not understand.
fn tags(text: &str) -> Option<Vec<Tag<'_>>> {
    let spans = super::fold::mustaches(text)?;
    Some(spans.into_iter().map(|(start, end)| Tag { start, end, text: &text[start..end] }).collect())
}

/// The bytes to delete for a tag that stands alone on its line (the whole line), or `None`.
fn standalone_line(text: &str, tag: &Tag<'_>) -> Option<(usize, usize)> {
    let line_start = text[..tag.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[tag.end..].find('\n').map_or(text.len(), |i| tag.end + i + 1);
    let before = &text[line_start..tag.start];
    let after = text[tag.end..line_end].trim_end_matches('\n');
    let blank = |s: &str| s.chars().all(|c| c == ' ' || c == '\t');
    (blank(before) && blank(after)).then_some((line_start, line_end))
}

/// Whether a gate's condition holds: `Some(true/false)` for a plain semverCompare on the chart's
/// AppVersion, `None` for anything else.
fn gate(tag: &str, app_version: &semver::Version) -> Option<(bool, bool)> {
    let inner = tag.strip_prefix("{{#")?.strip_suffix("}}")?;
    let (negate, rest) = if let Some(rest) = inner.strip_prefix("if ") {
        (false, rest)
    } else {
        (true, inner.strip_prefix("unless ")?)
    };
    let call = rest.trim().strip_prefix("(semverCompare \"")?.strip_suffix(')')?;
    let (range, subject) = call.split_once('"')?;
    if !matches!(subject.trim(), "Chart.AppVersion" | "@root.Chart.AppVersion") {
        return None;
    }
    let holds = Constraint::parse(range).ok()?.matches(app_version);
    Some((holds, negate))
}

/// Removes branches of version gates that cannot run for `app_version`, and says where lines went;
/// returns the text unchanged when it uses forms this pass does not understand.
pub fn prune_gates(text: &str, app_version: &str) -> (String, LineShifts) {
    let unchanged = || (text.to_string(), LineShifts::default());
    let Ok(version) = parse_lenient(app_version) else { return unchanged() };
    let Some(tags) = tags(text) else { return unchanged() };
    // Match blocks: for each opening tag, its plain `{{else}}` (if any) and its closing tag.
    let mut stack: Vec<(usize, Option<usize>, bool)> = Vec::new(); // (open, else, has other else forms)
    let mut deletions: Vec<(usize, usize)> = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        let t = tag.text;
        if t.starts_with("{{!") {
            continue;
        }
        let body = t.trim_start_matches("{{").trim_start_matches('~');
        if body.starts_with('#') {
            stack.push((i, None, false));
        } else if body.starts_with("else") || body.starts_with('^') {
            if let Some(top) = stack.last_mut() {
                if t == "{{else}}" && top.1.is_none() {
                    top.1 = Some(i);
                } else {
                    top.2 = true;
                }
            }
        } else if body.starts_with('/') {
            let Some((open, otherwise, complex)) = stack.pop() else { return unchanged() };
            if complex {
                continue;
            }
            let Some((holds, negate)) = gate(tags[open].text, &version) else { continue };
            let runs = holds != negate;
            let close = i;
            let lines: Option<Vec<(usize, usize)>> = std::iter::once(open)
                .chain(otherwise)
                .chain(std::iter::once(close))
                .map(|k| if tags[k].text.contains('~') { None } else { standalone_line(text, &tags[k]) })
                .collect();
            let Some(lines) = lines else { continue };
            let (open_line, close_line) = (lines[0], lines[lines.len() - 1]);
            match (runs, otherwise.map(|_| lines[1])) {
                // Keep the then-branch: drop the tag lines and the else-branch.
                (true, Some(else_line)) => {
                    deletions.push(open_line);
                    deletions.push((else_line.0, close_line.1));
                }
                (true, None) => {
                    deletions.push(open_line);
                    deletions.push(close_line);
                }
                // Keep the else-branch (if any).
                (false, Some(else_line)) => {
                    deletions.push((open_line.0, else_line.1));
                    deletions.push(close_line);
                }
                (false, None) => deletions.push((open_line.0, close_line.1)),
            }
        }
    }
    if !stack.is_empty() {
        return unchanged();
    }
    // Nested gates inside a removed range are covered by it: keep only outermost deletions.
    deletions.sort();
    let mut out = String::with_capacity(text.len());
    let mut shifts = LineShifts::default();
    let mut position = 0;
    for (start, end) in deletions {
        if start < position {
            // Inside (or overlapping) a range already removed: remove only what lies beyond it.
            if end > position {
                shifts.push(out.matches('\n').count(), text[position..end].matches('\n').count());
                position = end;
            }
            continue;
        }
        out.push_str(&text[position..start]);
        // Whole lines go: the line now at the cut came `removed` lines later.
        shifts.push(out.matches('\n').count(), text[start..end].matches('\n').count());
        position = end;
    }
    out.push_str(&text[position..]);
    (out, shifts)
}

/// Names of partials that `texts` can reach: `{{> name}}` tags and quoted strings that name a known
/// partial (as `include "name"` and partial-name parameters are written), followed transitively.
pub fn reachable<'p>(
    roots: impl Iterator<Item = &'p str>,
    partials: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending: Vec<String> = Vec::new();
    let scan = |text: &str, pending: &mut Vec<String>| {
        for candidate in references(text) {
            if partials.contains_key(candidate) {
                pending.push(candidate.to_string());
            }
        }
    };
    for text in roots {
        scan(text, &mut pending);
    }
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone())
            && let Some(text) = partials.get(&name)
        {
            scan(text, &mut pending);
        }
    }
    seen
}

fn references(text: &str) -> impl Iterator<Item = &str> {
    let partial_tags = text
        .split("{{>")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|name| name.trim_end_matches('}').trim_start_matches('~'));
    let quoted = text.split('"').skip(1).step_by(2);
    partial_tags.chain(quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "a: 1\n{{#if (semverCompare \">=1.6.0-0\" Chart.AppVersion)}}\nnew: {{x}}\n{{else}}\nold: {{y}}\n{{/if}}\n  {{#unless (semverCompare \"<1.8\" Chart.AppVersion)}}\n  modern: true\n  {{/unless}}\nz: {{#if (semverCompare \">=1.6\" Chart.AppVersion)}}inline{{/if}}\n";

    #[test]
    fn keeps_only_the_branch_that_runs() {
        assert_eq!(
            prune_gates(T, "1.7.8").0,
            "a: 1\nnew: {{x}}\nz: {{#if (semverCompare \">=1.6\" Chart.AppVersion)}}inline{{/if}}\n"
        );
        assert_eq!(
            prune_gates(T, "1.5.10").0,
            "a: 1\nold: {{y}}\nz: {{#if (semverCompare \">=1.6\" Chart.AppVersion)}}inline{{/if}}\n"
        );
        assert!(prune_gates(T, "1.31.1").0.contains("  modern: true\n"));
    }

    #[test]
    fn nested_gates_and_other_blocks() {
        let t = "{{#if (semverCompare \"<1.6\" Chart.AppVersion)}}\n{{#if (semverCompare \"<1.5\" Chart.AppVersion)}}\nx\n{{/if}}\n{{/if}}\n{{#each list}}\n{{#if (semverCompare \">=1.0\" Chart.AppVersion)}}\ny\n{{/if}}\n{{/each}}\n";
        assert_eq!(prune_gates(t, "1.7.0").0, "{{#each list}}\ny\n{{/each}}\n");
    }

    #[test]
    fn leaves_forms_it_does_not_understand() {
        for t in [
            "{{#if (semverCompare \">=1.6\" Chart.AppVersion)}}\na\n{{else if b}}\nc\n{{/if}}\n",
            "{{#if (and a (semverCompare \">=1.6\" Chart.AppVersion))}}\na\n{{/if}}\n",
            "{{~#if (semverCompare \">=1.6\" Chart.AppVersion)}}\na\n{{/if}}\n",
            "{{#if (semverCompare \">=1.6\" v)}}\na\n{{/if}}\n",
            "{{#if (semverCompare \">=1.6\" Chart.AppVersion)}}\na\n",
        ] {
            assert_eq!(prune_gates(t, "1.7.0").0, t);
        }
    }

    #[test]
    fn lines_map_back_to_the_original() {
        let (pruned, shifts) = prune_gates(T, "1.7.8");
        let now = pruned.lines().position(|l| l.starts_with("z:")).unwrap() + 1;
        let original = T.lines().position(|l| l.starts_with("z:")).unwrap() + 1;
        assert_eq!(shifts.original_line(now), original);
        assert_eq!(shifts.original_line(2), 3, "the kept branch line");
    }

    #[test]
    fn reachability_follows_tags_and_quoted_names() {
        let partials: BTreeMap<String, String> = [
            ("a".to_string(), "{{> b}}".to_string()),
            ("b".to_string(), "x".to_string()),
            ("c".to_string(), "{{include \"d\" this}}".to_string()),
            ("d".to_string(), "y".to_string()),
            ("unused".to_string(), "z".to_string()),
        ]
        .into();
        let found = reachable(["{{> a}} {{> c schema=\"nothing\"}}"].into_iter(), &partials);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
    }
}
