//! Whole MPPE-128 sessions on WAN paths (issue #19): the targets of
//! BENCHMARKS.md's "GRE on WAN paths" table, checked on the deterministic
//! simulator of `tests/harness/wan.rs` (virtual clock: exact, not timed).
//! `cargo bench --bench wan` prints the whole table.

mod harness;

use harness::wan::{run, run_beside_kernel, Cell, Flow, Outcome, Sender, Style};
use pptp_proto::gre::WindowPolicy;
use pptp_proto::time::Duration;

/// The bench's 10 Mbit/s cell, measured over 2 s instead of 4.
fn cell(style: Style, rtt_ms: u64, flow: Flow) -> Cell {
    Cell {
        measure: Duration::from_secs(2),
        ..Cell::new(style, rtt_ms, flow)
    }
}

fn pct(o: Outcome) -> String {
    format!("{:.1} %", o.goodput * 100.0)
}

/// The case of the issue: pptp-linux's window 3 at 50 ms. Held to it
/// strictly (what the code did before the advisory policy), our sender
/// gets 3 packets per round trip, under 10 % of the link; the default fills
/// it, and no sender does better than ours there.
#[test]
fn window_3_at_50_ms_fills_the_link() {
    for style in [Style::PptpLinux, Style::Kernel] {
        let c = cell(style, 50, Flow::ToPeer);
        let strict = run(
            Cell {
                ours: Sender::Policy(WindowPolicy::Strict),
                ..c
            },
            1,
        );
        let ours = run(c, 1);
        println!(
            "{} window 3, 50 ms: strict {}, ours {}",
            style.name(),
            pct(strict),
            pct(ours)
        );
        assert!(strict.goodput < 0.10, "strict: {}", pct(strict));
        assert!(ours.goodput >= 0.90, "{}: {}", style.name(), pct(ours));
        assert_eq!(ours.refused, 0, "nothing refused");
    }
}

/// Every peer style, its own window, both ways, 1 to 200 ms: >= 90 % of the
/// bottleneck, and never below the kernel model in our place.
#[test]
fn every_peer_style_both_ways_fills_the_link() {
    for style in Style::ALL {
        for rtt in [1, 50, 200] {
            for flow in [Flow::ToPeer, Flow::FromPeer] {
                let (ours, kernel) = run_beside_kernel(cell(style, rtt, flow), rtt);
                let at = format!("{} {rtt} ms {flow:?}", style.name());
                assert!(ours.goodput >= 0.90, "{at}: {}", pct(ours));
                // The sender saturates the link without overflowing its
                // queue: what is lost is the path's, never the queue's.
                assert_eq!(ours.bottleneck_drops, 0, "{at}: the bottleneck dropped");
                assert!(
                    ours.goodput >= kernel.goodput - 0.005,
                    "{at}: ours {} below the kernel model's {}",
                    pct(ours),
                    pct(kernel)
                );
            }
        }
    }
}

/// A peer that holds to the window we announce (Windows) sends one window
/// per round trip: with the old 64, 3.3 Mbit/s at 200 ms whatever the link.
/// Our window is now Windows' own 16384.
#[test]
fn a_window_keeping_peer_is_not_held_back_by_our_window() {
    let o = run(cell(Style::Windows, 200, Flow::FromPeer), 3);
    assert!(o.goodput >= 0.90, "10 Mbit/s upload at 200 ms: {}", pct(o));
}

/// 1 % loss: stateless MPPE keeps >= 95 % of its loss-free goodput (GRE
/// does not retransmit; each packet carries its own key state).
#[test]
fn stateless_mppe_loses_only_what_the_path_loses() {
    for style in [Style::PptpLinux, Style::Windows] {
        for rtt in [20, 200] {
            for flow in [Flow::ToPeer, Flow::FromPeer] {
                let clean = run(cell(style, rtt, flow), 5);
                let lossy = run(
                    Cell {
                        loss: 0.01,
                        ..cell(style, rtt, flow)
                    },
                    5,
                );
                assert!(
                    lossy.goodput >= 0.95 * clean.goodput,
                    "{} {rtt} ms {flow:?}: {} of {}",
                    style.name(),
                    pct(lossy),
                    pct(clean)
                );
            }
        }
    }
}

/// Stateful MPPE fills the link too when nothing is lost; a loss costs it a
/// round trip of discards (BENCHMARKS.md), so it is measured, not held to
/// the stateless target.
#[test]
fn stateful_mppe_fills_a_clean_link() {
    for flow in [Flow::ToPeer, Flow::FromPeer] {
        let o = run(
            Cell {
                stateful: true,
                ..cell(Style::Pptpd, 50, flow)
            },
            7,
        );
        assert!(o.goodput >= 0.90, "{flow:?}: {}", pct(o));
    }
}
