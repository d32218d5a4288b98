//! Helm's two merge rules. User inputs (`-f` files) are combined with a plain deep merge; the result is
//! then coalesced over a chart's defaults, where user values win, lists are replaced whole, and a user
//! `null` removes a key the chart defines. Type conflicts do not fail: like Helm, the user's value wins
//! and a warning says what was ignored.

use serde_json::{Map, Value};

/// Deep-merges `overlay` into `base`: maps merge key by key, any other value (lists included) replaces,
/// and `null` is kept as a value (it takes effect later, when coalescing over chart defaults).
pub fn deep_merge(base: &mut Map<String, Value>, overlay: Map<String, Value>) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => deep_merge(existing, incoming),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Coalesces user values over chart defaults as Helm does, returning the result. `chart` names the chart
/// in warnings, which are appended to `warnings`.
pub fn coalesce(
    chart: &str,
    user: Map<String, Value>,
    defaults: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Map<String, Value> {
    let mut result = user;
    for (key, default) in defaults {
        match result.get_mut(key) {
            None => {
                result.insert(key.clone(), default.clone());
            }
            Some(Value::Null) => {
                result.remove(key);
            }
            Some(Value::Object(user_map)) => match default {
                Value::Object(default_map) => coalesce_nested(chart, key, user_map, default_map, warnings),
                Value::Null => {}
                other => {
                    warnings.push(format!("warning: skipped value for {chart}.{key}: Not a table ({other})"))
                }
            },
            Some(_) => {}
        }
    }
    result
}

fn coalesce_nested(
    chart: &str,
    prefix: &str,
    user: &mut Map<String, Value>,
    defaults: &Map<String, Value>,
    warnings: &mut Vec<String>,
) {
    for (key, default) in defaults {
        let full_key = format!("{prefix}.{key}");
        match user.get_mut(key) {
            None => {
                user.insert(key.clone(), default.clone());
            }
            Some(Value::Null) => {
                user.remove(key);
            }
            Some(Value::Object(user_map)) => match default {
                Value::Object(default_map) => coalesce_nested(chart, &full_key, user_map, default_map, warnings),
                Value::Null => {}
                other => warnings.push(format!(
                    "warning: destination for {chart}.{full_key} is a table. Ignoring non-table value ({other})"
                )),
            },
            Some(_) => {
                if default.is_object() {
                    warnings.push(format!(
                        "warning: cannot overwrite table with non table for {chart}.{full_key} ({default})"
                    ));
                }
            }
        }
    }
}
