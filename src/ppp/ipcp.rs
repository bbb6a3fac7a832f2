//! IPCP option policy (RFC 1332, RFC 1877 for DNS and NBNS).
//!
//! The peer (client) asks for 0.0.0.0 (or a configured address) and for DNS
//! servers; the authenticator (server) answers with Configure-Naks carrying
//! the addresses the embedder assigned, and the peer asks again. VJ header
//! compression is refused both ways.
//!
//! The [`ppp` example](crate::ppp#example) assigns an address and one DNS
//! server to a client that asks for two.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use super::fsm::{Negotiator, Reply};
use crate::wire::cp::{Code, IpcpConfigOption};

/// IPCP policy. The [`ppp` example](crate::ppp#example) asks for DNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpcpConfig {
    /// Peer: the address to ask for (default `None`: 0.0.0.0, "assign me one").
    pub local: Option<Ipv4Addr>,
    /// Peer: ask for primary and secondary DNS servers (default on).
    pub request_dns: bool,
    /// Peer: ask for NBNS (WINS) servers (default off).
    pub request_nbns: bool,
}

impl Default for IpcpConfig {
    fn default() -> Self {
        IpcpConfig {
            local: None,
            request_dns: true,
            request_nbns: false,
        }
    }
}

/// What the authenticator assigns: its own address, the peer's, and the
/// name servers it hands out, given to
/// [`PppSession::set_ip_assignment`](crate::ppp::session::PppSession::set_ip_assignment)
/// as in the [`ppp` example](crate::ppp#example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IpAssignment {
    /// The authenticator's own tunnel address.
    pub local: Option<Ipv4Addr>,
    /// The address the peer gets.
    pub peer: Option<Ipv4Addr>,
    /// Primary and secondary DNS.
    pub dns: [Option<Ipv4Addr>; 2],
    /// Primary and secondary NBNS (WINS).
    pub nbns: [Option<Ipv4Addr>; 2],
}

const UNSPECIFIED: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

/// The IPCP [`Negotiator`].
#[derive(Debug, Clone)]
pub(crate) struct Ipcp {
    config: IpcpConfig,
    authenticator: bool,
    assignment: IpAssignment,
    /// Our request: address and the name servers we still ask for.
    local: Option<Ipv4Addr>,
    dns: [Option<Ipv4Addr>; 2],
    nbns: [Option<Ipv4Addr>; 2],
    /// The peer's address from the request we acknowledged.
    peer: Option<Ipv4Addr>,
    /// Authenticator: [`Ipcp::set_assignment`] was called.
    assigned: bool,
}

impl Ipcp {
    /// An IPCP policy for the given role.
    pub fn new(config: IpcpConfig, authenticator: bool) -> Self {
        let mut ipcp = Ipcp {
            config,
            authenticator,
            assignment: IpAssignment::default(),
            local: None,
            dns: [None; 2],
            nbns: [None; 2],
            peer: None,
            assigned: false,
        };
        ipcp.reset();
        ipcp
    }

    /// Authenticator: the addresses to assign (call before IPCP runs).
    pub fn set_assignment(&mut self, assignment: IpAssignment) {
        self.assignment = assignment;
        self.assigned = true;
        if self.authenticator {
            self.local = assignment.local;
        }
    }

    /// Whether [`Ipcp::set_assignment`] was called (the authenticator's
    /// session holds IPCP until it is).
    pub(crate) fn has_assignment(&self) -> bool {
        self.assigned
    }

    /// Our address.
    pub fn local(&self) -> Ipv4Addr {
        self.local.unwrap_or(UNSPECIFIED)
    }

    /// The peer's address.
    pub fn peer(&self) -> Ipv4Addr {
        self.peer.unwrap_or(UNSPECIFIED)
    }

    /// DNS servers assigned to us (peer) or handed out (authenticator).
    pub fn dns(&self) -> [Option<Ipv4Addr>; 2] {
        if self.authenticator {
            self.assignment.dns
        } else {
            self.dns.map(|d| d.filter(|a| !a.is_unspecified()))
        }
    }

    /// NBNS servers, as [`Ipcp::dns`].
    pub fn nbns(&self) -> [Option<Ipv4Addr>; 2] {
        if self.authenticator {
            self.assignment.nbns
        } else {
            self.nbns.map(|d| d.filter(|a| !a.is_unspecified()))
        }
    }
}

impl Negotiator for Ipcp {
    type Opt<'a> = IpcpConfigOption<'a>;
    type Report = core::convert::Infallible;

    fn name(&self) -> &'static str {
        "IPCP"
    }

    fn reset(&mut self) {
        if self.authenticator {
            self.local = self.assignment.local;
        } else {
            self.local = Some(self.config.local.unwrap_or(UNSPECIFIED));
            let ask = |on: bool| {
                if on {
                    [Some(UNSPECIFIED); 2]
                } else {
                    [None; 2]
                }
            };
            self.dns = ask(self.config.request_dns);
            self.nbns = ask(self.config.request_nbns);
        }
        self.peer = None;
    }

    fn build_request(&mut self, out: &mut Vec<u8>) {
        if let Some(local) = self.local {
            IpcpConfigOption::IpAddress(local).emit(out);
        }
        if self.authenticator {
            return;
        }
        let [d1, d2] = self.dns;
        let [n1, n2] = self.nbns;
        for (value, make) in [
            (
                d1,
                IpcpConfigOption::PrimaryDns as fn(Ipv4Addr) -> IpcpConfigOption<'static>,
            ),
            (n1, IpcpConfigOption::PrimaryNbns),
            (d2, IpcpConfigOption::SecondaryDns),
            (n2, IpcpConfigOption::SecondaryNbns),
        ] {
            if let Some(v) = value {
                make(v).emit(out);
            }
        }
    }

    fn check_request(&mut self, options: &[IpcpConfigOption<'_>], reply: &mut Reply) {
        let mut peer = None;
        let asked_address = options
            .iter()
            .any(|o| matches!(o, IpcpConfigOption::IpAddress(_)));
        if let (true, false, Some(assigned)) =
            (self.authenticator, asked_address, self.assignment.peer)
        {
            // The peer asked for no address at all: suggest the one it gets
            // (RFC 1332 §3.3 lets a Nak add an option; pppd does this).
            reply.suggest(&IpcpConfigOption::IpAddress(assigned));
        }
        for option in options {
            // The value we want the peer to use instead, if any.
            let wanted: Option<Option<Ipv4Addr>> = match option {
                IpcpConfigOption::IpAddress(a) => {
                    let wanted = self.wanted_peer_address(*a);
                    if wanted.is_none() {
                        peer = Some(*a);
                    }
                    wanted
                }
                IpcpConfigOption::PrimaryDns(a) => self.handed_out(*a, self.assignment.dns[0]),
                IpcpConfigOption::SecondaryDns(a) => self.handed_out(*a, self.assignment.dns[1]),
                IpcpConfigOption::PrimaryNbns(a) => self.handed_out(*a, self.assignment.nbns[0]),
                IpcpConfigOption::SecondaryNbns(a) => self.handed_out(*a, self.assignment.nbns[1]),
                // VJ compression and anything unknown: refused.
                _ => Some(None),
            };
            match wanted {
                None => {}
                Some(Some(value)) => reply.nak(option, &with_value(option, value)),
                Some(None) => reply.reject(option),
            }
        }
        if reply.verdict() == Code::CONFIGURE_ACK {
            self.peer = peer;
        }
    }

    fn on_nak(&mut self, options: &[IpcpConfigOption<'_>]) -> bool {
        for option in options {
            match *option {
                // RFC 1332 §3.3: take the address the authenticator assigns.
                IpcpConfigOption::IpAddress(a) if !self.authenticator => self.local = Some(a),
                IpcpConfigOption::PrimaryDns(a) => self.dns[0] = Some(a),
                IpcpConfigOption::SecondaryDns(a) => self.dns[1] = Some(a),
                IpcpConfigOption::PrimaryNbns(a) => self.nbns[0] = Some(a),
                IpcpConfigOption::SecondaryNbns(a) => self.nbns[1] = Some(a),
                _ => {}
            }
        }
        true
    }

    fn on_reject(&mut self, options: &[IpcpConfigOption<'_>]) -> bool {
        for option in options {
            match option {
                IpcpConfigOption::IpAddress(_) => self.local = None,
                IpcpConfigOption::PrimaryDns(_) => self.dns[0] = None,
                IpcpConfigOption::SecondaryDns(_) => self.dns[1] = None,
                IpcpConfigOption::PrimaryNbns(_) => self.nbns[0] = None,
                IpcpConfigOption::SecondaryNbns(_) => self.nbns[1] = None,
                _ => {}
            }
        }
        true
    }
}

impl Ipcp {
    /// `None`: acceptable. `Some(Some(v))`: Nak with `v`. `Some(None)`: reject.
    fn wanted_peer_address(&self, asked: Ipv4Addr) -> Option<Option<Ipv4Addr>> {
        if !self.authenticator {
            // The authenticator tells us its own address; 0.0.0.0 is no address.
            return (asked.is_unspecified()).then_some(None);
        }
        match self.assignment.peer {
            Some(assigned) if assigned == asked => None,
            // The peer asks for 0.0.0.0 or an address it may not have.
            Some(assigned) => Some(Some(assigned)),
            // Nothing assigned to this session: no address is the peer's to
            // take (it could be ours, or another session's).
            None => Some(None),
        }
    }

    /// RFC 1877: the authenticator Naks a name-server request with the
    /// address it hands out, and rejects it when it has none.
    fn handed_out(&self, asked: Ipv4Addr, ours: Option<Ipv4Addr>) -> Option<Option<Ipv4Addr>> {
        if !self.authenticator {
            return Some(None);
        }
        match ours {
            Some(v) if v == asked => None,
            other => Some(other),
        }
    }
}

fn with_value(option: &IpcpConfigOption<'_>, v: Ipv4Addr) -> IpcpConfigOption<'static> {
    match option {
        IpcpConfigOption::PrimaryDns(_) => IpcpConfigOption::PrimaryDns(v),
        IpcpConfigOption::SecondaryDns(_) => IpcpConfigOption::SecondaryDns(v),
        IpcpConfigOption::PrimaryNbns(_) => IpcpConfigOption::PrimaryNbns(v),
        IpcpConfigOption::SecondaryNbns(_) => IpcpConfigOption::SecondaryNbns(v),
        _ => IpcpConfigOption::IpAddress(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(ipcp: &mut Ipcp, request: &[u8]) -> (Code, Vec<u8>, Vec<u8>) {
        let reply = ipcp.judge(request, false).unwrap();
        (
            reply.verdict(),
            reply.naks().to_vec(),
            reply.rejects().to_vec(),
        )
    }

    #[test]
    fn nothing_assigned_acknowledges_no_address() {
        let mut server = Ipcp::new(IpcpConfig::default(), true);
        // The peer asks for what could be the gateway's own address.
        let asked = [3, 6, 10, 0, 0, 1];
        let (verdict, _, reject) = judge(&mut server, &asked);
        assert_eq!(
            (verdict, reject.as_slice()),
            (Code::CONFIGURE_REJECT, &asked[..])
        );
        assert!(!server.has_assignment());
        // Assigned: another address is Nak'ed to the one assigned.
        server.set_assignment(IpAssignment {
            peer: Some(Ipv4Addr::new(10, 0, 0, 2)),
            ..IpAssignment::default()
        });
        assert!(server.has_assignment());
        let (verdict, nak, _) = judge(&mut server, &asked);
        assert_eq!(
            (verdict, nak),
            (Code::CONFIGURE_NAK, alloc::vec![3, 6, 10, 0, 0, 2])
        );
    }
}
