//! Decisions over a release's history that need no cluster: which revision is the last, which is
//! deployed, which one an upgrade builds on, and which old revisions go when the history is full.
//! Histories are sorted by revision, oldest first (as [`super::ReleaseStore::history`] returns them).

use super::model::{Release, Status};

/// The newest revision.
pub(crate) fn last(history: &[Release]) -> Option<&Release> {
    history.iter().max_by_key(|r| r.version)
}

/// The newest `deployed` revision (Helm picks the highest when several claim it).
pub(crate) fn last_deployed(history: &[Release]) -> Option<&Release> {
    history.iter().filter(|r| r.status() == Status::Deployed).max_by_key(|r| r.version)
}

/// The revision an upgrade or rollback builds on: the deployed one, else a failed or superseded last
/// one (so a failed first install can be upgraded, as since Helm 3.2).
pub(crate) fn current(history: &[Release]) -> Option<&Release> {
    last_deployed(history)
        .or_else(|| last(history).filter(|r| matches!(r.status(), Status::Failed | Status::Superseded)))
}

/// The revisions to delete, oldest first, before one more is created, so that at most `max`
/// revisions remain afterwards (`0` keeps everything, like Helm's `--history-max 0`). The newest
/// deployed revision is never deleted, even when newer failed ones are.
pub(crate) fn revisions_to_prune(history: &[Release], max: usize) -> Vec<u32> {
    if max == 0 {
        return Vec::new();
    }
    let keep = max - 1;
    let mut versions: Vec<u32> = history.iter().map(|r| r.version).collect();
    versions.sort_unstable();
    let deployed = last_deployed(history).map(|r| r.version);
    let mut prune = Vec::new();
    for version in versions.iter().copied() {
        if versions.len() - prune.len() <= keep {
            break;
        }
        if Some(version) != deployed {
            prune.push(version);
        }
    }
    prune
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(statuses: &[Status]) -> Vec<Release> {
        statuses
            .iter()
            .zip(1..)
            .map(|(status, version)| {
                let mut release = Release { name: "r".into(), version, ..Release::default() };
                release.info.status = *status;
                release
            })
            .collect()
    }

    #[test]
    fn pruning_keeps_room_for_the_new_revision() {
        use Status::*;
        let full = history(&[Superseded, Superseded, Superseded, Deployed]);
        assert_eq!(revisions_to_prune(&full, 10), Vec::<u32>::new());
        assert_eq!(revisions_to_prune(&full, 4), [1]);
        assert_eq!(revisions_to_prune(&full, 2), [1, 2, 3]);
        assert_eq!(revisions_to_prune(&full, 1), [1, 2, 3], "the deployed revision stays");
        assert_eq!(revisions_to_prune(&full, 0), Vec::<u32>::new(), "0 means unlimited");
    }

    #[test]
    fn pruning_never_takes_the_deployed_revision_even_behind_failed_ones() {
        use Status::*;
        let failing = history(&[Superseded, Deployed, Failed, Failed, Failed]);
        assert_eq!(revisions_to_prune(&failing, 3), [1, 3, 4]);
        let none_deployed = history(&[Failed, Failed, Failed]);
        assert_eq!(revisions_to_prune(&none_deployed, 2), [1, 2]);
    }

    #[test]
    fn upgrades_build_on_the_deployed_or_a_failed_last_revision() {
        use Status::*;
        let h = history(&[Superseded, Deployed, Failed]);
        assert_eq!(last(&h).map(|r| r.version), Some(3));
        assert_eq!(current(&h).map(|r| r.version), Some(2));
        let failed_first_install = history(&[Failed]);
        assert_eq!(current(&failed_first_install).map(|r| r.version), Some(1));
        assert!(current(&history(&[Uninstalled])).is_none());
        assert!(last_deployed(&history(&[])).is_none());
    }
}
