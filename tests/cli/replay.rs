//! `agentver replay`: whole screens (replay after a moved tag is in `calls.rs`).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::with_calls();
    snap!(env, "replay", "replay", "c-01");
    snap!(env, "replay_json", "replay", "c-02", "--json");
    snap!(env, "replay_unknown_call", "replay", "c-99");
}
