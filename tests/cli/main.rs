//! Integration tests: the built `agentver` binary in hermetic temporary repositories, with every
//! result checked by the real `git` program. One file per command.

mod env;

mod bad_input;
mod channels;
mod diff;
mod init;
mod log;
mod publish;
mod restore;
mod rollback;
mod show;
mod status;
