//! What an apply tells the person (or the CI log) watching it, on stderr: on a terminal, a spinner
//! per step and a bar over the data-plane batches; otherwise (and with `NO_COLOR`, which turns bars
//! off as it turns colour off) one timestamped line per event, which reads well in a CI log.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::gates::{GateOutcome, Verdict};
use super::journal::now;
use crate::plan::model::{Step, StepPhase};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing (library use, tests).
    Quiet,
    /// One timestamped line per event.
    Lines,
    /// Spinners and a bar.
    Terminal,
}

#[derive(Default)]
struct Bars {
    multi: Option<MultiProgress>,
    step: Option<ProgressBar>,
    batches: Option<ProgressBar>,
    label: String,
}

/// Reports an apply's progress.
pub struct Progress {
    mode: Mode,
    bars: Mutex<Bars>,
}

impl Progress {
    /// Progress shown as `mode`.
    pub fn new(mode: Mode) -> Progress {
        Progress { mode, bars: Mutex::new(Bars::default()) }
    }

    /// Spinners on a terminal without `NO_COLOR`, lines otherwise.
    pub fn for_stderr() -> Progress {
        let colourless = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Progress::new(if std::io::stderr().is_terminal() && !colourless {
            Mode::Terminal
        } else {
            Mode::Lines
        })
    }

    fn line(&self, text: &str) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{} {text}", now()),
            Mode::Terminal => {
                let bars = self.bars.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match &bars.multi {
                    Some(multi) => {
                        let _ = multi.println(text);
                    }
                    None => eprintln!("{text}"),
                }
            }
        }
    }

    /// A step starts. `batches` is the number of data-plane steps in the plan.
    pub fn step_started(&self, index: usize, total: usize, step: &Step, batches: usize) {
        let label = format!("[{}/{total}] {}: {}", index + 1, step.id, step.title);
        if self.mode != Mode::Terminal {
            self.line(&format!("{label}: started"));
            return;
        }
        let mut bars = self.bars.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let multi = bars
            .multi
            .get_or_insert_with(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
            .clone();
        if step.phase == StepPhase::DataPlane && bars.batches.is_none() && batches > 0 {
            let bar = multi.add(ProgressBar::new(batches as u64));
            bar.set_style(
                ProgressStyle::with_template("data plane {bar:30} {pos}/{len} batches")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bars.batches = Some(bar);
        }
        let spinner = multi.add(ProgressBar::new_spinner());
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        spinner.set_message(label.clone());
        bars.label = label;
        spinner.enable_steady_tick(Duration::from_millis(120));
        bars.step = Some(spinner);
    }

    /// Something happened within the current step.
    pub fn note(&self, text: &str) {
        if self.mode == Mode::Terminal {
            let bars = self.bars.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(step) = &bars.step {
                step.set_message(format!("{} — {text}", bars.label));
                return;
            }
        }
        self.line(&format!("  {text}"));
    }

    /// A gate's outcome.
    pub fn gate(&self, outcome: &GateOutcome) {
        let verdict = match (&outcome.verdict, outcome.passed) {
            (Verdict::Pass, _) => "pass",
            (Verdict::Fail, _) => "FAIL",
            (Verdict::NoData, true) => "no data (allowed)",
            (Verdict::NoData, false) => "NO DATA",
        };
        self.line(&format!("  gate {}: {verdict}: {}", outcome.name, outcome.message));
    }

    /// A step ended: `result` is `done`, `undone`, … .
    pub fn step_finished(&self, index: usize, total: usize, step: &Step, result: &str) {
        let text = format!("[{}/{total}] {}: {result}", index + 1, step.id);
        if self.mode == Mode::Terminal {
            let mut bars = self.bars.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(spinner) = bars.step.take() {
                spinner.finish_and_clear();
            }
            if step.phase == StepPhase::DataPlane
                && let Some(bar) = &bars.batches
            {
                bar.inc(1);
            }
        }
        self.line(&text);
    }

    /// The apply ended; clears the bars.
    pub fn finish(&self, text: &str) {
        if self.mode == Mode::Terminal {
            let mut bars = self.bars.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(bar) = bars.batches.take() {
                bar.finish();
            }
            bars.multi = None;
        }
        self.line(text);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn step(id: &str, phase: StepPhase) -> Step {
        serde_json::from_value(serde_json::json!({"id": id, "hop": 1, "phase": phase, "title": "t",
            "actions": [], "gates": [], "undo": []}))
        .unwrap()
    }

    #[test]
    fn every_mode_reports_a_whole_run_without_blocking() {
        for mode in [Mode::Quiet, Mode::Lines, Mode::Terminal] {
            let progress = Progress::new(mode);
            let steps = [
                step("a", StepPhase::Base),
                step("b", StepPhase::DataPlane),
                step("c", StepPhase::DataPlane),
            ];
            for (index, step) in steps.iter().enumerate() {
                progress.step_started(index, steps.len(), step, 2);
                progress.note("working");
                progress.gate(&GateOutcome {
                    name: "g".into(),
                    verdict: Verdict::Pass,
                    message: "ok".into(),
                    passed: true,
                });
                progress.step_finished(index, steps.len(), step, "done");
            }
            progress.finish("all done");
        }
    }
}
