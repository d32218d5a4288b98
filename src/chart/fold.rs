//! Literal folding: a speed-up for Handlebars compilation that leaves output unchanged.
//!
//! handlebars-rust parses templates with pest, whose cost grows with every byte of text and, for
//! each expression, with its distance from the start of the template (line and column are found by
//! scanning from the start). Our templates are mostly literal YAML, so before compiling we move every
//! long run of whole literal lines into a side table and leave a `{{__literal N}}` expression in its
//! place; rendering writes the run back verbatim. Template parsing was most of a render's time; this
//! roughly halves it.
//!
//! The first and last line fragments of each run stay in the template, so Handlebars' rules for
//! stand-alone block tags, partial indentation and `~` whitespace control see exactly the text they
//! saw before; runs next to a `~` are never folded. Error line numbers are mapped back to the
//! original template.

use std::sync::Arc;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, RenderErrorReason, ScopedJson,
};
use serde_json::Value;

/// The helper that writes a folded run back.
pub const LITERAL_HELPER: &str = "__literal";

/// Writes folded run `N` back, through Handlebars' own output path (so partial indentation applies
/// to it exactly as it applied to the literal text).
pub struct LiteralHelper(pub Arc<Vec<String>>);

impl HelperDef for LiteralHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let index = h.param(0).and_then(|p| p.value().as_u64()).and_then(|i| usize::try_from(i).ok());
        match index.and_then(|i| self.0.get(i)) {
            Some(text) => Ok(ScopedJson::Derived(Value::String(text.clone()))),
            None => {
                Err(RenderErrorReason::Other(format!("{LITERAL_HELPER}: no folded text {index:?}")).into())
            }
        }
    }
}

/// Runs shorter than this stay in the template: folding them would not pay for the helper call.
const MIN_FOLD: usize = 48;

/// Where a rewritten template lost line breaks, to map its line numbers back to the original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineShifts(Vec<(usize, usize)>);

impl LineShifts {
    /// Records that lines after `line` (of the rewritten text) come `removed` lines later in the
    /// original.
    pub fn push(&mut self, line: usize, removed: usize) {
        if removed > 0 {
            self.0.push((line, removed));
        }
    }

    /// The original line of line `line` of the rewritten text.
    pub fn original_line(&self, line: usize) -> usize {
        line + self.0.iter().filter(|(at, _)| *at < line).map(|(_, removed)| removed).sum::<usize>()
    }
}

/// A template with its long literal runs folded out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// The template text to compile.
    pub text: String,
    /// The folded runs, in order; the placeholder for run `i` is `{{__literal <first_id + i>}}`.
    pub literals: Vec<String>,
    /// Where placeholders replaced line breaks.
    pub shifts: LineShifts,
}

impl Folded {
    /// The template unchanged (nothing folded).
    fn unchanged(text: &str) -> Folded {
        Folded { text: text.to_string(), literals: Vec::new(), shifts: LineShifts::default() }
    }

    /// The line of the unfolded template that line `line` of the folded text came from.
    pub fn original_line(&self, line: usize) -> usize {
        self.shifts.original_line(line)
    }
}

/// The spans of every `{{…}}` in `text`, or `None` when the text uses a form we do not fold around
/// (raw blocks `{{{{`, escaped `\{{`, carriage returns, an unterminated tag).
pub(super) fn mustaches(text: &str) -> Option<Vec<(usize, usize)>> {
    if text.contains('\r') || text.contains("\\{{") || text.contains("{{{{") {
        return None;
    }
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("{{") {
        let start = from + offset;
        let rest = &text[start..];
        let close = if rest.starts_with("{{!--") {
            "--}}"
        } else if rest.starts_with("{{{") {
            "}}}"
        } else {
            "}}"
        };
        let end = start + 2 + text[start + 2..].find(close)? + close.len();
        spans.push((start, end));
        from = end;
    }
    Some(spans)
}

/// Folds the long literal runs of `text`; placeholders are numbered from `first_id`.
pub fn fold(text: &str, first_id: usize) -> Folded {
    let Some(spans) = mustaches(text) else { return Folded::unchanged(text) };
    let mut out = Folded {
        text: String::with_capacity(text.len() / 2),
        literals: Vec::new(),
        shifts: LineShifts::default(),
    };
    let mut lines_so_far = 1;
    let mut previous_end = 0;
    let mut previous_strips_after = false;
    for (index, &(start, end)) in spans.iter().chain(std::iter::once(&(text.len(), text.len()))).enumerate() {
        let literal = &text[previous_end..start];
        let is_last = index == spans.len();
        let next_strips_before =
            !is_last && (text[start..].starts_with("{{~") || text[start..].starts_with("{{{~"));
        if previous_strips_after || next_strips_before {
            out.text.push_str(literal);
        } else {
            fold_run(literal, first_id, &mut out, lines_so_far);
        }
        lines_so_far = out.text.matches('\n').count() + 1;
        if !is_last {
            let tag = &text[start..end];
            out.text.push_str(tag);
            previous_strips_after = tag.ends_with("~}}") || tag.ends_with("~}}}");
        }
        previous_end = end;
    }
    out
}

/// Appends one literal run, folding its middle lines when they are long enough.
fn fold_run(literal: &str, first_id: usize, out: &mut Folded, line: usize) {
    let (Some(first), Some(last)) = (literal.find('\n'), literal.rfind('\n')) else {
        out.text.push_str(literal);
        return;
    };
    // Empty lines after the first break stay with the head, so the folded run starts with text.
    let mut head_end = first + 1;
    while literal[head_end..].starts_with('\n') {
        head_end += 1;
    }
    if last < head_end || last - head_end < MIN_FOLD {
        out.text.push_str(literal);
        return;
    }
    let (head, middle, tail) = (&literal[..head_end], &literal[head_end..last], &literal[last..]);
    out.text.push_str(head);
    let placeholder_line = line + head.matches('\n').count();
    let id = first_id + out.literals.len();
    out.text.push_str(&format!("{{{{{LITERAL_HELPER} {id}}}}}"));
    out.shifts.push(placeholder_line, middle.matches('\n').count());
    out.literals.push(middle.to_string());
    out.text.push_str(tail);
}

#[cfg(test)]
mod tests {
    use handlebars::Handlebars;
    use serde_json::json;

    use super::*;

    /// Renders `template` directly and folded, with the same data and partials.
    fn both(template: &str, partial: &str) -> (String, String) {
        let data = json!({"a": true, "b": false, "items": [1, 2], "name": "x"});
        let direct = {
            let mut hb = Handlebars::new();
            hb.register_escape_fn(handlebars::no_escape);
            hb.register_template_string("p", partial).unwrap();
            hb.register_template_string("t", template).unwrap();
            hb.render("t", &data).unwrap()
        };
        let folded = {
            let t = fold(template, 0);
            let p = fold(partial, t.literals.len());
            let literals: Vec<String> = t.literals.iter().chain(&p.literals).cloned().collect();
            let mut hb = Handlebars::new();
            hb.register_escape_fn(handlebars::no_escape);
            hb.register_helper(LITERAL_HELPER, Box::new(LiteralHelper(Arc::new(literals))));
            hb.register_template_string("p", &p.text).unwrap();
            hb.register_template_string("t", &t.text).unwrap();
            hb.render("t", &data).unwrap()
        };
        (direct, folded)
    }

    const YAML: &str = "spec:\n  one: 1\n  two: 2\n  three: three three three three three three\n  four: 4\n";

    #[test]
    fn output_is_unchanged_around_blocks_each_and_whitespace_control() {
        let template = format!(
            "a:\n{YAML}{{{{#if a}}}}\n{YAML}  x: {{{{name}}}}\n{YAML}{{{{else}}}}\n{YAML}{{{{/if}}}}\n{{{{#each items}}}}\n- {{{{this}}}}\n{YAML}{{{{/each}}}}\n{YAML}{{{{~#if b}}}}no{{{{/if~}}}}\n\n{YAML}end\n"
        );
        let (direct, folded) = both(&template, YAML);
        assert_eq!(direct, folded);
        assert!(fold(&template, 0).literals.len() >= 4, "long runs are folded");
    }

    #[test]
    fn indented_partials_are_indented_the_same() {
        let partial = format!("first: 1\n\n{YAML}{{{{#if a}}}}\n\n{YAML}{{{{/if}}}}\nlast: {{{{name}}}}\n");
        let template = "top:\n  {{> p}}\nafter:\n    {{> p}}\n";
        let (direct, folded) = both(template, &partial);
        assert_eq!(direct, folded);
    }

    #[test]
    fn lines_map_back_to_the_original() {
        let template = format!("x: 1\n{{{{#if a}}}}\n{YAML}{YAML}{{{{/if}}}}\ny: {{{{oops}}}}\n");
        let folded = fold(&template, 0);
        assert_eq!(folded.literals.len(), 1);
        let original = template.lines().position(|l| l.contains("oops")).unwrap() + 1;
        let now = folded.text.lines().position(|l| l.contains("oops")).unwrap() + 1;
        assert!(now < original);
        assert_eq!(folded.original_line(now), original);
        assert_eq!(folded.original_line(1), 1);
    }

    #[test]
    fn unusual_forms_are_left_alone() {
        for text in ["a\\{{b}}\n", "{{{{raw}}}}x{{{{/raw}}}}", "a\r\nb", "{{unterminated"] {
            assert_eq!(fold(text, 0).text, text);
        }
    }
}
