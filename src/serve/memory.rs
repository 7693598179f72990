//! Memory a large read used, given back: after a statistic over a million calls, glibc keeps what
//! the request freed in its arenas (the process stayed at 436 MiB after one `GET /v1/stats`), so
//! the server trims them, and the store's connection drops the pages it cached for the read.

use crate::calls::store::Store;

/// Run on the store's thread after a statistic (the HTTP route and the console's page): the
/// connection's cached pages released, then the heap's free pages returned to the system.
pub fn give_back(store: &mut Store) {
    if let Err(e) = store.release_memory() {
        tracing::warn!("{e}");
    }
    trim();
}

/// glibc's `malloc_trim(0)`: every arena's free pages returned to the system. The one use of
/// `unsafe` in the crate (`tests/cli/layers.rs` holds it here): a foreign function that takes no
/// pointer and touches nothing but the allocator's own free lists.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: malloc_trim has no preconditions; it only walks glibc's arenas, under their locks.
    unsafe {
        malloc_trim(0);
    }
}

/// Other allocators (musl's, macOS's) give memory back on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
