//! Integration tests: the built `agentver` binary in hermetic temporary repositories, with every
//! result checked by the real `git` program. One file per command.

// Randomised tests print their seed and counts, so a failure can be replayed (AGENTVER_SEED).
#![allow(clippy::print_stderr)]

mod env;

mod gitops;

mod bad_input;
mod calls;
mod channels;
mod diff;
mod hostile;
mod init;
mod integrity;
mod layers;
mod log;
mod publish;
mod restore;
mod rollback;
mod serve;
mod show;
mod snapshots;
mod status;
mod trust;
mod verify;
