//! `agentver stats`: whole screens (the statistics are checked against scipy in the unit tests).

use crate::screen::{self, snap};

#[test]
fn screens() {
    let env = screen::with_calls();
    snap!(env, "stats", "stats", "sales", "--compare", "v1", "v2");
    snap!(env, "stats_json", "stats", "sales", "--compare", "v1", "v2", "--json");
    snap!(env, "stats_by_variant", "stats", "sales", "--by", "variant", "--channel", "+14155550199");
    snap!(env, "stats_variants_need_channel", "stats", "sales", "--by", "variant");
}
