//! `agentver pin`: whole screens (edits that keep comments are in `channels.rs`).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::two_versions();
    snap!(env, "pin", "pin", "+14155550100", "sales@v1");
    snap!(env, "pin_json", "pin", "+14155550100", "sales@v2", "--json");
    snap!(env, "pin_bad_spec", "pin", "x", "sales@v0");
    snap!(env, "pin_no_such_version", "pin", "+14155550100", "sales@v9");
}
