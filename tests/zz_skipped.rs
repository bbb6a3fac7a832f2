//! The last line of `cargo test` about `../shared`: how many tests skipped
//! because the captures are missing, and which binaries they are in.
//! Without `../shared` those tests pass without testing anything, and what
//! they print shows only under `--nocapture`. Cargo runs a package's test
//! targets in name order after its unit tests, hence the `zz_`; under `CI`
//! the tests fail instead of skipping (`tests/common/capture.rs`).

#[allow(dead_code)] // the recording half is for the skipping tests
#[path = "common/skips.rs"]
mod skips;

use std::collections::BTreeMap;

fn main() {
    // `cargo test -- --list` asks every test binary for its tests: none here.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let skipped = skips::take();
    if skipped.is_empty() {
        return;
    }
    let mut per_binary: BTreeMap<&str, usize> = BTreeMap::new();
    for (binary, _) in &skipped {
        *per_binary.entry(binary).or_default() += 1;
    }
    let where_: Vec<String> = per_binary.iter().map(|(b, n)| format!("{b} {n}")).collect();
    println!(
        "{} tests skipped ({}): {}",
        skipped.len(),
        where_.join(", "),
        skips::WHY
    );
}
