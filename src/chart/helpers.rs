//! The template functions our charts rely on, named and ordered like Helm's (Sprig's) so a Helm chart
//! author can read them: `toYaml`, `nindent`, `quote`, `default`, `required`, `include`, `semverCompare`
//! and friends. Handlebars values are immutable, so `set`, `unset` and `merge` return a new map instead
//! of changing one in place. Testing a missing value (`default`, `if`, `eq`) is allowed; printing one
//! is an error (strict mode), which catches misspelt value paths.

use std::fmt::Write as _;

use base64::Engine as _;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, RenderErrorReason, ScopedJson,
};
use serde_json::{Map, Value};

use crate::version::{Constraint, parse_lenient};
use crate::yaml;

/// A function of plain values: the arguments (a missing value arrives as `null`) to a result.
type Func = fn(&[Value]) -> Result<Value, String>;

/// How many arguments a function takes.
#[derive(Clone, Copy)]
enum Arity {
    Exactly(usize),
    AtLeast(usize),
    Between(usize, usize),
}

struct Pure {
    name: &'static str,
    arity: Arity,
    func: Func,
}

impl HelperDef for Pure {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let args = arguments(h);
        let count = args.len();
        let ok = match self.arity {
            Arity::Exactly(n) => count == n,
            Arity::AtLeast(n) => count >= n,
            Arity::Between(lo, hi) => (lo..=hi).contains(&count),
        };
        if !ok {
            return Err(failure(self.name, format!("wrong number of arguments ({count})")));
        }
        (self.func)(&args).map(ScopedJson::Derived).map_err(|message| failure(self.name, message))
    }
}

fn arguments(h: &Helper<'_>) -> Vec<Value> {
    h.params().iter().map(|p| if p.is_value_missing() { Value::Null } else { p.value().clone() }).collect()
}

fn failure(name: &str, message: String) -> RenderError {
    RenderErrorReason::Other(format!("{name}: {message}")).into()
}

/// `include NAME CONTEXT`: renders a partial to a string so it can be piped (`nindent 4 (include …)`).
struct Include;

impl HelperDef for Include {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        registry: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let args = arguments(h);
        let Some(Value::String(name)) = args.first() else {
            return Err(failure("include", "the first argument must be a partial name".to_string()));
        };
        if !registry.has_template(name) {
            return Err(RenderErrorReason::PartialNotFound(name.clone()).into());
        }
        let data = args.get(1).cloned().unwrap_or_else(|| ctx.data().clone());
        let text = registry.render(name, &data)?;
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

/// `fileGet PATH`: a chart file's raw content (never rendered). Files are kept here, per chart path,
/// rather than in the template context, because Handlebars copies the context for every partial call.
pub struct FileGet {
    /// Chart path (`istiod`, `app/charts/db`) to that chart's files.
    pub charts: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

impl HelperDef for FileGet {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let args = arguments(h);
        let Some(Value::String(path)) = args.first() else {
            return Err(failure("fileGet", "expects a file path".to_string()));
        };
        // The rendering template's chart, from `Template.BasePath` (`<chart path>/templates`); a
        // partial given a custom context falls back to the root chart (the first path).
        let chart = ctx
            .data()
            .pointer("/Template/BasePath")
            .and_then(Value::as_str)
            .and_then(|base| base.strip_suffix("/templates"))
            .and_then(|chart| self.charts.get(chart))
            .or_else(|| self.charts.values().next());
        match chart.and_then(|files| files.get(path.as_str())) {
            Some(content) => Ok(ScopedJson::Derived(Value::String(content.clone()))),
            None => Err(failure("fileGet", format!("the chart has no file {path:?}"))),
        }
    }
}

/// Registers every helper on a Handlebars registry.
pub fn register(registry: &mut Handlebars<'_>) {
    use Arity::{AtLeast, Between, Exactly};
    let pure: [(&'static str, Arity, Func); 39] = [
        ("toYaml", Exactly(1), to_yaml),
        ("toJson", Exactly(1), |a| Ok(Value::String(a[0].to_string()))),
        ("fromYaml", Exactly(1), from_yaml),
        ("indent", Exactly(2), |a| Ok(Value::String(indent(&a[0], &a[1])?))),
        ("nindent", Exactly(2), |a| Ok(Value::String(format!("\n{}", indent(&a[0], &a[1])?)))),
        ("quote", AtLeast(1), quote),
        ("squote", AtLeast(1), |a| {
            Ok(Value::String(present(a).map(|s| format!("'{s}'")).collect::<Vec<_>>().join(" ")))
        }),
        ("default", Between(1, 2), |a| {
            Ok(if a.len() < 2 || !truthy(&a[1]) { a[0].clone() } else { a[1].clone() })
        }),
        ("required", Exactly(2), required),
        ("fail", Exactly(1), |a| Err(text(&a[0]))),
        ("eq", AtLeast(2), |a| Ok(Value::Bool(a[1..].iter().any(|b| same(&a[0], b))))),
        ("ne", Exactly(2), |a| Ok(Value::Bool(!same(&a[0], &a[1])))),
        ("and", AtLeast(1), |a| Ok(a.iter().find(|v| !truthy(v)).unwrap_or(&a[a.len() - 1]).clone())),
        ("or", AtLeast(1), |a| Ok(a.iter().find(|v| truthy(v)).unwrap_or(&a[a.len() - 1]).clone())),
        ("not", Exactly(1), |a| Ok(Value::Bool(!truthy(&a[0])))),
        ("dict", AtLeast(0), dict),
        ("list", AtLeast(0), |a| Ok(Value::Array(a.to_vec()))),
        ("set", Exactly(3), |a| {
            with_map(&a[0], |m| {
                m.insert(text(&a[1]), a[2].clone());
            })
        }),
        ("unset", Exactly(2), |a| {
            with_map(&a[0], |m| {
                m.remove(&text(&a[1]));
            })
        }),
        ("merge", AtLeast(1), |a| merge_maps(a, false)),
        ("mergeOverwrite", AtLeast(1), |a| merge_maps(a, true)),
        ("hasKey", Exactly(2), |a| {
            Ok(Value::Bool(a[0].as_object().is_some_and(|m| m.contains_key(&text(&a[1])))))
        }),
        ("has", Exactly(2), |a| {
            Ok(Value::Bool(a[1].as_array().is_some_and(|l| l.iter().any(|x| same(x, &a[0])))))
        }),
        ("b64enc", Exactly(1), |a| {
            Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(text(&a[0]))))
        }),
        ("sha256sum", Exactly(1), sha256sum),
        ("semverCompare", Exactly(2), semver_compare),
        ("contains", Exactly(2), |a| Ok(Value::Bool(text(&a[1]).contains(&text(&a[0]))))),
        ("hasPrefix", Exactly(2), |a| Ok(Value::Bool(text(&a[1]).starts_with(&text(&a[0]))))),
        ("hasSuffix", Exactly(2), |a| Ok(Value::Bool(text(&a[1]).ends_with(&text(&a[0]))))),
        ("trimSuffix", Exactly(2), |a| {
            let s = text(&a[1]);
            Ok(Value::String(s.strip_suffix(&text(&a[0])).unwrap_or(&s).to_string()))
        }),
        ("trimPrefix", Exactly(2), |a| {
            let s = text(&a[1]);
            Ok(Value::String(s.strip_prefix(&text(&a[0])).unwrap_or(&s).to_string()))
        }),
        ("trim", Exactly(1), |a| Ok(Value::String(text(&a[0]).trim().to_string()))),
        ("lower", Exactly(1), |a| Ok(Value::String(text(&a[0]).to_lowercase()))),
        ("upper", Exactly(1), |a| Ok(Value::String(text(&a[0]).to_uppercase()))),
        ("trunc", Exactly(2), trunc),
        ("replace", Exactly(3), |a| Ok(Value::String(text(&a[2]).replace(&text(&a[0]), &text(&a[1]))))),
        ("join", Exactly(2), join),
        ("cat", AtLeast(0), |a| Ok(Value::String(present(a).collect::<Vec<_>>().join(" ")))),
        ("toString", Exactly(1), |a| Ok(Value::String(text(&a[0])))),
    ];
    for (name, arity, func) in pure {
        registry.register_helper(name, Box::new(Pure { name, arity, func }));
    }
    registry.register_helper("include", Box::new(Include));
}

/// Go-template truthiness: false, 0, null, "" and empty lists or maps are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Equality that treats `1` and `1.0` as the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A value as text, the way Go's `fmt.Sprint` shows scalars (`null` is empty).
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn present(args: &[Value]) -> impl Iterator<Item = String> + '_ {
    args.iter().filter(|v| !v.is_null()).map(text)
}

/// YAML with map keys sorted and no trailing newline, as Helm's `toYaml` prints it.
fn to_yaml(args: &[Value]) -> Result<Value, String> {
    let out = yaml::to_string(&sorted(&args[0])).map_err(|e| e.to_string())?;
    Ok(Value::String(out.trim_end_matches('\n').to_string()))
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn from_yaml(args: &[Value]) -> Result<Value, String> {
    yaml::parse_one(&text(&args[0])).map_err(|e| e.to_string())
}

/// Sprig's `indent`: every line, including empty ones, gets the padding.
fn indent(width: &Value, value: &Value) -> Result<String, String> {
    let width = width.as_u64().ok_or_else(|| format!("the width must be a whole number, not {width}"))?;
    let pad = " ".repeat(usize::try_from(width).map_err(|e| e.to_string())?);
    Ok(format!("{pad}{}", text(value).replace('\n', &format!("\n{pad}"))))
}

/// Go's `%q` for each non-null argument, joined by spaces.
fn quote(args: &[Value]) -> Result<Value, String> {
    let quoted: Vec<String> = present(args).map(|s| go_quote(&s)).collect();
    Ok(Value::String(quoted.join(" ")))
}

fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn required(args: &[Value]) -> Result<Value, String> {
    match &args[1] {
        Value::Null => Err(text(&args[0])),
        Value::String(s) if s.is_empty() => Err(text(&args[0])),
        value => Ok(value.clone()),
    }
}

fn dict(args: &[Value]) -> Result<Value, String> {
    if !args.len().is_multiple_of(2) {
        return Err("expects key and value pairs".to_string());
    }
    let map: Map<String, Value> = args.chunks(2).map(|pair| (text(&pair[0]), pair[1].clone())).collect();
    Ok(Value::Object(map))
}

fn with_map(value: &Value, change: impl FnOnce(&mut Map<String, Value>)) -> Result<Value, String> {
    let mut map = match value {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        other => return Err(format!("expects a map, not {other}")),
    };
    change(&mut map);
    Ok(Value::Object(map))
}

/// Sprig's `merge` (earlier maps win) and `mergeOverwrite` (later maps win), deep, returning a new map.
fn merge_maps(args: &[Value], overwrite: bool) -> Result<Value, String> {
    let mut maps = args.iter().map(|v| match v {
        Value::Object(m) => Ok(m.clone()),
        Value::Null => Ok(Map::new()),
        other => Err(format!("expects maps, not {other}")),
    });
    let mut result = maps.next().unwrap_or(Ok(Map::new()))?;
    for next in maps {
        let next = next?;
        if overwrite {
            crate::values::merge::deep_merge(&mut result, next);
        } else {
            let mut base = next;
            crate::values::merge::deep_merge(&mut base, result);
            result = base;
        }
    }
    Ok(Value::Object(result))
}

fn sha256sum(args: &[Value]) -> Result<Value, String> {
    Ok(Value::String(crate::digest::sha256_hex(text(&args[0]).as_bytes())))
}

fn semver_compare(args: &[Value]) -> Result<Value, String> {
    let constraint = Constraint::parse(&text(&args[0])).map_err(|e| e.to_string())?;
    let version = parse_lenient(&text(&args[1])).map_err(|e| e.to_string())?;
    Ok(Value::Bool(constraint.matches(&version)))
}

/// Sprig's `trunc`: a negative length keeps the end of the string.
fn trunc(args: &[Value]) -> Result<Value, String> {
    let n = args[0].as_i64().ok_or_else(|| format!("the length must be a whole number, not {}", args[0]))?;
    let chars: Vec<char> = text(&args[1]).chars().collect();
    let len = i64::try_from(chars.len()).map_err(|e| e.to_string())?;
    let kept: String = if n >= 0 && len > n {
        chars[..usize::try_from(n).map_err(|e| e.to_string())?].iter().collect()
    } else if n < 0 && len + n > 0 {
        chars[usize::try_from(len + n).map_err(|e| e.to_string())?..].iter().collect()
    } else {
        chars.iter().collect()
    };
    Ok(Value::String(kept))
}

fn join(args: &[Value]) -> Result<Value, String> {
    let items = match &args[1] {
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>(),
        Value::Null => Vec::new(),
        other => vec![text(other)],
    };
    Ok(Value::String(items.join(&text(&args[0]))))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(template: &str, data: &Value) -> Result<String, String> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        register(&mut hb);
        hb.register_template_string("labels", "app: {{name}}\nversion: {{quote v}}").unwrap();
        hb.render_template(template, data).map_err(|e| e.to_string())
    }

    #[test]
    fn yaml_and_indentation() {
        let data = json!({"r": {"limits": {"cpu": "100m"}, "b": [1, "true"]}, "two": "a\nb"});
        assert_eq!(
            render("x:{{nindent 2 (toYaml r)}}", &data).unwrap(),
            "x:\n  b:\n  - 1\n  - \"true\"\n  limits:\n    cpu: 100m"
        );
        assert_eq!(render("{{indent 2 two}}", &data).unwrap(), "  a\n  b");
        assert_eq!(render("{{toJson (fromYaml \"a: [1]\")}}", &data).unwrap(), "{\"a\":[1]}");
    }

    #[test]
    fn quoting_and_defaults() {
        let data = json!({"n": 8080, "s": "a\"b", "zero": 0, "empty": ""});
        assert_eq!(render("{{quote n}} {{quote s}}", &data).unwrap(), "\"8080\" \"a\\\"b\"");
        assert_eq!(
            render("{{default 1 zero}} {{default \"x\" missing}} {{default \"y\" s}}", &data).unwrap(),
            "1 x a\"b"
        );
        assert!(
            render("{{required \"set global.hub\" empty}}", &data).unwrap_err().contains("set global.hub")
        );
        assert!(render("{{missing}}", &data).is_err(), "printing a missing value is an error");
    }

    #[test]
    fn logic_and_maps() {
        let data = json!({"a": 1, "m": {"x": 1}});
        assert_eq!(render("{{#if (and a (eq a 1.0) (not missing))}}yes{{/if}}", &data).unwrap(), "yes");
        assert_eq!(render("{{or missing \"\" \"z\"}}", &data).unwrap(), "z");
        assert_eq!(render("{{eq \"b\" \"a\" \"b\"}} {{ne a 2}}", &data).unwrap(), "true true");
        let out = render(
            "{{toJson (mergeOverwrite m (set (dict \"y\" 2) \"x\" 3))}} {{toJson (merge m (dict \"x\" 9 \"z\" 1))}}",
            &data,
        );
        assert_eq!(out.unwrap(), "{\"x\":3,\"y\":2} {\"x\":1,\"z\":1}");
        assert_eq!(
            render("{{hasKey m \"x\"}} {{hasKey m \"q\"}} {{toJson (unset m \"x\")}}", &data).unwrap(),
            "true false {}"
        );
        assert_eq!(render("{{has \"policy/v1\" (list \"v1\" \"policy/v1\")}}", &data).unwrap(), "true");
    }

    #[test]
    fn strings_and_digests() {
        let data = json!({});
        assert_eq!(render("{{b64enc \"istio\"}}", &data).unwrap(), "aXN0aW8=");
        assert_eq!(
            render("{{sha256sum \"abc\"}}", &data).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            render("{{trunc 5 \"istiod-canary\"}}|{{trunc -6 \"istiod-canary\"}}", &data).unwrap(),
            "istio|canary"
        );
        assert_eq!(
            render(
                "{{trimSuffix \"-\" \"a-\"}} {{upper \"a\"}} {{lower \"B\"}} {{contains \"st\" \"istio\"}}",
                &data
            )
            .unwrap(),
            "a A b true"
        );
        assert_eq!(
            render("{{replace \".\" \"-\" \"1.6.14\"}} {{join \",\" (list 1 2)}}", &data).unwrap(),
            "1-6-14 1,2"
        );
    }

    #[test]
    fn semver_and_include() {
        let data = json!({"name": "istiod", "v": "1.6.14"});
        assert_eq!(
            render("{{semverCompare \">=1.6.0-0\" v}} {{semverCompare \"<1.6\" v}}", &data).unwrap(),
            "true false"
        );
        assert_eq!(
            render("{{nindent 2 (include \"labels\" this)}}", &data).unwrap(),
            "\n  app: istiod\n  version: \"1.6.14\""
        );
        assert!(render("{{include \"nope\" this}}", &data).unwrap_err().contains("Partial not found nope"));
        assert!(render("{{fail \"stop here\"}}", &data).unwrap_err().contains("stop here"));
    }
}
