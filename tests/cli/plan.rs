//! `agentver plan`: whole screens (each kind of change is tested in `gitops.rs`).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::two_versions();
    env.commit_all("v2 draft");
    env.av(&["ab", "+14155550199", "old=sales@v1:50", "new=sales@v2:50", "--salt", "s1"]).ok();
    env.av(&["pin", "+14155550100", "sales@v2"]).ok();
    snap!(env, "plan", "plan");
    snap!(env, "plan_markdown", "plan", "--format", "markdown");
    snap!(env, "plan_json", "plan", "--json");
    snap!(env, "plan_unknown_base", "plan", "--base", "nowhere");
}
