//! The rules of trust (issue 10): forged versions, symlinked folders, argument injection, and the
//! team-workflow defects found by real use. Each test builds the hostile or broken repository itself
//! and checks the result with the real git.

use crate::env::TestEnv;

/// A tree object written byte for byte, so names git itself would refuse (`..`, `/x`, `.git`) can
/// be forged as an attacker would (`git hash-object -t tree --literally`).
fn forged_tree(env: &TestEnv, entries: &[(&str, &str, &str)]) -> String {
    let mut raw = Vec::new();
    for (mode, name, id) in entries {
        raw.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        raw.extend((0..id.len()).step_by(2).map(|i| u8::from_str_radix(&id[i..i + 2], 16).unwrap()));
    }
    env.git_stdin(&["hash-object", "-t", "tree", "--literally", "-w", "--stdin"], &raw)
}

fn blob(env: &TestEnv, text: &str) -> String {
    env.git_stdin(&["hash-object", "-w", "--stdin"], text.as_bytes())
}

/// sales v1 published; `agent/sales/v2` forged over a tree that adds hostile entries to v1's.
fn forged_v2() -> TestEnv {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    let agents = env.rev("agent/sales/v1:agents");
    let tools = env.rev("agent/sales/v1:tools");
    let evil = blob(&env, "#!/bin/sh\ntouch pwned\n");
    let hooks = forged_tree(&env, &[("100755", "pre-commit", &evil)]);
    let dot_git = forged_tree(&env, &[("40000", "hooks", &hooks)]);
    let root = forged_tree(
        &env,
        &[
            ("100644", "../../escape.txt", &evil),
            ("100644", "/tmp/agentver-absolute.txt", &evil),
            ("40000", ".git", &dot_git),
            ("40000", "agents", &agents),
            ("40000", "tools", &tools),
        ],
    );
    let parent = env.rev("agent/sales/v1^{commit}");
    let head = env.rev("HEAD");
    let commit = env.git(&["commit-tree", &root, "-p", &parent, "-m", "sales: forged"]);
    let message = format!("forged\n\nAgentver-Agent: sales\nAgentver-Version: 2\nAgentver-Source: {head}\n");
    env.git(&["tag", "-a", "agent/sales/v2", "-m", &message, &commit]);
    env
}

#[test]
fn a_forged_snapshot_never_writes_outside_the_agents_files() {
    let env = forged_v2();
    let outside = env.root.parent().unwrap().parent().unwrap().join("escape.txt");
    let _ = std::fs::remove_file(&outside);
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales", "-m", "warmer"]).ok();
    let run = env.av(&["restore", "sales@v2"]).ok();
    assert!(!run.stdout.contains("escape"), "{}", run.stdout);
    assert!(!outside.exists(), "restore wrote {}", outside.display());
    assert!(!std::path::Path::new("/tmp/agentver-absolute.txt").exists());
    assert!(!env.path(".git/hooks/pre-commit").exists(), "restore wrote into .git/hooks");
    assert!(!env.path("escape.txt").exists());

    // rollback, even forced, does not re-sign a tree holding more than the agent's files.
    let tags = env.tags();
    let run = env.av(&["rollback", "sales@v2", "--force"]).code(1);
    assert!(run.stderr.contains("holds entries that are not sales's files"), "{}", run.stderr);
    assert_eq!(env.tags(), tags, "no tag written");

    // verify names each hostile entry.
    let run = env.av(&["verify"]).code(1);
    for entry in ["../../escape.txt", "/tmp/agentver-absolute.txt", ".git/hooks/pre-commit"] {
        assert!(
            run.stdout.lines().any(|l| l.contains("agent/sales/v2") && l.contains(entry)),
            "{entry} not reported: {}",
            run.stdout
        );
    }
}

#[test]
fn a_symlinked_folder_leading_outside_is_refused() {
    let env = TestEnv::example();
    let outside = env.root.parent().unwrap().join("home/.docker");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("config.json"), r#"{"auths": {"x": {"auth": "c2VjcmV0"}}}"#).unwrap();
    std::fs::remove_dir_all(env.path("workflows")).unwrap();
    std::os::unix::fs::symlink("../home/.docker", env.path("workflows")).unwrap();
    env.edit("agents/intake.yaml", "workflow: intake", "workflow: config");

    let run = env.av(&["check"]).code(1);
    assert!(run.stdout.contains("workflows: is a symlink to"), "{}", run.stdout);
    let tags = env.tags();
    let run = env.av(&["publish", "intake"]).code(2);
    assert!(run.stderr.starts_with("error: workflows: is a symlink to"), "{}", run.stderr);
    assert!(run.stderr.contains("outside the workspace"), "{}", run.stderr);
    assert_eq!(env.tags(), tags);

    // A symlinked agents/ folder: restore must not rewrite the files it leads to.
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    let elsewhere = env.root.parent().unwrap().join("outside/agents");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::rename(env.path("agents"), &elsewhere).unwrap();
    std::os::unix::fs::symlink("../outside/agents", env.path("agents")).unwrap();
    std::fs::write(elsewhere.join("sales.yaml"), "name: theirs\n").unwrap();
    let run = env.av(&["restore", "sales@v1", "--force"]).code(2);
    assert!(run.stderr.starts_with("error: agents: is a symlink to"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(elsewhere.join("sales.yaml")).unwrap(), "name: theirs\n");
}

#[test]
fn a_remote_name_is_never_taken_for_an_option() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    let marker = env.root.parent().unwrap().join("PWNED");
    let injected = format!("--upload-pack=touch {}; git-upload-pack", marker.display());
    let run = env.av(&["push", "--", &injected]).code(2);
    assert!(run.stderr.contains("is not a remote name"), "{}", run.stderr);
    let run = env.av(&["publish", "support", &format!("--push={injected}")]).code(2);
    assert!(run.stderr.contains("is not a remote name"), "{}", run.stderr);
    assert!(!marker.exists(), "git ran the injected command");
    assert_eq!(env.tags(), ["agent/sales/v1"], "a refused publish writes nothing");
}

#[test]
fn markdown_from_plan_cannot_be_forged_and_fits_a_pr_comment() {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    env.av(&["unpin", "+14155550199"]).ok();
    for channel in ["a", "b", "c"] {
        env.av(&["pin", channel, "sales@draft"]).ok();
    }
    // A 20 KB prompt, committed: the change under review is one word of it.
    let prompt: String = (0..400).map(|i| format!("    Rule {i}: answer the caller plainly and briefly.\n")).collect();
    env.edit("agents/sales.yaml", "    Never quote prices", &format!("{prompt}    Never quote prices"));
    env.commit_all("long prompt");
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/sales.yaml", "Rule 200: answer", "Rule 200: greet");
    let hostile = "x`|\\n</code></summary><details>";
    env.edit("agents/sales.yaml", "\nllm:\n", &format!("\nprovider_options:\n  \"{hostile}\": 1\nllm:\n"));

    let md = env.av(&["plan", "--format", "markdown"]).ok().stdout;
    assert!(md.chars().count() < 65_536, "{} characters", md.chars().count());
    assert!(md.contains("+Rule 200: greet the caller"), "{md}");
    assert!(!md.contains("Rule 100:"), "the whole prompt is not embedded: {md}");
    assert!(!md.contains("</code></summary><details>"), "hostile key left raw: {md}");
    // Every <details> opened is closed, and each table row stays one row.
    assert_eq!(md.matches("<details>").count(), md.matches("</details>").count(), "{md}");
    assert!(md.contains("&lt;/code&gt;&lt;/summary&gt;&lt;details&gt;"), "{md}");
    assert!(md.contains("The same change as <code>a</code>."), "one diff shown once for three channels: {md}");
}

#[test]
fn publish_refuses_a_literal_secret_as_check_does() {
    let env = TestEnv::example();
    env.edit("tools/book_appointment.yaml", "url: https://", "url: https://admin:hunter22@");
    let check = env.av(&["check"]).code(1);
    let finding = check.stdout.lines().find(|l| l.contains("a password in a URL")).expect("check finds it").to_owned();
    let run = env.av(&["publish", "sales"]).code(2);
    assert_eq!(run.stderr.lines().next().unwrap(), finding.trim(), "{}", run.stderr);
    assert!(run.stderr.contains("hint: secrets never live in config"), "{}", run.stderr);
    assert!(env.tags().is_empty(), "nothing published");

    env.edit("tools/book_appointment.yaml", "url: https://admin:hunter22@", "url: https://");
    env.edit("agents/sales.yaml", "\nllm:\n", "\nprovider_options: {xi_api_key: \"0123456789abcdef0123\"}\nllm:\n");
    let run = env.av(&["publish", "sales"]).code(2);
    assert!(run.stderr.starts_with("error: agents/sales.yaml:"), "{}", run.stderr);
    assert!(run.stderr.contains("a literal secret is written in the file"), "{}", run.stderr);
    assert!(env.tags().is_empty(), "nothing published");
}

/// The example with every agent published and committed, pushed with its tags to a bare remote.
pub(crate) fn with_remote() -> (TestEnv, std::path::PathBuf) {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    env.av(&["pin", "+14155550100", "sales@v1"]).ok();
    env.commit_all("deployed");
    let remote = env.add_remote();
    env.git(&["push", "-q", "origin", "main"]);
    env.av(&["push"]).ok();
    (env, remote)
}

pub(crate) fn clone(env: &TestEnv, remote: &std::path::Path, name: &str, args: &[&str]) -> String {
    let dir = env.root.parent().unwrap().join(name);
    let mut all = vec!["clone", "-q"];
    all.extend_from_slice(args);
    let url = format!("file://{}", remote.display());
    all.extend_from_slice(&[&url, dir.to_str().unwrap()]);
    env.git(&all);
    dir.to_str().unwrap().to_owned()
}

#[test]
fn a_ci_clone_without_tags_never_republishes_v1() {
    let (env, remote) = with_remote();
    // A second version on the remote, so a tagless clone would number from the wrong place.
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.4 ");
    env.commit_all("sales 0.4");
    env.git(&["push", "-q", "origin", "main"]);
    env.av(&["publish", "sales", "--push"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.4 ", "temperature: 0.6 ");
    env.commit_all("sales 0.6");
    env.git(&["push", "-q", "origin", "main"]);

    let ci = clone(&env, &remote, "ci", &["--depth", "1", "--no-tags"]);
    let run = env.av(&["-C", &ci, "publish", "--changed", "--rev", "HEAD"]).code(1);
    assert!(run.stderr.contains("publish refused: this shallow clone has no version tags"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: fetch the tags first: agentver fetch"), "{}", run.stderr);
    assert!(env.git(&["-C", &ci, "tag", "-l"]).is_empty(), "nothing published");

    // status and log say why every agent looks new.
    let status = env.av(&["-C", &ci, "status"]).ok();
    assert!(status.stderr.contains("warning: this shallow clone has no version tags"), "{}", status.stderr);
    assert!(status.stderr.contains("hint: fetch them: agentver fetch"), "{}", status.stderr);
    let log = env.av(&["-C", &ci, "log", "sales"]).ok();
    assert!(log.stderr.contains("hint: fetch them: agentver fetch"), "{}", log.stderr);

    // A full clone without tags is refused too: it has never fetched them.
    let full = clone(&env, &remote, "full", &["--no-tags"]);
    let run = env.av(&["-C", &full, "publish", "sales"]).code(1);
    assert!(run.stderr.contains("has never fetched version tags"), "{}", run.stderr);

    // `publish --push` fetches first, so the CI job numbers after the remote's v2.
    let run = env.av(&["-C", &ci, "publish", "--changed", "--rev", "HEAD", "--push", "origin", "--json"]).ok();
    let published = run.json();
    assert_eq!(published.as_array().unwrap().len(), 1, "{}", run.stdout);
    assert_eq!(published[0]["agent"], "sales");
    assert_eq!(published[0]["version"], 3);
    let bare = |args: &[&str]| {
        let mut all = vec!["--git-dir", remote.to_str().unwrap()];
        all.extend_from_slice(args);
        env.git(&all)
    };
    assert_eq!(bare(&["tag", "-l", "agent/sales/*"]), "agent/sales/v1\nagent/sales/v2\nagent/sales/v3");

    // `fetch` brings them; `--configure` makes a plain `git fetch` bring them from then on.
    let run = env.av(&["-C", &full, "fetch", "--configure"]).ok();
    assert!(run.stdout.contains("fetched agent/sales/v3 from origin"), "{}", run.stdout);
    assert!(run.stderr.contains("configured origin"), "{}", run.stderr);
    let refspecs = env.git(&["-C", &full, "config", "--get-all", "remote.origin.fetch"]);
    assert!(refspecs.lines().any(|l| l == "refs/tags/agent/*:refs/tags/agent/*"), "not forced: {refspecs}");
    env.edit("agents/support.yaml", "temperature: 0.2", "temperature: 0.25");
    env.av(&["publish", "support", "--push"]).ok();
    env.git(&["-C", &full, "fetch", "-q", "origin"]);
    assert!(env.git(&["-C", &full, "tag", "-l", "agent/support/v2"]).contains("v2"), "plain git fetch brought it");
    env.av(&["-C", &full, "verify"]).ok();
    // Injection through fetch is refused too.
    env.av(&["-C", &full, "fetch", "--", "--upload-pack=true"]).code(2);
}

#[test]
fn a_version_that_would_undo_another_is_refused() {
    let (env, remote) = with_remote();
    let bob = clone(&env, &remote, "bob", &[]);
    // Alice commits a colder temperature and publishes it from that commit.
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.2 ");
    env.commit_all("colder");
    env.git(&["push", "-q", "origin", "main"]);
    env.av(&["publish", "sales", "-m", "colder", "--push"]).ok();
    let exported = env.av(&["export", "--rev", "main"]).ok().raw;

    // Bob, from v1, commits a new greeting and publishes his own v2, never having pulled.
    let bob_file = std::path::Path::new(&bob).join("agents/sales.yaml");
    let text = std::fs::read_to_string(&bob_file).unwrap();
    std::fs::write(&bob_file, text.replace("How can I help?", "What can I do for you?")).unwrap();
    env.git(&["-C", &bob, "commit", "-qam", "greeting"]);
    env.av(&["-C", &bob, "publish", "sales", "-m", "greeting"]).ok();
    let run = env.av(&["-C", &bob, "push"]).code(1);
    assert!(run.stderr.contains("sales v2 was published from commit"), "{}", run.stderr);
    assert!(run.stderr.contains("is not in this clone") || run.stderr.contains("does not contain"), "{}", run.stderr);
    let bare = |args: &[&str]| {
        let mut all = vec!["--git-dir", remote.to_str().unwrap()];
        all.extend_from_slice(args);
        env.git(&all)
    };
    assert_eq!(bare(&["tag", "-l", "agent/sales/*"]), "agent/sales/v1\nagent/sales/v2", "nothing pushed");

    // After pulling Alice's commit, Bob's publish carries both changes and is accepted.
    env.git(&["-C", &bob, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main"]);
    env.av(&["-C", &bob, "fetch"]).ok();
    let run = env.av(&["-C", &bob, "publish", "sales", "-m", "both"]).ok();
    assert!(run.stdout.contains("published sales v3"), "{}", run.stdout);

    // Latest at a revision: main's history published v2, whatever else exists anywhere.
    assert_eq!(env.av(&["export", "--rev", "main"]).ok().raw, exported);
    env.edit("agents/sales.yaml", "temperature: 0.2 ", "temperature: 0.1 ");
    env.av(&["publish", "sales", "-m", "unmerged local"]).ok();
    assert_eq!(env.av(&["export", "--rev", "main"]).ok().raw, exported, "an unmerged publish is not latest at main");
    let resolved = env.av(&["resolve", "web-widget", "--rev", "main"]).ok().json();
    assert_eq!(resolved["agent"], "intake");
}

#[test]
fn numbers_are_never_reused_after_a_tag_is_deleted() {
    let env = TestEnv::example();
    for t in ["0.31", "0.32", "0.33", "0.34", "0.35"] {
        let current = env.read("agents/sales.yaml");
        let line = current.lines().find(|l| l.trim_start().starts_with("temperature:")).unwrap().to_owned();
        env.write("agents/sales.yaml", &current.replace(&line, &format!("  temperature: {t}")));
        env.av(&["publish", "sales"]).ok();
    }
    env.git(&["tag", "-d", "agent/sales/v2"]);
    let status = env.av(&["status", "--json"]).ok().json();
    let sales = status.as_array().unwrap().iter().find(|a| a["agent"] == "sales").unwrap().clone();
    assert_eq!(sales["latest"], 5, "{sales}");
    env.av(&["pin", "web-widget", "sales@latest"]).ok();
    assert_eq!(env.av(&["resolve", "web-widget"]).ok().json()["version"], 5);
    let check = env.av(&["check"]).code(1);
    assert!(check.stdout.contains("error: agent/sales/v2: is missing: sales's versions run to v5"), "{}", check.stdout);

    env.edit("agents/sales.yaml", "temperature: 0.35", "temperature: 0.36");
    env.av(&["publish", "sales"]).ok().stdout.contains("published sales v6").then_some(()).expect("v6");
    // The highest deleted too: its number is still not given out again.
    env.git(&["tag", "-d", "agent/sales/v6"]);
    env.edit("agents/sales.yaml", "temperature: 0.36", "temperature: 0.37");
    let run = env.av(&["publish", "sales"]).ok();
    assert!(run.stdout.contains("published sales v7"), "{}", run.stdout);
    assert_eq!(env.rev("agent/sales/v7^"), env.rev("agent/sales/v5^{commit}"), "chained to the latest that exists");
}

#[test]
fn a_lock_git_left_fails_fast_naming_the_file() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    env.git(&["pack-refs", "--all"]);
    std::fs::write(env.path(".git/packed-refs.lock"), "# pack-refs with: peeled fully-peeled sorted\n").unwrap();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    let started = std::time::Instant::now();
    let run = env.av(&["publish", "sales"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(run.stderr.contains("packed-refs.lock is locked"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: if no git command is running"), "{}", run.stderr);
    assert_eq!(env.tags(), ["agent/sales/v1"]);
}

#[test]
fn a_push_killed_while_renumbering_leaves_old_or_new_never_a_mix() {
    use crate::env::SpawnOutput;
    let (env, remote) = with_remote();
    let a = clone(&env, &remote, "a", &[]);
    env.av(&["-C", &a, "fetch"]).ok();
    let file = std::path::Path::new(&a).join("agents/sales.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    for i in 0..120 {
        std::fs::write(&file, text.replace("max_tokens: 400", &format!("max_tokens: {}", 500 + i))).unwrap();
        env.av(&["-C", &a, "publish", "sales", "-m", &format!("a{i}")]).ok();
    }
    // Another clone takes v2 first.
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales", "--push"]).ok();

    for delay in [15, 40, 80, 150, 250] {
        let child = env.av_cmd(&["-C", &a, "push"]).spawn_output();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let pid = child.id().to_string();
        let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
        let _ = child.wait_with_output();
        // Old state or new: the local chain always verifies, and no lock blocks the next run.
        let run = env.av(&["-C", &a, "verify"]);
        assert_eq!(run.code, 0, "after a kill at {delay} ms: {}{}", run.stdout, run.stderr);
    }
    env.av(&["-C", &a, "push"]).ok();
    let check = clone(&env, &remote, "check", &[]);
    env.av(&["-C", &check, "fetch"]).ok();
    env.av(&["-C", &check, "verify"]).ok();
    let tags = env.git(&["--git-dir", remote.to_str().unwrap(), "tag", "-l", "agent/sales/*"]);
    assert_eq!(tags.lines().count(), 122, "v1, the other clone's v2, and 120 renumbered: {tags}");
    env.git(&["-C", &a, "fsck", "--strict", "--no-progress"]);
}

#[test]
fn repositories_as_git_has_them() {
    // Reftable and SHA-256 repositories are refused by name, never answered from an empty view.
    for (flag, word) in [("--ref-format=reftable", "reftable"), ("--object-format=sha256", "SHA-256")] {
        let env = TestEnv::empty();
        let dir = env.root.parent().unwrap().join(word);
        env.git(&["init", "-q", flag, dir.to_str().unwrap()]);
        crate::env::copy_dir(std::path::Path::new(crate::env::EXAMPLE), &dir);
        let d = dir.to_str().unwrap();
        env.git(&["-C", d, "add", "-A"]);
        env.git(&["-C", d, "commit", "-qm", "config"]);
        for args in [vec!["status"], vec!["publish", "sales"], vec!["init"]] {
            let mut all = vec!["-C", d];
            all.extend(args.iter());
            let run = env.av(&all).code(2);
            assert!(run.stderr.contains(word) && run.stderr.contains("is not supported"), "{args:?}: {}", run.stderr);
        }
        assert!(!dir.join(".git/refs/tags/agent").exists(), "no loose ref written");
        assert_eq!(env.git(&["-C", d, "status", "--porcelain"]), "", "nothing written");
    }

    // GIT_DIR and GIT_WORK_TREE are honoured: no "not a repository", no second .git.
    let env = TestEnv::empty();
    let work = env.root.parent().unwrap().join("work");
    crate::env::copy_dir(std::path::Path::new(crate::env::EXAMPLE), &work);
    let git_dir = env.root.join(".git");
    let vars = [("GIT_DIR", Some(git_dir.to_str().unwrap())), ("GIT_WORK_TREE", Some(work.to_str().unwrap()))];
    let w = work.to_str().unwrap();
    env.av_env(&["-C", w, "init"], &vars).ok();
    assert!(!work.join(".git").exists(), "init made a second repository");
    let run = env.av_env(&["-C", w, "publish", "sales"], &vars).ok();
    assert!(run.stdout.contains("published sales v1"), "{}", run.stdout);
    assert_eq!(env.tags(), ["agent/sales/v1"], "the tag is in GIT_DIR");

    // A partial clone lacks the blobs of versions: refused with what to do, not 40 false findings.
    let (env, remote) = with_remote();
    env.git(&["--git-dir", remote.to_str().unwrap(), "config", "uploadpack.allowFilter", "true"]);
    let partial = clone(&env, &remote, "partial", &["--filter=blob:none"]);
    let run = env.av(&["-C", &partial, "verify"]).code(2);
    assert!(run.stderr.contains("a partial clone"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: fetch every object"), "{}", run.stderr);
}

#[test]
fn line_endings_are_hashed_as_git_stores_them() {
    for setup in ["autocrlf", "attributes"] {
        let env = TestEnv::example();
        env.av(&["publish", "--all"]).ok();
        let tree = env.rev("agent/sales/v1^{tree}");
        // A Windows-style checkout of the same commit.
        match setup {
            "autocrlf" => env.git(&["config", "core.autocrlf", "true"]),
            _ => {
                env.write(".gitattributes", "*.yaml text eol=crlf\n*.json text eol=crlf\n");
                env.commit_all("crlf");
                String::new()
            }
        };
        for f in ["agents/sales.yaml", "tools/book_appointment.yaml"] {
            std::fs::remove_file(env.path(f)).unwrap();
        }
        env.git(&["checkout", "--", "agents/sales.yaml", "tools/book_appointment.yaml"]);
        assert!(env.read("agents/sales.yaml").contains("\r\n"), "{setup}: git wrote CRLF");
        assert_eq!(env.git(&["status", "--porcelain", "agents", "tools"]), "", "{setup}");

        let status = env.av(&["status", "--json"]).ok().json();
        let sales = status.as_array().unwrap().iter().find(|a| a["agent"] == "sales").unwrap().clone();
        assert_eq!(sales["draft"], "unchanged", "{setup}: {sales}");
        assert_eq!(sales["tree"], tree.as_str(), "{setup}");
        env.av(&["publish", "sales"]).code(1);
        env.av(&["diff", "sales", "--exit-code"]).ok();

        // An edit in CRLF is published as git would store it (LF), and restore writes CRLF back.
        env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
        env.av(&["publish", "sales"]).ok();
        assert!(!env.git_bytes("agent/sales/v2:agents/sales.yaml").contains(&b'\r'), "{setup}");
        env.av(&["restore", "sales@v1"]).ok();
        let restored = env.read("agents/sales.yaml");
        assert!(restored.contains("temperature: 0.3 ") && restored.contains("\r\n"), "{setup}");
        assert!(!restored.replace("\r\n", "").contains('\n'), "{setup}: every line ends in CRLF");
        assert_eq!(env.git(&["status", "--porcelain", "agents", "tools"]), "", "{setup}: as checkout writes");
    }
}

#[test]
fn a_comment_only_edit_is_a_change_said_as_such() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/sales.yaml", "# Inbound sales line", "# The inbound sales line");
    let run = env.av(&["diff", "sales"]).ok();
    assert_eq!(run.stdout, "sales: v1 → draft: formatting or comments only\n");
    env.av(&["diff", "sales", "--exit-code"]).code(1);
    assert_eq!(env.av(&["diff", "sales", "--json"]).ok().json()["formatting_only"], true);
    let status = env.av(&["status", "--json"]).ok().json();
    assert_eq!(status.as_array().unwrap().iter().find(|a| a["agent"] == "sales").unwrap()["draft"], "modified");
    // An unchanged draft is not "formatting only".
    env.edit("agents/sales.yaml", "# The inbound sales line", "# Inbound sales line");
    assert_eq!(env.av(&["diff", "sales", "--exit-code"]).ok().stdout, "");
}

#[test]
fn numbers_are_kept_exactly_and_check_agrees_with_publish() {
    let env = TestEnv::example();
    env.edit("agents/sales.yaml", "\nllm:\n", "\nprovider_options: {x: 1e400}\nllm:\n");
    let check = env.av(&["check"]).code(1);
    let line = check.stdout.lines().find(|l| l.contains("inf cannot be stored")).expect("check reports it").to_owned();
    assert!(line.starts_with("error: agents/sales.yaml:7:23: inf cannot be stored"), "{line}");
    let run = env.av(&["publish", "sales"]).code(2);
    assert!(run.stderr.starts_with("error: agents/sales.yaml:7:23: inf cannot be stored"), "{}", run.stderr);

    // 2^64 and beyond stay integers, digit for digit, in every JSON output.
    let big = "18446744073709551616";
    let huge = "123456789012345678901234567890";
    env.edit(
        "agents/sales.yaml",
        "provider_options: {x: 1e400}",
        &format!("provider_options: {{x: {big}, y: -{huge}}}"),
    );
    let intake = env.read("workflows/intake.json");
    env.write("workflows/intake.json", &intake.replacen('{', &format!("{{\"limit\": {huge},"), 1));
    env.av(&["publish", "--all"]).ok();
    env.av(&["check"]).ok();
    env.av(&["pin", "a", "sales@latest"]).ok();
    env.av(&["pin", "b", "intake@latest"]).ok();
    env.commit_all("big numbers");
    for args in [vec!["show", "sales", "--json"], vec!["resolve", "a"], vec!["export"]] {
        let out = env.av(&args).ok().stdout;
        assert!(out.contains(&format!("\"x\": {big}")), "{args:?}: {out}");
        assert!(out.contains(&format!("\"y\": -{huge}")), "{args:?}: {out}");
        assert!(!out.contains("e+19"), "{args:?}: {out}");
    }
    let out = env.av(&["resolve", "b"]).ok().stdout;
    assert!(out.contains(&format!("\"limit\": {huge}")), "{out}");
}

#[test]
fn output_contract() {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    // A version is a number in every JSON output.
    let ab = env.av(&["ab", "web-widget", "a=sales@v1:50", "b=sales@draft:50", "--json"]).ok().json();
    assert_eq!(ab["variants"][0]["version"], 1);
    assert_eq!(ab["variants"][1]["version"], "draft");

    // Every channels.toml problem in one run, and channels naming what does not exist are named
    // at their line in channels.toml.
    let mut text = env.read("channels.toml");
    text.push_str("\n[channels.x]\nagent = \"nobody\"\nversion = 1\n\n[channels.y]\nagent = \"sales\"\nversion = 9\n\n[channels.z]\nagent = \"sales\"\n");
    env.write("channels.toml", &text);
    let line = |name: &str| text.lines().position(|l| l == format!("[channels.{name}]")).unwrap() + 1;
    let out = env.av(&["check"]).code(1).stdout;
    for (name, message) in [
        ("x", "agent 'nobody' has no draft and no versions"),
        ("y", "agent/sales/v9 does not exist"),
        ("z", "missing 'version'"),
    ] {
        let want = format!("error: channels.toml:{}: channel '{name}': {message}", line(name));
        assert!(out.contains(&want), "{want}\n{out}");
    }
    let run = env.av(&["resolve", "y"]).code(2);
    assert_eq!(
        run.stderr.lines().next().unwrap(),
        format!("error: channels.toml:{}: channel 'y': sales has no version 9", line("y"))
    );

    // check --rev names files by path in JSON, as GitHub and editors need.
    env.write("agents/zz.yaml", "name: [bad\n");
    env.commit_all("bad");
    let json = env.av(&["check", "--rev", "HEAD", "--format", "json"]).code(1).json();
    let files: Vec<&str> = json["problems"].as_array().unwrap().iter().map(|p| p["file"].as_str().unwrap()).collect();
    assert!(files.contains(&"agents/zz.yaml"), "{files:?}");
    assert!(files.iter().all(|f| !f.starts_with("HEAD:")), "{files:?}");
}

#[test]
fn verify_finds_forged_rollbacks_and_duplicate_versions() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    let v1 = env.rev("agent/sales/v1^{commit}");
    let tree = env.rev("agent/sales/v1^{tree}");
    let head = env.rev("HEAD");
    let mut parent = v1;
    for (n, trailer) in [(2, "Agentver-Rollback-Of: 2\n"), (3, "Agentver-Rollback-Of: 7\n"), (4, "")] {
        let commit = env.git(&["commit-tree", &tree, "-p", &parent, "-m", "sales: forged"]);
        let message =
            format!("v{n}\n\nAgentver-Agent: sales\nAgentver-Version: {n}\nAgentver-Source: {head}\n{trailer}");
        env.git(&["tag", "-a", &format!("agent/sales/v{n}"), "-m", &message, &commit]);
        parent = commit;
    }
    let out = env.av(&["verify"]).code(1).stdout;
    assert!(out.contains("agent/sales/v2: is a rollback to v2, which is not an earlier version"), "{out}");
    assert!(out.contains("agent/sales/v3: is a rollback to v7, which is not an earlier version"), "{out}");
    assert!(out.contains("agent/sales/v4: holds the same tree as v3 and is not a rollback"), "{out}");
}

#[test]
fn smaller_things_users_hit_first() {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    // "did you mean" for a misspelled agent in every command.
    for args in [
        vec!["show", "sals"],
        vec!["log", "sals"],
        vec!["diff", "sals"],
        vec!["publish", "sals"],
        vec!["restore", "sals@v1"],
        vec!["rollback", "sals@v1"],
        vec!["pin", "x", "sals"],
    ] {
        let run = env.av(&args).code(2);
        assert!(run.stderr.contains("hint: did you mean 'sales'?"), "{args:?}: {}", run.stderr);
    }

    // A tab gets a plain message with its line.
    env.write("agents/tabbed.yaml", "name: x\nllm:\n\tprovider: openai\n");
    let out = env.av(&["check"]).code(1).stdout;
    assert!(out.contains("error: agents/tabbed.yaml:3:"), "{out}");
    assert!(out.contains("this line is indented with a tab; YAML indents with spaces only"), "{out}");
    std::fs::remove_file(env.path("agents/tabbed.yaml")).unwrap();

    // An undeclared {{var}} is reported at the line that uses it.
    env.edit("agents/sales.yaml", "Ask about the caller", "Ask {{company}} about the caller");
    let line = env.read("agents/sales.yaml").lines().position(|l| l.contains("{{company}}")).unwrap() + 1;
    let out = env.av(&["check"]).ok().stdout;
    assert!(
        out.contains(&format!("warning: agents/sales.yaml:{line}: '{{{{company}}}}' is used but not declared")),
        "{out}"
    );

    // The identity error names what is missing.
    let run = env.av_env(&["publish", "sales"], &[("GIT_COMMITTER_EMAIL", None), ("EMAIL", None)]).code(2);
    assert!(
        run.stderr.contains("no git identity to sign the tag with: an email (user.email) is not set"),
        "{}",
        run.stderr
    );

    // Label and notes over 64 KiB together are refused, nothing written.
    let notes = "n".repeat(64 * 1024);
    let run = env.av(&["publish", "sales", "-m", "long", "--notes", &notes]).code(2);
    assert!(run.stderr.contains("the limit is 65536 (64 KiB)"), "{}", run.stderr);
    assert_eq!(env.tags().len(), 3);

    // A temporary file a killed restore left is cleared by the next write there.
    let stale = env.path("agents/.sales.yaml.agentver-0.tmp");
    std::fs::write(&stale, "half").unwrap();
    env.av(&["restore", "sales@v1", "--force"]).ok();
    assert!(!stale.exists(), "stale temporary file left");
}

/// The example GitHub workflow's steps, run from actions/checkout's default (depth 1, no tags).
#[test]
fn the_example_workflow_works_from_a_default_shallow_checkout() {
    let workflow =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/github-actions/agentver.yml")).unwrap();
    assert!(!workflow.contains("fetch-depth"), "the workflow must not depend on a deep checkout");
    assert!(workflow.contains("agentver fetch origin"));

    let (env, remote) = with_remote();
    // A pull request: one word of a long prompt changes on a branch.
    env.git(&["checkout", "-q", "-b", "warmer"]);
    env.edit("agents/sales.yaml", "Ask about the caller", "Warmly ask about the caller");
    env.commit_all("warmer");
    env.git(&["push", "-q", "origin", "warmer"]);
    let pr = clone(&env, &remote, "pr", &["--depth", "1", "--no-tags", "--branch", "warmer"]);
    env.av(&["-C", &pr, "fetch", "origin"]).ok();
    env.git(&["-C", &pr, "fetch", "-q", "--no-tags", "origin", "+refs/heads/main:refs/remotes/origin/main"]);
    env.av(&["-C", &pr, "check", "--format", "github"]).ok();
    let md =
        env.av(&["-C", &pr, "plan", "--base", "origin/main", "--head", "HEAD", "--format", "markdown"]).ok().stdout;
    assert!(md.contains("+Warmly ask about the caller"), "{md}");
    assert!(md.chars().count() < 65_536);
    env.av(&["-C", &pr, "plan", "--base", "origin/main", "--head", "HEAD", "--detailed-exitcode"]).code(2);

    // The merge: publish from a fresh shallow checkout of main.
    env.git(&["checkout", "-q", "main"]);
    env.git(&["merge", "-q", "--ff-only", "warmer"]);
    env.git(&["push", "-q", "origin", "main"]);
    let ci = clone(&env, &remote, "merge", &["--depth", "1", "--no-tags"]);
    let run = env.av(&["-C", &ci, "publish", "--changed", "--rev", "HEAD", "-m", "Merged", "--push", "origin"]).ok();
    assert!(run.stdout.contains("published sales v2"), "{}", run.stdout);
    // The deploy job.
    let deploy = clone(&env, &remote, "deploy", &["--depth", "1", "--no-tags"]);
    env.av(&["-C", &deploy, "fetch", "origin"]).ok();
    env.av(&["-C", &deploy, "verify", "--rev", "HEAD"]).ok();
    env.av(&["-C", &deploy, "export", "--rev", "HEAD", "-o", "bundle.json"]).ok();
}

#[test]
fn renumbering_drops_a_version_the_remote_already_ends_with() {
    let (env, remote) = with_remote();
    let bob = clone(&env, &remote, "bob", &[]);
    env.av(&["-C", &bob, "fetch"]).ok();
    // Both make the same change; Alice pushes first.
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.4 ");
    env.av(&["publish", "sales", "-m", "alice", "--push"]).ok();
    let bob_file = std::path::Path::new(&bob).join("agents/sales.yaml");
    let text = std::fs::read_to_string(&bob_file).unwrap();
    std::fs::write(&bob_file, text.replace("temperature: 0.3 ", "temperature: 0.4 ")).unwrap();
    env.av(&["-C", &bob, "publish", "sales", "-m", "bob"]).ok();
    let report = env.av(&["-C", &bob, "push", "--json"]).ok().json();
    assert_eq!(report["renumbered"], serde_json::json!([]), "{report}");
    assert_eq!(report["pushed"], serde_json::json!([]), "{report}");
    let tags = env.git(&["--git-dir", remote.to_str().unwrap(), "tag", "-l", "agent/sales/*"]);
    assert_eq!(tags, "agent/sales/v1\nagent/sales/v2", "no duplicate v3");
    assert_eq!(
        env.git(&["-C", &bob, "rev-parse", "agent/sales/v2"]),
        env.rev("agent/sales/v2"),
        "bob now has alice's v2"
    );
}

#[test]
fn restore_never_loses_an_edit_saved_while_it_runs() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales"]).ok();
    env.commit_all("v2 committed");
    let file = env.path("agents/sales.yaml");
    let committed = std::fs::read_to_string(&file).unwrap();
    // How long one restore takes here, so the edits land all along its run.
    let started = std::time::Instant::now();
    env.av(&["restore", "sales@v1", "--dry-run"]).ok();
    let span = started.elapsed().as_micros() as u64 * 3 / 2;
    let (mut lost, mut refused, rounds) = (0, 0, 200u64);
    for round in 0..rounds {
        std::fs::write(&file, &committed).unwrap();
        let line = format!("# edit {round}\n");
        let child = env
            .av_cmd(&["restore", "sales@v1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(span * round / rounds));
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
            f.write_all(line.as_bytes()).unwrap();
        }
        let status = child.wait_with_output().unwrap().status;
        let now = std::fs::read_to_string(&file).unwrap();
        if !now.contains(&line) {
            lost += 1;
        }
        if !status.success() {
            refused += 1;
        }
    }
    eprintln!("restore vs an editor: {rounds} rounds, {refused} refused, {lost} edits lost");
    // Without the re-check and the kept copy, 55 of 200 edits were lost here. What remains is the
    // window every rename-based writer has (git checkout too): a writer that opened the file
    // before the rename and writes after restore's last look. Under a loaded test run that is
    // rarely hit; more than 1% means the protection broke.
    assert!(lost <= rounds / 100, "{lost} of {rounds} edits saved during restore were lost ({refused} refusals)");
}
