//! `agentver restore`: byte-exact restores that never drop work that exists nowhere else.

use crate::env::TestEnv;
use crate::screen::{self, snap};

fn published_twice() -> TestEnv {
    let env = TestEnv::example();
    // support uses the sales agent's booking tool too.
    env.edit("agents/support.yaml", "  - lookup_order\n", "  - lookup_order\n  - book_appointment\n");
    env.commit_all("support books appointments");
    env.av(&["publish", "sales"]).ok();
    env.edit("agents/sales.yaml", "temperature: 0.3 ", "temperature: 0.5 ");
    env.edit("tools/book_appointment.yaml", "Books a demo slot", "Books a slot");
    env.av(&["publish", "sales"]).ok();
    env
}

#[test]
fn restores_every_file_byte_for_byte() {
    let env = published_twice();
    // The draft equals v2, which is published: nothing is lost by going back to v1.
    let run = env.av(&["restore", "sales@v1"]).ok();
    assert!(run.stdout.contains("wrote agents/sales.yaml"), "{}", run.stdout);
    assert!(run.stdout.contains("wrote tools/book_appointment.yaml"), "{}", run.stdout);
    assert!(run.stderr.contains("note: tools/book_appointment.yaml is shared with support"), "{}", run.stderr);
    for file in ["agents/sales.yaml", "tools/book_appointment.yaml"] {
        assert_eq!(std::fs::read(env.path(file)).unwrap(), env.git_bytes(&format!("agent/sales/v1:{file}")), "{file}");
    }
    // Matching HEAD again, so git sees a clean tree.
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    let run = env.av(&["restore", "sales@v1", "--json"]).ok().json();
    assert_eq!(run["files"][0]["action"], "unchanged");
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(env.path("agents")).unwrap().count(), 3);
}

#[test]
fn refuses_to_overwrite_unsaved_work() {
    let env = published_twice();
    env.edit("agents/sales.yaml", "max_tokens: 400", "max_tokens: 999");
    let before = env.read("agents/sales.yaml");
    let run = env.av(&["restore", "sales@v1"]).code(1);
    assert!(
        run.stderr.contains("restore refused: agents/sales.yaml holds changes found nowhere else"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(env.read("agents/sales.yaml"), before);
    assert!(env.read("tools/book_appointment.yaml").contains("Books a slot"), "nothing written, not even the tool");

    // --dry-run says the same and writes nothing.
    let run = env.av(&["restore", "sales@v1", "--dry-run"]).code(1);
    assert!(run.stdout.contains("would write agents/sales.yaml  (holds changes found nowhere else)"), "{}", run.stdout);
    assert_eq!(env.read("agents/sales.yaml"), before);

    env.av(&["restore", "sales@v1", "--force"]).ok();
    assert_eq!(
        std::fs::read(env.path("agents/sales.yaml")).unwrap(),
        env.git_bytes("agent/sales/v1:agents/sales.yaml")
    );
}

#[test]
fn content_in_head_or_the_index_is_safe_to_overwrite() {
    let env = published_twice();
    // Committed in HEAD: recoverable.
    env.edit("agents/sales.yaml", "max_tokens: 400", "max_tokens: 401");
    env.commit_all("tweak");
    env.av(&["restore", "sales@v1"]).ok();

    // Staged in the index only: recoverable too.
    env.edit("agents/sales.yaml", "max_tokens: 400", "max_tokens: 402");
    env.git(&["add", "agents/sales.yaml"]);
    env.av(&["restore", "sales@v2", "--dry-run"]).ok();
    env.av(&["restore", "sales@v2"]).ok();
    assert_eq!(
        std::fs::read(env.path("agents/sales.yaml")).unwrap(),
        env.git_bytes("agent/sales/v2:agents/sales.yaml")
    );
}

#[test]
fn restore_of_a_deleted_draft_and_bad_refs() {
    let env = published_twice();
    std::fs::remove_file(env.path("agents/sales.yaml")).unwrap();
    let run = env.av(&["restore", "sales"]).ok();
    assert!(run.stdout.contains("created agents/sales.yaml"), "{}", run.stdout);
    env.av(&["restore", "sales@v7"]).code(2);
    env.av(&["restore", "sales@draft"]).code(2);
    env.av(&["restore", "nobody@v1"]).code(2);
}

#[test]
fn screens() {
    let env = screen::two_versions();
    snap!(env, "restore_dry_run", "restore", "sales@v1", "--dry-run");
    env.edit("agents/sales.yaml", "temperature: 0.5 ", "temperature: 0.9 ");
    snap!(env, "restore_unsaved_refused", "restore", "sales@v1");
    snap!(env, "restore_json", "restore", "sales@v1", "--force", "--json");
    snap!(env, "restore_draft_refused", "restore", "sales@draft");
}
