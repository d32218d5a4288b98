//! Installation profiles: named starting points (default, demo, minimal, remote, empty, preview) that
//! choose which components are enabled and overlay values, with the same intent as Istio's own
//! profiles. A profile is a values overlay: user values from `-f` and `--set` go on top of it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::assets;

/// One profile file.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Profile {
    /// The profile name (the file name without `.yaml`).
    #[serde(default)]
    pub name: String,
    /// What the profile is for, in one sentence.
    pub description: String,
    /// The values overlay: component sections and `global`.
    pub values: Map<String, Value>,
}

/// A profile that does not exist or does not parse.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No profile of that name.
    #[error("unknown profile {name:?}; available profiles: {available}")]
    Unknown {
        /// What was asked for.
        name: String,
        /// The profiles that exist.
        available: String,
    },
    /// A built-in profile file is malformed (a build defect, caught by tests).
    #[error("profile {name} is invalid: {message}")]
    Invalid {
        /// The profile.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// Every built-in profile, sorted by name.
pub fn all() -> Result<Vec<Profile>, ProfileError> {
    let mut profiles = Vec::new();
    for file in assets::PROFILES.files() {
        let Some(name) = file.path().file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if file.path().extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = file.contents_utf8().unwrap_or_default();
        let mut profile: Profile = serde_saphyr::from_str(text)
            .map_err(|e| ProfileError::Invalid { name: name.to_string(), message: e.to_string() })?;
        profile.name = name.to_string();
        profiles.push(profile);
    }
    profiles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(profiles)
}

/// The built-in profile called `name`.
pub fn load(name: &str) -> Result<Profile, ProfileError> {
    let profiles = all()?;
    let available = profiles.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    profiles
        .into_iter()
        .find(|p| p.name == name)
        .ok_or(ProfileError::Unknown { name: name.to_string(), available })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_six_profiles_exist_and_parse() {
        let names: Vec<String> = all().unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["default", "demo", "empty", "minimal", "preview", "remote"]);
    }

    #[test]
    fn unknown_profile_lists_the_available_ones() {
        let message = load("prod").unwrap_err().to_string();
        assert!(message.contains("\"prod\"") && message.contains("default, demo"), "{message}");
    }
}
