//! `agentver check`: whole screens (what it finds is tested in `gitops.rs` and `bad_input.rs`).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::published();
    snap!(env, "check_clean", "check");
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: hot ");
    env.write("agents/notes.txt", "stray\n");
    snap!(env, "check", "check");
    snap!(env, "check_github", "check", "--format", "github");
    snap!(env, "check_json", "check", "--json");
}
