//! In-process resolver figures: warm resolves (the per-call path) and cold ones (the first call
//! for a version, which loads it from git). Run: `cargo bench --bench resolver`.

use std::path::Path;
use std::process::Command;

use agentver::names::id::Spec;
use agentver::ops::publish::{PublishOptions, Selection};
use agentver::routing::resolve::{Call, Resolver};
use agentver::{DraftAt, Workspace};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// The example config with every agent published, sales at v2, a pinned line and a split.
fn fixture(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("agents.example"), dir);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "config"]);
    let ws = Workspace::discover(dir).unwrap();
    let options = PublishOptions { author: Some("Bench <bench@example.com>".into()), ..Default::default() };
    agentver::ops::publish::publish(&ws, &Selection::All, &options).unwrap();
    let draft = dir.join("agents/sales.yaml");
    std::fs::write(&draft, std::fs::read_to_string(&draft).unwrap().replace("temperature: 0.3 ", "temperature: 0.5 "))
        .unwrap();
    agentver::ops::publish::publish(
        &ws,
        &Selection::Named(vec![agentver::names::id::AgentId::new("sales").unwrap()]),
        &options,
    )
    .unwrap();
    agentver::ops::pin::pin(&ws, "+14155550100", &Spec::parse("sales@v1").unwrap()).unwrap();
    agentver::ops::pin::ab(
        &ws,
        "+14155550199",
        &[
            ("control".into(), Spec::parse("sales@v1").unwrap(), 80),
            ("test".into(), Spec::parse("sales@v2").unwrap(), 20),
        ],
        None,
        None,
    )
    .unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // AGENTVER_BENCH_PACKED=1: objects packed, as in a fresh clone (the usual deployment state).
    if std::env::var_os("AGENTVER_BENCH_PACKED").is_some() {
        git(dir.path(), &["gc", "-q"]);
    }
    let resolver = Resolver::new(Workspace::discover(dir.path()).unwrap(), DraftAt::WorkTree).unwrap();
    resolver.preload().unwrap();

    let pinned = Call::default();
    c.bench_function("resolve/warm/pinned", |b| {
        b.iter(|| resolver.resolve(std::hint::black_box("+14155550100"), &pinned).unwrap())
    });
    let caller = Call { caller: Some("+16505550123"), ..Call::default() };
    c.bench_function("resolve/warm/split", |b| {
        b.iter(|| resolver.resolve(std::hint::black_box("+14155550199"), &caller).unwrap())
    });
    let override_call = Call { agent_version: Some(2), ..Call::default() };
    c.bench_function("resolve/warm/override", |b| {
        b.iter(|| resolver.resolve(std::hint::black_box("+14155550100"), &override_call).unwrap())
    });

    // Cold: a resolver that has read channels.toml but never loaded the version the call needs.
    c.bench_function("resolve/cold/first-call-for-a-version", |b| {
        b.iter_batched(
            || Resolver::new(Workspace::discover(dir.path()).unwrap(), DraftAt::WorkTree).unwrap(),
            |r| {
                r.resolve("+14155550100", &pinned).unwrap();
                r
            },
            BatchSize::PerIteration,
        )
    });
    // The same, on a resolver that has already served another version (its object database is
    // open): what a long-running runtime pays the first time a channel needs a new version.
    c.bench_function("resolve/cold/first-call-for-a-version (warm handle)", |b| {
        b.iter_batched(
            || {
                let r = Resolver::new(Workspace::discover(dir.path()).unwrap(), DraftAt::WorkTree).unwrap();
                r.resolve("+14155550100", &override_call).unwrap();
                r
            },
            |r| {
                r.resolve("+14155550100", &pinned).unwrap();
                r
            },
            BatchSize::PerIteration,
        )
    });
    c.bench_function("resolve/cold/draft", |b| {
        b.iter_batched(
            || Resolver::new(Workspace::discover(dir.path()).unwrap(), DraftAt::WorkTree).unwrap(),
            |r| {
                r.resolve("+14155550101", &pinned).unwrap();
                r
            },
            BatchSize::PerIteration,
        )
    });
    c.bench_function("resolver/new (open repository, read channels.toml)", |b| {
        b.iter(|| Resolver::new(Workspace::discover(dir.path()).unwrap(), DraftAt::WorkTree).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
