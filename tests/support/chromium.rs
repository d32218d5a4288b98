//! Headless Chromium for the tests that check the HTML reports (`check --report`, `rehearse
//! --report`) in a real browser: finding the binary, running it on a page, and reading the page's
//! console errors from its log.

#![allow(clippy::unwrap_used, dead_code)] // test support shared by several test binaries; each uses a part

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// Debian's `chromium`: `/usr/bin/chromium`, else `chromium` on PATH.
pub fn chromium() -> PathBuf {
    let default = PathBuf::from("/usr/bin/chromium");
    if default.is_file() {
        return default;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("chromium is not installed: run scripts/test.sh, which installs Debian's chromium package")
        })
}

/// Console messages in Chromium's log: `INFO:CONSOLE:12] "…"` (Chromium 156), `CONSOLE(12)` in older
/// versions, and uncaught exceptions.
pub fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE(") || l.contains(":CONSOLE:") || l.contains("Uncaught"))
        .collect()
}

/// Runs headless Chromium on `page` with `extra` flags, a fresh profile and logging on stderr;
/// returns (stdout, stderr) after checking that it succeeded.
pub fn headless(page: &Path, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "chromium {extra:?} failed ({}):\n{stderr}", output.status);
    (stdout, stderr)
}
