//! How sailplan talks to people: data on stdout, everything else (errors, warnings, hints) on stderr,
//! readable without colour. Colour is used only when stderr is a terminal and `NO_COLOR` is unset.

use std::io::Write;

use owo_colors::{OwoColorize, Stream};

use crate::cluster::ClusterError;

/// An error with advice on what to do about it, shown after the error as `hint: …`.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct Hinted {
    /// The error.
    #[source]
    pub source: anyhow::Error,
    /// What the user can do.
    pub hint: String,
}

/// Attaches a hint to an error.
pub trait WithHint<T> {
    /// Wraps the error with `hint`.
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> WithHint<T> for Result<T, E> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|e| Hinted { source: e.into(), hint: hint.into() }.into())
    }
}

/// Prints `error: …`, each cause on its own `caused by:` line, and the first hint found in the chain.
pub fn print_error(error: &anyhow::Error) {
    let mut stderr = std::io::stderr().lock();
    let label = "error:".if_supports_color(Stream::Stderr, |t| t.red().bold().to_string()).to_string();
    let _ = writeln!(stderr, "{label} {error}");
    let mut hint = None;
    let mut last = error.to_string();
    for cause in error.chain().skip(1) {
        if let Some(h) = cause.downcast_ref::<Hinted>() {
            hint.get_or_insert_with(|| h.hint.clone());
        }
        let text = cause.to_string();
        if text != last && !last.contains(&text) {
            let _ = writeln!(stderr, "  caused by: {text}");
        }
        last = text;
    }
    if let Some(h) = error.downcast_ref::<Hinted>() {
        hint = Some(h.hint.clone());
    }
    if let Some(hint) = hint {
        let label = "hint:".if_supports_color(Stream::Stderr, |t| t.cyan().bold().to_string()).to_string();
        let _ = writeln!(stderr, "\n{label} {hint}");
    }
}

/// Prints a warning line on stderr (`warning: …`), adding the prefix if the text lacks it.
pub fn print_warning(text: &str) {
    let body = text.strip_prefix("warning: ").unwrap_or(text);
    let label = "warning:".if_supports_color(Stream::Stderr, |t| t.yellow().bold().to_string()).to_string();
    eprintln!("{label} {body}");
}

/// Writes data to stdout; a closed pipe (`sailplan render | head`) is not an error.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Adds the advice that fits a cluster error.
pub fn with_hint(error: ClusterError) -> anyhow::Error {
    let hint = match &error {
        ClusterError::Config { .. } => {
            "set KUBECONFIG or pass --kubeconfig FILE (and --kube-context NAME to pick a context), as for kubectl"
        }
        ClusterError::Unreachable { .. } => {
            "check that the cluster is up and that `kubectl get --raw /readyz` works with the same settings"
        }
        ClusterError::Forbidden { .. } => {
            "ask for read access to the resource named above (get, list and watch), or use a context that has it"
        }
        _ => return error.into(),
    };
    Hinted { source: error.into(), hint: hint.to_string() }.into()
}

/// Whether stdout takes colour: a terminal, and `NO_COLOR` unset (owo-colors decides, as for
/// stderr).
pub fn colour_on_stdout() -> bool {
    "x".if_supports_color(Stream::Stdout, |t| t.red().to_string()).to_string() != "x"
}
