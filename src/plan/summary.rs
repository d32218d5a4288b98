//! The plan in a few lines for people, printed on stderr by `plan`: hops, steps per phase, the
//! data-plane batches, the migrations, what blocks the plan and what needs a human.

use std::fmt::Write;

use super::model::{Action, Plan, StepPhase};

/// The summary text.
pub fn text(plan: &Plan) -> String {
    let spec = &plan.spec;
    let mut out = String::new();
    let sources: Vec<String> =
        spec.source.control_planes.iter().map(|c| format!("{} ({})", c.version, c.revision)).collect();
    let from = if sources.is_empty() { "nothing installed".to_string() } else { sources.join(", ") };
    let _ = writeln!(
        out,
        "plan {}: {from} -> {} ({}, profile {})",
        plan.metadata.id, spec.target.version, spec.target.strategy, spec.target.profile
    );
    for (index, hop) in spec.hops.iter().enumerate() {
        let revision = hop.revision.as_ref().map(|r| format!(", revision {r}")).unwrap_or_default();
        let from = if hop.from.is_empty() { "install".to_string() } else { hop.from.clone() };
        let _ = writeln!(out, "  hop {}: {from} -> {} ({}{revision})", index + 1, hop.to, hop.strategy);
    }
    let _ = writeln!(out, "  {} steps:", spec.steps.len());
    for step in &spec.steps {
        let counts = step.actions.iter().fold((0, 0, 0), |(a, d, r), action| match action {
            Action::Apply { objects, .. } => (a + objects.len(), d, r),
            Action::Delete { objects } => (a, d + objects.len(), r),
            Action::Relabel { .. } | Action::Restart { .. } | Action::MoveTag { .. } => (a, d, r + 1),
            Action::Backup { .. } | Action::Restore { .. } => (a, d, r),
        });
        let mut what = Vec::new();
        if counts.0 > 0 {
            what.push(format!("apply {}", counts.0));
        }
        if counts.1 > 0 {
            what.push(format!("delete {}", counts.1));
        }
        if counts.2 > 0 {
            what.push(format!("{} moves", counts.2));
        }
        let gates: Vec<&str> = step.gates.iter().map(|g| g.name.as_str()).collect();
        let _ = writeln!(
            out,
            "    {:<28} {} [{}] gates: {}",
            step.id,
            step.title,
            what.join(", "),
            gates.join(", ")
        );
        for item in &step.needs_human {
            let _ = writeln!(out, "      needs a human: {item}");
        }
    }
    let batches = spec.steps.iter().filter(|s| s.phase == StepPhase::DataPlane).count();
    let finalize = spec.steps.iter().filter(|s| s.phase == StepPhase::Finalize).count();
    let _ = writeln!(
        out,
        "  data plane: {batches} batches of up to {} namespaces, pause {}",
        spec.target.data_plane.batch_size, spec.target.data_plane.pause
    );
    let _ = writeln!(out, "  finalize: {finalize} steps (removal after backup)");
    let errors = spec.findings.iter().filter(|f| f.blocks()).count();
    let resolved = spec.findings.iter().filter(|f| f.is_error() && !f.blocks()).count();
    let warnings = spec.findings.iter().filter(|f| f.severity == "warning").count();
    let _ = writeln!(
        out,
        "  findings: {errors} errors, {warnings} warnings ({resolved} errors dealt with by the plan's migrations)"
    );
    for f in spec.findings.iter().filter(|f| f.blocks()) {
        let object = f.object.as_ref().map(|o| format!(" {o}:")).unwrap_or_default();
        let _ = writeln!(out, "    {} ({}){object} {}", f.code, f.from, f.message);
    }
    if spec.blocked {
        let _ = writeln!(
            out,
            "  BLOCKED: fix the errors above, or plan again with --allow-errors to accept them"
        );
    }
    out
}
