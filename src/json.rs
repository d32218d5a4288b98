//! Parsing JSON into `serde_json::Value` with every map and list allocated at its exact size.
//!
//! serde_json's own `Value` grows maps and lists by doubling while it parses. A large cluster's
//! snapshot is hundreds of thousands of small objects, and with ordered maps (entries plus a hash
//! index) the slack is about a quarter of the memory they take, so snapshot files are parsed through
//! [`parse`] instead: entries are collected first and each map is built once at its final size.

use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<Exact>(text).map(|exact| exact.0)
}

/// What [`parse_omitting`] leaves out of an object: fields of every object, and fields of the maps
/// one kind of object holds (such as a pod's `metadata`).
#[derive(Debug, Clone, Copy)]
pub struct Omit<'a> {
    /// Fields of the object itself, left out of every object.
    pub fields: &'a [&'a str],
    /// The kind whose maps lose [`Omit::nested`] too.
    pub kind: &'a str,
    /// (field of the object, fields of that map left out), for objects of [`Omit::kind`].
    pub nested: &'a [(&'a str, &'a [&'a str])],
}

/// Parses one JSON object as [`parse`] does, without what `omit` names: those fields are read past
/// and never built. A map of [`Omit::nested`] is trimmed only when `kind` comes before it in the
/// text (it does in snapshot files: `apiVersion` and `kind` lead).
pub fn parse_omitting(text: &str, omit: &Omit<'_>) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = deserializer.deserialize_any(Omitting { omit, kind: None })?;
    deserializer.end()?;
    Ok(value)
}

/// The visitor of an object that leaves out what `omit` says; `kind` is the object's kind once
/// read, when this visits one of its maps.
struct Omitting<'o, 'a> {
    omit: &'o Omit<'a>,
    kind: Option<&'o [&'a str]>,
}

impl<'de> Visitor<'de> for Omitting<'_, '_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        let mut of_kind = false;
        while let Some(key) = access.next_key::<String>()? {
            let left_out = match self.kind {
                Some(fields) => fields.contains(&key.as_str()),
                None => self.omit.fields.contains(&key.as_str()),
            };
            if left_out {
                access.next_value::<IgnoredAny>()?;
                continue;
            }
            let nested = (self.kind.is_none() && of_kind)
                .then(|| self.omit.nested.iter().find(|(field, _)| *field == key).map(|(_, fields)| *fields))
                .flatten();
            let value = match nested {
                Some(fields) => {
                    access.next_value_seed(Nested(Omitting { omit: self.omit, kind: Some(fields) }))?
                }
                None => access.next_value::<Exact>()?.0,
            };
            if self.kind.is_none() && key == "kind" {
                of_kind = value.as_str() == Some(self.omit.kind);
            }
            entries.push((key, value));
        }
        Ok(Value::Object(entries.into_iter().collect()))
    }

    // Anything but a map is read whole.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        ExactVisitor.visit_seq(seq)
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Value, E> {
        ExactVisitor.visit_bool(value)
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Value, E> {
        ExactVisitor.visit_i64(value)
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Value, E> {
        ExactVisitor.visit_u64(value)
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Value, E> {
        ExactVisitor.visit_f64(value)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Value, E> {
        ExactVisitor.visit_str(value)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        ExactVisitor.visit_unit()
    }
}

/// A map of an object, trimmed by an [`Omitting`] visitor (anything else is read whole).
struct Nested<'o, 'a>(Omitting<'o, 'a>);

impl<'de> DeserializeSeed<'de> for Nested<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self.0)
    }
}

/// A value parsed at exact sizes.
struct Exact(Value);

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExactVisitor).map(Exact)
    }
}

struct ExactVisitor;

impl<'de> Visitor<'de> for ExactVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ExactVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Exact(item)) = seq.next_element()? {
            items.push(item);
        }
        items.shrink_to_fit();
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some((key, Exact(value))) = access.next_entry::<String, Exact>()? {
            entries.push((key, value));
        }
        let mut map = Map::with_capacity(entries.len());
        for (key, value) in entries {
            // A repeated key keeps its last value, as serde_json's own `Value` does.
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_serde_json_parses() {
        for text in [
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"b":"2","a":"1"}},"spec":{"containers":[{"name":"c","ports":[{"containerPort":8080}]}]}}"#,
            r#"[1, -2, 3.5, 1e300, true, false, null, "é\n", {}, []]"#,
            r#"{"a": 1, "a": 2}"#,
            "18446744073709551615",
        ] {
            let ours = parse(text).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
            assert_eq!(ours.to_string(), theirs.to_string(), "same key order: {text}");
        }
        assert!(parse("{\"a\": }").is_err());
    }

    #[test]
    fn omitting_parses_as_parse_does_then_drops_the_fields() {
        let omit =
            Omit { fields: &["status"], kind: "Pod", nested: &[("metadata", &["uid", "ownerReferences"])] };
        let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","uid":"u","ownerReferences":[{"kind":"ReplicaSet"}],"labels":{"a":"1"}},"spec":{"uid":"kept"},"status":{"phase":"Running"}}"#;
        let mut expected = parse(pod).unwrap();
        expected.as_object_mut().unwrap().shift_remove("status");
        let metadata = expected["metadata"].as_object_mut().unwrap();
        metadata.shift_remove("uid");
        metadata.shift_remove("ownerReferences");
        assert_eq!(parse_omitting(pod, &omit).unwrap(), expected);
        // Other kinds lose only the fields every object loses.
        let service =
            r#"{"kind":"Service","metadata":{"name":"s","uid":"u"},"status":{},"spec":[1,"x",null,true]}"#;
        let mut expected = parse(service).unwrap();
        expected.as_object_mut().unwrap().shift_remove("status");
        assert_eq!(parse_omitting(service, &omit).unwrap(), expected);
        // Before `kind` is known, nested maps are kept whole.
        let late = r#"{"metadata":{"uid":"u"},"kind":"Pod"}"#;
        assert_eq!(parse_omitting(late, &omit).unwrap(), parse(late).unwrap());
        assert!(parse_omitting(r#"{"kind":"Pod","metadata":{"uid":}}"#, &omit).is_err());
        assert!(parse_omitting(r#"{"kind":"Pod"} x"#, &omit).is_err());
    }
}
