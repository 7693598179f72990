//! Integration tests: the built `agentver` binary in hermetic temporary repositories, with every
//! result checked by the real `git` program. One file per command.

// Randomised tests print their seed and counts, so a failure can be replayed (AGENTVER_SEED).
#![allow(clippy::print_stderr)]

mod env;
mod screen;

mod ab;
mod bad_input;
mod calls;
mod channels;
mod check;
mod ci_templates;
mod console;
mod console_attacks;
mod diff;
mod docs;
mod export;
mod fetch;
mod gitops;
mod hostile;
mod hosting;
mod init;
mod integrity;
mod layers;
mod log;
mod new;
mod outage;
mod pin;
mod plan;
mod platforms;
mod publish;
mod push;
mod records;
mod replay;
mod resolve;
mod restore;
mod rollback;
mod schema;
mod serve;
mod show;
mod stats;
mod status;
mod testing;
mod trust;
mod unpin;
mod verify;
