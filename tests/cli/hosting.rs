//! "On real git hosting" (issue 29): the GitOps flows as a hosting service runs them — CI in a
//! shallow no-tags checkout from the first run, squash-merged branches, a tag moved on the remote,
//! a plain `git pull` beside unpushed versions — against a bare remote, checked with git.

use crate::env::TestEnv;
use crate::trust::{clone, with_remote};

/// Replaces `from` with `to` in `rel` of another clone `dir`, failing when `from` is absent.
#[track_caller]
fn edit_in(dir: &str, rel: &str, from: &str, to: &str) {
    let file = std::path::Path::new(dir).join(rel);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(from), "{rel} does not contain {from:?}");
    std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
}

/// `git --git-dir <remote> args…`.
fn bare(env: &TestEnv, remote: &std::path::Path, args: &[&str]) -> String {
    let mut all = vec!["--git-dir", remote.to_str().unwrap()];
    all.extend_from_slice(args);
    env.git(&all)
}

#[test]
fn the_first_ci_publish_works_in_a_shallow_clone_of_a_remote_without_versions() {
    let env = TestEnv::example();
    let remote = env.add_remote();
    env.git(&["commit", "-q", "--allow-empty", "-m", "second"]);
    env.git(&["push", "-q", "origin", "main"]);
    let ci = clone(&env, &remote, "ci", &["--depth", "1", "--no-tags"]);
    let fetched = env.av(&["-C", &ci, "fetch"]).ok();
    assert!(fetched.stderr.contains("no versions on origin yet"), "{}", fetched.stderr);
    let run = env.av(&["-C", &ci, "publish", "--changed", "--rev", "HEAD", "-m", "Merged", "--push", "origin"]).ok();
    assert!(run.stdout.contains("published sales v1 (agent/sales/v1)"), "{}", run.stdout);
    assert!(run.stderr.contains("pushed agent/sales/v1 to origin"), "{}", run.stderr);
    assert_eq!(bare(&env, &remote, &["tag", "-l", "agent/sales/*"]), "agent/sales/v1");
    env.av(&["-C", &ci, "verify"]).ok();
}

#[test]
fn a_git_failure_is_reported_with_a_reason() {
    let env = TestEnv::example();
    env.git(&["remote", "add", "origin", "/nonexistent/remote.git"]);
    let run = env.av(&["fetch"]).code(2);
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: fetching the agent tags of 'origin': ") && first.len() > 50, "{}", run.stderr);
}

#[test]
fn a_squash_merged_branch_that_published_does_not_block_the_next_ci_publish() {
    let (env, remote) = with_remote();
    // Bob publishes on a branch, as the GitOps guide's first step suggests, and pushes the tag.
    let bob = clone(&env, &remote, "bob", &[]);
    env.av(&["-C", &bob, "fetch"]).ok();
    env.git(&["-C", &bob, "checkout", "-q", "-b", "warmer"]);
    edit_in(&bob, "agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.6 ");
    env.git(&["-C", &bob, "commit", "-qam", "warmer"]);
    env.av(&["-C", &bob, "publish", "sales", "-m", "warmer"]).ok();
    // A version travels with its source: the tag alone is refused, the branch with it is not.
    let refused = env.av(&["-C", &bob, "push"]).code(1);
    assert!(refused.stderr.contains("push refused: agent/sales/v2 published from commit"), "{}", refused.stderr);
    assert!(refused.stderr.contains("agentver push origin --with-branch"), "{}", refused.stderr);
    env.av(&["-C", &bob, "push", "--with-branch"]).ok();
    // The pull request is squash-merged and the branch deleted: v2's source commit is nowhere.
    env.git(&["-C", &bob, "checkout", "-q", "main"]);
    env.git(&["-C", &bob, "merge", "-q", "--squash", "warmer"]);
    env.git(&["-C", &bob, "commit", "-q", "-m", "Warmer sales (#12)"]);
    env.git(&["-C", &bob, "branch", "-q", "-D", "warmer"]);
    env.git(&["-C", &bob, "push", "-q", "origin", "main", ":warmer"]);
    // The next change merged, CI publishes from a shallow checkout: main holds v2's content.
    let ci = clone(&env, &remote, "ci", &["--depth", "1", "--no-tags"]);
    edit_in(&ci, "agents/sales.yaml", "max_tokens: 400", "max_tokens: 500");
    env.git(&["-C", &ci, "commit", "-qam", "Longer answers (#13)"]);
    // (Merged on the hosting: the commit CI publishes from is on main there.)
    env.git(&["-C", &ci, "push", "-q", "origin", "HEAD:main"]);
    let run = env.av(&["-C", &ci, "publish", "--changed", "--rev", "HEAD", "-m", "Merged", "--push", "origin"]).ok();
    assert!(run.stdout.contains("published sales v3"), "{}{}", run.stdout, run.stderr);
    // A branch that really undoes v2 is still refused.
    let stale = clone(&env, &remote, "stale", &[]);
    env.av(&["-C", &stale, "fetch"]).ok();
    env.git(&["-C", &stale, "reset", "-q", "--hard", "HEAD~2"]);
    edit_in(&stale, "agents/sales.yaml", "How can I help?", "What can I do for you?");
    env.git(&["-C", &stale, "commit", "-qam", "greeting"]);
    let run = env.av(&["-C", &stale, "publish", "sales"]).code(1);
    assert!(run.stderr.contains("would silently undo it"), "{}", run.stderr);
}

#[test]
fn a_tag_moved_on_the_remote_is_tampering_never_a_version_to_renumber() {
    let (env, remote) = with_remote();
    let alice = clone(&env, &remote, "alice", &[]);
    env.av(&["-C", &alice, "fetch"]).ok();
    let genuine = env.git(&["-C", &alice, "rev-parse", "agent/sales/v1"]);
    // Someone force-pushes another agent/sales/v1.
    let mallory = clone(&env, &remote, "mallory", &[]);
    env.git(&["-C", &mallory, "tag", "-f", "-a", "agent/sales/v1", "-m", "forged", "HEAD"]);
    env.git(&["-C", &mallory, "push", "-q", "-f", "origin", "agent/sales/v1"]);
    let forged = bare(&env, &remote, &["rev-parse", "agent/sales/v1"]);

    let run = env.av(&["-C", &alice, "fetch"]).code(1);
    assert!(run.stderr.contains("warning: agent/sales/v1 moved on origin"), "{}", run.stderr);
    assert!(!run.stderr.contains("not pushed yet"), "the damaging hint is gone: {}", run.stderr);
    assert_eq!(env.git(&["-C", &alice, "rev-parse", "agent/sales/v1"]), genuine, "ours is kept");
    let run = env.av(&["-C", &alice, "push"]).code(1);
    assert!(run.stderr.contains("push refused: agent/sales/v1 moved on 'origin'"), "{}", run.stderr);
    assert_eq!(bare(&env, &remote, &["tag", "-l", "agent/sales/*"]), "agent/sales/v1", "nothing renumbered");
    // Once said, it stays said: the evidence is kept, not overwritten by the fetch.
    env.av(&["-C", &alice, "fetch"]).code(1);

    // --reset takes the remote's, saving ours where git can give it back.
    let run = env.av(&["-C", &alice, "fetch", "--reset"]).ok();
    assert!(
        run.stderr.contains("reset agent/sales/v1 to origin's (yours is saved under refs/agentver/dropped/"),
        "{}",
        run.stderr
    );
    assert_eq!(env.git(&["-C", &alice, "rev-parse", "agent/sales/v1"]), forged);
    let saved = env.git(&["-C", &alice, "for-each-ref", "--format=%(objectname) %(refname)", "refs/agentver/dropped/"]);
    assert!(saved.starts_with(&genuine) && saved.ends_with("/tags/agent/sales/v1"), "{saved}");
}

#[test]
fn a_plain_git_pull_never_replaces_an_unpushed_version() {
    let (env, remote) = with_remote();
    let bob = clone(&env, &remote, "bob", &[]);
    env.av(&["-C", &bob, "fetch", "--configure"]).ok();
    // Bob publishes v2 and does not push it; Alice publishes and pushes her own v2.
    edit_in(&bob, "agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["-C", &bob, "publish", "sales", "-m", "bob's"]).ok();
    let bobs = env.git(&["-C", &bob, "rev-parse", "agent/sales/v2"]);
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.2 ");
    env.av(&["publish", "sales", "-m", "alice's", "--push"]).ok();
    // A plain fetch or pull leaves Bob's v2 alone (git refuses to clobber a tag it was not told
    // to force); agentver push then renumbers it after Alice's.
    let mut pull = std::process::Command::new("git");
    env.configure(&mut pull);
    let pulled = pull.args(["-C", &bob, "pull", "--no-rebase", "--no-edit", "origin", "main"]).output().unwrap();
    let said = String::from_utf8_lossy(&pulled.stderr);
    assert!(!said.contains("[tag update]"), "{said}");
    assert_eq!(env.git(&["-C", &bob, "rev-parse", "agent/sales/v2"]), bobs, "{said}");
    let run = env.av(&["-C", &bob, "push"]).ok();
    assert!(run.stderr.contains("v2 → v3") || run.stdout.contains("v3"), "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_pull_request_can_add_an_agent_and_route_a_number_to_it() {
    let (env, _remote) = with_remote();
    env.write(
        "agents/dental.yaml",
        "name: Dental\nllm: {provider: openai, model: gpt-4o}\nprompt: {system: Book cleanings.}\n",
    );
    let run = env.av(&["pin", "+14155550177", "dental@latest"]).ok();
    assert!(run.stdout.contains("pinned +14155550177 to dental latest"), "{}", run.stdout);
    assert!(run.stderr.contains("warning: dental has no version yet; the merge's publish makes v1"), "{}", run.stderr);
    // check warns, and passes: the merge's publish is what makes v1.
    let check = env.av(&["check"]).ok();
    assert!(check.stdout.contains("follows dental's latest version, and dental has none yet"), "{}", check.stdout);
    // Until then that channel alone serves nothing (exit 1), the others as before.
    let refused = env.av(&["resolve", "+14155550177"]).code(1);
    assert!(refused.stderr.contains("follows dental's latest version, and dental has none yet"), "{}", refused.stderr);
    env.av(&["resolve", "+14155550100"]).ok();
    // The pull request's plan says what the merge publishes, and where it is served then.
    let plan = env.av(&["plan", "--base", "HEAD"]).ok();
    assert!(
        plan.stdout.contains("publish on merge: dental v1 (then served on +14155550177, which follow latest)"),
        "{}",
        plan.stdout
    );
    let markdown = env.av(&["plan", "--base", "HEAD", "--format", "markdown"]).ok();
    assert!(
        markdown
            .stdout
            .contains("**Publish on merge**: `dental` v1, then served on <code>+14155550177</code> (latest)"),
        "{}",
        markdown.stdout
    );
    env.commit_all("Add the dental line (#14)\n\nA new agent for the clinic's number.");
    // The merge's publish labels the version with the pull request's title, its notes the body.
    let run = env.av(&["publish", "--changed", "--json"]).ok();
    assert_eq!(run.json()[0]["label"], "Add the dental line (#14)", "{}", run.stdout);
    let log = env.av(&["log", "dental", "--json"]).ok().json();
    assert_eq!(log["versions"][0]["notes"], "A new agent for the clinic's number.");
    assert_eq!(env.av(&["resolve", "+14155550177"]).ok().json()["version"], 1);
}

/// Hostile labels (issue 31): a NUL made a commit `git fsck --strict` rejects, and a remote with
/// receive.fsckObjects then refused every push; bidirectional overrides made a label read other
/// than it is. Both are refused before anything is written.
#[test]
fn a_label_or_notes_with_hidden_characters_is_refused() {
    let env = TestEnv::example();
    let before = env.tags();
    for label in ["sales \u{202E}v2", "bell\u{7}"] {
        let run = env.av(&["publish", "sales", "-m", label]).code(2);
        assert!(run.stderr.contains("without control characters or bidirectional overrides"), "{}", run.stderr);
    }
    env.write("../notes.txt", "line one\nline two\u{1}\n");
    let run = env.av(&["publish", "sales", "--notes-file", "../notes.txt"]).code(2);
    assert!(run.stderr.contains("the notes hold a control character"), "{}", run.stderr);
    assert_eq!(env.tags(), before, "nothing was published");
    env.write("../notes.txt", "line one\n\tindented\n");
    env.av(&["publish", "sales", "--notes-file", "../notes.txt", "-m", "Plain"]).ok();
    env.fsck();
}

/// A new channel in a plan (issue 29) was the whole configuration as one-line JSON cut with `…`;
/// it is its name, model, voice and the prompt's first lines.
#[test]
fn a_new_channel_in_a_plan_reads_as_a_headline() {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    env.av(&["pin", "+14155550111", "support"]).ok();
    let text = env.av(&["plan", "--base", "HEAD"]).ok().stdout;
    assert!(text.contains("  support: nothing → v1\n    name: Support Agent\n    model: anthropic claude-sonnet-4\n    voice: cartesia british-lady\n    prompt: You help existing customers"), "{text}");
    assert!(!text.contains("{\"provider\"") && !text.contains('…'), "{text}");
    let markdown = env.av(&["plan", "--base", "HEAD", "--format", "markdown"]).ok().stdout;
    assert!(markdown.contains("| model | <code>anthropic claude-sonnet-4</code> |"), "{markdown}");
    let json = env.av(&["plan", "--base", "HEAD", "--json"]).ok().json();
    assert_eq!(json["channels"][0]["diffs"][0]["headline"]["voice"], "cartesia british-lady", "{json}");
}
