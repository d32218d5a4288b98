//! Every `--set` test vector of the Helm compatibility spec (section 4), plus the value-source order
//! and the coalescing rules of section 3, checked against the public values API.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::io::Write;

use sailplan::values::{ValueOptions, merge, strvals};
use serde_json::{Map, Value, json};

fn no_files(path: &str) -> Result<String, String> {
    Err(format!("unexpected file read {path}"))
}

fn set_into(base: Value, kind: strvals::SetKind, expr: &str) -> Result<Value, String> {
    let mut map = match base {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    strvals::apply(expr, kind, &mut map, &no_files).map_err(|e| e.message)?;
    Ok(Value::Object(map))
}

fn set(expr: &str) -> Result<Value, String> {
    set_into(json!({}), strvals::SetKind::Typed, expr)
}

fn ok(expr: &str) -> Value {
    set(expr).unwrap_or_else(|e| panic!("{expr:?} should parse, got error: {e}"))
}

fn fails(expr: &str) -> String {
    match set(expr) {
        Ok(v) => panic!("{expr:?} should fail, got {v}"),
        Err(e) => e,
    }
}

#[test]
fn v01_to_v04_basic_keys_and_ints() {
    assert_eq!(ok("a=b"), json!({"a": "b"}));
    assert_eq!(ok("a=b,c=d,"), json!({"a": "b", "c": "d"}));
    assert_eq!(ok("a.b.c=1"), json!({"a": {"b": {"c": 1}}}));
    assert_eq!(ok("a=1,b=-3,c=+4"), json!({"a": 1, "b": -3, "c": 4}));
}

#[test]
fn v05_to_v07_number_inference() {
    assert_eq!(ok("d=1.5,e=1e3"), json!({"d": "1.5", "e": "1e3"}));
    assert_eq!(ok("a=007,b=0,c=0x1F,d=-0"), json!({"a": "007", "b": 0, "c": "0x1F", "d": 0}));
    assert_eq!(
        ok("a=9223372036854775807,b=9223372036854775808"),
        json!({"a": 9_223_372_036_854_775_807_i64, "b": "9223372036854775808"})
    );
}

#[test]
fn v08_to_v10_bools_nulls_and_set_string() {
    assert_eq!(ok("a=true,b=FALSE,c=True,d=yes"), json!({"a": true, "b": false, "c": true, "d": "yes"}));
    assert_eq!(ok("e=null,f=NULL,g=~"), json!({"e": null, "f": null, "g": "~"}));
    let strings = set_into(json!({}), strvals::SetKind::String, "a=true,b=null,c=0,d=123").unwrap();
    assert_eq!(strings, json!({"a": "true", "b": "null", "c": "0", "d": "123"}));
}

#[test]
fn v11_to_v16_values_and_escapes() {
    assert_eq!(ok("a="), json!({"a": ""}));
    assert_eq!(ok("a=,b=x"), json!({"a": "", "b": "x"}));
    assert_eq!(ok("a=b=c"), json!({"a": "b=c"}));
    assert_eq!(ok(r"a=one\,two,b=x\=y"), json!({"a": "one,two", "b": "x=y"}));
    assert_eq!(ok(r"a\.b=c"), json!({"a.b": "c"}));
    assert_eq!(
        ok(r"ann.kubernetes\.io/ingress\.class=nginx"),
        json!({"ann": {"kubernetes.io/ingress.class": "nginx"}})
    );
    assert_eq!(ok("a=x y ,b= z"), json!({"a": "x y ", "b": " z"}));
}

#[test]
fn v17_to_v22_brace_lists() {
    assert_eq!(ok("list={x,y}"), json!({"list": ["x", "y"]}));
    assert_eq!(ok("list={1,true,null,z}"), json!({"list": [1, true, null, "z"]}));
    assert_eq!(ok("list={}"), json!({"list": [""]}));
    assert_eq!(ok(r"list={a\,b,c}"), json!({"list": ["a,b", "c"]}));
    assert_eq!(ok("cmd={sh,-c,echo hi}"), json!({"cmd": ["sh", "-c", "echo hi"]}));
    assert!(fails("list={a,b").contains("list must terminate with '}'"));
    assert!(fails("list={x,y}z").contains("\"z\" has no value"));
}

#[test]
fn v23_to_v27_indexes() {
    assert_eq!(ok("list[0]=x"), json!({"list": ["x"]}));
    assert_eq!(ok("list[2]=x"), json!({"list": [null, null, "x"]}));
    assert_eq!(ok("list[0].name=a,list[0].port=80"), json!({"list": [{"name": "a", "port": 80}]}));
    assert_eq!(ok("list[1].name=b"), json!({"list": [null, {"name": "b"}]}));
    assert_eq!(ok("m[0][1]=v"), json!({"m": [[null, "v"]]}));
    assert_eq!(ok("a.b[0]={x,y}"), json!({"a": {"b": [["x", "y"]]}}));
    assert_eq!(ok("noval[0]"), json!({"noval": []}));
    assert_eq!(ok("noval[0]="), json!({"noval": [""]}));
}

#[test]
fn v28_to_v34_errors_and_quirks() {
    assert!(fails("name").contains("key \"name\" has no value"));
    assert!(fails("name,").contains("cannot end with ,"));
    fails("a=b,,c=d");
    assert!(fails("a.b").contains("key \"b\" has no value"));
    assert!(fails("a.=b").contains("key map \"a\" has no value"));
    assert_eq!(ok("a."), json!({}));
    assert!(fails("list[-1]=x").contains("negative"));
    assert!(fails("list[65537]=x").contains("maximum supported index of 65536"));
    assert!(fails("list[x]=y").contains("error parsing index"));
    assert!(fails("a=1,a.b=2").contains("unable to parse key"));
    assert_eq!(ok("x=1,x=2"), json!({"x": 2}));
    assert_eq!(ok("a=b\\"), json!({"a": "b"}));
    assert_eq!(ok("list[65536]=x")["list"].as_array().map(Vec::len), Some(65537));
}

#[test]
fn v35_v36_set_edits_values_from_files() {
    let base = json!({"a": {"x": 1}});
    assert_eq!(set_into(base, strvals::SetKind::Typed, "a.y=2").unwrap(), json!({"a": {"x": 1, "y": 2}}));
    let list = json!({"list": [1, 2, 3]});
    assert_eq!(
        set_into(list.clone(), strvals::SetKind::Typed, "list[1]=9").unwrap(),
        json!({"list": [1, 9, 3]})
    );
    assert_eq!(
        set_into(list, strvals::SetKind::Typed, "list[5]=9").unwrap(),
        json!({"list": [1, 2, 3, null, null, 9]})
    );
}

#[test]
fn v37_set_json() {
    let got =
        set_into(json!({}), strvals::SetKind::Json, r#"a={"x":1,"y":[1,2]},b="s",c=,d=null,e=true"#).unwrap();
    assert_eq!(got, json!({"a": {"x": 1, "y": [1, 2]}, "b": "s", "c": null, "d": null, "e": true}));
    let bad = set_into(json!({}), strvals::SetKind::Json, "a={nope").unwrap_err();
    assert!(bad.contains("invalid JSON value"), "{bad}");
}

#[test]
fn v38_set_literal() {
    let mut map = Map::new();
    strvals::apply_literal("a.b=c,d=e", &mut map).unwrap();
    assert_eq!(Value::Object(map), json!({"a": {"b": "c,d=e"}}));
    let mut map = Map::new();
    strvals::apply_literal(r"a\.b=c", &mut map).unwrap();
    assert_eq!(Value::Object(map), json!({"a\\": {"b": "c"}}));
    let mut map = Map::new();
    strvals::apply_literal("list[1]=x,y", &mut map).unwrap();
    assert_eq!(Value::Object(map), json!({"list": [null, "x,y"]}));
}

#[test]
fn v39_nesting_limit() {
    let thirty = format!("{}=x", vec!["k"; 31].join("."));
    assert!(set(&thirty).is_ok(), "30 dots are allowed");
    let thirty_one = format!("{}=x", vec!["k"; 32].join("."));
    assert!(fails(&thirty_one).contains("nested level"));
}

fn coalesced(defaults: Value, user: Value) -> (Value, Vec<String>) {
    let (Value::Object(defaults), Value::Object(user)) = (defaults, user) else { panic!("maps expected") };
    let mut warnings = Vec::new();
    let out = merge::coalesce("chart", user, &defaults, &mut warnings);
    (Value::Object(out), warnings)
}

#[test]
fn v40_user_list_replaces_default_list() {
    let user = ok("list[1]=9");
    let (out, _) = coalesced(json!({"list": [1, 2, 3]}), user);
    assert_eq!(out, json!({"list": [null, 9]}));
}

#[test]
fn v41_null_deletes_defaults() {
    let user = ok("a=null,b.c=null");
    let (out, _) = coalesced(json!({"a": 1, "b": {"c": 2, "d": 3}}), user);
    assert_eq!(out, json!({"b": {"d": 3}}));
    let (kept, _) = coalesced(json!({}), json!({"x": null}));
    assert_eq!(kept, json!({"x": null}), "null for a key with no default stays");
}

#[test]
fn coalesce_type_conflicts_warn_and_user_wins() {
    let (out, warnings) =
        coalesced(json!({"a": {"b": 1}, "c": {"d": {"e": 1}}}), json!({"a": "flat", "c": {"d": 5}}));
    assert_eq!(out, json!({"a": "flat", "c": {"d": 5}}));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("cannot overwrite table with non table for chart.c.d"));
}

#[test]
fn v42_flag_groups_apply_in_helm_order() {
    let opts = ValueOptions { set: vec!["a=2".into()], string: vec!["a=1".into()], ..Default::default() };
    assert_eq!(Value::Object(opts.merge().unwrap()), json!({"a": "1"}));
    let opts = ValueOptions { set: vec!["a=2".into()], json: vec!["a=5".into()], ..Default::default() };
    assert_eq!(Value::Object(opts.merge().unwrap()), json!({"a": 2}));
    let opts =
        ValueOptions { string: vec!["a=1".into()], literal: vec!["a=lit,eral".into()], ..Default::default() };
    assert_eq!(Value::Object(opts.merge().unwrap()), json!({"a": "lit,eral"}));
}

#[test]
fn files_merge_in_order_and_set_file_reads_content() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.yaml");
    let two = dir.path().join("two.yaml");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&one, "a:\n  x: 1\n  y: [1, 2]\nmode: 0644\n").unwrap();
    std::fs::write(&two, "a:\n  y: [3]\n  z: null\n").unwrap();
    std::fs::File::create(&cert).unwrap().write_all(b"-----BEGIN-----\n").unwrap();
    let opts = ValueOptions {
        files: vec![one, two],
        file: vec![format!("tls.cert={}", cert.display())],
        ..Default::default()
    };
    let merged = Value::Object(opts.merge().unwrap());
    assert_eq!(
        merged,
        json!({"a": {"x": 1, "y": [3], "z": null}, "mode": 420, "tls": {"cert": "-----BEGIN-----\n"}})
    );
}

#[test]
fn malformed_values_file_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "a: b\n  c: d: e\n").unwrap();
    let opts = ValueOptions { files: vec![bad.clone()], ..Default::default() };
    let message = opts.merge().unwrap_err().to_string();
    assert!(message.contains(&bad.display().to_string()), "{message}");
    assert!(message.contains("line 2 column 4"), "{message}");
}

#[test]
fn missing_set_file_is_a_clear_error() {
    let opts = ValueOptions { file: vec!["a=/nonexistent/file.pem".into()], ..Default::default() };
    let message = opts.merge().unwrap_err().to_string();
    assert!(message.contains("--set-file") && message.contains("/nonexistent/file.pem"), "{message}");
}
