//! `agentver schema`: the JSON Schema editors read, whole.

use crate::screen::snap;

#[test]
fn screens() {
    let env = crate::env::TestEnv::empty();
    snap!(env, "schema", "schema");
}
