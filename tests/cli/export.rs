//! `agentver export`: whole screens (byte identity is tested in `gitops.rs`).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::two_versions();
    env.commit_all("deployed");
    snap!(env, "export", "export");
    snap!(env, "export_to_file", "export", "--output", "../bundle.json");
    snap!(env, "export_unknown_revision", "export", "--rev", "nowhere");
}
