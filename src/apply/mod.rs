//! Applying a plan to a cluster (`sailplan apply`): the executor that runs the steps, the health
//! gates that decide whether a step may stand, the journal that makes an interrupted apply
//! resumable, the backups that make every deletion reversible, and the lock that keeps two applies
//! from changing the same cluster at once.

pub mod backup;
pub mod executor;
pub mod gates;
pub mod journal;
pub mod kinds;
pub mod lock;
pub mod probe;
pub mod progress;
pub mod takeover;

pub use executor::{ApplyError, ExecutorOptions, Outcome, rollback, run};
pub use gates::{GateOutcome, Overrides, Verdict, parse_duration};
pub use journal::{Journal, JournalStore, StepStatus};
pub use progress::{Mode, Progress};
