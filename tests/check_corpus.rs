//! `check` on real public legacy Istio YAML that nobody on this team wrote (`../shared/corpus/`):
//! every file is read without a panic, and every file of the validation dataset marked invalid
//! either fails to read with a clear error or produces findings.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use sailplan::analyze::check;
use sailplan::catalog::Catalog;
use sailplan::inventory::Inventory;
use sailplan::snapshot::Snapshot;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn every_corpus_file_is_read_and_checked_without_panicking() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/istio-legacy");
    assert!(corpus.is_dir(), "the shared corpus is expected beside the repository at {}", corpus.display());
    let mut files = Vec::new();
    yaml_files(&corpus, &mut files);
    files.sort();
    assert!(files.len() > 50, "found {} corpus files", files.len());
    let catalog = Catalog::embedded().unwrap();
    let target = semver::Version::new(1, 8, 6);
    let (mut read, mut refused, mut legacy_flagged) = (0, 0, 0);
    for file in &files {
        match Snapshot::read(file) {
            Ok(snapshot) => {
                read += 1;
                let inventory = Inventory::from_snapshot(&snapshot);
                let findings = check(&inventory, catalog, Some(&target));
                let legacy = snapshot.objects.iter().any(|o| {
                    let api = o["apiVersion"].as_str().unwrap_or("");
                    ["authentication.istio.io", "rbac.istio.io", "config.istio.io"]
                        .iter()
                        .any(|g| api.starts_with(g))
                });
                if legacy {
                    assert!(!findings.is_empty(), "{}: legacy objects but no findings", file.display());
                    legacy_flagged += 1;
                }
                let invalid = file.file_name().unwrap().to_string_lossy().ends_with("-invalid.yaml");
                if invalid {
                    assert!(!findings.is_empty(), "{}: an invalid example yields no finding", file.display());
                }
            }
            Err(error) => {
                refused += 1;
                let message = error.to_string();
                assert!(
                    message.contains(&file.file_name().unwrap().to_string_lossy().to_string()),
                    "the error names the file: {message}"
                );
            }
        }
    }
    assert!(read > refused, "read {read}, refused {refused}");
    assert!(legacy_flagged > 10, "{legacy_flagged} files with legacy objects flagged");
}
