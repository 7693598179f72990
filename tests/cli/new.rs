//! `agentver new`: whole screens (the scaffold itself is checked by `check` in other tests).

use crate::screen::snap;

#[test]
fn screens() {
    let env = crate::env::TestEnv::example();
    snap!(env, "new", "new", "billing");
    snap!(env, "new_json", "new", "hotline", "--json");
    snap!(env, "new_exists", "new", "sales");
    snap!(env, "new_bad_id", "new", "Bad_Id");
}
