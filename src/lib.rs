//! sailplan installs and upgrades Istio service meshes safely: it renders curated, Helm-compatible
//! charts per profile, and (in later stages) observes clusters, plans canary upgrades with versioned
//! migrations, diffs, and applies behind health gates.
//!
//! Every stage except observing and applying is a pure function of its inputs; this crate keeps those
//! stages in separate modules so they can be tested without a cluster.

pub mod analyze;
pub mod apply;
pub mod assets;
pub mod catalog;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod collect;
pub mod diff;
pub mod digest;
pub mod inventory;
pub mod json;
pub mod migrate;
pub mod parallel;
pub mod plan;
pub mod profile;
pub mod rehearse;
pub mod release;
pub mod render;
pub mod report;
pub mod snapshot;
pub mod status;
pub mod synthetic;
pub mod values;
pub mod version;
pub mod yaml;
