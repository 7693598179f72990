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

/// `--rev` (issue 29): a serve clone's work tree is not what it serves, so a split's weights are
/// read from the revision named, and a revision that names nothing is an error.
#[test]
fn stats_reads_a_splits_weights_at_the_revision_named() {
    let env = screen::with_calls();
    let shares = |args: &[&str]| {
        let mut all = vec!["stats", "sales", "--by", "variant", "--channel", "+14155550199", "--json"];
        all.extend_from_slice(args);
        env.av(&all).ok().json()["sample_ratio"]["expected_share"].clone()
    };
    let at_head = shares(&[]);
    env.av(&["ab", "+14155550199", "control=sales@v1:50", "test=sales@v2:50"]).ok();
    env.commit_all("even split");
    let moved = shares(&[]);
    assert_ne!(moved, at_head, "HEAD's weights changed");
    assert_eq!(shares(&["--rev", "HEAD~1"]), at_head, "the weights as at the revision named");
    let run = env.av(&["stats", "sales", "--rev", "no-such-rev"]).code(2);
    assert!(run.stderr.contains("no-such-rev"), "{}", run.stderr);
}
