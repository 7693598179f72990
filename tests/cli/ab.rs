//! `agentver ab`: whole screens (bucketing is in `channels.rs` and the unit tests).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::two_versions();
    snap!(env, "ab", "ab", "+14155550199", "old=sales@v1:50", "new=sales@v2:50", "--salt", "s1");
    snap!(env, "ab_json", "ab", "+14155550199", "old=sales@v1:80", "new=sales@draft:20", "--json");
    snap!(env, "ab_zero_weights", "ab", "+14155550199", "a=sales@v1:0", "b=sales@v2:0");
}
