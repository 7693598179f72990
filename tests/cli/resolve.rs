//! `agentver resolve`: whole screens (every kind of pin is resolved in `channels.rs`).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::two_versions();
    env.av(&["ab", "+14155550199", "old=sales@v1:50", "new=sales@v2:50", "--salt", "s1"]).ok();
    snap!(env, "resolve", "resolve", "+14155550199", "--caller", "+14155550123");
    snap!(env, "resolve_json", "resolve", "+14155550101", "--json");
    snap!(env, "resolve_unknown_channel", "resolve", "nowhere");
}
