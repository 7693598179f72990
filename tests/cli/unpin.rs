//! `agentver unpin`: whole screens.

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::published();
    snap!(env, "unpin", "unpin", "web-widget");
    snap!(env, "unpin_json", "unpin", "+14155550101", "--json");
    snap!(env, "unpin_unknown_channel", "unpin", "nowhere");
}
