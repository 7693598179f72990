//! `agentver fetch`: whole screens (kept local versions and shallow clones are in `trust.rs`).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::two_versions();
    env.add_remote();
    env.av(&["push"]).ok();
    env.git(&["tag", "-d", "agent/sales/v2"]);
    snap!(env, "fetch", "fetch");
    env.git(&["tag", "-d", "agent/support/v1"]);
    snap!(env, "fetch_json", "fetch", "origin", "--json");
    snap!(env, "fetch_configure", "fetch", "--configure");
    snap!(env, "fetch_unknown_remote", "fetch", "nowhere");
}
