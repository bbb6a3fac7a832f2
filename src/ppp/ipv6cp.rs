//! IPv6CP option policy (RFC 5072): interface identifiers.
//!
//! Each side proposes a random non-zero Interface-Identifier. A peer's
//! identifier that is zero or equal to ours is Configure-Nak'ed with a fresh
//! suggestion (§4.1); a Nak of ours is taken unless it collides with the
//! peer's. IPv6 header compression is rejected.

use alloc::vec::Vec;

use super::fsm::{Negotiator, Reply};
use crate::rand::Rng;
use crate::wire::cp::{Code, Ipv6cpConfigOption};

/// The IPv6CP [`Negotiator`].
#[derive(Debug, Clone)]
pub(crate) struct Ipv6cp {
    rng: Rng,
    local: [u8; 8],
    peer: [u8; 8],
}

impl Ipv6cp {
    /// An IPv6CP policy; `seed` feeds the interface identifiers.
    pub fn new(seed: u64) -> Self {
        let mut v6 = Ipv6cp {
            rng: Rng::new(seed),
            local: [0; 8],
            peer: [0; 8],
        };
        v6.local = v6.fresh();
        v6
    }

    /// A random identifier, never zero, never the peer's.
    fn fresh(&mut self) -> [u8; 8] {
        loop {
            let id = self.rng.next_u64().to_be_bytes();
            if id != [0; 8] && id != self.peer {
                return id;
            }
        }
    }

    /// Our interface identifier.
    pub fn local(&self) -> [u8; 8] {
        self.local
    }

    /// The peer's interface identifier (zero until a request of the peer
    /// was acknowledged).
    pub fn peer(&self) -> [u8; 8] {
        self.peer
    }
}

impl Negotiator for Ipv6cp {
    type Opt<'a> = Ipv6cpConfigOption<'a>;
    type Report = core::convert::Infallible;

    fn name(&self) -> &'static str {
        "IPV6CP"
    }

    fn build_request(&mut self, out: &mut Vec<u8>) {
        Ipv6cpConfigOption::InterfaceIdentifier(self.local).emit(out);
    }

    fn check_request(&mut self, options: &[Ipv6cpConfigOption<'_>], reply: &mut Reply) {
        let mut peer = None;
        for option in options {
            match option {
                Ipv6cpConfigOption::InterfaceIdentifier(id)
                    if *id != [0; 8] && *id != self.local =>
                {
                    peer = Some(*id)
                }
                Ipv6cpConfigOption::InterfaceIdentifier(_) if !reply.rejects_instead_of_nak() => {
                    // RFC 5072 §4.1: suggest a unique identifier.
                    let suggestion = self.fresh();
                    reply.nak(option, &Ipv6cpConfigOption::InterfaceIdentifier(suggestion));
                }
                _ => reply.reject(option),
            }
        }
        if let Some(p) = peer.filter(|_| reply.verdict() == Code::CONFIGURE_ACK) {
            self.peer = p;
        }
    }

    fn on_nak(&mut self, options: &[Ipv6cpConfigOption<'_>]) -> bool {
        for option in options {
            if let Ipv6cpConfigOption::InterfaceIdentifier(id) = *option {
                // Take the suggestion unless it collides; then pick anew.
                self.local = if id != [0; 8] && id != self.peer {
                    id
                } else {
                    self.fresh()
                };
            }
        }
        true
    }

    fn on_reject(&mut self, _options: &[Ipv6cpConfigOption<'_>]) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cp::parse_options;

    #[test]
    fn zero_and_colliding_identifiers_are_nakked() {
        let mut v6 = Ipv6cp::new(1);
        let mine = v6.local();
        for bad in [[0u8; 8], mine] {
            let mut req = Vec::new();
            Ipv6cpConfigOption::InterfaceIdentifier(bad).emit(&mut req);
            let reply = v6.judge(&req, false).unwrap();
            assert_eq!(reply.verdict(), Code::CONFIGURE_NAK);
            let suggested: Vec<Ipv6cpConfigOption> = parse_options(reply.naks()).unwrap();
            assert!(
                matches!(suggested[..], [Ipv6cpConfigOption::InterfaceIdentifier(id)] if id != [0; 8] && id != mine)
            );
        }
        let mut req = Vec::new();
        Ipv6cpConfigOption::InterfaceIdentifier([1, 2, 3, 4, 5, 6, 7, 8]).emit(&mut req);
        assert_eq!(
            v6.judge(&req, false).unwrap().verdict(),
            Code::CONFIGURE_ACK
        );
        assert_eq!(v6.peer(), [1, 2, 3, 4, 5, 6, 7, 8]);
        // A Nak that collides with the peer is not taken.
        assert!(v6.on_nak(&[Ipv6cpConfigOption::InterfaceIdentifier([
            1, 2, 3, 4, 5, 6, 7, 8
        ])]));
        assert_ne!(v6.local(), [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
