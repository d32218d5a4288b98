//! The version catalog: which Istio versions exist for sailplan, what each can do, which Kubernetes
//! versions it supports and which installed versions may be upgraded to it. It is data
//! (`catalog/versions.yaml`, embedded in the binary), so a new Istio release is a reviewed data change,
//! not a code change.

use serde::{Deserialize, Serialize};

use crate::version::{Constraint, VersionError, parse_lenient};

/// The catalog file, as embedded at build time.
pub const CATALOG_YAML: &str = include_str!("../catalog/versions.yaml");

/// The whole catalog.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// Format marker, `sailplan.dev/catalog/v1`.
    pub schema: String,
    /// The image registry the catalogued releases are published to.
    pub hub: String,
    /// Known versions, oldest first.
    pub versions: Vec<Release>,
}

/// One Istio minor at its catalogued patch.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// The catalogued patch release, e.g. `1.6.14`.
    pub version: semver::Version,
    /// Whether sailplan can render and install it (1.4 is recognised only).
    pub renderable: bool,
    /// Supported Kubernetes minors, inclusive.
    pub kubernetes: KubeRange,
    /// What this version does by default.
    pub features: Features,
    /// Which installed versions may move to this one, per strategy.
    pub upgrades: Upgrades,
}

/// An inclusive range of Kubernetes minors, written `1.15`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct KubeRange {
    /// Oldest supported minor.
    pub min: String,
    /// Newest supported minor.
    pub max: String,
}

/// Feature flags of a version (see the catalog file's header for their meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    /// Single istiod binary.
    pub istiod: bool,
    /// Mixer can be installed.
    pub mixer_available: bool,
    /// Telemetry v2 on by default.
    pub telemetry_v2_default: bool,
    /// Workload SDS on by default.
    pub sds_default: bool,
    /// Gateway SDS (credentialName) on by default.
    pub gateway_sds_default: bool,
    /// v1alpha1 authentication policies take effect.
    pub alpha_authn_honoured: bool,
    /// Revisioned control planes.
    pub revisions: bool,
    /// Revision tags.
    pub revision_tags: bool,
    /// Where injected pods record their revision.
    pub pod_revision_record: RevisionRecord,
}

/// Where an injected pod records the revision that injected it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RevisionRecord {
    /// Not recorded (before revisions existed).
    None,
    /// The pod label `istio.io/rev`.
    Label,
    /// The `revision` field of the `sidecar.istio.io/status` annotation.
    StatusAnnotation,
}

/// Version ranges of installed versions that may be upgraded to a release.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Upgrades {
    /// In place (same names, one minor at a time). Empty means never.
    pub in_place: String,
    /// As a canary revision beside the old control plane. Empty means never.
    pub canary: String,
}

/// How a control plane moves to a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Replace the control plane under the same names.
    InPlace,
    /// Install the new version as a revision beside the old one.
    Canary,
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Strategy::InPlace => "in-place",
            Strategy::Canary => "canary",
        })
    }
}

/// A version request the catalog cannot satisfy.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The embedded catalog is malformed (a build defect, caught by tests).
    #[error("the version catalog is invalid: {0}")]
    Invalid(String),
    /// The text is not a version.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// No catalogued minor matches.
    #[error("Istio {requested} is not in the catalog; known versions: {known}")]
    Unknown {
        /// What was asked for.
        requested: String,
        /// The catalogued versions.
        known: String,
    },
    /// The version is recognised but cannot be rendered.
    #[error("Istio {version} is recognised on clusters but cannot be installed; choose one of: {renderable}")]
    NotRenderable {
        /// The version asked for.
        version: String,
        /// Versions that can be rendered.
        renderable: String,
    },
}

/// A version resolved against the catalog: the exact version and the entry of its minor.
#[derive(Debug, Clone)]
pub struct Resolved<'c> {
    /// The exact version (the catalogued patch when only a minor was given).
    pub version: semver::Version,
    /// The catalog entry of that minor.
    pub release: &'c Release,
}

impl Catalog {
    /// The catalog embedded in the binary, parsed once per process.
    pub fn embedded() -> Result<&'static Catalog, CatalogError> {
        static EMBEDDED: std::sync::OnceLock<Result<Catalog, String>> = std::sync::OnceLock::new();
        EMBEDDED
            .get_or_init(|| Catalog::parse(CATALOG_YAML).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|message| CatalogError::Invalid(message.clone()))
    }

    /// Parses and checks a catalog document.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let catalog: Catalog =
            serde_saphyr::from_str(text).map_err(|e| CatalogError::Invalid(e.to_string()))?;
        for release in &catalog.versions {
            for range in [&release.upgrades.in_place, &release.upgrades.canary] {
                if !range.is_empty() {
                    Constraint::parse(range).map_err(|e| CatalogError::Invalid(e.to_string()))?;
                }
            }
            parse_lenient(&release.kubernetes.min)?;
            parse_lenient(&release.kubernetes.max)?;
        }
        if catalog.versions.windows(2).any(|w| w[0].version >= w[1].version) {
            return Err(CatalogError::Invalid("versions must be listed oldest first".to_string()));
        }
        Ok(catalog)
    }

    /// The newest renderable version.
    pub fn latest(&self) -> Option<&Release> {
        self.versions.iter().rev().find(|r| r.renderable)
    }

    /// Resolves `1.6`, `1.6.14`, `1.6.3` or `latest` to a version and its minor's entry. A patch other
    /// than the catalogued one is accepted (same minor, same features).
    pub fn resolve(&self, requested: &str) -> Result<Resolved<'_>, CatalogError> {
        if requested == "latest" {
            let release =
                self.latest().ok_or_else(|| CatalogError::Invalid("no renderable version".to_string()))?;
            return Ok(Resolved { version: release.version.clone(), release });
        }
        let parsed = parse_lenient(requested)?;
        let is_minor_only = requested.trim_start_matches('v').split('.').count() < 3;
        let release = self
            .versions
            .iter()
            .find(|r| r.version.major == parsed.major && r.version.minor == parsed.minor)
            .ok_or_else(|| CatalogError::Unknown { requested: requested.to_string(), known: self.known() })?;
        let version = if is_minor_only { release.version.clone() } else { parsed };
        Ok(Resolved { version, release })
    }

    /// Like [`Catalog::resolve`], but only for versions that can be rendered.
    pub fn resolve_renderable(&self, requested: &str) -> Result<Resolved<'_>, CatalogError> {
        let resolved = self.resolve(requested)?;
        if !resolved.release.renderable {
            return Err(CatalogError::NotRenderable {
                version: resolved.version.to_string(),
                renderable: self
                    .versions
                    .iter()
                    .filter(|r| r.renderable)
                    .map(|r| r.version.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(resolved)
    }

    /// The strategies allowed for a single hop from `from` to `to` (empty when the hop is not allowed).
    pub fn strategies(&self, from: &semver::Version, to: &semver::Version) -> Vec<Strategy> {
        if from >= to {
            return Vec::new();
        }
        let Some(target) =
            self.versions.iter().find(|r| r.version.major == to.major && r.version.minor == to.minor)
        else {
            return Vec::new();
        };
        let allows =
            |range: &str| !range.is_empty() && Constraint::parse(range).is_ok_and(|c| c.matches(from));
        let mut out = Vec::new();
        if allows(&target.upgrades.in_place) {
            out.push(Strategy::InPlace);
        }
        if allows(&target.upgrades.canary) {
            out.push(Strategy::Canary);
        }
        out
    }

    fn known(&self) -> String {
        self.versions.iter().map(|r| r.version.to_string()).collect::<Vec<_>>().join(", ")
    }
}

impl Release {
    /// True when Kubernetes `kube` is within this release's supported minors.
    pub fn supports_kubernetes(&self, kube: &semver::Version) -> bool {
        let (Ok(min), Ok(max)) = (parse_lenient(&self.kubernetes.min), parse_lenient(&self.kubernetes.max))
        else {
            return false;
        };
        (min.major, min.minor) <= (kube.major, kube.minor)
            && (kube.major, kube.minor) <= (max.major, max.minor)
    }

    /// The newest Kubernetes version this release supports, as `1.<max>.0`.
    pub fn newest_kubernetes(&self) -> semver::Version {
        parse_lenient(&self.kubernetes.max).unwrap_or_else(|_| semver::Version::new(1, 0, 0))
    }
}

/// The revision name Istio uses for a version: dots become dashes (`1.6.14` → `1-6-14`).
pub fn revision_name(version: &semver::Version) -> String {
    format!("{}-{}-{}", version.major, version.minor, version.patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        parse_lenient(s).unwrap()
    }

    #[test]
    fn embedded_catalog_is_valid_and_ordered() {
        let catalog = Catalog::embedded().unwrap();
        let minors: Vec<u64> = catalog.versions.iter().map(|r| r.version.minor).collect();
        assert_eq!(minors, [4, 5, 6, 7, 8, 9, 10, 11, 12, 29, 30, 31]);
        assert!(!catalog.versions[0].renderable, "1.4 is recognised only");
        assert_eq!(catalog.latest().map(|r| r.version.to_string()), Some("1.31.1".to_string()));
    }

    #[test]
    fn resolving_versions() {
        let catalog = Catalog::embedded().unwrap();
        assert_eq!(catalog.resolve("1.6").unwrap().version, v("1.6.14"));
        assert_eq!(catalog.resolve("1.6.3").unwrap().version, v("1.6.3"));
        assert_eq!(catalog.resolve("latest").unwrap().version, v("1.31.1"));
        assert!(matches!(catalog.resolve("1.13.0"), Err(CatalogError::Unknown { .. })));
        assert!(matches!(catalog.resolve_renderable("1.4"), Err(CatalogError::NotRenderable { .. })));
        assert!(catalog.resolve("banana").is_err());
    }

    #[test]
    fn upgrade_edges() {
        let catalog = Catalog::embedded().unwrap();
        assert_eq!(catalog.strategies(&v("1.4.10"), &v("1.5.10")), [Strategy::InPlace]);
        assert!(catalog.strategies(&v("1.4.10"), &v("1.6.14")).is_empty(), "no skipping before 1.6");
        assert_eq!(catalog.strategies(&v("1.5.10"), &v("1.6.14")), [Strategy::InPlace, Strategy::Canary]);
        assert_eq!(
            catalog.strategies(&v("1.6.14"), &v("1.8.6")),
            [Strategy::Canary],
            "two minors: canary only"
        );
        assert!(catalog.strategies(&v("1.6.14"), &v("1.9.9")).is_empty());
        assert_eq!(catalog.strategies(&v("1.6.2"), &v("1.6.14")), [Strategy::InPlace, Strategy::Canary]);
        assert!(catalog.strategies(&v("1.6.14"), &v("1.6.2")).is_empty(), "no downgrades");
    }

    #[test]
    fn kubernetes_ranges_and_revision_names() {
        let catalog = Catalog::embedded().unwrap();
        let six = catalog.resolve("1.6").unwrap().release;
        assert!(six.supports_kubernetes(&v("1.18.3")));
        assert!(!six.supports_kubernetes(&v("1.19.0")));
        assert_eq!(revision_name(&v("1.6.14")), "1-6-14");
    }
}
