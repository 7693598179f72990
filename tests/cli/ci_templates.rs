//! The CI templates in examples/ci/, run as a runner runs them (issue 29): their `agentver`,
//! `git fetch` and `git config` lines, in order, in a depth-1 no-tags checkout of a pull request,
//! then in one of main after the hosting squash-merged it, against a bare remote. Both templates
//! must run the same agentver commands, so they cannot drift apart.

use std::path::Path;

use crate::env::{Run, TestEnv};
use crate::trust::{clone, with_remote};

const GITHUB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ci/github-actions.yml");
const GITLAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ci/gitlab-ci.yml");

/// The values a runner gives the variables in the lines the test runs (the pull request targets
/// main; on GitLab, Grace merged it).
const VARIABLES: &[(&str, &str)] = &[
    ("${{ github.base_ref }}", "main"),
    ("$CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main"),
    ("$GITLAB_USER_NAME", "Grace Merger"),
    ("$GITLAB_USER_EMAIL", "grace@example.com"),
];

/// The lines the test runs; the others (installing, commenting, credentials) need the hosting.
const RUNNABLE: &[&str] = &["agentver ", "git fetch ", "git config "];

fn read(file: &str) -> String {
    std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The lines that are not comments.
fn code(yaml: &str) -> String {
    yaml.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n")
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines of `job` (a key at indent 0 or 2 whose value is a mapping), comments left out.
fn job_lines<'a>(yaml: &'a str, job: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = yaml.lines().collect();
    let header = format!("{job}:");
    let start =
        lines.iter().position(|l| indent(l) <= 2 && l.trim() == header).unwrap_or_else(|| panic!("no job {job:?}"));
    let body = lines[start + 1..]
        .iter()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .take_while(|l| indent(l) > indent(lines[start]));
    body.copied().collect()
}

/// The commands of `job` the test runs: each `agentver`, `git fetch` and `git config` line of its
/// `run:` blocks or `script:` list, in order, with the runner's variables substituted. Any other
/// line naming `agentver ` (in a pipe, an `if`, …) fails the test rather than being skipped.
fn job_commands(yaml: &str, job: &str) -> Vec<String> {
    let mut commands = Vec::new();
    for line in job_lines(yaml, job) {
        let text = line.trim_start().trim_start_matches("- ");
        let text = text.strip_prefix("run: ").unwrap_or(text);
        if text.starts_with("name: ") {
            continue;
        }
        if !RUNNABLE.iter().any(|p| text.starts_with(p)) {
            assert!(!text.contains("agentver "), "{job}: the test cannot run {text:?}");
            continue;
        }
        let mut command = text.to_owned();
        for (variable, value) in VARIABLES {
            command = command.replace(variable, value);
        }
        assert!(!command.contains('$'), "{job}: a variable the test does not know in {command:?}");
        commands.push(command);
    }
    assert!(commands.iter().any(|c| c.starts_with("agentver ")), "{job} runs no agentver command");
    commands
}

/// A command line split as sh splits these: words, "…" and '…' quoting, and `> FILE` redirecting
/// standard output. Anything else the shell would interpret fails the test.
fn shell_words(line: &str) -> (Vec<String>, Option<String>) {
    let (mut words, mut word, mut quote) = (Vec::new(), None::<String>, None);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, '|' | '&' | ';' | '<' | '`' | '(' | ')') => panic!("the test cannot run {line:?}"),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    assert!(quote.is_none(), "unbalanced quote in {line:?}");
    words.extend(word);
    let target = words.iter().position(|w| w == ">").map(|at| {
        assert_eq!(at + 2, words.len(), "one `> FILE` at the end only: {line:?}");
        let file = words.pop().unwrap();
        words.pop();
        file
    });
    assert!(!words.iter().any(|w| w.starts_with('>')), "the test cannot run {line:?}");
    (words, target)
}

/// Runs `commands` in the checkout `dir` as the job's shell would, each required to succeed
/// (`--detailed-exitcode`: exit 2, something changes). The committer identity is the job's own
/// (its `git config` lines), not the test's. Returns each agentver command with what it printed.
fn run_job(env: &TestEnv, dir: &str, commands: &[String]) -> Vec<(String, Run)> {
    let mut runs = Vec::new();
    for line in commands {
        let (words, target) = shell_words(line);
        let mut args = vec!["-C", dir];
        args.extend(words[1..].iter().map(String::as_str));
        if words[0] == "git" {
            env.git(&args);
            continue;
        }
        let run = env.av_env(&args, &[("GIT_COMMITTER_NAME", None), ("GIT_COMMITTER_EMAIL", None)]);
        let want = if words.iter().any(|w| w == "--detailed-exitcode") { 2 } else { 0 };
        assert_eq!(run.code, want, "`{line}` in {dir}\nstdout: {}\nstderr: {}", run.stdout, run.stderr);
        if let Some(file) = target {
            std::fs::write(Path::new(dir).join(file), &run.raw).unwrap();
        }
        runs.push((line.clone(), run));
    }
    runs
}

/// `git --git-dir <remote> args…`.
fn bare(env: &TestEnv, remote: &Path, args: &[&str]) -> String {
    let mut all = vec!["--git-dir", remote.to_str().unwrap()];
    all.extend_from_slice(args);
    env.git(&all)
}

/// Bob's pull request, pushed as branch `warmer`: the sales voice changes (a warmer one). The
/// conversation tests' requests do not carry the voice, so their cassettes still answer them
/// and the review's `agentver test` passes offline; a prompt change would need them recorded
/// again (tests/cli/testing.rs).
fn open_pull_request(env: &TestEnv, remote: &Path) -> String {
    let bob = clone(env, remote, "bob", &[]);
    env.git(&["-C", &bob, "checkout", "-q", "-b", "warmer"]);
    let file = Path::new(&bob).join("agents/sales.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("voice_id: rachel"));
    std::fs::write(&file, text.replace("voice_id: rachel", "voice_id: bella")).unwrap();
    env.git(&["-C", &bob, "commit", "-qam", "warmer greeting"]);
    env.git(&["-C", &bob, "push", "-q", "origin", "warmer"]);
    bob
}

/// The hosting squash-merges the pull request with its title, and deletes the branch.
fn squash_merge(env: &TestEnv, bob: &str) {
    env.git(&["-C", bob, "checkout", "-q", "main"]);
    env.git(&["-C", bob, "merge", "-q", "--squash", "warmer"]);
    env.git(&["-C", bob, "commit", "-q", "-m", "Warmer sales (#12)", "-m", "Ava greets callers warmly."]);
    env.git(&["-C", bob, "push", "-q", "origin", "main", ":warmer"]);
}

/// The whole loop with one template: review a pull request, squash-merge it, publish from main.
fn runs_as_a_runner_would(file: &str, review: &str, publish: &str) {
    let yaml = read(file);
    let (env, remote) = with_remote();
    let before = bare(&env, &remote, &["tag", "-l"]).lines().count();
    let bob = open_pull_request(&env, &remote);

    // The review job, in the runner's checkout of the pull request: depth 1, no tags.
    let pr = clone(&env, &remote, "pr", &["--depth", "1", "--no-tags", "--branch", "warmer"]);
    run_job(&env, &pr, &job_commands(&yaml, review));
    let plan = std::fs::read_to_string(Path::new(&pr).join("plan.md")).expect("the review job writes plan.md");
    assert!(plan.starts_with("## agentver plan"), "{plan}");
    assert!(plan.contains("sales") && plan.contains("speech.tts.voice_id") && plan.contains("bella"), "{plan}");
    let tests = std::fs::read_to_string(Path::new(&pr).join("agentver-tests.xml"))
        .expect("the review job writes the tests' JUnit");
    assert!(tests.contains("<testsuites name=\"agentver test\" tests=\"3\" failures=\"0\">"), "{tests}");

    squash_merge(&env, &bob);
    assert_eq!(bare(&env, &remote, &["branch", "--list"]), "* main", "the branch is deleted");

    // The publish job, in a fresh depth-1 no-tags checkout of main.
    let ci = clone(&env, &remote, "ci", &["--depth", "1", "--no-tags"]);
    let runs = run_job(&env, &ci, &job_commands(&yaml, publish));
    let (_, published) = runs.iter().find(|(line, _)| line.starts_with("agentver publish")).expect("a publish step");
    assert!(published.stdout.contains("published sales v2 (agent/sales/v2)"), "{}", published.stdout);
    assert!(published.stderr.contains("pushed agent/sales/v2 to origin"), "{}", published.stderr);

    // The remote holds the one new version, labelled with the pull request's title and signed
    // by the identity the job configured.
    let tags = bare(&env, &remote, &["tag", "-l"]);
    assert_eq!(tags.lines().count(), before + 1, "{tags}");
    assert!(tags.lines().any(|t| t == "agent/sales/v2"), "{tags}");
    let log = env.av(&["-C", &ci, "log", "sales", "--json"]).ok().json();
    assert_eq!(log["versions"][0]["version"], 2, "{log}");
    assert_eq!(log["versions"][0]["label"], "Warmer sales (#12)", "{log}");
    assert_eq!(log["versions"][0]["notes"], "Ava greets callers warmly.", "{log}");
    let tagger = bare(&env, &remote, &["for-each-ref", "--format=%(taggername)", "refs/tags/agent/sales/v2"]);
    assert_eq!(tagger, env.git(&["-C", &ci, "config", "user.name"]));
    env.av(&["-C", &ci, "verify"]).ok();
}

#[test]
fn the_github_actions_template_reviews_and_publishes_from_shallow_checkouts() {
    runs_as_a_runner_would(GITHUB, "review", "publish");
}

#[test]
fn the_gitlab_ci_template_reviews_and_publishes_from_shallow_checkouts() {
    runs_as_a_runner_would(GITLAB, "plan", "publish");
}

/// A job's commands as both hostings run them: GitHub's annotation format left out, and a
/// `git config` line reduced to the setting it makes (each hosting has its own bot).
fn portable(commands: Vec<String>) -> Vec<String> {
    commands
        .into_iter()
        .map(|c| match c.strip_prefix("git config ") {
            Some(rest) => format!("git config {}", rest.split(' ').next().unwrap_or_default()),
            None => c.replace(" --format github", ""),
        })
        .collect()
}

#[test]
fn both_templates_run_the_same_commands() {
    let (github, gitlab) = (read(GITHUB), read(GITLAB));
    assert_eq!(portable(job_commands(&github, "review")), portable(job_commands(&gitlab, "plan")));
    assert_eq!(portable(job_commands(&github, "publish")), portable(job_commands(&gitlab, "publish")));
    assert!(job_commands(&github, "review").contains(&"agentver check --format github".to_owned()));
}

#[test]
fn the_templates_ask_for_what_they_need_and_no_deep_checkout() {
    let github = read(GITHUB);
    let (steps, why) = (code(&github), "the checkout stays default");
    assert!(!steps.contains("fetch-depth") && !steps.contains("fetch-tags"), "{why}");
    assert!(steps.contains("permissions: {}"), "nothing by default");
    let review = job_lines(&github, "review").join("\n");
    assert!(review.contains("contents: read") && review.contains("pull-requests: write"), "{review}");
    assert!(!review.contains("contents: write"), "a pull request's job cannot push: {review}");
    assert!(review.contains("gh pr comment \"$PR\" --body-file plan.md --edit-last"), "{review}");
    let publish = job_lines(&github, "publish").join("\n");
    assert!(publish.contains("contents: write") && !publish.contains("pull-requests"), "{publish}");

    let gitlab = read(GITLAB);
    assert!(!code(&gitlab).contains("GIT_DEPTH:"), "the checkout stays default");
    let plan = job_lines(&gitlab, "plan").join("\n");
    assert!(plan.contains("merge_requests/$CI_MERGE_REQUEST_IID/notes"), "{plan}");
    assert!(plan.contains("$AGENTVER_NOTE_TOKEN") && !plan.contains("AGENTVER_PUSH_TOKEN"), "{plan}");
    let publish = job_lines(&gitlab, "publish").join("\n");
    assert!(publish.contains("git remote set-url --push origin") && publish.contains("AGENTVER_PUSH_TOKEN"));
    assert!(gitlab.contains("`write_repository`") && gitlab.contains("Mark it *protected*"));
}
