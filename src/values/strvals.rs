//! Helm's `--set` grammar, reimplemented so that every expression a Helm user already writes means the
//! same thing here: `a.b[0]=x,c={1,2}` with backslash escapes, Helm's scalar typing (ints and bools are
//! inferred, floats never are), list growth, and the same edge cases (`noval[0]` is an empty list,
//! `a.` is nothing at all). The six flag kinds differ only in how a value is read, so one parser serves
//! `--set`, `--set-string`, `--set-file` and `--set-json`; `--set-literal` has its own tiny grammar.

use serde_json::{Map, Value};

/// Deepest key path Helm accepts (`a.b.c…` with at most this many dots).
const MAX_NESTED_NAME_LEVEL: usize = 30;
/// Largest list index Helm accepts; lists grow to `index + 1` with nulls.
const MAX_INDEX: usize = 65536;

/// How a `--set*` flag turns the text after `=` into a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: booleans, null and 64-bit integers are inferred; everything else is a string.
    Typed,
    /// `--set-string`: always a string.
    String,
    /// `--set-file`: the value is a path; the file's content becomes the string.
    File,
    /// `--set-json`: the value is one JSON document.
    Json,
}

/// A `--set` expression that cannot be parsed or applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct SetError {
    /// What went wrong, in Helm's words where Helm has them.
    pub message: String,
}

fn err<T>(message: impl Into<String>) -> Result<T, SetError> {
    Err(SetError { message: message.into() })
}

/// Reads the content of a `--set-file` path.
pub type FileReader<'a> = &'a dyn Fn(&str) -> Result<String, String>;

/// Parses one `--set`-style expression (several comma-separated items) and writes it into `target`.
pub fn apply(
    expr: &str,
    kind: SetKind,
    target: &mut Map<String, Value>,
    read_file: FileReader<'_>,
) -> Result<(), SetError> {
    let mut parser = Parser { input: expr.chars().collect(), pos: 0, kind, read_file };
    loop {
        match parser.key(target, 0)? {
            Step::More => continue,
            Step::End => return Ok(()),
        }
    }
}

/// Parses one `--set-literal` item: the key uses `.` and `[N]` (no escapes), the value is the entire rest
/// of the text after the first `=`, always a string.
pub fn apply_literal(expr: &str, target: &mut Map<String, Value>) -> Result<(), SetError> {
    let Some((key, value)) = expr.split_once('=') else {
        return err(format!("key {expr:?} has no value"));
    };
    let path = literal_path(key)?;
    set_path(target, &path, Value::String(value.to_string()))
}

/// One step of a key path in the literal grammar.
enum Segment {
    Key(String),
    Index(usize),
}

fn literal_path(key: &str) -> Result<Vec<Segment>, SetError> {
    let mut path = Vec::new();
    let mut dots = 0;
    let mut rest = key;
    loop {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..end];
        if !name.is_empty() {
            path.push(Segment::Key(name.to_string()));
        }
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix('.') {
            dots += 1;
            if dots > MAX_NESTED_NAME_LEVEL {
                return err(nested_level_error());
            }
            rest = after;
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(close) = after.find(']') else {
                return err(format!("error parsing index: missing ']' in key {key:?}"));
            };
            path.push(Segment::Index(parse_index(&after[..close])?));
            rest = &after[close + 1..];
        } else {
            break;
        }
    }
    if path.is_empty() {
        return err(format!("key {key:?} has no name"));
    }
    Ok(path)
}

fn set_path(target: &mut Map<String, Value>, path: &[Segment], value: Value) -> Result<(), SetError> {
    let Some((Segment::Key(first), rest)) = path.split_first() else {
        return err("a key must start with a name, not an index");
    };
    let slot = target.entry(first.clone()).or_insert(Value::Null);
    set_in_value(slot, first, rest, value)
}

fn set_in_value(slot: &mut Value, name: &str, path: &[Segment], value: Value) -> Result<(), SetError> {
    let Some((head, rest)) = path.split_first() else {
        *slot = value;
        return Ok(());
    };
    match head {
        Segment::Key(key) => {
            if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(map) = slot else {
                return err(type_conflict(name, slot, "a map"));
            };
            let child = map.entry(key.clone()).or_insert(Value::Null);
            set_in_value(child, key, rest, value)
        }
        Segment::Index(index) => {
            if slot.is_null() {
                *slot = Value::Array(Vec::new());
            }
            let Value::Array(list) = slot else {
                return err(type_conflict(name, slot, "a list"));
            };
            grow(list, *index)?;
            set_in_value(&mut list[*index], name, rest, value)
        }
    }
}

enum Step {
    More,
    End,
}

/// What stopped a scan: one of the stop characters, or the end of the input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Char(char),
    Eof,
}

struct Parser<'a> {
    input: Vec<char>,
    pos: usize,
    kind: SetKind,
    read_file: FileReader<'a>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.input.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Reads up to (and consumes) the first unescaped stop character. A backslash takes the next
    /// character literally; a dangling backslash at the end is dropped.
    fn until(&mut self, stops: &[char]) -> (String, Stop) {
        let mut out = String::new();
        while let Some(c) = self.next() {
            if stops.contains(&c) {
                return (out, Stop::Char(c));
            }
            if c == '\\' {
                match self.next() {
                    Some(escaped) => out.push(escaped),
                    None => return (out, Stop::Eof),
                }
            } else {
                out.push(c);
            }
        }
        (out, Stop::Eof)
    }

    fn key(&mut self, data: &mut Map<String, Value>, level: usize) -> Result<Step, SetError> {
        let (key, stop) = self.until(&['=', '[', ',', '.']);
        match stop {
            Stop::Eof if key.is_empty() => Ok(Step::End),
            Stop::Eof => err(format!("key {key:?} has no value")),
            Stop::Char('[') => {
                let index = self.index()?;
                let mut list = match data.get(&key) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(list)) => list.clone(),
                    Some(other) => return err(type_conflict(&key, other, "a list")),
                };
                let step = self.list_item(&mut list, index, level, &key);
                set(data, &key, Value::Array(list));
                step
            }
            Stop::Char('=') => {
                let (value, step) = self.value()?;
                set(data, &key, value);
                Ok(step)
            }
            Stop::Char(',') => err(format!("key {key:?} has no value (cannot end with ,)")),
            _ => {
                // '.': descend into (or create) the map under this key.
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return err(nested_level_error());
                }
                let mut inner = match data.get(&key) {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(map)) => map.clone(),
                    Some(other) => return err(type_conflict(&key, other, "a map")),
                };
                let step = self.key(&mut inner, level)?;
                if inner.is_empty() {
                    return match step {
                        Step::More => err(format!("key map {key:?} has no value")),
                        Step::End => Ok(Step::End),
                    };
                }
                set(data, &key, Value::Object(inner));
                Ok(step)
            }
        }
    }

    /// Reads the index after `[` up to `]`.
    fn index(&mut self) -> Result<usize, SetError> {
        let (text, stop) = self.until(&[']']);
        if stop == Stop::Eof {
            return err(format!("error parsing index: missing ']' after {text:?}"));
        }
        parse_index(&text)
    }

    /// Handles what follows `name[i]`: `=value`, `.key…` or another `[j]`.
    fn list_item(
        &mut self,
        list: &mut Vec<Value>,
        index: usize,
        level: usize,
        name: &str,
    ) -> Result<Step, SetError> {
        let (rest, stop) = self.until(&['[', '.', '=']);
        if !rest.is_empty() {
            return err(format!("unexpected data at end of array index: {rest:?}"));
        }
        match stop {
            Stop::Eof => Ok(Step::End),
            Stop::Char('=') => {
                let (value, step) = self.value()?;
                grow(list, index)?;
                list[index] = value;
                Ok(step)
            }
            Stop::Char('[') => {
                let next = self.index()?;
                let mut inner = match list.get(index) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(inner)) => inner.clone(),
                    Some(other) => return err(type_conflict(name, other, "a list")),
                };
                let step = self.list_item(&mut inner, next, level, name)?;
                grow(list, index)?;
                list[index] = Value::Array(inner);
                Ok(step)
            }
            _ => {
                // '.': a map inside the list element.
                let mut inner = match list.get(index) {
                    Some(Value::Object(map)) => map.clone(),
                    _ => Map::new(),
                };
                let step = self.key(&mut inner, level)?;
                grow(list, index)?;
                list[index] = Value::Object(inner);
                Ok(step)
            }
        }
    }

    /// Reads the value after `=` and consumes the `,` that ends it.
    fn value(&mut self) -> Result<(Value, Step), SetError> {
        if self.kind == SetKind::Json {
            return self.json_value();
        }
        match self.input.get(self.pos) {
            None => return Ok((Value::String(String::new()), Step::End)),
            Some('{') => {
                self.pos += 1;
                return self.list_value();
            }
            Some(_) => {}
        }
        // Like Helm, a scalar value always lets the caller go on: the next key read meets the end.
        let (text, _) = self.until(&[',']);
        Ok((self.typed(text)?, Step::More))
    }

    /// `{a,b,c}`: a list whose elements are typed like scalars.
    fn list_value(&mut self) -> Result<(Value, Step), SetError> {
        let mut list = Vec::new();
        loop {
            let (text, stop) = self.until(&[',', '}']);
            match stop {
                Stop::Eof => return err("list must terminate with '}'"),
                Stop::Char('}') => {
                    list.push(self.typed(text)?);
                    if self.input.get(self.pos) == Some(&',') {
                        self.pos += 1;
                    }
                    return Ok((Value::Array(list), Step::More));
                }
                _ => list.push(self.typed(text)?),
            }
        }
    }

    fn json_value(&mut self) -> Result<(Value, Step), SetError> {
        if self.skip_blank_and_comma() {
            return Ok((Value::Null, Step::More));
        }
        let rest: String = self.input[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(value)) => value,
            Some(Err(e)) => return err(format!("invalid JSON value: {e}")),
            None => Value::Null,
        };
        let consumed = rest[..stream.byte_offset()].chars().count();
        self.pos += consumed;
        self.skip_blank_and_comma();
        Ok((value, Step::More))
    }

    /// Skips white space and one `,`; true when the value turned out to be empty.
    fn skip_blank_and_comma(&mut self) -> bool {
        while let Some(&c) = self.input.get(self.pos) {
            self.pos += 1;
            if c == ',' {
                return true;
            }
            if !c.is_whitespace() {
                self.pos -= 1;
                return false;
            }
        }
        true
    }

    fn typed(&self, text: String) -> Result<Value, SetError> {
        match self.kind {
            SetKind::String => Ok(Value::String(text)),
            SetKind::File => {
                (self.read_file)(&text).map(Value::String).map_err(|message| SetError { message })
            }
            SetKind::Typed | SetKind::Json => Ok(typed_scalar(text)),
        }
    }
}

/// Helm's scalar inference for `--set`: `true`/`false`/`null` in any case, `0`, and base-10 signed 64-bit
/// integers that do not start with `0`. Floats and everything else stay strings.
fn typed_scalar(text: String) -> Value {
    if text.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if text.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if text == "0" {
        return Value::from(0_i64);
    }
    if !text.starts_with('0')
        && let Ok(n) = text.parse::<i64>()
    {
        return Value::from(n);
    }
    Value::String(text)
}

fn parse_index(text: &str) -> Result<usize, SetError> {
    let index: i64 = text
        .parse()
        .map_err(|_| SetError { message: format!("error parsing index: {text:?} is not a number") })?;
    if index < 0 {
        return err(format!("negative {index} index not allowed"));
    }
    let index =
        usize::try_from(index).map_err(|_| SetError { message: format!("index {index} is too large") })?;
    if index > MAX_INDEX {
        return err(format!("index of {index} is greater than maximum supported index of {MAX_INDEX}"));
    }
    Ok(index)
}

fn grow(list: &mut Vec<Value>, index: usize) -> Result<(), SetError> {
    if index > MAX_INDEX {
        return err(format!("index of {index} is greater than maximum supported index of {MAX_INDEX}"));
    }
    if list.len() <= index {
        list.resize(index + 1, Value::Null);
    }
    Ok(())
}

/// Helm ignores writes to an empty key (`a.=b` leaves `a` empty).
fn set(data: &mut Map<String, Value>, key: &str, value: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), value);
    }
}

fn nested_level_error() -> String {
    format!(
        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
    )
}

fn type_conflict(key: &str, existing: &Value, wanted: &str) -> String {
    format!("unable to parse key: {key:?} already holds {}, not {wanted}", describe(existing))
}

/// A short name for a value's type, for error messages.
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}
