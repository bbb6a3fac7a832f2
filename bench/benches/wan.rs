//! Goodput of whole MPPE-128 sessions on WAN paths (issue #19), on the
//! deterministic simulator of `tests/harness/wan.rs`: a virtual clock, so
//! the figures are exact and repeatable, not timed. BENCHMARKS.md quotes
//! the table this prints.
//!
//! `cargo bench --bench wan` (all cells), or with a filter on the style
//! name: `cargo bench --bench wan -- kernel`.

#[path = "../../tests/harness/mod.rs"]
mod harness;

use harness::wan::{run, run_beside_kernel, Cell, Flow, Sender, Style};
use pptp_proto::gre::WindowPolicy;

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    println!(
        "goodput, % of a 10 Mbit/s bottleneck each way, 1300-octet IP packets, MPPE-128; \
         each cell: ours / the kernel model in our place; strict: ours held to RFC 2637's window"
    );
    println!(
        "{:10} {:>6} {:>4} {:>9} | {:>15} | {:>15} | {:>15} | {:>15} | {:>6}",
        "peer",
        "window",
        "RTT",
        "flow",
        "stateless 0 %",
        "stateless 1 %",
        "stateful 0 %",
        "stateful 1 %",
        "strict"
    );
    for style in Style::ALL {
        if filter.as_deref().is_some_and(|f| !style.name().contains(f)) {
            continue;
        }
        for window in [3u16, 16, 64, 16384] {
            for rtt in [1u64, 20, 50, 200] {
                for flow in [Flow::ToPeer, Flow::FromPeer] {
                    let seed = rtt ^ u64::from(window) << 8;
                    let mut line = format!(
                        "{:10} {:>6} {:>4} {:>9} |",
                        style.name(),
                        window,
                        rtt,
                        match flow {
                            Flow::ToPeer => "to peer",
                            Flow::FromPeer => "from peer",
                        }
                    );
                    for stateful in [false, true] {
                        for loss in [0.0, 0.01] {
                            let cell = Cell {
                                window,
                                stateful,
                                loss,
                                ..Cell::new(style, rtt, flow)
                            };
                            let (ours, kernel) = run_beside_kernel(cell, seed);
                            line += &format!(
                                " {:>6.1} / {:>6.1} |",
                                ours.goodput * 100.0,
                                kernel.goodput * 100.0
                            );
                        }
                    }
                    let strict = run(
                        Cell {
                            window,
                            ours: Sender::Policy(WindowPolicy::Strict),
                            ..Cell::new(style, rtt, flow)
                        },
                        seed,
                    );
                    line += &format!(" {:>6.1}", strict.goodput * 100.0);
                    println!("{line}");
                }
            }
        }
    }
}
