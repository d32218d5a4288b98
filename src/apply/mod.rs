//! Applying a plan to a cluster: the steps that change it, and the lock that keeps two applies from
//! changing the same cluster at once.

pub mod lock;
