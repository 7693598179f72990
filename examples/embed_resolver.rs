//! Embedding the resolver in a call-routing runtime: load once, then answer calls in memory.
//!
//! Run inside a config repository: `cargo run --example embed_resolver -- +14155550199 +16505550123`
//! (channel, then optionally the caller's number). Reads channels.toml from the work tree.

// A demonstration program: printing is its job.
#![allow(clippy::print_stdout)]

use agentver::routing::resolve::{Call, Resolver};
use agentver::{DraftAt, Workspace};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let channel = args.next().unwrap_or_else(|| "+14155550100".to_owned());
    let caller = args.next();

    let resolver = Resolver::new(Workspace::discover(".".as_ref())?, DraftAt::WorkTree)?;
    resolver.preload()?; // every configuration any channel can serve, loaded now

    let call = Call { caller: caller.as_deref(), ..Call::default() };
    let started = std::time::Instant::now();
    let r = resolver.resolve(&channel, &call)?;
    let took = started.elapsed();
    // What a call record should store to replay this call exactly.
    println!(
        "{} → {} {} (variant {}, tree {}) in {took:?}",
        r.channel,
        r.served.agent,
        r.served.version,
        r.variant.unwrap_or("-"),
        r.served.tree
    );
    Ok(())
}
