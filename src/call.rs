//! One PPTP call as both facades drive it: the control connection, the
//! call's [`Tunnel`] once it is up, the rule for which cause ended the
//! session, and the tap hooks. Which end it is follows from the control
//! connection's [`Role`]: the PNS (the client) places the call and sends
//! Set-Link-Info; the PAC (the server) answers.
//!
//! [`Client`](crate::client::Client) is a thin wrapper over one `Call`;
//! [`Server`](crate::server::Server) keeps one per connection and adds only
//! what is its own (accepting, routing by Call ID, the timer heap, the
//! address pool, AAA). Both read the same [`CallEvent`]s from
//! [`Call::poll_event`].

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::ops::Range;

use bytes::Bytes;

use crate::control::{ControlConfig, ControlConnection, ControlEvent, Role};
use crate::gre::GreConfig;
use crate::ppp::session::{PppEvent, SessionConfig};
use crate::tap::{Direction, TapSlot};
use crate::time::Instant;
use crate::tunnel::{Datagram, SessionDownReason, SessionStats, Tunnel, TunnelError};
use crate::wire::control::StopControlConnectionReason;

/// What a call reports to its facade.
#[derive(Debug)]
pub(crate) enum CallEvent {
    /// The control connection is established (the PNS has asked for the
    /// call).
    Connected { hostname: String, vendor: String },
    /// The call is up and its tunnel exists; PPP has started.
    CallUp { call_id: u16, peer_call_id: u16 },
    /// A PPP event the facade acts on (authentication, phases, MPPE); the
    /// ones the call handles itself (link up, network up, down) are not
    /// passed on, and none is once the session is down.
    Ppp(PppEvent),
    /// The network is up, once a session (a CCP renegotiation that reports
    /// it again is not passed on).
    Up {
        local: Ipv4Addr,
        peer: Ipv4Addr,
        dns: [Option<Ipv4Addr>; 2],
        mtu: usize,
    },
    /// An IP packet the reorder buffer released or MPPC decompressed.
    Released(Vec<u8>),
    /// The session is down, for the first cause; once, and last.
    Down(SessionDownReason),
}

/// What a call's tunnel is made from when the call comes up.
pub(crate) struct Setup<'a> {
    pub(crate) gre: &'a GreConfig,
    pub(crate) ppp: &'a SessionConfig,
    /// The session's PPP seed, when it is not `ppp.seed` (the server draws
    /// one per connection).
    pub(crate) seed: Option<u64>,
}

/// One call: its control connection and, once the call is up, its tunnel.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) control: ControlConnection,
    /// Boxed: a connection waiting for its call holds no tunnel.
    pub(crate) tunnel: Option<Box<Tunnel>>,
    /// What ended the call or the control connection, kept until PPP
    /// reports the consequence (`LowerLayerDown`), which it replaces.
    cause: Option<SessionDownReason>,
    /// `CallEvent::Up` was reported.
    up: bool,
    /// `CallEvent::Down` was reported (or the facade ended the session).
    down: bool,
}

impl Call {
    pub(crate) fn new(control: ControlConfig) -> Self {
        Call {
            control: ControlConnection::new(control),
            tunnel: None,
            cause: None,
            up: false,
            down: false,
        }
    }

    fn role(&self) -> Role {
        self.control.role()
    }

    /// Whether the session was reported down.
    pub(crate) fn is_down(&self) -> bool {
        self.down
    }

    /// Whether the tunnel carries IP.
    pub(crate) fn is_up(&self) -> bool {
        self.tunnel.as_ref().is_some_and(|t| t.ppp.is_network_up())
    }

    pub(crate) fn stats(&self) -> SessionStats {
        self.tunnel
            .as_ref()
            .map_or_else(SessionStats::default, |t| t.stats())
    }

    /// Bytes read from TCP.
    pub(crate) fn handle_stream(&mut self, now: Instant, bytes: &[u8], tap: &mut TapSlot, id: u64) {
        tap.stream(now, id, Direction::Received, bytes);
        let _ = self.control.handle_stream(now, bytes);
    }

    /// TCP closed.
    pub(crate) fn handle_stream_closed(&mut self, now: Instant, tap: &mut TapSlot, id: u64) {
        tap.closed(now, id);
        self.control.handle_stream_closed(now);
    }

    /// A GRE packet for this call; the IP packet it carried, decrypted in
    /// place.
    pub(crate) fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        datagram: &'a mut [u8],
        tap: &mut TapSlot,
        id: u64,
    ) -> Result<Option<&'a [u8]>, TunnelError> {
        tap.datagram(now, id, Direction::Received, datagram);
        let tunnel = self.tunnel.as_mut().ok_or(TunnelError::NoCall)?;
        let ip = tunnel.handle_datagram(now, datagram);
        if let Ok(Some(ip)) = &ip {
            tap.inner(now, id, Direction::Received, ip);
        }
        ip
    }

    /// Encrypts and encapsulates `ip` into `out`.
    pub(crate) fn send_ip(
        &mut self,
        now: Instant,
        ip: &[u8],
        out: &mut [u8],
        tap: &mut TapSlot,
        id: u64,
    ) -> Result<Range<usize>, TunnelError> {
        let tunnel = self.tunnel.as_mut().ok_or(TunnelError::NoCall)?;
        let range = tunnel.send_ip(now, ip, out)?;
        tap.inner(now, id, Direction::Sent, ip);
        tap.datagram(now, id, Direction::Sent, &out[range.clone()]);
        Ok(range)
    }

    /// Tears the session down: LCP Terminate first when PPP runs, else the
    /// control connection at once.
    pub(crate) fn close(&mut self, now: Instant) {
        match self.tunnel.as_mut() {
            Some(t) => t.ppp.close(now),
            None => self.control.close(now, StopControlConnectionReason::NONE),
        }
    }

    /// Ends the session for a reason of the facade's own (a deadline, no
    /// address): LCP Terminate-Request, Call-Clear-Request and
    /// Stop-Control-Connection-Request go out. Returns whether it was up to
    /// end (false: already down); the facade reports its reason.
    pub(crate) fn fail(&mut self, now: Instant) -> bool {
        if self.down {
            return false;
        }
        self.down = true;
        if let Some(t) = self.tunnel.as_mut() {
            t.ppp.close(now);
        }
        self.end_call(now);
        true
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.control.handle_timeout(now);
        if let Some(t) = self.tunnel.as_mut() {
            t.handle_timeout(now);
        }
    }

    /// The soonest timer of the control connection and the tunnel.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let tunnel = self.tunnel.as_ref().and_then(|t| t.poll_timeout());
        Instant::soonest(self.control.poll_timeout(), tunnel)
    }

    /// The next control message to write to TCP.
    pub(crate) fn poll_stream_transmit(&mut self) -> Option<Bytes> {
        self.control.poll_transmit()
    }

    /// The next GRE packet to send.
    pub(crate) fn poll_datagram(&mut self) -> Option<Datagram> {
        self.tunnel.as_mut()?.poll_datagram()
    }

    /// The next event; `None` once everything is drained, after moving the
    /// PPP frames it left into GRE.
    ///
    /// Control events are taken before PPP's, so a session ends for its
    /// first cause: the call or connection that went down is reported, not
    /// the `LowerLayerDown` that follows from it; a session whose PPP was
    /// already ending (the peer's LCP Terminate-Request, then its
    /// Call-Clear-Request) ends for the PPP reason.
    pub(crate) fn poll_event(&mut self, now: Instant, setup: &Setup<'_>) -> Option<CallEvent> {
        while let Some(event) = self.control.poll_event() {
            if let Some(e) = self.on_control(now, event, setup) {
                return Some(e);
            }
        }
        let tunnel = self.tunnel.as_mut()?;
        while let Some(ip) = tunnel.poll_released() {
            // None is delivered once the session is down.
            if !self.down {
                return Some(CallEvent::Released(ip));
            }
        }
        while let Some(event) = self.tunnel.as_mut().and_then(|t| t.poll_event()) {
            if let Some(e) = self.on_ppp(now, event) {
                return Some(e);
            }
        }
        if let Some(t) = self.tunnel.as_mut() {
            t.flush(now);
        }
        None
    }

    fn on_control(
        &mut self,
        now: Instant,
        event: ControlEvent,
        setup: &Setup<'_>,
    ) -> Option<CallEvent> {
        match event {
            ControlEvent::Connected {
                hostname, vendor, ..
            } => {
                if self.role() == Role::Pns {
                    let _ = self.control.open_call(now);
                }
                Some(CallEvent::Connected { hostname, vendor })
            }
            ControlEvent::CallUp {
                call_id,
                peer_call_id,
                peer_window,
                ..
            } if self.tunnel.is_none() => {
                let mut ppp = setup.ppp.clone();
                if let Some(seed) = setup.seed {
                    ppp.seed = seed;
                }
                let mut tunnel = Tunnel::new(call_id, peer_call_id, peer_window, setup.gre, ppp);
                tunnel.open(now);
                self.tunnel = Some(Box::new(tunnel));
                Some(CallEvent::CallUp {
                    call_id,
                    peer_call_id,
                })
            }
            ControlEvent::CallDown { .. } | ControlEvent::Closed { .. } => {
                let cause = SessionDownReason::of_control(&event);
                if self.cause.is_none() && !self.down {
                    let tunnel = self.tunnel.as_deref();
                    self.cause = match cause {
                        Some(cause) => Some(SessionDownReason::first_cause(tunnel, cause)),
                        // A call taken down by its closing connection: the
                        // close, next, is the cause, unless PPP was ending.
                        None => tunnel
                            .and_then(|t| t.ppp.terminating())
                            .map(SessionDownReason::Ppp),
                    };
                }
                if matches!(event, ControlEvent::CallDown { .. }) {
                    self.control.close(now, StopControlConnectionReason::NONE);
                }
                match self.tunnel.as_mut() {
                    // PPP reports the consequence, which the cause replaces.
                    Some(t) => {
                        t.ppp.lower_layer_down(now);
                        None
                    }
                    None => {
                        let cause = self.cause.take()?;
                        self.report_down(cause)
                    }
                }
            }
            _ => None,
        }
    }

    fn on_ppp(&mut self, now: Instant, event: PppEvent) -> Option<CallEvent> {
        match event {
            PppEvent::LinkUp => {
                // The PNS reports the ACCMs after LCP (Windows and
                // pptp-linux do).
                if self.role() == Role::Pns {
                    let call_id = self.tunnel.as_ref().map_or(0, |t| t.call_id);
                    let _ = self.control.set_link_info(call_id, u32::MAX, u32::MAX);
                }
                None
            }
            PppEvent::NetworkUp {
                local, peer, dns, ..
            } if !self.up && !self.down => {
                self.up = true;
                let mtu = self.tunnel.as_ref().map_or(0, |t| t.ppp.mtu());
                Some(CallEvent::Up {
                    local,
                    peer,
                    dns,
                    mtu,
                })
            }
            PppEvent::NetworkUp { .. } => None,
            PppEvent::Down { reason } => {
                self.end_call(now);
                let reason = self.cause.take().unwrap_or(SessionDownReason::Ppp(reason));
                self.report_down(reason)
            }
            _ if self.down => None,
            other => Some(CallEvent::Ppp(other)),
        }
    }

    /// Call-Clear-Request and Stop-Control-Connection-Request.
    fn end_call(&mut self, now: Instant) {
        if let Some(call_id) = self.tunnel.as_ref().map(|t| t.call_id) {
            let _ = self.control.clear_call(now, call_id);
        }
        self.control.close(now, StopControlConnectionReason::NONE);
    }

    fn report_down(&mut self, reason: SessionDownReason) -> Option<CallEvent> {
        if self.down {
            return None;
        }
        self.down = true;
        Some(CallEvent::Down(reason))
    }
}
