//! Alpha JWT origins to a RequestAuthentication's `jwtRules` and the rules of the DENY
//! AuthorizationPolicy that makes a token mandatory (spec 1.7 E). A RequestAuthentication alone lets
//! requests without a token through, where the alpha origin rejected them; the DENY policy restores
//! that, and alpha trigger rules become its paths. Trigger rules that path globs cannot express make
//! the whole policy unconvertible rather than silently wider or narrower.

use serde_json::{Map, Value, json};

use crate::inventory::text;

/// The converted origins of one alpha policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Origins {
    /// One JWTRule per origin, in order.
    pub jwt_rules: Vec<Value>,
    /// The trigger rules of the single origin that has them, as (paths, notPaths).
    pub triggers: Vec<(Vec<String>, Vec<String>)>,
    /// `originIsOptional`: no DENY policy.
    pub optional: bool,
}

/// Why origins cannot be converted: a finding code and a message.
pub type OriginError = (&'static str, String);

/// A StringMatch as an AuthorizationPolicy path glob.
fn path_glob(matcher: &Value) -> Result<String, OriginError> {
    let (kind, value) = match matcher.as_object().and_then(|m| m.iter().next()) {
        Some((kind, value)) => (kind.as_str(), value.as_str().unwrap_or_default()),
        None => return Err(("E-AUTHN-PATH-UNREPRESENTABLE", format!("empty path matcher {matcher}"))),
    };
    if kind == "regex" {
        return Err(("E-AUTHN-TRIGGER-REGEX", format!("trigger rule path regex {value:?}")));
    }
    if value.contains('*') {
        return Err((
            "E-AUTHN-PATH-UNREPRESENTABLE",
            format!("{kind} path {value:?} contains '*', which AuthorizationPolicy reads as a wildcard"),
        ));
    }
    match kind {
        "exact" => Ok(value.to_string()),
        "prefix" => Ok(format!("{value}*")),
        "suffix" => Ok(format!("*{value}")),
        other => Err(("E-AUTHN-PATH-UNREPRESENTABLE", format!("unknown path matcher {other:?}"))),
    }
}

/// A JWTRule from an alpha Jwt.
fn jwt_rule(jwt: &Value) -> Value {
    let mut rule = Map::new();
    for field in ["issuer", "audiences", "jwksUri", "jwks"] {
        if let Some(value) = jwt.get(field).filter(|v| !v.is_null()) {
            rule.insert(field.to_string(), value.clone());
        }
    }
    let headers: Vec<Value> = jwt
        .get("jwtHeaders")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|h| {
            // The alpha filter prefixed this one header's value with "istio" by itself.
            if h.eq_ignore_ascii_case("ingress-authorization") {
                json!({"name": h, "prefix": "istio"})
            } else {
                json!({"name": h})
            }
        })
        .collect();
    if !headers.is_empty() {
        rule.insert("fromHeaders".to_string(), Value::Array(headers));
    }
    if let Some(params) = jwt.get("jwtParams").filter(|p| p.as_array().is_some_and(|a| !a.is_empty())) {
        rule.insert("fromParams".to_string(), params.clone());
    }
    // The alpha filter forwarded the token upstream; the beta default strips it.
    rule.insert("forwardOriginalToken".to_string(), Value::Bool(true));
    Value::Object(rule)
}

/// Converts the origins of an alpha policy spec; `None` when it has none.
pub fn convert(spec: &Value) -> Result<Option<Origins>, OriginError> {
    let jwts: Vec<&Value> = spec
        .get("origins")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("jwt").filter(|j| j.is_object()))
        .collect();
    if jwts.is_empty() {
        return Ok(None);
    }
    let with_triggers: Vec<&&Value> = jwts
        .iter()
        .filter(|j| j.get("triggerRules").and_then(Value::as_array).is_some_and(|r| !r.is_empty()))
        .collect();
    if jwts.len() > 1 && !with_triggers.is_empty() {
        return Err((
            "E-AUTHN-MULTI-ORIGIN-TRIGGER",
            format!(
                "{} origins with trigger rules: \"any triggered issuer validates\" cannot be expressed",
                jwts.len()
            ),
        ));
    }
    let mut triggers = Vec::new();
    for jwt in with_triggers {
        for rule in jwt.get("triggerRules").and_then(Value::as_array).into_iter().flatten() {
            let globs = |field: &str| -> Result<Vec<String>, OriginError> {
                rule.get(field).and_then(Value::as_array).into_iter().flatten().map(path_glob).collect()
            };
            triggers.push((globs("includedPaths")?, globs("excludedPaths")?));
        }
    }
    Ok(Some(Origins {
        jwt_rules: jwts.iter().map(|j| jwt_rule(j)).collect(),
        triggers,
        optional: spec.get("originIsOptional").and_then(Value::as_bool).unwrap_or(false),
    }))
}

/// The rules of the DENY policy: requests without a valid token are denied, on the given workload
/// ports only when `ports` is set, on the trigger rules' paths only when there are some.
pub fn deny_rules(origins: &Origins, ports: Option<&[i64]>, exempt_options: bool) -> Vec<Value> {
    let from = json!([{"source": {"notRequestPrincipals": ["*"]}}]);
    let operation = |paths: &[String], not_paths: &[String]| {
        let mut op = Map::new();
        if let Some(ports) = ports {
            op.insert("ports".to_string(), json!(ports.iter().map(ToString::to_string).collect::<Vec<_>>()));
        }
        if !paths.is_empty() {
            op.insert("paths".to_string(), json!(paths));
        }
        if !not_paths.is_empty() {
            op.insert("notPaths".to_string(), json!(not_paths));
        }
        if exempt_options {
            op.insert("notMethods".to_string(), json!(["OPTIONS"]));
        }
        op
    };
    let rule = |op: Map<String, Value>| {
        let mut rule = Map::new();
        rule.insert("from".to_string(), from.clone());
        if !op.is_empty() {
            rule.insert("to".to_string(), json!([{"operation": op}]));
        }
        Value::Object(rule)
    };
    if origins.triggers.is_empty() {
        vec![rule(operation(&[], &[]))]
    } else {
        origins.triggers.iter().map(|(paths, not_paths)| rule(operation(paths, not_paths))).collect()
    }
}

/// The issuers, for messages.
pub fn issuers(origins: &Origins) -> String {
    origins.jwt_rules.iter().map(|r| text(r, "/issuer")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_paths_map_to_globs() {
        let spec = json!({"origins": [{"jwt": {"issuer": "i", "triggerRules": [
            {"includedPaths": [{"prefix": "/api/"}, {"exact": "/login"}], "excludedPaths": [{"suffix": ".css"}, {"prefix": ""}]}
        ]}}]});
        let origins = convert(&spec).unwrap().unwrap();
        assert_eq!(
            origins.triggers,
            vec![(
                vec!["/api/*".to_string(), "/login".to_string()],
                vec!["*.css".to_string(), "*".to_string()]
            )]
        );
        let rules = deny_rules(&origins, Some(&[8080]), true);
        assert_eq!(
            rules[0]["to"][0]["operation"],
            json!({"ports": ["8080"], "paths": ["/api/*", "/login"], "notPaths": ["*.css", "*"], "notMethods": ["OPTIONS"]})
        );
    }

    #[test]
    fn a_star_in_a_path_is_unrepresentable() {
        let spec = json!({"origins": [{"jwt": {"issuer": "i", "triggerRules": [{"includedPaths": [{"exact": "/a*"}]}]}}]});
        assert_eq!(convert(&spec).unwrap_err().0, "E-AUTHN-PATH-UNREPRESENTABLE");
    }

    #[test]
    fn the_ingress_authorization_header_keeps_its_istio_prefix() {
        let spec = json!({"origins": [{"jwt": {"issuer": "i", "jwtHeaders": ["ingress-authorization"]}}]});
        let origins = convert(&spec).unwrap().unwrap();
        assert_eq!(
            origins.jwt_rules[0]["fromHeaders"],
            json!([{"name": "ingress-authorization", "prefix": "istio"}])
        );
    }
}
