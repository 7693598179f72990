//! Concurrency and crashes: many publishers with `git pack-refs` alongside, concurrent channel
//! edits, and processes killed with SIGKILL at random moments. Set AGENTVER_STRESS=N to multiply
//! the rounds (the normal run still exercises every property).

use std::process::Child;
use std::time::{Duration, Instant};

use crate::env::{SpawnOutput, TestEnv};

fn stress() -> u64 {
    std::env::var("AGENTVER_STRESS").ok().and_then(|s| s.parse().ok()).unwrap_or(1)
}

/// A small deterministic generator (xorshift), seeded per test and printed on failure.
struct Rng(u64);

impl Rng {
    fn new(name: &str) -> Self {
        let seed = std::env::var("AGENTVER_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
        eprintln!("{name}: AGENTVER_SEED={seed}");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Every version tag of `agent`: annotated, its commit and tree present, numbered 1..=N without
/// gaps, each parent the previous version's commit. Returns N.
#[track_caller]
fn check_versions(env: &TestEnv, agent: &str) -> u64 {
    let refs =
        env.git(&["for-each-ref", "--format=%(refname:short) %(objecttype)", &format!("refs/tags/agent/{agent}/")]);
    let mut numbers = Vec::new();
    for line in refs.lines() {
        let (name, kind) = line.split_once(' ').unwrap();
        assert_eq!(kind, "tag", "{name} is not an annotated tag");
        env.git(&["cat-file", "-e", &format!("{name}^{{commit}}")]);
        env.git(&["cat-file", "-e", &format!("{name}^{{tree}}")]);
        numbers.push(name.rsplit("/v").next().unwrap().parse::<u64>().unwrap());
    }
    numbers.sort();
    let n = numbers.len() as u64;
    assert_eq!(numbers, (1..=n).collect::<Vec<_>>(), "numbers without gap or duplicate");
    for v in 2..=n {
        assert_eq!(
            env.rev(&format!("agent/{agent}/v{v}^{{commit}}^")),
            env.rev(&format!("agent/{agent}/v{}^{{commit}}", v - 1)),
            "v{v}'s parent"
        );
    }
    n
}

#[test]
fn eight_worktrees_publish_while_refs_are_packed() {
    let writers = 8;
    let rounds = 25 * stress();
    let env = TestEnv::example();
    let dirs: Vec<_> = (0..writers)
        .map(|i| {
            let dir = env.root.parent().unwrap().join(format!("wt{i}"));
            env.git(&["worktree", "add", "-q", "--detach", dir.to_str().unwrap()]);
            dir
        })
        .collect();
    let started = Instant::now();
    // Each writer publishes `rounds` distinct drafts one after another.
    let children: Vec<std::thread::JoinHandle<()>> = dirs
        .iter()
        .enumerate()
        .map(|(w, dir)| {
            let dir = dir.clone();
            let av = env.av_cmd(&[]).get_program().to_owned();
            let envs: Vec<_> =
                env.av_cmd(&[]).get_envs().map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned))).collect();
            std::thread::spawn(move || {
                let file = dir.join("agents/sales.yaml");
                let text = std::fs::read_to_string(&file).unwrap();
                for r in 0..rounds {
                    let marker = format!("Hi {{{{first_name}}}}, this is Ava (writer {w}, round {r})");
                    std::fs::write(&file, text.replace("Hi {{first_name}}, this is Ava", &marker)).unwrap();
                    let mut cmd = std::process::Command::new(&av);
                    cmd.env_clear().current_dir(&dir).args(["publish", "sales", "-m", &format!("w{w} r{r}")]);
                    for (k, v) in &envs {
                        if let Some(v) = v {
                            cmd.env(k, v);
                        }
                    }
                    let out = cmd.output().unwrap();
                    assert!(out.status.success(), "writer {w} round {r}: {}", String::from_utf8_lossy(&out.stderr));
                }
            })
        })
        .collect();
    // Meanwhile, pack the refs again and again, as a `git gc` would.
    let mut packs = 0;
    while children.iter().any(|c| !c.is_finished()) {
        let ok =
            std::process::Command::new("git").current_dir(&env.root).args(["pack-refs", "--all"]).status().unwrap();
        packs += u64::from(ok.success());
        std::thread::sleep(Duration::from_millis(20));
    }
    for c in children {
        c.join().unwrap();
    }
    let n = check_versions(&env, "sales");
    assert_eq!(n, writers * rounds, "every publish landed");
    env.fsck();
    eprintln!("{} publishes from {writers} worktrees with {packs} pack-refs runs in {:?}", n, started.elapsed());
    // Every draft landed exactly once.
    let labels = env.git(&["for-each-ref", "--format=%(contents:subject)", "refs/tags/agent/sales/"]);
    let mut labels: Vec<&str> = labels.lines().collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels.len() as u64, n);
}

#[test]
fn concurrent_channel_edits_are_never_lost() {
    let env = TestEnv::example();
    env.av(&["publish", "--all"]).ok();
    let editors = 8 * stress();
    let children: Vec<Child> =
        (0..editors).map(|i| env.av_cmd(&["pin", &format!("line-{i}"), "sales"]).spawn_output()).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let text = env.read("channels.toml");
    for i in 0..editors {
        assert!(text.contains(&format!("[channels.line-{i}]")), "line-{i} lost:\n{text}");
    }
    assert!(text.starts_with("# Which configuration answers each channel"), "comments kept");
}

/// How long one run of `args` takes here, to spread kill moments over its whole life.
fn duration_of(env: &TestEnv, args: &[&str]) -> Duration {
    let start = Instant::now();
    env.av(args);
    start.elapsed()
}

fn kill_after(mut child: Child, after: Duration) -> bool {
    std::thread::sleep(after);
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    let _ = child.wait();
    !finished
}

#[test]
fn publishes_killed_at_random_moments_leave_whole_versions_or_none() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    let mut rng = Rng::new("publish kills");
    let rounds = 40 * stress();
    let mut killed = 0;
    let file = env.path("agents/sales.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut expected = check_versions(&env, "sales");
    for round in 0..rounds {
        if round == rounds / 2 {
            env.git(&["pack-refs", "--all"]); // the second half runs with packed refs
        }
        std::fs::write(&file, text.replace("max_tokens: 400", &format!("max_tokens: {}", 1000 + round))).unwrap();
        let span = duration_of(&env, &["status"]).as_micros() as u64 * 3;
        let child = env.av_cmd(&["publish", "sales"]).spawn_output();
        killed += u64::from(kill_after(child, Duration::from_micros(rng.below(span))));
        let n = check_versions(&env, "sales");
        assert!(n == expected || n == expected + 1, "round {round}: {n} versions after {expected}");
        // The next publish works, whatever the kill left behind.
        std::fs::write(&file, text.replace("max_tokens: 400", &format!("max_tokens: {}", 5000 + round))).unwrap();
        env.av(&["publish", "sales"]).ok();
        expected = check_versions(&env, "sales");
        assert_eq!(expected, n + 1);
    }
    env.fsck();
    env.av(&["verify"]).ok();
    eprintln!("{rounds} rounds, {killed} publishes killed mid-run");
    assert!(killed > 0, "no kill landed while a publish was running");
}

#[test]
fn restores_and_channel_edits_killed_midway_leave_old_or_new_files() {
    let env = TestEnv::example();
    env.av(&["publish", "sales"]).ok();
    let old_draft = env.read("agents/sales.yaml");
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.av(&["publish", "sales"]).ok();
    let new_draft = env.read("agents/sales.yaml");
    let mut rng = Rng::new("restore kills");
    let rounds = 30 * stress();
    let span = duration_of(&env, &["status"]).as_micros() as u64 * 3;
    for round in 0..rounds {
        let target = if round % 2 == 0 { "sales@v1" } else { "sales@v2" };
        kill_after(env.av_cmd(&["restore", target]).spawn_output(), Duration::from_micros(rng.below(span)));
        let now = env.read("agents/sales.yaml");
        assert!(now == old_draft || now == new_draft, "round {round}: a mixed file");

        let before = env.read("channels.toml");
        let line = format!("line-{round}");
        kill_after(env.av_cmd(&["pin", &line, target]).spawn_output(), Duration::from_micros(rng.below(span)));
        let after = env.read("channels.toml");
        let pinned = after.contains(&format!("[channels.{line}]"));
        assert!(after == before || pinned, "round {round}: channels.toml is neither old nor new");
        agentver::format::channels::parse(&after, "channels.toml").expect("still valid");
    }
    // Nothing left blocks the next edit or restore.
    env.av(&["pin", "final", "sales"]).ok();
    env.av(&["restore", "sales@v1"]).ok();
}
