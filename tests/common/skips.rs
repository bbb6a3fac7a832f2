//! Records of the tests that skipped because `../shared/captures` is
//! missing, so that `cargo test` can say so at its end: libtest shows a
//! passing test's output only with `--nocapture`. `tests/zz_skipped.rs`
//! runs last among the integration tests, prints the count and takes the
//! records; a test that finds the captures drops them all.
//!
//! One empty file per test, named after the test binary and the test (the
//! name libtest gives the test's thread), so a re-run overwrites rather than
//! adds. They sit beside the test binaries, in `target/<profile>/shared-skips/`
//! (`deps/..`): the crate's unit tests replay captures too, and Cargo gives
//! them no `CARGO_TARGET_TMPDIR`, while every test binary of a build lives
//! in the same `deps/`.

use std::fs;
use std::path::PathBuf;
use std::string::{String, ToString};
use std::vec::Vec;

/// Why the tests skipped, as the summary says it.
pub const WHY: &str =
    "../shared/captures not found beside the repository; see README \"Test data\"";

/// `target/<profile>/shared-skips`, from the running test binary's path.
fn dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.join("shared-skips"))
}

/// The test binary's name without Cargo's hash: `captures`, `pptp_proto`.
fn binary() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_ref()
        .and_then(|p| p.file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("unknown");
    stem.rsplit_once('-')
        .map_or(stem, |(name, _hash)| name)
        .to_string()
}

/// Records that the running test skipped (once per test, however often called).
pub fn record() {
    let Some(dir) = dir() else {
        return;
    };
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("unnamed");
    let mut file = binary();
    file.push('@');
    file.push_str(test);
    // Best effort: a record that cannot be written only hides a skip from the summary.
    let _ = fs::create_dir_all(&dir).and_then(|()| fs::write(dir.join(file), b""));
}

/// Drops every record: the captures are there.
pub fn clear() {
    if let Some(dir) = dir() {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Takes the records as sorted `(binary, test)` pairs, removing them.
pub fn take() -> Vec<(String, String)> {
    let Some(dir) = dir() else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| {
            let (binary, test) = n.split_once('@')?;
            Some((binary.to_string(), test.to_string()))
        })
        .collect();
    out.sort();
    clear();
    out
}
