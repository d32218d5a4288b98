//! Snapshots: what `collect` captures of a cluster, written as a `.tar.gz` (or a directory) and read
//! back into the same [`Snapshot`] a live observation produces, so `check`, `plan`, `diff` and
//! `rehearse` work the same on a customer's snapshot as on a live cluster. The reader also takes
//! plain `kubectl get -o yaml` output (a `List` or multi-document YAML), which is what support
//! engineers are usually sent.
//!
//! Layout: `snapshot.yaml` (format version, Kubernetes version, collection time, tool version, the
//! Istio kinds the cluster served) and `objects/<group>.<Kind>.jsonl`, one object per line (format 2;
//! format 1 had `objects/<group>.<Kind>.yaml`, each a `v1 List`, and is still read). Entries are
//! written in sorted order with fixed timestamps, so the same objects give the same bytes.
//!
//! Object files are JSON Lines because a large cluster's pods run to a hundred megabytes and YAML
//! parses about ten times slower than JSON (docs/decisions/0002-snapshot-json-lines.md). Files are
//! parsed on all cores: JSON Lines in pieces of whole lines, and a YAML `List` in the layout format 1
//! used is cut at its items.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cluster::Resource;
use crate::json::Omit;
use crate::yaml;

/// The snapshot format this build writes.
pub const FORMAT_VERSION: u32 = 2;

/// The formats this build reads: 1 (YAML object lists) and 2 (JSON Lines object files).
const READABLE_FORMATS: std::ops::RangeInclusive<u32> = 1..=FORMAT_VERSION;

/// About a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// The snapshot format version.
    pub format_version: u32,
    /// The API server's version, e.g. `1.33.13` (unknown for plain YAML input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// When it was collected (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    /// The sailplan version that collected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    /// Every Istio kind the cluster served, in every served version.
    #[serde(default)]
    pub served: Vec<Resource>,
}

/// Observed objects and what is known about where they came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// About the snapshot.
    pub info: SnapshotInfo,
    /// The objects, sorted by apiVersion group, kind, namespace and name. Shared, not owned: an
    /// observation of the simulated cluster holds the very versions the simulation stores.
    pub objects: Vec<Arc<Value>>,
}

/// A snapshot that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A document is not valid YAML (or a JSON Lines file not valid JSON).
    #[error("{path} is not valid {}: {message}", if path.ends_with(".jsonl") { "JSON" } else { "YAML" })]
    Yaml {
        /// The file (or archive member).
        path: String,
        /// The parser's message.
        message: String,
    },
    /// The snapshot was written by an incompatible format version.
    #[error(
        "{path} uses snapshot format {found}; this sailplan reads formats 1 to {FORMAT_VERSION}: use the sailplan release that wrote it, or collect the snapshot again"
    )]
    Format {
        /// The snapshot.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
    /// An object lacks apiVersion, kind or metadata.name.
    #[error("{path}: an object has no {field}")]
    NotAnObject {
        /// Where it was read from.
        path: String,
        /// The missing field.
        field: &'static str,
    },
}

/// What to read of a snapshot's objects, for a command that needs less than all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Only the objects named here, by (API group, kind, namespace, name), with `""` for the core
    /// group and for cluster-scoped objects. Object files of other kinds are not parsed at all, and
    /// other objects of the named kinds are dropped as soon as they are parsed, so a command that
    /// needs a few kinds of a large cluster (`diff` of a plan file) does not hold its pods.
    Objects {
        /// The objects.
        objects: HashSet<(String, String, String, String)>,
        /// Their (API group, kind) pairs.
        kinds: HashSet<(String, String)>,
    },
    /// Every object, as planning (the inventory, `check`'s analysis, the migrations, the
    /// fingerprint) reads it: without its `status`, and pods also without their owner references,
    /// node, creation time, uid and versions. Only the gates of a running upgrade read those, from the live
    /// cluster, and the fingerprint and the diff leave status out anyway. On a large cluster the
    /// pods and workloads are most of the memory, and their status a large part of each.
    Planning,
}

/// What [`Selection::Planning`] leaves out. JSON Lines objects are parsed without it (it is read
/// past, never built); objects of other forms lose it once parsed.
const PLANNING_OMITS: Omit<'static> = Omit {
    fields: &["status"],
    kind: "Pod",
    nested: &[
        ("metadata", &["ownerReferences", "creationTimestamp", "uid", "resourceVersion", "generation"]),
        ("spec", &["nodeName"]),
    ],
};

impl Selection {
    /// The objects with these (API group, kind, namespace, name).
    pub fn of(objects: impl IntoIterator<Item = (String, String, String, String)>) -> Selection {
        let objects: HashSet<_> = objects.into_iter().collect();
        let kinds = objects.iter().map(|(group, kind, _, _)| (group.clone(), kind.clone())).collect();
        Selection::Objects { objects, kinds }
    }

    fn has_kind(&self, group: &str, kind: &str) -> bool {
        match self {
            Selection::Objects { kinds, .. } => kinds.iter().any(|(g, k)| g == group && k == kind),
            Selection::Planning => true,
        }
    }

    /// Whether `object` is one of those selected.
    pub fn selects(&self, object: &Value) -> bool {
        match self {
            Selection::Objects { objects, .. } => {
                let (group, kind, namespace, name) = sort_key(object);
                self.has_kind(group, kind)
                    && objects.contains(&(
                        group.to_string(),
                        kind.to_string(),
                        namespace.to_string(),
                        name.to_string(),
                    ))
            }
            Selection::Planning => true,
        }
    }

    /// Whether to keep `object`, and what of it.
    fn take(&self, object: &mut Value) -> bool {
        match self {
            Selection::Objects { .. } => self.selects(object),
            Selection::Planning => {
                let of_kind = object.get("kind").and_then(Value::as_str) == Some(PLANNING_OMITS.kind);
                if let Some(map) = object.as_object_mut() {
                    for field in PLANNING_OMITS.fields {
                        map.shift_remove(*field);
                    }
                    for (field, omitted) in PLANNING_OMITS.nested.iter().filter(|_| of_kind) {
                        if let Some(nested) = map.get_mut(*field).and_then(Value::as_object_mut) {
                            nested.retain(|key, _| !omitted.contains(&key.as_str()));
                        }
                    }
                }
                true
            }
        }
    }

    /// Whether a file may hold selected objects: an object file of format 1 or 2
    /// (`objects/<group>.<Kind>.jsonl` or `.yaml`) only when its kind is selected; anything else may.
    fn may_hold(&self, file: &str) -> bool {
        let Some(stem) = file
            .strip_prefix("objects/")
            .and_then(|f| f.strip_suffix(".jsonl").or_else(|| f.strip_suffix(".yaml")))
        else {
            return true;
        };
        match stem.rsplit_once('.') {
            Some((group, kind)) => self.has_kind(if group == "core" { "" } else { group }, kind),
            None => true,
        }
    }
}

fn sort_key(object: &Value) -> (&str, &str, &str, &str) {
    // Field by field: `Value::pointer` allocates for every segment, and sorting asks for the keys
    // of every object many times.
    fn text(value: Option<&Value>) -> &str {
        value.and_then(Value::as_str).unwrap_or("")
    }
    let metadata = object.get("metadata");
    let group = text(object.get("apiVersion")).rsplit_once('/').map_or("", |(g, _)| g);
    (
        group,
        text(object.get("kind")),
        text(metadata.and_then(|m| m.get("namespace"))),
        text(metadata.and_then(|m| m.get("name"))),
    )
}

impl Snapshot {
    /// A snapshot of `objects` (owned or shared), sorted into their canonical order.
    pub fn new<O: Into<Arc<Value>>>(info: SnapshotInfo, objects: impl IntoIterator<Item = O>) -> Snapshot {
        let objects: Vec<Arc<Value>> = objects.into_iter().map(Into::into).collect();
        // Each object's key is read once (a read is a few map lookups), and objects read in order
        // (an observation lists kind by kind, each in order) are not sorted again.
        let keys: Vec<_> = objects.iter().map(|o| sort_key(o)).collect();
        if keys.is_sorted() {
            return Snapshot { info, objects };
        }
        let mut order: Vec<usize> = (0..objects.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        let sorted = order.into_iter().map(|position| Arc::clone(&objects[position])).collect();
        Snapshot { info, objects: sorted }
    }

    /// The files of the snapshot: relative path to content, in writing order.
    fn files(&self) -> Result<BTreeMap<String, String>, SnapshotError> {
        let emit = |path: &str, value: &Value| {
            yaml::to_string(value)
                .map_err(|e| SnapshotError::Yaml { path: path.to_string(), message: e.to_string() })
        };
        let mut files = BTreeMap::new();
        let mut info = serde_json::to_value(&self.info).unwrap_or(Value::Null);
        if let Some(map) = info.as_object_mut() {
            map.shift_insert(0, "apiVersion".to_string(), json!("sailplan.dev/v1alpha1"));
            map.shift_insert(1, "kind".to_string(), json!("Snapshot"));
        }
        files.insert("snapshot.yaml".to_string(), emit("snapshot.yaml", &info)?);
        let mut groups: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for object in &self.objects {
            let (group, kind, _, _) = sort_key(object);
            let group = if group.is_empty() { "core" } else { group };
            groups.entry(format!("objects/{group}.{kind}.jsonl")).or_default().push(object);
        }
        for (path, items) in groups {
            let mut text = String::new();
            for item in items {
                text.push_str(&item.to_string());
                text.push('\n');
            }
            files.insert(path, text);
        }
        Ok(files)
    }

    /// Writes the snapshot: a `.tar.gz` (or `.tgz`) file, or otherwise a directory.
    pub fn write(&self, path: &Path) -> Result<(), SnapshotError> {
        let files = self.files()?;
        let io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| SnapshotError::Io { action, path, source }
        };
        if is_archive(path) {
            let file = std::fs::File::create(path).map_err(io("cannot create", path))?;
            let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
            let mut archive = tar::Builder::new(encoder);
            archive.mode(tar::HeaderMode::Deterministic);
            for (name, text) in &files {
                let mut header = tar::Header::new_gnu();
                header.set_size(text.len() as u64);
                header.set_mode(0o644);
                header.set_mtime(0);
                header.set_cksum();
                archive.append_data(&mut header, name, text.as_bytes()).map_err(io("cannot write", path))?;
            }
            let encoder = archive.into_inner().map_err(io("cannot write", path))?;
            let mut file = encoder.finish().map_err(io("cannot write", path))?;
            file.flush().map_err(io("cannot write", path))?;
        } else {
            for (name, text) in &files {
                let target = path.join(name);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
                }
                std::fs::write(&target, text).map_err(io("cannot write", &target))?;
            }
        }
        Ok(())
    }

    /// Reads a snapshot written by [`Snapshot::write`] (archive or directory), or plain YAML: a
    /// `List` or multi-document YAML as `kubectl get -o yaml` prints it.
    pub fn read(path: &Path) -> Result<Snapshot, SnapshotError> {
        Snapshot::read_selected(path, None)
    }

    /// Reads a snapshot as [`Snapshot::read`] does, keeping only the objects `selection` names (all
    /// of them without one).
    pub fn read_selected(path: &Path, selection: Option<&Selection>) -> Result<Snapshot, SnapshotError> {
        let wanted_file = |name: &str| selection.is_none_or(|s| s.may_hold(name));
        let io = |action: &'static str| {
            let path = path.to_path_buf();
            move |source| SnapshotError::Io { action, path, source }
        };
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        if path.is_dir() {
            collect_dir(path, path, &wanted_file, &mut files).map_err(io("cannot read"))?;
        } else {
            let bytes = std::fs::read(path).map_err(io("cannot read"))?;
            if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
                for entry in archive.entries().map_err(io("cannot read"))? {
                    let mut entry = entry.map_err(io("cannot read"))?;
                    let name = entry.path().map_err(io("cannot read"))?.to_string_lossy().into_owned();
                    let name = name.trim_start_matches("./").to_string();
                    if !wanted_file(&name) {
                        continue;
                    }
                    let mut text = String::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
                    entry.read_to_string(&mut text).map_err(io("cannot read"))?;
                    files.insert(name, text);
                }
            } else {
                let text = String::from_utf8(bytes).map_err(|e| {
                    io("cannot read")(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                })?;
                files.insert(path.display().to_string(), text);
            }
        }
        let mut info = SnapshotInfo { format_version: FORMAT_VERSION, ..SnapshotInfo::default() };
        let mut objects = Vec::new();
        // Largest files first, each freed once parsed: the text of a large cluster is a tenth of
        // the memory its objects take, and is then never all held beside them. Small files are
        // parsed together so that every core has work.
        let mut texts: Vec<(String, String)> = files.into_iter().collect();
        texts.sort_by_key(|(_, text)| std::cmp::Reverse(text.len()));
        // Object files in the order of their objects ((API group, kind), then name): a snapshot's
        // files are each in object order, so their objects come out in order and are not sorted
        // again.
        let mut parsed: BTreeMap<(String, String, String), Vec<Value>> = BTreeMap::new();
        let mut texts = texts.into_iter().peekable();
        while texts.peek().is_some() {
            let mut batch = Vec::new();
            let mut bytes = 0;
            while let Some((_, text)) = texts.peek() {
                if !batch.is_empty() && bytes + text.len() > 2 * PIECE_BYTES {
                    break;
                }
                bytes += text.len();
                batch.extend(texts.next());
            }
            let pieces: Vec<(&String, &String, Piece<'_>)> = batch
                .iter()
                .flat_map(|(name, text)| pieces(name, text).into_iter().map(move |p| (name, text, p)))
                .collect();
            let documents = crate::parallel::map(
                &pieces,
                |(_, _, piece)| piece.text.len(),
                |(name, whole, piece)| piece.parse(name, whole, selection),
            )?;
            for ((name, _, _), documents) in pieces.iter().zip(documents) {
                parsed.entry(file_order(name)).or_default().extend(documents);
            }
        }
        for ((_, _, name), documents) in parsed {
            for document in documents {
                if document.get("kind").and_then(Value::as_str) == Some("Snapshot")
                    && document.get("apiVersion").and_then(Value::as_str) == Some("sailplan.dev/v1alpha1")
                {
                    info = serde_json::from_value(document)
                        .map_err(|e| SnapshotError::Yaml { path: name.clone(), message: e.to_string() })?;
                    if !READABLE_FORMATS.contains(&info.format_version) {
                        return Err(SnapshotError::Format {
                            path: path.to_path_buf(),
                            found: info.format_version,
                        });
                    }
                    continue;
                }
                expand(document, &name, selection, &mut objects)?;
            }
        }
        Ok(Snapshot::new(info, objects))
    }
}

/// Where a file's objects come in a snapshot's order: an object file of format 1 or 2
/// (`objects/<group>.<Kind>.jsonl` or `.yaml`, `core` for the core group) by (group, kind), any
/// other file by its name; the name itself last.
fn file_order(name: &str) -> (String, String, String) {
    let stem = name
        .strip_prefix("objects/")
        .and_then(|f| f.strip_suffix(".jsonl").or_else(|| f.strip_suffix(".yaml")))
        .and_then(|stem| stem.rsplit_once('.'));
    match stem {
        Some((group, kind)) => (
            if group == "core" { String::new() } else { group.to_string() },
            kind.to_string(),
            name.to_string(),
        ),
        None => (name.to_string(), String::new(), name.to_string()),
    }
}

/// The header format 1 gave every object file; the items follow at column 0.
const LIST_HEADER: &str = "apiVersion: v1\nkind: List\nitems:\n";

/// Pieces of about this many bytes are parsed side by side (tiny in unit tests, so that small
/// snapshots are cut too).
const PIECE_BYTES: usize = if cfg!(test) { 2 << 10 } else { 4 << 20 };

/// A part of a file that parses on its own.
struct Piece<'a> {
    text: &'a str,
    syntax: Syntax,
}

/// How a piece is written.
enum Syntax {
    Yaml,
    /// One JSON document (`kubectl get -o json`).
    Json,
    /// JSON Lines, starting at this line of the file (1-based).
    JsonLines(usize),
}

impl Piece<'_> {
    /// The documents of the piece. A YAML piece's error would give lines within the piece, so the
    /// whole file is parsed again for a message with the file's own line numbers.
    /// JSON Lines objects that `selection` does not name are dropped here, so that they are never
    /// all held at once.
    fn parse(
        &self,
        name: &str,
        whole: &str,
        selection: Option<&Selection>,
    ) -> Result<Vec<Value>, SnapshotError> {
        let json_error = |line: usize, e: serde_json::Error| SnapshotError::Yaml {
            path: name.to_string(),
            message: format!("{name}:{line}:{}: {e}", e.column()),
        };
        let first_line = match self.syntax {
            Syntax::JsonLines(first_line) => first_line,
            Syntax::Json => {
                return serde_json::from_str(self.text).map(|d| vec![d]).map_err(|e| json_error(e.line(), e));
            }
            Syntax::Yaml => {
                return yaml::parse_documents(self.text).map_err(|_| {
                    let error = yaml::parse_documents(whole).err();
                    SnapshotError::Yaml {
                        path: name.to_string(),
                        message: error
                            .map_or_else(|| "cannot parse".to_string(), |e| e.in_source(name).to_string()),
                    }
                });
            }
        };
        let mut documents = Vec::new();
        for (offset, line) in self.text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let parsed = match selection {
                Some(Selection::Planning) => crate::json::parse_omitting(line, &PLANNING_OMITS),
                _ => crate::json::parse(line),
            };
            let mut document = parsed.map_err(|e| json_error(first_line + offset, e))?;
            if selection.is_none_or(|s| s.take(&mut document)) {
                documents.push(document);
            }
        }
        Ok(documents)
    }
}

/// A file cut into pieces that parse independently: JSON Lines at line ends; a JSON file whole; a
/// YAML `List` as
/// format 1 laid it out (its header, then items each starting with `- ` at column 0, nothing else at
/// column 0 but comments) before items into plain YAML sequences; anything else is one piece.
fn pieces<'a>(name: &str, text: &'a str) -> Vec<Piece<'a>> {
    if name.ends_with(".jsonl") {
        let mut out = Vec::new();
        let mut rest = text;
        let mut line = 1;
        while !rest.is_empty() {
            let cut = match rest.get(PIECE_BYTES..).and_then(|tail| tail.find('\n')) {
                Some(at) => PIECE_BYTES + at + 1,
                None => rest.len(),
            };
            let (piece, tail) = rest.split_at(cut);
            out.push(Piece { text: piece, syntax: Syntax::JsonLines(line) });
            line += piece.matches('\n').count();
            rest = tail;
        }
        return out;
    }
    if name.ends_with(".json") {
        return vec![Piece { text, syntax: Syntax::Json }];
    }
    list_pieces(text).into_iter().map(|text| Piece { text, syntax: Syntax::Yaml }).collect()
}

/// A format 1 `List` cut before its items (see [`pieces`]).
fn list_pieces(text: &str) -> Vec<&str> {
    let Some(body) = text.strip_prefix(LIST_HEADER) else { return vec![text] };
    let laid_out = body.starts_with("- ")
        && body
            .split('\n')
            .all(|line| line.is_empty() || line.starts_with([' ', '#']) || line.starts_with("- "));
    if body.len() < 2 * PIECE_BYTES || !laid_out {
        return vec![text];
    }
    let mut pieces = Vec::new();
    let mut rest = body;
    while rest.len() > PIECE_BYTES {
        match rest[PIECE_BYTES..].find("\n- ") {
            Some(at) => {
                let (piece, tail) = rest.split_at(PIECE_BYTES + at + 1);
                pieces.push(piece);
                rest = tail;
            }
            None => break,
        }
    }
    pieces.push(rest);
    pieces
}

/// Adds a document's objects: the items of a `List` (or of a plain YAML sequence), or the document
/// itself; of those, the ones `selection` names.
fn expand(
    mut document: Value,
    source: &str,
    selection: Option<&Selection>,
    objects: &mut Vec<Value>,
) -> Result<(), SnapshotError> {
    if let Value::Array(items) = document {
        for item in items {
            expand(item, source, selection, objects)?;
        }
        return Ok(());
    }
    let is_list = document.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
        && document.get("items").is_some();
    if is_list {
        if let Some(Value::Array(items)) = document.get_mut("items").map(Value::take) {
            for item in items {
                expand(item, source, selection, objects)?;
            }
        }
        return Ok(());
    }
    for (pointer, field) in
        [("/apiVersion", "apiVersion"), ("/kind", "kind"), ("/metadata/name", "metadata.name")]
    {
        if crate::inventory::lookup(&document, pointer).and_then(Value::as_str).is_none() {
            return Err(SnapshotError::NotAnObject { path: source.to_string(), field });
        }
    }
    if selection.is_none_or(|s| s.take(&mut document)) {
        objects.push(document);
    }
    Ok(())
}

fn is_archive(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

fn collect_dir(
    root: &Path,
    dir: &Path,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut BTreeMap<String, String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_dir(root, &path, wanted, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "jsonl" || e == "json") {
            let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if !wanted(&relative) {
                continue;
            }
            out.insert(relative, std::fs::read_to_string(&path)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        let info = SnapshotInfo {
            format_version: FORMAT_VERSION,
            kubernetes_version: Some("1.33.13".to_string()),
            collected_at: Some("2026-11-22T06:00:00Z".to_string()),
            tool_version: Some("0.1.0".to_string()),
            served: Vec::new(),
        };
        Snapshot::new(
            info,
            vec![
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}),
                json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": "a"}}),
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
            ],
        )
    }

    #[test]
    fn archives_and_directories_round_trip_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("s.tar.gz");
        sample().write(&archive).unwrap();
        assert_eq!(Snapshot::read(&archive).unwrap(), sample());
        let again = dir.path().join("t.tar.gz");
        sample().write(&again).unwrap();
        assert_eq!(std::fs::read(&archive).unwrap(), std::fs::read(&again).unwrap(), "deterministic bytes");
        let folder = dir.path().join("snap");
        sample().write(&folder).unwrap();
        assert!(folder.join("objects/core.Namespace.jsonl").is_file());
        assert_eq!(Snapshot::read(&folder).unwrap(), sample());
    }

    #[test]
    fn a_selection_reads_only_the_objects_it_names_whatever_the_form() {
        let dir = tempfile::tempdir().unwrap();
        let gateway = ("networking.istio.io", "Gateway", "a", "gw");
        let namespace = ("", "Namespace", "", "a");
        let missing = ("", "Namespace", "", "zz");
        let selection = Selection::of(
            [gateway, namespace, missing]
                .map(|(g, k, n, name)| (g.to_string(), k.to_string(), n.to_string(), name.to_string())),
        );
        let expected = Snapshot::new(
            sample().info,
            sample()
                .objects
                .into_iter()
                .filter(|o| ["gw", "a"].contains(&o["metadata"]["name"].as_str().unwrap())),
        );
        for name in ["s.tar.gz", "snap"] {
            let path = dir.path().join(name);
            sample().write(&path).unwrap();
            assert_eq!(Snapshot::read_selected(&path, Some(&selection)).unwrap(), expected, "{name}");
            assert_eq!(Snapshot::read_selected(&path, None).unwrap(), sample(), "{name}");
        }
        // A file of a kind nobody asked for is not read: not even its errors show.
        std::fs::write(dir.path().join("snap/objects/core.Pod.jsonl"), "not json\n").unwrap();
        let snap = dir.path().join("snap");
        assert_eq!(Snapshot::read_selected(&snap, Some(&selection)).unwrap(), expected);
        assert!(Snapshot::read(&snap).is_err());
        let file = dir.path().join("dump.yaml");
        std::fs::write(
            &file,
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: b\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
        )
        .unwrap();
        let names: Vec<String> = Snapshot::read_selected(&file, Some(&selection))
            .unwrap()
            .objects
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a"]);
    }

    #[test]
    fn planning_reads_objects_without_status_and_pods_without_what_only_gates_read() {
        let dir = tempfile::tempdir().unwrap();
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "a", "labels": {"app": "p"},
                "creationTimestamp": "2026-01-01T00:00:00Z", "ownerReferences": [{"kind": "ReplicaSet", "name": "r"}]},
            "spec": {"nodeName": "n1", "containers": [{"name": "istio-proxy", "image": "proxyv2:1.6.14"}]},
            "status": {"phase": "Running"}});
        let service = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s", "namespace": "a", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "status": {"loadBalancer": {}}});
        let snapshot = Snapshot::new(sample().info, vec![pod, service]);
        let path = dir.path().join("snap");
        snapshot.write(&path).unwrap();
        let read = Snapshot::read_selected(&path, Some(&Selection::Planning)).unwrap();
        assert_eq!(
            read.objects,
            [
                Arc::new(json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "p", "namespace": "a", "labels": {"app": "p"}},
                    "spec": {"containers": [{"name": "istio-proxy", "image": "proxyv2:1.6.14"}]}})),
                Arc::new(json!({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": "s", "namespace": "a", "creationTimestamp": "2026-01-01T00:00:00Z"}}))
            ]
        );
    }

    #[test]
    fn reads_kubectl_lists_and_multi_document_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dump.yaml");
        std::fs::write(
            &file,
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: b\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
        )
        .unwrap();
        let snapshot = Snapshot::read(&file).unwrap();
        let names: Vec<&str> =
            snapshot.objects.iter().filter_map(|o| o.pointer("/metadata/name")?.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(snapshot.info.kubernetes_version, None);
    }

    fn config_maps(count: usize) -> Snapshot {
        let objects: Vec<Value> = (0..count)
            .map(|i| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i:03}"), "namespace": "a"},
                            "data": {"script": format!("line one\n- line {i} looks like an item\n")}}))
            .collect();
        Snapshot::new(SnapshotInfo { format_version: FORMAT_VERSION, ..SnapshotInfo::default() }, objects)
    }

    #[test]
    fn large_json_lines_files_are_parsed_in_pieces_with_the_same_result() {
        let snapshot = config_maps(300);
        let dir = tempfile::tempdir().unwrap();
        snapshot.write(dir.path()).unwrap();
        let file = dir.path().join("objects/core.ConfigMap.jsonl");
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), 300, "one object per line");
        let cut = pieces("core.ConfigMap.jsonl", &text);
        assert!(cut.len() > 5, "cut into pieces");
        assert_eq!(cut.iter().map(|p| p.text).collect::<String>(), text);
        assert_eq!(Snapshot::read(dir.path()).unwrap(), snapshot);
        let mut lines: Vec<&str> = text.lines().collect();
        lines[250] = "{\"apiVersion\": \"v1\", \"kind\": [\"ConfigMap\"";
        std::fs::write(&file, lines.join("\n")).unwrap();
        let message = Snapshot::read(dir.path()).unwrap_err().to_string();
        assert!(message.contains("core.ConfigMap.jsonl:251:"), "{message}");
        assert!(message.contains("is not valid JSON"), "{message}");
    }

    #[test]
    fn format_1_yaml_lists_are_read_in_pieces_with_the_same_result() {
        let snapshot = config_maps(300);
        let dir = tempfile::tempdir().unwrap();
        let info = "apiVersion: sailplan.dev/v1alpha1\nkind: Snapshot\nformatVersion: 1\n";
        std::fs::write(dir.path().join("snapshot.yaml"), info).unwrap();
        std::fs::create_dir(dir.path().join("objects")).unwrap();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": snapshot.objects});
        let text = yaml::to_string(&list).unwrap();
        std::fs::write(dir.path().join("objects/core.ConfigMap.yaml"), &text).unwrap();
        assert!(list_pieces(&text).len() > 5, "cut into pieces");
        assert_eq!(list_pieces(&text).concat(), text.strip_prefix(LIST_HEADER).unwrap());
        let read = Snapshot::read(dir.path()).unwrap();
        assert_eq!(read.objects, snapshot.objects);
        assert_eq!(read.info.format_version, 1);
        let other = "apiVersion: v1\nkind: List\nitems:\n- a: 1\nmetadata: {}\n".repeat(2000);
        assert_eq!(list_pieces(&other), [other.as_str()], "not the writer's layout: one piece");
        let (at, _) = text.match_indices("  kind: ConfigMap\n").nth(250).unwrap();
        let broken = format!("{}  kind: [ConfigMap\n{}", &text[..at], &text[at + 18..]);
        std::fs::write(dir.path().join("objects/core.ConfigMap.yaml"), broken).unwrap();
        let message = Snapshot::read(dir.path()).unwrap_err().to_string();
        let line = text[..at].lines().count() + 2;
        assert!(message.contains(&format!("core.ConfigMap.yaml:{line}:")), "{line}: {message}");
    }

    #[test]
    fn kubectl_json_output_is_read_and_unknown_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("dump.json");
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}]});
        std::fs::write(&file, serde_json::to_string_pretty(&list).unwrap()).unwrap();
        assert_eq!(Snapshot::read(&file).unwrap().objects.len(), 1);
        let future = dir.path().join("future");
        std::fs::create_dir(&future).unwrap();
        std::fs::write(
            future.join("snapshot.yaml"),
            "apiVersion: sailplan.dev/v1alpha1\nkind: Snapshot\nformatVersion: 9\n",
        )
        .unwrap();
        let message = Snapshot::read(&future).unwrap_err().to_string();
        assert!(message.contains("format 9") && message.contains("collect the snapshot again"), "{message}");
    }

    #[test]
    fn bad_input_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.yaml");
        std::fs::write(&file, "kind: Namespace\nmetadata: {}\n").unwrap();
        let message = Snapshot::read(&file).unwrap_err().to_string();
        assert!(message.contains("bad.yaml") && message.contains("apiVersion"), "{message}");
        let missing = Snapshot::read(&dir.path().join("nope.tar.gz")).unwrap_err().to_string();
        assert!(missing.starts_with("cannot read"), "{missing}");
    }
}
