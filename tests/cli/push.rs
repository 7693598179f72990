//! `agentver push`: whole screens (races and renumbering are tested in `gitops.rs` and `trust.rs`).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::published();
    env.add_remote();
    snap!(env, "push", "push");
    screen::warmer(&env);
    env.av(&["publish", "sales", "-m", "Warmer"]).ok();
    snap!(env, "push_json", "push", "origin", "--json");
    snap!(env, "push_nothing", "push");
    snap!(env, "push_option_as_remote", "push", "--", "--upload-pack=touch /tmp/x");
}
