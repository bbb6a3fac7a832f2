//! The embedder's guide: driving a [`Client`] and a [`Server`] from an
//! event loop, every configuration knob with its default, and what the
//! crate's events say when a tunnel does not come up.
//!
//! This module holds documentation only.
//!
//! - [The driving contract](#the-driving-contract)
//! - [A client event loop](#a-client-event-loop)
//! - [A server event loop](#a-server-event-loop)
//! - [Seeing what the tunnel does](#seeing-what-the-tunnel-does)
//! - [Configuration knobs](#configuration-knobs)
//! - [Troubleshooting](#troubleshooting)
//!
//! The examples below run in memory, with the other end of the tunnel
//! hidden behind a stand-in "network" (shown in the source of the doctest).
//! The same loops on real sockets are in the repository:
//!
//! - `net/examples/client.rs`: TCP, a raw GRE socket and a TUN device, one
//!   reader thread per socket feeding a channel, the main thread owning the
//!   [`Client`];
//! - `net/examples/tokio_client.rs`: the same client under tokio, one `select!`;
//! - `net/examples/server.rs`: a [`Server`] for any number of clients, with
//!   address routing between them and Ctrl-C handling;
//! - `examples/loopback.rs`: a client and a server joined over a simulated
//!   lossy network with a virtual clock.
//!
//! # The driving contract
//!
//! Both facades are state machines. They never block, read a clock, open a
//! socket or draw randomness; you do all four.
//!
//! | you observe | you call |
//! | --- | --- |
//! | the client's TCP connection to port 1723 is up | [`Client::start`] |
//! | the server accepted a TCP connection | [`Server::accept`], which returns its [`ConnectionId`] |
//! | bytes arrived on TCP | [`Client::handle_stream`] / [`Server::handle_stream`] |
//! | TCP closed (EOF or error) | [`Client::handle_stream_closed`] / [`Server::handle_stream_closed`] |
//! | a GRE packet (IP protocol 47) arrived | [`Client::handle_datagram`] / [`Server::handle_datagram`], **without its IPv4 header** |
//! | an IP packet is to go through the tunnel | [`Client::send_ip`] / [`Server::send_ip`] |
//! | the time from `poll_timeout` has come | [`Client::handle_timeout`] / [`Server::handle_timeout`] |
//! | the user wants out (Ctrl-C, shutdown) | [`Client::close`] / [`Server::close`] |
//!
//! After **every** one of those calls, drain three queues until they are
//! empty (answering an event, such as a server's `AuthRequest`, produces
//! more output: repeat until all three are quiet):
//!
//! 1. `poll_stream_transmit`: bytes to write to TCP (the server tags them
//!    with the connection);
//! 2. `poll_datagram_transmit`: GRE packets to send as IP protocol 47 to the
//!    peer (the server tags them with the connection: send to the address
//!    that connection's TCP came from);
//! 3. `poll_event`: what happened.
//!
//! Then ask `poll_timeout` for the next deadline and wait for input or for
//! that deadline, whichever comes first. `None` means no timer is running.
//! Calling `handle_timeout` early, or twice, does nothing, so a loop that
//! wakes up for other reasons may call it freely.
//!
//! Time is a [`time::Instant`](crate::time::Instant): microseconds since an
//! epoch you choose (process start is the usual one). Pass the current time
//! into each call; it must never go backwards.
//!
//! ## Stripping the IPv4 header
//!
//! A Linux raw socket opened with `socket(AF_INET, SOCK_RAW, IPPROTO_GRE)`
//! delivers each datagram **with** its IPv4 header, and sends without one.
//! [`wire::gre::strip_ipv4`](crate::wire::gre::strip_ipv4) checks the header
//! (version 4, header length, protocol 47, total length, not a fragment) and
//! returns the GRE packet inside. `handle_datagram` decrypts in place, so it
//! needs a `&mut` slice: the GRE packet starts at the header length,
//! `(datagram[0] & 0x0f) * 4`, and runs for the length `strip_ipv4` returned
//! (trailing bytes past the IPv4 total length are not part of it). The
//! examples below do exactly that. The source address (octets 12..16) is
//! what a server checks against [`Server::connection_of_call`].
//!
//! ## Randomness
//!
//! Magic numbers, CHAP and MS-CHAP challenges, Call IDs, call serial
//! numbers and echo identifiers come from a [`Seed`](crate::Seed) in the
//! configuration. Each value is drawn from SHA-1 in counter mode keyed by
//! it, so what goes out on the wire (a challenge, a magic number) does not
//! reveal the seed or predict another session's values. The default seed
//! is all zeros, the same in every process.
//! **Seed from the operating system** (`getrandom`, `/dev/urandom`: 32
//! bytes) before building the facade, and refuse to start without it (the
//! examples do; a clock is no secret):
//!
//! - client: [`ClientConfig::with_seed_bytes`](crate::client::ClientConfig::with_seed_bytes)
//!   draws [`ControlConfig::seed`](crate::control::ControlConfig::seed) and
//!   [`SessionConfig::seed`](crate::ppp::session::SessionConfig::seed) from it;
//! - server: [`ServerConfig::with_seed_bytes`](crate::server::ServerConfig::with_seed_bytes)
//!   keys one generator from which every connection draws its own control
//!   and PPP seeds, and its Call ID, at random in
//!   [`ServerConfig::call_ids`]. A server with the default seed sends the
//!   same MS-CHAPv2 challenges after every restart.
//!
//! `with_seed(u64)` on both is for tests and reproducible runs: someone who
//! saw one challenge can search 2^64 seeds. Each session's own PPP seed is
//! 64 bits drawn from the 256-bit generator, so such a search, if it
//! succeeded, would reveal that one session's later choices and nothing of
//! the server's.
//!
//! ## Sizes
//!
//! [`Client::send_ip`] and [`Server::send_ip`] write the finished GRE packet
//! into your buffer and allocate nothing. The buffer needs the IP packet's
//! length plus [`tunnel::SEND_OVERHEAD`](crate::tunnel::SEND_OVERHEAD)
//! octets; the returned range is the part to send. A packet longer than the
//! MTU reported by [`ClientEvent::Up`] is refused with
//! [`PppError::TooLarge`](crate::ppp::session::PppError::TooLarge), inside
//! [`TunnelError::Ppp`](crate::tunnel::TunnelError::Ppp).
//!
//! # A client event loop
//!
//! What to do with each [`ClientEvent`]:
//!
//! | event | what to do |
//! | --- | --- |
//! | [`Connected`](crate::client::ClientEvent::Connected) `{ hostname, vendor }` | log it; the client places its call on its own |
//! | [`CallUp`](crate::client::ClientEvent::CallUp) `{ call_id, peer_call_id }` | log it; GRE starts flowing, LCP begins |
//! | [`Authenticated`](crate::client::ClientEvent::Authenticated) | log it |
//! | [`Up`](crate::client::ClientEvent::Up) `{ local, peer, dns, mtu, mppe }` | configure the TUN device: address `local`, point-to-point peer `peer`, MTU at most `mtu`; hand `dns` to the resolver; `mppe` holds the agreed CCP option 18 bits, `None` when CCP agreed on neither MPPE nor MPPC |
//! | [`IpPacket`](crate::client::ClientEvent::IpPacket)`(packet)` | write it to the TUN device (a packet released from the GRE reorder buffer, or one MPPC expanded) |
//! | [`Down`](crate::client::ClientEvent::Down) `{ reason }` | write out what `poll_stream_transmit` still holds, close TCP, tear down the TUN device; no event follows. See [Troubleshooting](#troubleshooting) for `reason` |
//!
//! IP packets also come straight back from [`Client::handle_datagram`] as
//! `Ok(Some(packet))`, decrypted inside the buffer you lent it; write those
//! to the TUN device too. `Err(_)` from `handle_datagram` means one packet
//! was dropped (malformed, not for our call, refused plaintext under MPPE,
//! a GRE packet before the call is up): count it and go on.
//!
//! On Ctrl-C call [`Client::close`] once and keep running the loop: it sends
//! LCP Terminate-Request, waits for the Terminate-Ack (at most
//! `max_terminate` restart periods), clears the call, stops the control
//! connection, and reports `Down` with
//! [`SessionDownReason::Ppp`]`(`[`DownReason::LocalClose`]`)`. A second
//! Ctrl-C may exit at once.
//!
//! ```
//! use pptp_proto::client::{Client, ClientConfig, SessionDownReason, ClientEvent};
//! use pptp_proto::crypto::Password;
//! use pptp_proto::ppp::session::DownReason;
//! use pptp_proto::time::Instant;
//! use pptp_proto::tunnel::SEND_OVERHEAD;
//! use pptp_proto::wire::gre::strip_ipv4;
//! # use std::collections::VecDeque;
//! # use pptp_proto::ppp::auth::Credentials;
//! # use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerEvent};
//!
//! /// What the sockets produced while we waited.
//! enum Input {
//!     /// Bytes read from TCP.
//!     Tcp(Vec<u8>),
//!     /// TCP reached EOF or failed.
//!     TcpClosed,
//!     /// One datagram from the raw GRE socket, IPv4 header included.
//!     Gre(Vec<u8>),
//!     /// The deadline passed without input.
//!     Timeout,
//!     /// The user pressed Ctrl-C.
//!     CtrlC,
//! }
//! # fn ipv4(src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
//! #     let total = u16::try_from(20 + payload.len()).unwrap().to_be_bytes();
//! #     let mut p = vec![0x45, 0, total[0], total[1], 0, 0, 0, 0, 64, 47, 0, 0];
//! #     p.extend_from_slice(&src);
//! #     p.extend_from_slice(&dst);
//! #     p.extend_from_slice(payload);
//! #     p
//! # }
//! # /// The far end of our sockets: a pptp-proto server, in memory, which
//! # /// echoes every IP packet and then "presses Ctrl-C" on our side.
//! # struct Network { server: Server, conn: ConnectionId, inbox: VecDeque<Input>, echoed: bool, interrupted: bool }
//! # impl Network {
//! #     fn connect() -> Self {
//! #         let pool = AddressPool { local: [10, 0, 0, 1].into(), range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()), dns: [Some([10, 0, 0, 1].into()), None] };
//! #         let mut server = Server::new(ServerConfig::new("vpn", pool));
//! #         let conn = server.accept(Instant::ZERO, [192, 0, 2, 1].into()).unwrap();
//! #         Network { server, conn, inbox: VecDeque::new(), echoed: false, interrupted: false }
//! #     }
//! #     fn write_tcp(&mut self, now: Instant, bytes: &[u8]) {
//! #         self.server.handle_stream(now, self.conn, bytes).unwrap();
//! #     }
//! #     fn send_gre(&mut self, now: Instant, gre: &[u8]) {
//! #         let mut d = gre.to_vec();
//! #         if let Ok((conn, Some(ip))) = self.server.handle_datagram(now, [192, 0, 2, 1].into(), &mut d) {
//! #             let ip = ip.to_vec();
//! #             let mut out = vec![0u8; ip.len() + SEND_OVERHEAD];
//! #             let r = self.server.send_ip(now, conn, &ip, &mut out).unwrap();
//! #             self.inbox.push_back(Input::Gre(ipv4([192, 0, 2, 1], [192, 0, 2, 2], &out[r])));
//! #             self.echoed = true;
//! #         }
//! #     }
//! #     fn wait(&mut self, mut now: Instant, deadline: Option<Instant>) -> (Instant, Input) {
//! #         loop {
//! #             assert!(now < Instant::from_secs(300), "the session never ended");
//! #             while let Some(e) = self.server.poll_event() {
//! #                 if let ServerEvent::AuthRequest { connection, .. } = e {
//! #                     let secret = Credentials::Password(Password::new("secret").unwrap());
//! #                     self.server.provide_credentials(now, connection, secret);
//! #                 }
//! #             }
//! #             while let Some((_, b)) = self.server.poll_stream_transmit() {
//! #                 self.inbox.push_back(Input::Tcp(b.to_vec()));
//! #             }
//! #             while let Some((_, d)) = self.server.poll_datagram_transmit() {
//! #                 self.inbox.push_back(Input::Gre(ipv4([192, 0, 2, 1], [192, 0, 2, 2], &d)));
//! #             }
//! #             if let Some(input) = self.inbox.pop_front() {
//! #                 return (now, input);
//! #             }
//! #             if self.echoed && !self.interrupted {
//! #                 self.interrupted = true;
//! #                 return (now, Input::CtrlC);
//! #             }
//! #             match (deadline, self.server.poll_timeout()) {
//! #                 (Some(c), Some(s)) if s < c => { now = now.max(s); self.server.handle_timeout(now); }
//! #                 (Some(c), _) => return (now.max(c), Input::Timeout),
//! #                 (None, Some(s)) => { now = now.max(s); self.server.handle_timeout(now); }
//! #                 (None, None) => panic!("nothing to wait for"),
//! #             }
//! #         }
//! #     }
//! # }
//!
//! // In a real program: 8 bytes from the operating system's RNG.
//! let seed = 0x243f_6a88_85a3_08d3;
//! let config = ClientConfig::new("alice", Password::new("secret").unwrap()).with_seed(seed);
//! let mut client = Client::new(config);
//! let mut net = Network::connect(); // TCP to the server's port 1723 is up
//! let mut now = Instant::ZERO; // a real loop reads its clock here and below
//! client.start(now);
//!
//! let mut tun: Vec<Vec<u8>> = Vec::new(); // stands in for the TUN device
//! let mut out = vec![0u8; 1500 + SEND_OVERHEAD];
//! let reason = 'run: loop {
//!     // 1. Write what the client produced, then read its events.
//!     while let Some(bytes) = client.poll_stream_transmit() {
//!         net.write_tcp(now, &bytes); // tcp.write_all(&bytes)
//!     }
//!     while let Some(gre) = client.poll_datagram_transmit() {
//!         net.send_gre(now, &gre); // gre_socket.send_to(&gre, server)
//!     }
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             ClientEvent::Up { local, peer, mtu, .. } => {
//!                 // Configure the TUN device here. Then packets read from it
//!                 // go out like this one:
//!                 let mut ping = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0];
//!                 ping.extend_from_slice(&local.octets());
//!                 ping.extend_from_slice(&peer.octets());
//!                 ping.extend_from_slice(&[8, 0, 0xf7, 0xff, 0, 0, 0, 0]);
//!                 assert!(ping.len() <= mtu);
//!                 let range = client.send_ip(now, &ping, &mut out).unwrap();
//!                 net.send_gre(now, &out[range]);
//!             }
//!             ClientEvent::IpPacket(packet) => tun.push(packet),
//!             // Last event: flush TCP (the loop above did), then close it.
//!             ClientEvent::Down { reason } => break 'run reason,
//!             _ => {} // Connected, CallUp, Authenticated: log them
//!         }
//!     }
//!
//!     // 2. Wait for input, or until the client's deadline.
//!     let (t, input) = net.wait(now, client.poll_timeout());
//!     now = t;
//!     match input {
//!         Input::Tcp(bytes) => client.handle_stream(now, &bytes),
//!         Input::TcpClosed => client.handle_stream_closed(now),
//!         Input::Gre(mut datagram) => {
//!             let Ok(gre) = strip_ipv4(&datagram) else { continue };
//!             let start = usize::from(datagram[0] & 0x0f) * 4;
//!             let gre = start..start + gre.len();
//!             match client.handle_datagram(now, &mut datagram[gre]) {
//!                 Ok(Some(ip)) => tun.push(ip.to_vec()),
//!                 Ok(None) => {} // control traffic, an ack, or held for reordering
//!                 Err(_) => {}   // dropped: count it, log it, go on
//!             }
//!         }
//!         Input::Timeout => client.handle_timeout(now),
//!         Input::CtrlC => client.close(now),
//!     }
//! };
//! assert_eq!(tun.len(), 1); // the echoed ping
//! assert_eq!(reason, SessionDownReason::Ppp(DownReason::LocalClose));
//! ```
//!
//! # A server event loop
//!
//! One [`Server`] serves every client. Each accepted TCP connection gets a
//! [`ConnectionId`] and carries one call (as pptpd does); keep a map from
//! it to your socket and to the address the TCP connection came from.
//!
//! What to do with each [`ServerEvent`]:
//!
//! | event | what to do |
//! | --- | --- |
//! | [`AuthRequest`](crate::server::ServerEvent::AuthRequest) `{ connection, username, method, exchange }` | look the user up and answer with [`Server::provide_credentials`]: [`Credentials::Password`](crate::ppp::auth::Credentials::Password), [`NtHash`](crate::ppp::auth::Credentials::NtHash) (MS-CHAP only), [`Expired`](crate::ppp::auth::Credentials::Expired) (MS-CHAPv2 then asks the client for a new password) or [`Reject`](crate::ppp::auth::Credentials::Reject). An external verifier (RADIUS) checks `exchange` and answers with [`Server::provide_verdict`] instead (see [RADIUS](#radius)). You may answer later, from another task's result: the session waits (a pptp-proto client gives up after `restart × max_transmissions` of its [`AuthTimers`](crate::ppp::auth::AuthTimers), 30 s by default) |
//! | [`AddressRequest`](crate::server::ServerEvent::AddressRequest) `{ connection, granted }` | only when [`ServerConfig::pool`] is `None`: call [`Server::assign_address`] with an [`IpAssignment`](crate::ppp::ipcp::IpAssignment) before IPCP runs (`granted` is the verifier's Framed-IP-Address, if it gave one) |
//! | [`Accounting`](crate::server::ServerEvent::Accounting) | with [`ServerConfig::accounting`](crate::server::ServerConfig::accounting): send the [`AccountingRecord`](crate::accounting::AccountingRecord) on (RADIUS Accounting-Request, a log) |
//! | [`SessionUp`](crate::server::ServerEvent::SessionUp) `{ connection, username, address }` | route `address` to `connection` |
//! | [`IpPacket`](crate::server::ServerEvent::IpPacket) `{ connection, packet }` | route the packet (to another client with [`Server::send_ip`], to a TUN device, …) |
//! | [`PasswordChanged`](crate::server::ServerEvent::PasswordChanged) `{ connection, username, new_password }` | store the new password |
//! | [`SessionDown`](crate::server::ServerEvent::SessionDown) `{ connection, reason }` | write out what `poll_stream_transmit` still holds for it, close its TCP, drop its route, then call [`Server::handle_stream_closed`] so the server frees the connection, its Call ID and its address. `reason` is a [`SessionDownReason`](crate::server::SessionDownReason): `Ppp(DownReason)`, `Control(CloseReason)` or `CallDown(CallDownReason)`, whichever happened first |
//!
//! A GRE packet names its call by the Call ID in its Key field, and anybody
//! can forge one. Pass [`Server::handle_datagram`] the packet's IPv4 source
//! address: the server refuses it
//! ([`ServerError::WrongSource`](crate::server::ServerError::WrongSource),
//! counted) unless it is the address the connection's TCP came from, given
//! to [`Server::accept`]. Call IDs are drawn at random, so a Call ID is not
//! guessable either. `handle_datagram` returns the connection and, like the
//! client's, an IP packet decrypted in place; its errors
//! ([`ServerError::UnknownCall`](crate::server::ServerError::UnknownCall),
//! [`ServerError::Tunnel`](crate::server::ServerError::Tunnel)) drop one
//! packet and change nothing.
//!
//! [`Server::accept`] fails with
//! [`ServerError::Full`](crate::server::ServerError::Full) past
//! [`ServerConfig::max_connections`] or when no Call ID in
//! [`ServerConfig::call_ids`] is free, and with
//! [`ServerError::Refused`](crate::server::ServerError::Refused) when
//! admission control says no (see [Deadlines and limits](#deadlines-and-limits)):
//! close that TCP connection at once.
//!
//! A session gets its address only once it has authenticated: from the
//! pool, or through [`ServerEvent::AddressRequest`](crate::server::ServerEvent::AddressRequest)
//! when there is no pool. Until then IPCP waits, so a client that never
//! authenticates holds no address, and one never gets an address it was
//! not assigned (the gateway's own, say). A pool with no free address ends
//! the session with [`SessionDownReason::NoAddress`](crate::server::SessionDownReason::NoAddress).
//! Every way down gives the address back.
//!
//! On Ctrl-C call [`Server::close`] for every connection, stop accepting,
//! and keep the loop running until every `SessionDown` has come and its TCP
//! is closed (give up after a few seconds: a dead client never answers its
//! Terminate-Request).
//!
//! ```
//! use std::collections::HashMap;
//! use std::net::Ipv4Addr;
//! use pptp_proto::crypto::Password;
//! use pptp_proto::ppp::auth::Credentials;
//! use pptp_proto::ppp::session::DownReason;
//! use pptp_proto::server::{
//!     AddressPool, ConnectionId, Server, ServerConfig, ServerEvent, SessionDownReason,
//! };
//! use pptp_proto::time::Instant;
//! use pptp_proto::tunnel::SEND_OVERHEAD;
//! use pptp_proto::wire::gre::{strip_ipv4, GreHeader};
//! # use std::collections::VecDeque;
//! # use pptp_proto::client::{Client, ClientConfig, ClientEvent};
//!
//! /// What the sockets produced while we waited.
//! enum Input {
//!     /// The listener accepted a TCP connection from this address.
//!     Accepted(Ipv4Addr),
//!     /// Bytes read from a connection's TCP.
//!     Tcp(ConnectionId, Vec<u8>),
//!     /// A connection's TCP reached EOF or failed.
//!     TcpClosed(ConnectionId),
//!     /// One datagram from the raw GRE socket, IPv4 header included.
//!     Gre(Vec<u8>),
//!     /// The deadline passed without input.
//!     Timeout,
//!     /// The operator pressed Ctrl-C.
//!     CtrlC,
//! }
//! # fn ipv4(src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
//! #     let total = u16::try_from(20 + payload.len()).unwrap().to_be_bytes();
//! #     let mut p = vec![0x45, 0, total[0], total[1], 0, 0, 0, 0, 64, 47, 0, 0];
//! #     p.extend_from_slice(&src);
//! #     p.extend_from_slice(&dst);
//! #     p.extend_from_slice(payload);
//! #     p
//! # }
//! # /// The far end: one pptp-proto client, in memory, at 192.0.2.7. It
//! # /// sends one ping once it is up; the operator presses Ctrl-C after the
//! # /// reply.
//! # struct Network { client: Client, conn: Option<ConnectionId>, inbox: VecDeque<Input>, replied: bool, interrupted: bool, closed: bool }
//! # const CLIENT: [u8; 4] = [192, 0, 2, 7];
//! # impl Network {
//! #     fn listen() -> Self {
//! #         let config = ClientConfig::new("alice", Password::new("secret").unwrap()).with_seed(99);
//! #         let inbox = VecDeque::from([Input::Accepted(CLIENT.into())]);
//! #         Network { client: Client::new(config), conn: None, inbox, replied: false, interrupted: false, closed: false }
//! #     }
//! #     fn connected(&mut self, now: Instant, conn: ConnectionId) {
//! #         self.conn = Some(conn);
//! #         self.client.start(now);
//! #     }
//! #     fn write_tcp(&mut self, now: Instant, _conn: ConnectionId, bytes: &[u8]) {
//! #         if !self.closed { self.client.handle_stream(now, bytes); }
//! #     }
//! #     fn close_tcp(&mut self, now: Instant, _conn: ConnectionId) {
//! #         self.closed = true;
//! #         self.client.handle_stream_closed(now);
//! #     }
//! #     fn send_gre(&mut self, now: Instant, to: Ipv4Addr, gre: &[u8]) {
//! #         assert_eq!(to, Ipv4Addr::from(CLIENT));
//! #         let mut d = gre.to_vec();
//! #         if let Ok(Some(_)) = self.client.handle_datagram(now, &mut d) { self.replied = true; }
//! #     }
//! #     fn wait(&mut self, mut now: Instant, deadline: Option<Instant>) -> (Instant, Input) {
//! #         loop {
//! #             assert!(now < Instant::from_secs(300), "the server never stopped");
//! #             while let Some(e) = self.client.poll_event() {
//! #                 if let ClientEvent::Up { local, peer, .. } = e {
//! #                     let mut ping = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0];
//! #                     ping.extend_from_slice(&local.octets());
//! #                     ping.extend_from_slice(&peer.octets());
//! #                     ping.extend_from_slice(&[8, 0, 0xf7, 0xff, 0, 0, 0, 0]);
//! #                     let mut out = vec![0u8; 1500];
//! #                     let r = self.client.send_ip(now, &ping, &mut out).unwrap();
//! #                     self.inbox.push_back(Input::Gre(ipv4(CLIENT, [192, 0, 2, 1], &out[r])));
//! #                 }
//! #             }
//! #             if let Some(conn) = self.conn {
//! #                 while let Some(b) = self.client.poll_stream_transmit() {
//! #                     if !self.closed { self.inbox.push_back(Input::Tcp(conn, b.to_vec())); }
//! #                 }
//! #             }
//! #             while let Some(d) = self.client.poll_datagram_transmit() {
//! #                 self.inbox.push_back(Input::Gre(ipv4(CLIENT, [192, 0, 2, 1], &d)));
//! #             }
//! #             if let Some(input) = self.inbox.pop_front() {
//! #                 return (now, input);
//! #             }
//! #             if self.replied && !self.interrupted {
//! #                 self.interrupted = true;
//! #                 return (now, Input::CtrlC);
//! #             }
//! #             match (deadline, self.client.poll_timeout()) {
//! #                 (Some(s), Some(c)) if c < s => { now = now.max(c); self.client.handle_timeout(now); }
//! #                 (Some(s), _) => return (now.max(s), Input::Timeout),
//! #                 (None, Some(c)) => { now = now.max(c); self.client.handle_timeout(now); }
//! #                 (None, None) => return (now, Input::Timeout),
//! #             }
//! #         }
//! #     }
//! # }
//!
//! /// What the server keeps per connection.
//! struct Peer {
//!     /// Where its TCP came from: its GRE must come from there too.
//!     addr: Ipv4Addr,
//!     /// Its tunnel address, once the session is up.
//!     tunnel: Option<Ipv4Addr>,
//! }
//!
//! let pool = AddressPool {
//!     local: [10, 0, 0, 1].into(),
//!     range: ([10, 0, 0, 10].into(), [10, 0, 0, 250].into()),
//!     dns: [Some([10, 0, 0, 1].into()), None],
//! };
//! let mut config = ServerConfig::new("vpn", pool);
//! // In a real program: from the operating system's RNG.
//! let mut server = Server::new(config.with_seed(0x1319_8a2e_0370_7344));
//! let users = HashMap::from([("alice", "secret")]);
//!
//! let mut net = Network::listen(); // TCP listener on port 1723, raw GRE socket
//! let mut peers: HashMap<ConnectionId, Peer> = HashMap::new();
//! let mut routes: HashMap<Ipv4Addr, ConnectionId> = HashMap::new();
//! let mut ended: Vec<(ConnectionId, SessionDownReason)> = Vec::new();
//! let mut stopping = false;
//! let mut out = vec![0u8; 1500 + SEND_OVERHEAD];
//! let mut now = Instant::ZERO;
//! loop {
//!     // 1. Drain until nothing moves: answering an event produces output.
//!     let mut closing = Vec::new();
//!     loop {
//!         let mut moved = false;
//!         while let Some((conn, bytes)) = server.poll_stream_transmit() {
//!             moved = true;
//!             net.write_tcp(now, conn, &bytes);
//!         }
//!         while let Some((conn, gre)) = server.poll_datagram_transmit() {
//!             moved = true;
//!             if let Some(peer) = peers.get(&conn) {
//!                 net.send_gre(now, peer.addr, &gre);
//!             }
//!         }
//!         while let Some(event) = server.poll_event() {
//!             moved = true;
//!             match event {
//!                 ServerEvent::AuthRequest { connection, username, .. } => {
//!                     let credentials = match users.get(username.as_str()) {
//!                         Some(p) => Credentials::Password(Password::new(p).unwrap()),
//!                         None => Credentials::Reject,
//!                     };
//!                     server.provide_credentials(now, connection, credentials);
//!                 }
//!                 ServerEvent::SessionUp { connection, address, .. } => {
//!                     routes.insert(address, connection);
//!                     if let Some(peer) = peers.get_mut(&connection) {
//!                         peer.tunnel = Some(address);
//!                     }
//!                 }
//!                 ServerEvent::IpPacket { connection, packet } => {
//!                     // Route it; here, send it back where it came from.
//!                     if let (Ok(range), Some(peer)) =
//!                         (server.send_ip(now, connection, &packet, &mut out), peers.get(&connection))
//!                     {
//!                         net.send_gre(now, peer.addr, &out[range]);
//!                     }
//!                 }
//!                 ServerEvent::SessionDown { connection, reason } => {
//!                     closing.push(connection);
//!                     ended.push((connection, reason));
//!                 }
//!                 _ => {} // PasswordChanged: store it; AddressRequest: no pool
//!             }
//!         }
//!         if !moved {
//!             break;
//!         }
//!     }
//!     // 2. Ended sessions: their last bytes are written; close their TCP.
//!     for conn in closing {
//!         net.close_tcp(now, conn);
//!         if let Some(Peer { tunnel: Some(address), .. }) = peers.remove(&conn) {
//!             routes.remove(&address);
//!         }
//!         server.handle_stream_closed(now, conn);
//!     }
//!     if stopping && peers.is_empty() {
//!         break;
//!     }
//!
//!     // 3. Wait for input, or until the server's deadline.
//!     let (t, input) = net.wait(now, server.poll_timeout());
//!     now = t;
//!     match input {
//!         Input::Accepted(addr) if !stopping => match server.accept(now, addr.into()) {
//!             Ok(conn) => {
//!                 peers.insert(conn, Peer { addr, tunnel: None });
//!                 net.connected(now, conn); // start reading its TCP
//!             }
//!             Err(_full_or_refused) => {} // close the new TCP connection at once
//!         },
//!         Input::Accepted(_) => {}
//!         Input::Tcp(conn, bytes) => {
//!             let _ = server.handle_stream(now, conn, &bytes);
//!         }
//!         Input::TcpClosed(conn) => {
//!             server.handle_stream_closed(now, conn);
//!             peers.remove(&conn);
//!         }
//!         Input::Gre(mut datagram) => {
//!             let Ok(gre) = strip_ipv4(&datagram) else { continue };
//!             let start = usize::from(datagram[0] & 0x0f) * 4;
//!             let gre = start..start + gre.len();
//!             let source = Ipv4Addr::new(datagram[12], datagram[13], datagram[14], datagram[15]);
//!             // Only the client that placed a call may send on its Call ID:
//!             // the server checks the source against the connection's peer.
//!             match server.handle_datagram(now, source.into(), &mut datagram[gre]) {
//!                 Ok((conn, Some(ip))) => {
//!                     // Route it, as for ServerEvent::IpPacket.
//!                     let ip = ip.to_vec();
//!                     if let Ok(range) = server.send_ip(now, conn, &ip, &mut out) {
//!                         net.send_gre(now, source, &out[range]);
//!                     }
//!                 }
//!                 Ok((_, None)) => {} // control traffic, an ack, or held for reordering
//!                 Err(_) => {}        // dropped: count it, log it, go on
//!             }
//!         }
//!         Input::Timeout => server.handle_timeout(now),
//!         Input::CtrlC => {
//!             stopping = true;
//!             for &conn in peers.keys() {
//!                 server.close(now, conn);
//!             }
//!         }
//!     }
//! }
//! assert_eq!(ended.len(), 1);
//! assert_eq!(ended[0].1, SessionDownReason::Ppp(DownReason::LocalClose));
//! assert_eq!(server.connection_count(), 0);
//! ```
//!
//! # RADIUS
//!
//! The crate speaks no RADIUS itself (it does no I/O); it hands the embedder
//! everything a RADIUS client needs and takes back everything an
//! Access-Accept says. `net/examples/server.rs --radius HOST[:PORT]
//! --radius-secret S` is a complete one (`net/examples/support/radius_nas.rs`, on
//! the [`radius`](https://crates.io/crates/radius) crate's packet format:
//! the maintained pure-Rust RADIUS codec, with every RFC dictionary's
//! attributes and the Request/Response Authenticators; what it lacks, RFC
//! 2548's Microsoft attributes with the salted MPPE keys and the HMAC-MD5
//! Message-Authenticator, is written there and tested in
//! `net/tests/radius_nas.rs`),
//! proven against FreeRADIUS in `net/tests/radius.rs` and in the interop suite
//! (pptp-linux + pppd → our server → FreeRADIUS).
//!
//! **What we send.** [`ServerEvent::AuthRequest`](crate::server::ServerEvent::AuthRequest)'s
//! [`AuthExchange`](crate::ppp::auth::AuthExchange) maps one to one onto
//! an Access-Request: User-Name; PAP's User-Password (RFC 2865 §5.2);
//! CHAP-MD5's CHAP-Password (identifier + response) and CHAP-Challenge;
//! MS-CHAPv1's MS-CHAP-Challenge and MS-CHAP-Response (ident, flags, LM
//! and NT responses); MS-CHAPv2's MS-CHAP-Challenge and MS-CHAP2-Response
//! (ident, flags, peer challenge, NT-Response) (RFC 2548 §2.3). The example
//! adds NAS-Identifier, NAS-Port (our Call ID), NAS-Port-Type Virtual,
//! Service-Type Framed, Framed-Protocol PPP, Calling-Station-Id (the
//! client's address) and Message-Authenticator (RFC 2869 §5.14).
//!
//! **What we accept.** [`Verdict::Accept`](crate::ppp::auth::Verdict::Accept)'s
//! [`Acceptance`](crate::ppp::auth::Acceptance): MS-MPPE-Send-Key and
//! MS-MPPE-Recv-Key (RFC 2548 §2.4.2–3, salted and encrypted with the
//! shared secret: the example decrypts them) as `mppe_keys` (send is
//! ours), or MS-CHAP-MPPE-Keys for MS-CHAPv1 (§2.4.1: the start key is
//! derived from its NT key and the challenge); MS-CHAP2-Success's `S=` as
//! `authenticator_response` (without it an MS-CHAPv2 client refuses the
//! server, as it must); Framed-IP-Address as `address`, which wins over the
//! pool and is never given to two sessions at once
//! ([`SessionDownReason::AddressInUse`](crate::server::SessionDownReason::AddressInUse));
//! Session-Timeout and Idle-Timeout, enforced by the server
//! ([`Deadline::Session`](crate::server::Deadline::Session),
//! [`Deadline::Idle`](crate::server::Deadline::Idle)); Acct-Interim-Interval
//! and Class, for accounting. [`Verdict::Reject`](crate::ppp::auth::Verdict::Reject)'s
//! [`Rejection`](crate::ppp::auth::Rejection) carries MS-CHAP-Error's code,
//! retry flag and message to the client (`E=691 R=0 … M=…`); with `R=1`
//! the client may answer a fresh challenge, up to
//! [`MAX_RETRIES`](crate::ppp::auth::MAX_RETRIES) times. A RADIUS server
//! that does not answer is a reject (the example tries 3 times, 3 s
//! apart); [`ServerConfig::verdict_timeout`](crate::server::ServerConfig::verdict_timeout)
//! bounds the wait whatever the embedder does.
//!
//! Nothing is leased before the verdict: the address is taken when
//! authentication succeeds and given back on every way down, so an
//! unauthenticated client holds no address and no accounting record.
//!
//! **Accounting.** With [`ServerConfig::accounting`](crate::server::ServerConfig::accounting)
//! the server reports an [`AccountingRecord`](crate::accounting::AccountingRecord)
//! when a session starts carrying IP, every interim interval, and after it
//! goes down: Acct-Session-Id, user, addresses, Call ID, session time,
//! packets and octets both ways, Class, and on stop an RFC 2866
//! Acct-Terminate-Cause mapped from the down reason
//! ([`TerminateCause::of`](crate::accounting::TerminateCause::of)): the
//! client's Terminate-Request or Call-Clear is User-Request, a vanished
//! client Lost-Carrier, our [`Server::close`] Admin-Reset, the timeouts
//! Idle-Timeout and Session-Timeout.
//!
//! **Disconnect.** RFC 5176 Disconnect-Request names a session by
//! Acct-Session-Id, User-Name or Framed-IP-Address; the example listens
//! for it (`--radius-coa-port`, 3799 by default), calls [`Server::close`]
//! for the session it names and answers Disconnect-ACK, or Disconnect-NAK
//! with Error-Cause 503 when there is none.
//!
//! **Several servers, one RADIUS.** Run each server with its own
//! [`ServerConfig::call_ids`](crate::server::ServerConfig::call_ids) range
//! (disjoint, so a Call ID, and the NAS-Port sent with it, names one
//! session across the fleet) and its own NAS-Identifier, and let RADIUS
//! hand out the addresses (Framed-IP-Address from an SQL or LDAP pool, as
//! FreeRADIUS's `sqlippool` does) rather than each server's own pool:
//! then no two servers give out the same address, sessions per user can
//! be limited fleet-wide (FreeRADIUS's `Simultaneous-Use` over the
//! accounting records), and a Disconnect-Request goes to the server named
//! by the session's NAS-IP-Address. Seed each server from the OS: the
//! Acct-Session-Id's first half is drawn from it, so ids do not repeat
//! across servers or restarts.
//!
//! **EAP.** Three ways, chosen by the server's `auth` list
//! ([`AuthMethod`](crate::ppp::lcp::AuthMethod)):
//! [`EapMd5`](crate::ppp::lcp::AuthMethod::EapMd5) and
//! [`EapMsChapV2`](crate::ppp::lcp::AuthMethod::EapMsChapV2) run the method
//! here and ask the embedder exactly as CHAP-MD5 and MS-CHAPv2 do (their
//! `AuthExchange` is `ChapMd5` and `MsChapV2`: the same CHAP-Password and
//! MS-CHAP2-Response attributes check them, the keys and `S=` come back the
//! same way); [`Eap`](crate::ppp::lcp::AuthMethod::Eap) is pass-through
//! (RFC 3579): once the client gave its EAP Identity, every EAP Response is
//! an `AuthRequest` with [`AuthExchange::Eap`](crate::ppp::auth::AuthExchange::Eap),
//! sent as EAP-Message attributes (253 octets each) with the last
//! Access-Challenge's State and a Message-Authenticator, and the answer
//! maps one to one: Access-Challenge's EAP-Message is
//! [`Verdict::Challenge`](crate::ppp::auth::Verdict::Challenge) (relayed as
//! is), Access-Accept is `Accept` (the client gets EAP-Success; PEAP's and
//! EAP-MSCHAPv2's MS-MPPE keys are the session's) and Access-Reject is
//! `Reject` (EAP-Failure). RADIUS then runs any method, PEAP and EAP-TLS
//! included, with no TLS in the crate; an answer with EAP-Message but no
//! valid Message-Authenticator is not authentic (RFC 3579 §3.2), and at
//! most [`MAX_EAP_ROUNDS`](crate::ppp::auth::MAX_EAP_ROUNDS) Requests are
//! relayed. `verdict_timeout` runs again from each `AuthRequest`, and
//! `establish_timeout` bounds the whole exchange.
//!
//! # Seeing what the tunnel does
//!
//! - **Counters.** [`Client::stats`] and [`Server::stats`] return
//!   [`GreStats`](crate::gre::GreStats) (packets sent and received, lost,
//!   reordered, duplicate, window full, ack timeouts) and
//!   [`PppStats`](crate::ppp::session::PppStats) (IP packets and bytes each
//!   way, drops, MPPE/MPPC discards and Reset-Requests, compression bytes),
//!   plus the echo round-trip time, at any moment and without allocating.
//! - **Taps.** A [`Tap`](crate::tap::Tap) attached with `set_tap` sees every
//!   control-connection chunk, every GRE packet as on the wire and every
//!   inner IP packet in clear. With the `pcap` feature, `pcap::PcapWriter`
//!   is such a tap: it writes Ethernet/IPv4/TCP/GRE frames Wireshark
//!   dissects (`cargo run --example loopback -- --pcap s.pcap`).
//! - **Logs.** With the `tracing` feature, every control message and PPP
//!   packet is a `tracing` event in pppd's log format (control at DEBUG, data
//!   at TRACE), inside `pptp_client{call}` and `pptp_session{conn, call,
//!   user}` spans, with why an option was Nak'ed or Rejected, phase changes
//!   and the reason a link went down. Without the feature nothing of it is
//!   compiled in.
//!
//! # Configuration knobs
//!
//! [`ClientConfig::new`] and [`ServerConfig::new`] give working defaults:
//! MS-CHAPv2 only, MPPE-128 required (stateless preferred), MRU 1400,
//! DNS requested, PPTP echo every 60 s, LCP echo off. Every field is public;
//! change it before `Client::new` / `Server::new`.
//!
//! The common changes have builders named after the pppd options people
//! already know, the same on `ClientConfig`, `ServerConfig` and
//! [`SessionConfig`](crate::ppp::session::SessionConfig#pppd-options):
//!
//! | builder | pppd |
//! | --- | --- |
//! | `with_auth(&[AuthMethod::Pap])` | `require-pap` (server), `refuse-chap refuse-mschap refuse-mschap-v2` (client) |
//! | `with_mppe(CcpConfig::nomppe())`, `require_mppe_128()`, `require_mppe_40()`, `.stateful(false)` | `nomppe`, `require-mppe-128`, `require-mppe-40`, `mppe-stateful` |
//! | `with_mtu(1400)`, `with_mru(1400)` | `mtu 1400`, `mru 1400` |
//! | `with_lcp_echo(Duration::from_secs(30), 4)` | `lcp-echo-interval 30 lcp-echo-failure 4` |
//! | `with_mppc(true)` | (pppd has no MPPC; Windows' "compression") |
//! | `ServerConfig::with_idle_timeout(Duration::from_secs(600))` | `idle 600` |
//!
//! The fields stay public as well, and the builders set exactly the fields
//! they name: a configuration is plain data the embedder can build with
//! struct-update syntax, compare, print and keep in its own config file;
//! setters over private fields would add nothing but a second way to do
//! the same, and hide from a reader which knob a builder turns. PAP and
//! CHAP-MD5 give no MPPE keys: with the default `require-mppe-128` they end
//! as [`DownReason::NoMppeKeys`], so pair them with `with_mppe(CcpConfig::nomppe())`.
//!
//! ## The facades
//!
//! | field | default | meaning | RFC |
//! | --- | --- | --- | --- |
//! | [`ClientConfig::control`] | [`ControlConfig::new`](crate::control::ControlConfig::new)`(Role::Pns)` | the control connection; the role is forced to PNS | RFC 2637 §2, §3 |
//! | [`ClientConfig::gre`] | [`GreConfig::new`](crate::gre::GreConfig::new)`(0, 0)` | GRE; Call IDs and the peer's window are filled in when the call comes up | RFC 2637 §4 |
//! | [`ClientConfig::ppp`] | [`SessionConfig::peer`](crate::ppp::session::SessionConfig::peer)`(username, password)` | PPP as the authenticated peer | RFC 1661 |
//! | [`ClientConfig::with_mppc`] | off | sets `ppp.ccp.mppc` | RFC 2118 |
//! | [`ClientConfig::with_seed`] | seed 0 | sets `control.seed` and `ppp.seed` | — |
//! | [`ServerConfig::with_seed`] | seed 0 | sets `control.seed` and `ppp.seed` | — |
//! | [`ServerConfig::control`] | `ControlConfig::new(Role::Pac)` | template for each connection: role, `call_ids` and `max_calls` (1) are overwritten, the seed is mixed with the connection number | RFC 2637 §2, §3 |
//! | [`ServerConfig::gre`] | `GreConfig::new(0, 0)` | template for each call's GRE | RFC 2637 §4 |
//! | [`ServerConfig::ppp`] | [`SessionConfig::authenticator`](crate::ppp::session::SessionConfig::authenticator)`(name)` | template for each session; `name` goes in CHAP Challenges | RFC 1661, RFC 1994 §4.1 |
//! | [`ServerConfig::pool`] | `Some(pool)` | [`AddressPool`](crate::server::AddressPool): our tunnel address (`local`), the clients' range (inclusive) and two DNS servers; `None` raises [`ServerEvent::AddressRequest`] per session | RFC 1332 §3.3, RFC 1877 §1 |
//! | [`ServerConfig::call_ids`] | `(1, 65535)` | the Call IDs this server hands out; shards behind one GRE socket take disjoint ranges ([`Server::owns_call_id`]) | RFC 2637 §3.2.2 |
//! | [`ServerConfig::max_connections`] | 10 000 | more makes [`Server::accept`] fail with `ServerError::Full` | — |
//!
//! ## [`ControlConfig`](crate::control::ControlConfig) (PPTP control connection)
//!
//! | field | default | meaning | RFC 2637 |
//! | --- | --- | --- | --- |
//! | [`role`](crate::control::ControlConfig::role) | the argument of `new` | PNS (client) or PAC (server); the facades set it | §1.2 |
//! | [`host_name`](crate::control::ControlConfig::host_name) | `"pptp-proto"` | Host Name in SCCRQ/SCCRP, at most 64 bytes | §2.1, §2.2 |
//! | [`vendor`](crate::control::ControlConfig::vendor) | `"pptp-proto"` | Vendor String, at most 64 bytes | §2.1, §2.2 |
//! | [`firmware_revision`](crate::control::ControlConfig::firmware_revision) | 1 | Firmware Revision | §2.1, §2.2 |
//! | [`framing`](crate::control::ControlConfig::framing) | asynchronous + synchronous | Framing Capabilities, and the framing of our calls | §2.1, §2.7 |
//! | [`bearer`](crate::control::ControlConfig::bearer) | analog + digital | Bearer Capabilities, and the bearer of our calls | §2.1, §2.7 |
//! | [`max_calls`](crate::control::ControlConfig::max_calls) | 16 | calls at once; sent as Maximum Channels (the server forces 1) | §2.1, §2.2 |
//! | [`call_ids`](crate::control::ControlConfig::call_ids) | `(0, 65535)` | Call IDs we allocate, inclusive (the server sets one per connection) | §3.2.2 |
//! | [`receive_window`](crate::control::ControlConfig::receive_window) | 16384 | Packet Recv. Window Size announced in OCRQ/OCRP: Windows' value. Every packet is handed on as it arrives, so it is honest; 64 held a window-keeping sender (Windows) to 3.3 Mbit/s at 200 ms | §2.7, §2.8, §4.2.1 |
//! | [`connect_speed`](crate::control::ControlConfig::connect_speed) | 100 000 000 bit/s | the PAC's Connect Speed in OCRP | §2.8 |
//! | [`echo_interval`](crate::control::ControlConfig::echo_interval) | 60 s | quiet time before we send an Echo-Request | §3.1.4, §2.5 |
//! | [`echo_timeout`](crate::control::ControlConfig::echo_timeout) | 60 s | wait for the Echo-Reply, then close ([`CloseReason::EchoTimeout`](crate::control::CloseReason::EchoTimeout)) | §3.1.4 |
//! | [`reply_timeout`](crate::control::ControlConfig::reply_timeout) | 60 s | wait for SCCRP, OCRP or StopCCRP | §3.1.4, §3.2.4 |
//! | [`max_queued`](crate::control::ControlConfig::max_queued) | 64 | messages waiting in `poll_stream_transmit` before the connection closes ([`CloseReason::OutputFull`](crate::control::CloseReason::OutputFull)) | — |
//! | [`addresses`](crate::control::ControlConfig::addresses) | `None` | our address and the peer's, for the SCCRQ collision rule; unknown: the PAC wins | §3.1.3 |
//! | [`seed`](crate::control::ControlConfig::seed) | 0 | Call IDs, call serial numbers, echo identifiers | — |
//!
//! ## [`GreConfig`](crate::gre::GreConfig) (enhanced GRE of one call)
//!
//! | field | default | meaning | RFC 2637 |
//! | --- | --- | --- | --- |
//! | [`call_id`](crate::gre::GreConfig::call_id) | the argument of `new` (0 in the facades) | our Call ID, expected in the Key of packets to us; the facades fill it in | §4.1 |
//! | [`peer_call_id`](crate::gre::GreConfig::peer_call_id) | the argument of `new` | the peer's Call ID, put in the Key; the facades fill it in | §4.1 |
//! | [`peer_window`](crate::gre::GreConfig::peer_window) | 64 | the peer's announced receive window; the facades take it from the peer's OCRQ/OCRP | §4.2, §4.2.1 |
//! | [`send_queue`](crate::gre::GreConfig::send_queue) | 64 | IP packets a session holds while the peer's window is full; `send_ip` answers [`TunnelError::Queued`](crate::tunnel::TunnelError::Queued) and the packet comes out of the datagram poll once acknowledgments open the window; beyond it, `WindowFull` | §4.4 |
//! | [`window_policy`](crate::gre::GreConfig::window_policy) | [`Advisory`](crate::gre::WindowPolicy::Advisory)` { at_least: 512 }` | how the window bounds what we have unacknowledged: [`Strict`](crate::gre::WindowPolicy::Strict) is RFC 2637 to the letter (pptp-linux's window 3 at 50 ms: 0.2 Mbit/s); advisory keeps the larger of the window and 512 in flight and does not wait for a peer that acknowledges nothing (the Linux kernel); real receivers enforce no window (`tests/wan_sessions.rs`, BENCHMARKS.md) | §4.4 |
//! | [`receive_window`](crate::gre::GreConfig::receive_window) | 16384 | our window; the facades set it from `ControlConfig::receive_window`, which is what the peer is told | §4.2.1 |
//! | [`ack_after`](crate::gre::GreConfig::ack_after) | 32 | an ack goes out alone, at once, when this many packets (or half our window, if fewer) are unacknowledged | §4.2 |
//! | [`reorder_packets`](crate::gre::GreConfig::reorder_packets) | 16 | packets held to restore order; 0 delivers out of order at once (as Linux) | §4.3 |
//! | [`reorder_timeout`](crate::gre::GreConfig::reorder_timeout) | 100 ms | how long a gap is waited for | §4.3 |
//! | [`ack_delay`](crate::gre::GreConfig::ack_delay) | 100 ms | how long an ack waits for data to ride on | §4.2 |
//! | [`initial_ack_timeout`](crate::gre::GreConfig::initial_ack_timeout) | 1 s | ack timeout before the first round-trip sample | §4.4, §4.4.1 |
//! | [`min_ack_timeout`](crate::gre::GreConfig::min_ack_timeout) | 100 ms | lower bound of the adaptive ack timeout | §4.4.1 |
//! | [`max_ack_timeout`](crate::gre::GreConfig::max_ack_timeout) | 10 s | upper bound (MaxTimeOut) | §4.4.1, §4.4.2 |
//! | [`initial_sequence`](crate::gre::GreConfig::initial_sequence) | 0 | our first sequence number (pptpd starts at 0, pptp-linux at 1) | §4.1 |
//! | [`max_frame`](crate::gre::GreConfig::max_frame) | 2048 | largest PPP frame the reorder buffer takes | — |
//! | [`max_jump`](crate::gre::GreConfig::max_jump) / [`jump_evidence`](crate::gre::GreConfig::jump_evidence) | 1024 / 4 | a sequence number farther ahead moves the window only after this many consecutive such packets with no in-window one between ([`DropReason::FarAhead`](crate::gre::DropReason::FarAhead)) | §4.3 |
//!
//! ## [`SessionConfig`](crate::ppp::session::SessionConfig) (PPP)
//!
//! | field | default | meaning | RFC |
//! | --- | --- | --- | --- |
//! | [`role`](crate::ppp::session::SessionConfig::role) | `Peer` from `peer()`, `Authenticator` from `authenticator()` | which side authenticates | RFC 1661 §3.5 |
//! | [`fsm`](crate::ppp::session::SessionConfig::fsm) | [`FsmConfig::default`](crate::ppp::fsm::FsmConfig) | counters and Restart timer of LCP, IPCP, IPv6CP and CCP (below) | RFC 1661 §4.6 |
//! | [`lcp`](crate::ppp::session::SessionConfig::lcp) | [`LcpConfig::default`](crate::ppp::lcp::LcpConfig) | below | RFC 1661 §6 |
//! | [`echo`](crate::ppp::session::SessionConfig::echo) | [`EchoConfig::default`](crate::ppp::lcp::EchoConfig): off | LCP echo keepalive (below) | RFC 1661 §5.8 |
//! | [`ipcp`](crate::ppp::session::SessionConfig::ipcp) | [`IpcpConfig::default`](crate::ppp::ipcp::IpcpConfig) | below | RFC 1332, RFC 1877 |
//! | [`ipv6`](crate::ppp::session::SessionConfig::ipv6) | `false` | run IPv6CP; off, the peer's IPv6CP gets a Protocol-Reject (as pppd without `+ipv6`) | RFC 5072 §4, RFC 1661 §5.7 |
//! | [`ccp`](crate::ppp::session::SessionConfig::ccp) | [`CcpConfig::default`](crate::ppp::ccp::CcpConfig) | MPPE/MPPC policy (below) | RFC 1962, RFC 3078, RFC 2118 |
//! | [`auth`](crate::ppp::session::SessionConfig::auth) | [`AuthConfig::Peer`](crate::ppp::session::AuthConfig::Peer) or [`AuthConfig::Authenticator`](crate::ppp::session::AuthConfig::Authenticator) | credentials or the authenticator's name, and the timers (below) | RFC 1334, 1994, 2433, 2759 |
//! | [`seed`](crate::ppp::session::SessionConfig::seed) | 0 | magic numbers, challenges, identifiers | RFC 1661 §6.4 |
//! | [`max_queued_frames`](crate::ppp::session::SessionConfig::max_queued_frames) | 32 | control frames queued for GRE; more are dropped and counted | — |
//!
//! [`FsmConfig`](crate::ppp::fsm::FsmConfig):
//!
//! | field | default | meaning | RFC |
//! | --- | --- | --- | --- |
//! | [`restart_timer`](crate::ppp::fsm::FsmConfig::restart_timer) | 3 s | Restart timer: retransmission of Configure-Request and Terminate-Request | RFC 1661 §4.6 |
//! | [`max_terminate`](crate::ppp::fsm::FsmConfig::max_terminate) | 2 | Max-Terminate: Terminate-Requests without a Terminate-Ack | RFC 1661 §4.6 |
//! | [`max_configure`](crate::ppp::fsm::FsmConfig::max_configure) | 10 | Max-Configure: Configure-Requests without an answer; exhausted in LCP it is [`DownReason::LcpTimeout`] (30 s with the Restart timer) | RFC 1661 §4.6 |
//! | [`max_failure`](crate::ppp::fsm::FsmConfig::max_failure) | 5 | Max-Failure: Configure-Naks without an Ack before rejecting instead | RFC 1661 §4.6 |
//! | [`peer_mru`](crate::ppp::fsm::FsmConfig::peer_mru) | 1500 | a Code-Reject is cut to fit it; the session updates it once LCP is up | RFC 1661 §5.6 |
//! | [`max_queued_packets`](crate::ppp::fsm::FsmConfig::max_queued_packets) | 8 | packets queued by one automaton | — |
//! | [`early_resend`](crate::ppp::fsm::FsmConfig::early_resend) | 100 ms | the peer's first Configure-Request of an NCP arrived and ours has had no answer: ours again this soon instead of after the Restart timer (accel-ppp drops NCP packets before it starts the protocol); off for LCP | RFC 1661 §4.6 (a Restart timer cut short) |
//! | [`hold_ack_until_answered`](crate::ppp::fsm::FsmConfig::hold_ack_until_answered) | off (on for CCP in the peer role) | our Configure-Ack waits until the peer answered our request (accel-ppp's kernel starts its MPPE decompressor only if our Ack comes after it marked CCP open) | — |
//!
//! [`LcpConfig`](crate::ppp::lcp::LcpConfig):
//!
//! | field | default | meaning | RFC 1661 |
//! | --- | --- | --- | --- |
//! | [`mru`](crate::ppp::lcp::LcpConfig::mru) | 1400 | the MRU we ask for (1500, the protocol default, is not requested at all) | §6.1 |
//! | [`min_mru`](crate::ppp::lcp::LcpConfig::min_mru) | 576 | the smallest MRU we accept from the peer; lower is Nak'ed | §6.1 |
//! | [`mtu`](crate::ppp::lcp::LcpConfig::mtu) | 1500 | pppd's `mtu`: the largest frame we send; the session MTU is the smaller of it and the peer's MRU | §6.1 |
//! | [`pfc`](crate::ppp::lcp::LcpConfig::pfc) | `true` | ask for Protocol-Field-Compression | §6.5 |
//! | [`acfc`](crate::ppp::lcp::LcpConfig::acfc) | `true` | ask for Address-and-Control-Field-Compression | §6.6 |
//! | [`auth`](crate::ppp::lcp::LcpConfig::auth) | `[MsChapV2]` | authenticator: methods demanded, preferred first; peer: methods accepted ([`AuthMethod`](crate::ppp::lcp::AuthMethod): `Pap` RFC 1334, `ChapMd5` RFC 1994, `MsChapV1` RFC 2433, `MsChapV2` RFC 2759) | §6.2 |
//!
//! The magic number (§6.4) is always negotiated, from the seed; after ten
//! signs of our own magic number coming back (in the peer's
//! Configure-Requests, its Naks or Echo-Replies) the link ends with
//! [`DownReason::LoopedBack`].
//!
//! [`EchoConfig`](crate::ppp::lcp::EchoConfig):
//!
//! | field | default | meaning | RFC 1661 |
//! | --- | --- | --- | --- |
//! | [`interval`](crate::ppp::lcp::EchoConfig::interval) | `None` (off, as pppd) | time between LCP Echo-Requests | §5.8 |
//! | [`max_failures`](crate::ppp::lcp::EchoConfig::max_failures) | 3 | unanswered Echo-Requests in a row before [`DownReason::EchoTimeout`] (pppd's `lcp-echo-failure`); 0 counts as 1 | §5.8 |
//!
//! [`IpcpConfig`](crate::ppp::ipcp::IpcpConfig) (read by the peer side):
//!
//! | field | default | meaning | RFC |
//! | --- | --- | --- | --- |
//! | [`local`](crate::ppp::ipcp::IpcpConfig::local) | `None` | the address to ask for; `None` asks for 0.0.0.0, "assign me one" | RFC 1332 §3.3 |
//! | [`request_dns`](crate::ppp::ipcp::IpcpConfig::request_dns) | `true` | ask for primary and secondary DNS (options 129, 131) | RFC 1877 §1.1, §1.3 |
//! | [`request_nbns`](crate::ppp::ipcp::IpcpConfig::request_nbns) | `false` | ask for NBNS/WINS servers (options 130, 132) | RFC 1877 §1.2, §1.4 |
//!
//! [`CcpConfig`](crate::ppp::ccp::CcpConfig):
//!
//! | field | default | meaning | RFC |
//! | --- | --- | --- | --- |
//! | [`mppe`](crate::ppp::ccp::CcpConfig::mppe) | [`MppeRequirement::Required`](crate::ppp::ccp::MppeRequirement::Required) | `Required`: no plaintext IP either way, the link goes down without MPPE ([`DownReason::MppeRefused`]); `Optional`: plaintext if the peer refuses; `Refused`: CCP does not run (unless `mppc`) | RFC 3078 §2, RFC 1962 §2 |
//! | [`strengths`](crate::ppp::ccp::CcpConfig::strengths) | [`MppeBits::BITS_128`](crate::wire::mppe::MppeBits::BITS_128) | key lengths allowed: any of `BITS_40`, `BITS_56`, `BITS_128` | RFC 3078 §2, RFC 3079 |
//! | [`stateless`](crate::ppp::ccp::CcpConfig::stateless) | [`StatelessPolicy::Preferred`](crate::ppp::ccp::StatelessPolicy::Preferred) | the H bit: `Required`, `Preferred` (stateful accepted, as Windows) or `Refused` | RFC 3078 §2, §8.1, §8.2 |
//! | [`reset_rekeys`](crate::ppp::ccp::CcpConfig::reset_rekeys) | `true` | stateful mode only: a CCP Reset-Request makes the sender derive a new key (Linux `ppp_mppe`); `false` restarts RC4 with the current key, which reuses keystream (anyone can send a Reset-Request in clear). A receiver follows a peer that does the other, found from the FLUSHED packet | RFC 3078 §8.2, RFC 1962 §2.2 |
//! | [`verify_protocol`](crate::mppe::MppeOptions::verify_protocol) | `true` | a decrypted packet must start with a PPP protocol before its key is kept: forged stateless counts cannot move the key chain, a stateful receiver finds a FLUSHED packet's key | — |
//! | [`CATCH_UP_BUDGET`](crate::mppe::CATCH_UP_BUDGET) / [`CATCH_UP_REFILL`](crate::mppe::CATCH_UP_REFILL) | 8 192 / 32 | stateless catch-up rekeys one receiver may spend, refilled per accepted packet ([`MppeError::RekeyBudget`](crate::mppe::MppeError::RekeyBudget)) | — |
//! | [`mppc`](crate::ppp::ccp::CcpConfig::mppc) | `false` | offer and accept MPPC compression (the C bit), with MPPE or alone | RFC 2118 §2 |
//!
//! Authentication ([`PeerConfig`](crate::ppp::session::PeerConfig),
//! [`AuthenticatorConfig`](crate::ppp::session::AuthenticatorConfig) and
//! their [`AuthTimers`](crate::ppp::auth::AuthTimers)):
//!
//! | field | default | meaning | RFC |
//! | --- | --- | --- | --- |
//! | [`PeerConfig::username`](crate::ppp::session::PeerConfig::username) | the argument of `peer()` | sent as given; MS-CHAP hashes the part after a `DOMAIN\` | RFC 2759 §5, RFC 2433 |
//! | [`PeerConfig::password`](crate::ppp::session::PeerConfig::password) | the argument of `peer()` | at most 256 characters ([`Password::new`](crate::crypto::Password::new)) | RFC 2759 §8 |
//! | [`PeerConfig::new_password`](crate::ppp::session::PeerConfig::new_password) | `None` | MS-CHAPv2: the password to change to when the server says `E=648` | RFC 2759 §7, §8.9 |
//! | [`AuthenticatorConfig::name`](crate::ppp::session::AuthenticatorConfig::name) | the argument of `authenticator()` | our name in CHAP Challenges | RFC 1994 §4.1 |
//! | [`AuthTimers::restart`](crate::ppp::auth::AuthTimers::restart) | 3 s | retransmission interval (Challenge, PAP Authenticate-Request) | RFC 1994 §4.1, RFC 1334 §2 |
//! | [`AuthTimers::max_transmissions`](crate::ppp::auth::AuthTimers::max_transmissions) | 10 | transmissions before [`AuthFailure::Timeout`](crate::ppp::auth::AuthFailure::Timeout); a peer waits `restart × max_transmissions` (30 s) for a Challenge or an answer | RFC 1994 §4.1 |
//!
//! # Deadlines and limits
//!
//! Port 1723 on the Internet is scanned within minutes. Nothing a client
//! does holds a resource past a deadline; each ends the connection with its
//! own reason and counter ([`Server::counters`](crate::server::Server::counters)).
//!
//! | deadline or limit | default | ends with | counter |
//! | --- | --- | --- | --- |
//! | first control message after `accept` ([`ControlConfig::start_timeout`](crate::control::ControlConfig::start_timeout)) | 5 s (accel-ppp's `timeout`) | `Control(StartTimeout)` | `start_timeouts` |
//! | a control message once begun ([`ControlConfig::message_timeout`](crate::control::ControlConfig::message_timeout)) | 10 s | `Control(MessageTimeout)` | `message_timeouts` |
//! | accept to carrying IP ([`ServerConfig::establish_timeout`](crate::server::ServerConfig::establish_timeout)) | 60 s | `Deadline(Establish)` | `establish_timeouts` |
//! | the embedder's verdict on an `AuthRequest` ([`ServerConfig::verdict_timeout`](crate::server::ServerConfig::verdict_timeout)) | 30 s | `Deadline(Verdict)` | `verdict_timeouts` |
//! | no IP either way ([`ServerConfig::idle_timeout`](crate::server::ServerConfig::idle_timeout), pppd's `idle`) | off | `Deadline(Idle)` | `idle_timeouts` |
//! | connections at once per source address ([`ServerConfig::max_connections_per_source`](crate::server::ServerConfig::max_connections_per_source)) | 64 | refused at `accept` | `refused_source_connections` |
//! | accepts per source address per second ([`ServerConfig::max_accepts_per_source_per_second`](crate::server::ServerConfig::max_accepts_per_source_per_second)) | 16 | refused at `accept` | `refused_source_rate` |
//! | sessions per user name ([`ServerConfig::max_sessions_per_user`](crate::server::ServerConfig::max_sessions_per_user), pppd's and accel-ppp's `single-session` is 1) | off | `UserLimit`, after authenticating | `user_limit` |
//! | connections ([`ServerConfig::max_connections`]) | 10 000 | refused at `accept` | `refused_full` |
//! | GRE from another address than the call's peer | — | the packet is dropped | `wrong_source` |
//!
//! A server with no connections has no timer
//! ([`Server::poll_timeout`](crate::server::Server::poll_timeout) is `None`).
//! `tests/hostile.rs` drives each of these as an attacker would.
//!
//! # Troubleshooting
//!
//! Both sides report why a session ended with one type,
//! [`SessionDownReason`]: a client in [`ClientEvent::Down`], a server in
//! [`ServerEvent::SessionDown`]. [`Ppp`](crate::tunnel::SessionDownReason::Ppp)`(`[`DownReason`]`)`
//! when PPP ended, [`Control`](crate::tunnel::SessionDownReason::Control)`(`[`CloseReason`](crate::control::CloseReason)`)`
//! when the control connection closed first, and
//! [`CallDown`](crate::tunnel::SessionDownReason::CallDown)`(`[`CallDownReason`](crate::control::CallDownReason)`)`
//! when the call was refused or cleared; a server adds its deadlines, an
//! exhausted pool and the per-user limit. The counters in
//! [`Client::stats`] ([`GreStats`](crate::gre::GreStats),
//! [`PppStats`](crate::ppp::session::PppStats)) tell the rest.
//!
//! Both report the first cause: when the control connection closes under a
//! running session they say `Control(`[`CloseReason`](crate::control::CloseReason)`)`,
//! when the peer clears the call `CallDown`, not the PPP consequence
//! ([`DownReason::LowerLayerDown`]); a peer that ends PPP first (LCP
//! Terminate-Request) and then the call is reported as
//! `Ppp(`[`DownReason::PeerTerminated`]`)`.
//!
//! | symptom | what the crate reports | what to check |
//! | --- | --- | --- |
//! | `Connected` and `CallUp` arrive, then nothing for 30 s | [`DownReason::LcpTimeout`]: LCP's Configure-Requests went unanswered (Max-Configure × Restart timer) | GRE does not get through: a firewall or NAT drops IP protocol 47 (it is not TCP or UDP; many home routers need a "PPTP passthrough" setting, and only one client behind a NAT may work); the raw socket is not open or not root/`CAP_NET_RAW`; the datagrams are handed over with their IPv4 header (use `strip_ipv4`); the GRE goes to the wrong address. [`GreStats::received`](crate::gre::GreStats::received) stays 0. If the server's pppd gives up first, the call or TCP goes away instead (`Ppp(LowerLayerDown)`) |
//! | the TCP connect itself fails or hangs | nothing: the crate sees no connection | TCP port 1723 blocked, or no server listening |
//! | no answer to SCCRQ within 60 s | `Control(`[`CloseReason::HandshakeTimeout`](crate::control::CloseReason::HandshakeTimeout)`)` | something listens on 1723 that is not a PPTP server |
//! | the server refuses the control connection | `Control(`[`CloseReason::Refused`](crate::control::CloseReason::Refused)`(result, error))` or `Control(`[`CloseReason::BadVersion`](crate::control::CloseReason::BadVersion)`(v))` | the result code says why (RFC 2637 §2.2) |
//! | the server refuses the call | [`SessionDownReason::CallDown`] (also when the server clears a running call) | the server's call limit (pptpd: one call per connection) and its logs |
//! | the server stops the control connection | `Control(`[`CloseReason::PeerStop`](crate::control::CloseReason::PeerStop)`(reason))`, before or after the call is up | the server is shutting down or was reconfigured |
//! | TCP closes under us | `Control(`[`CloseReason::StreamClosed`](crate::control::CloseReason::StreamClosed)`)` | the server or a middlebox reset the connection. pptpd closes TCP right after a Call-Clear-Request without sending Call-Disconnect-Notify: after our own close this is normal |
//! | the peer's control messages stop | `Control(`[`CloseReason::EchoTimeout`](crate::control::CloseReason::EchoTimeout)`)`, after up to `echo_interval + echo_timeout` (2 min) | the server or the path died; a NAT dropped the TCP mapping. The LCP echo ([`EchoConfig`](crate::ppp::lcp::EchoConfig)) notices sooner and says [`DownReason::EchoTimeout`] |
//! | garbage on TCP | `Control(`[`CloseReason::Malformed`](crate::control::CloseReason::Malformed)`(e))` | a proxy or TLS in the path; not a PPTP server |
//! | the connection closes under load | `Control(`[`CloseReason::OutputFull`](crate::control::CloseReason::OutputFull)`)` | your loop does not drain `poll_stream_transmit` after every call |
//! | wrong user name or password | [`DownReason::AuthFailed`]`(`[`AuthFailure::BadPassword`](crate::ppp::auth::AuthFailure::BadPassword)`)`; on the wire the CHAP Failure says `E=691` (or a PAP Nak, a CHAP-MD5 Failure) | the credentials; `DOMAIN\user` form; on our server, your `AuthRequest` answer |
//! | expired password | `AuthFailed(`[`PasswordExpired`](crate::ppp::auth::AuthFailure::PasswordExpired)`)`, `E=648` | set [`PeerConfig::new_password`](crate::ppp::session::PeerConfig::new_password) to change it (MS-CHAPv2 only); a server signals it with [`Credentials::Expired`](crate::ppp::auth::Credentials::Expired) |
//! | account disabled, wrong hours, no dial-in right | `AuthFailed(`[`AccountDisabled`](crate::ppp::auth::AuthFailure::AccountDisabled)`)` (`E=647`), [`RestrictedLogonHours`](crate::ppp::auth::AuthFailure::RestrictedLogonHours) (`E=646`), [`NoDialinPermission`](crate::ppp::auth::AuthFailure::NoDialinPermission) (`E=649`), [`Other`](crate::ppp::auth::AuthFailure::Other)`(code)` | the account on the server (Windows RRAS, RADIUS) |
//! | the server's `S=` does not match | `AuthFailed(`[`AuthenticatorMismatch`](crate::ppp::auth::AuthFailure::AuthenticatorMismatch)`)` | the server does not know the password: a man in the middle, or a RADIUS verdict without the authenticator response |
//! | no Challenge or answer arrives | `AuthFailed(`[`Timeout`](crate::ppp::auth::AuthFailure::Timeout)`)` | GRE lost one way; on our server, an `AuthRequest` never answered |
//! | our server refuses a user | `AuthFailed(`[`Rejected`](crate::ppp::auth::AuthFailure::Rejected)`)`, or [`UnusableCredentials`](crate::ppp::auth::AuthFailure::UnusableCredentials) when an NT hash was given for PAP or CHAP-MD5 | your `AuthRequest` answer |
//! | no common authentication method | on the authenticator, [`DownReason::NoAuthMethod`]; on the peer the authenticator gives up (usually `PeerTerminated` or `LcpFailed`) | [`LcpConfig::auth`](crate::ppp::lcp::LcpConfig::auth) on both sides: the default is MS-CHAPv2 only, as pptpd and Windows require; a server offering only PAP or CHAP-MD5 needs them added on the client |
//! | no common EAP type | `AuthFailed(`[`MethodRefused`](crate::ppp::auth::AuthFailure::MethodRefused)`)` on both sides: the peer's legacy Nak named no EAP type the authenticator's list has | the EAP methods in both `auth` lists (EAP-MD5 has no MPPE keys, so a client requiring MPPE Naks it) |
//! | the EAP server says Success without authenticating us | `AuthFailed(`[`PrematureSuccess`](crate::ppp::auth::AuthFailure::PrematureSuccess)`)` | a misconfigured or hostile server; EAP-MSCHAPv2 needs the server's `S=` before its Success counts |
//! | RADIUS keeps challenging | `AuthFailed(`[`TooManyRounds`](crate::ppp::auth::AuthFailure::TooManyRounds)`)` after [`MAX_EAP_ROUNDS`](crate::ppp::auth::MAX_EAP_ROUNDS) relayed Requests | the RADIUS server's EAP configuration (a looping TLS handshake, a certificate chain far too long) |
//! | MPPE required, but keys are not available | [`DownReason::NoMppeKeys`] | MPPE keys come only from MS-CHAPv1/v2 (RFC 3079), so PAP or CHAP-MD5 with MPPE required always ends here, on the side that authenticated with it; on a server, also a [`Verdict::Accept`](crate::ppp::auth::Verdict::Accept) without [`mppe_keys`](crate::ppp::auth::Acceptance::mppe_keys) (a RADIUS server that sent no MS-MPPE-Send-Key/Recv-Key). Set MPPE to none for those methods, or use MS-CHAP |
//! | MPPE required but peer refused | [`DownReason::MppeRefused`] | the peer refuses CCP or offers no strength in [`CcpConfig::strengths`](crate::ppp::ccp::CcpConfig::strengths) (pppd `require-mppe-128`, `nomppe`); a peer whose CCP insists on the other stateless mode ([`CcpConfig::stateless`](crate::ppp::ccp::CcpConfig::stateless)) |
//! | the peer will not take an address | [`DownReason::IpcpFailed`] | the server's pool is exhausted or the client insists on a fixed address ([`IpcpConfig::local`](crate::ppp::ipcp::IpcpConfig::local)) the server will not give |
//! | LCP never agrees | [`DownReason::LcpFailed`] | options the peer rejects that we require, or an MRU below [`LcpConfig::min_mru`](crate::ppp::lcp::LcpConfig::min_mru) |
//! | the tunnel drops after minutes of silence | [`DownReason::EchoTimeout`] | the peer (or the path) died while our LCP echo ran (it notices after about `interval × (max_failures + 1)`); a NAT that forgets idle GRE mappings (enable the echo to keep it open) |
//! | traffic stops at once although CCP is up; the peer logs `LCP ProtRej proto=0x00fd` | [`DownReason::MppeFramesRejected`] after [`MAX_CCP_RESTARTS`](crate::ppp::session::MAX_CCP_RESTARTS) renegotiations ([`PppStats::ccp_restarts`](crate::ppp::session::PppStats::ccp_restarts) counts them) | the peer's MPPE decompressor is not running although it agreed to MPPE: accel-ppp's race when our CCP Configure-Ack comes too fast (our peer role holds it, [`FsmConfig::hold_ack_until_answered`](crate::ppp::fsm::FsmConfig::hold_ack_until_answered)); accel-ppp refuses a CCP renegotiation once its session is active, so there it ends as `MppeRefused` |
//! | the link goes down at once with our own magic number | [`DownReason::LoopedBack`] | GRE is reflected back to us (a misconfigured route or a test rig sending to itself) |
//! | the other side hung up | [`DownReason::PeerTerminated`] | the peer's logs (idle timeout, administrator, `pppd` killed) |
//! | small pings work, large transfers stall | nothing: large packets vanish | the MTU. The IP MTU is the peer's MRU (1500 unless it asks, pptpd does not) minus 4 octets under MPPE or MPPC (`Up { mtu }`, 1496 against pptpd); each packet then carries the GRE header (up to 16 octets), PPP (1 to 4 octets) and the outer IPv4 header (20). Full-size packets exceed a 1500-octet path and are fragmented; NATs and firewalls often drop GRE fragments, and [`strip_ipv4`](crate::wire::gre::strip_ipv4) refuses fragments that were not reassembled. Give the TUN device a smaller MTU (1400 is common) or clamp the TCP MSS; [`LcpConfig::mru`](crate::ppp::lcp::LcpConfig::mru) (1400) bounds what the peer sends us |
//! | packets dropped | `handle_datagram` returns `Err(`[`TunnelError`](crate::tunnel::TunnelError)`)`: [`Gre`](crate::tunnel::TunnelError::Gre)`(`[`GreError::WrongCallId`](crate::gre::GreError::WrongCallId)`)` (another call's GRE), [`Ppp`](crate::tunnel::TunnelError::Ppp)`(`[`PppError::PlaintextRefused`](crate::ppp::session::PppError::PlaintextRefused)`)` (plaintext while MPPE is required), [`NoCall`](crate::tunnel::TunnelError::NoCall) (no call yet); `send_ip` returns [`TunnelError::Queued`](crate::tunnel::TunnelError::Queued) when the peer's window is full (the packet waits and is sent later) and [`GreError::WindowFull`](crate::gre::GreError::WindowFull) when the send queue is full too | [`GreStats`](crate::gre::GreStats) (`lost`, `reordered`, `window_full`), [`QueueStats`](crate::tunnel::QueueStats) (`queued`, `dropped`) and [`PppStats`](crate::ppp::session::PppStats) (`dropped`, `mppe_discarded`) |
//! | stateful MPPE against Linux stops after the first lost packet | nothing: every packet is discarded after a loss, [`PppStats::mppe_discarded`](crate::ppp::session::PppStats::mppe_discarded) and `mppe_resets_sent` grow | keep [`CcpConfig::reset_rekeys`](crate::ppp::ccp::CcpConfig::reset_rekeys) on (the default): Linux `ppp_mppe` derives a new key on a Reset-Request (interop check 6 in `interop/README.md`), or prefer stateless mode, which never needs a reset |
//! | our server is full | [`Server::accept`] returns [`ServerError::Full`](crate::server::ServerError::Full) | [`ServerConfig::max_connections`] and [`ServerConfig::call_ids`] |
//! | GRE reaches our server but is ignored | `handle_datagram` returns [`ServerError::UnknownCall`](crate::server::ServerError::UnknownCall)`(id)` | the call is gone or not up yet; with shards, route by [`Server::owns_call_id`]; the source-address check dropped a packet that came from another address than the TCP connection (a NAT with several public addresses) |
//! | sessions pile up on our server | [`Server::connection_count`] keeps growing | after `SessionDown`, close the TCP connection and call [`Server::handle_stream_closed`]; the server only frees a connection there |

//!
//! [`Client`]: crate::client::Client
//! [`Client::start`]: crate::client::Client::start
//! [`Client::handle_stream`]: crate::client::Client::handle_stream
//! [`Client::handle_stream_closed`]: crate::client::Client::handle_stream_closed
//! [`Client::handle_datagram`]: crate::client::Client::handle_datagram
//! [`Client::send_ip`]: crate::client::Client::send_ip
//! [`Client::handle_timeout`]: crate::client::Client::handle_timeout
//! [`Client::close`]: crate::client::Client::close
//! [`Client::stats`]: crate::client::Client::stats
//! [`Server::stats`]: crate::server::Server::stats
//! [`ClientConfig`]: crate::client::ClientConfig
//! [`ClientConfig::new`]: crate::client::ClientConfig::new
//! [`ClientConfig::control`]: crate::client::ClientConfig::control
//! [`ClientConfig::gre`]: crate::client::ClientConfig::gre
//! [`ClientConfig::ppp`]: crate::client::ClientConfig::ppp
//! [`ClientConfig::with_mppc`]: crate::client::ClientConfig::with_mppc
//! [`ClientConfig::with_seed`]: crate::client::ClientConfig::with_seed
//! [`ServerConfig::with_seed`]: crate::server::ServerConfig::with_seed
//! [`ClientEvent`]: crate::client::ClientEvent
//! [`ClientEvent::Up`]: crate::client::ClientEvent::Up
//! [`ClientEvent::Down`]: crate::client::ClientEvent::Down
//! [`SessionDownReason`]: crate::tunnel::SessionDownReason
//! [`SessionDownReason::Ppp`]: crate::tunnel::SessionDownReason::Ppp
//! [`SessionDownReason::CallDown`]: crate::tunnel::SessionDownReason::CallDown
//! [`Server`]: crate::server::Server
//! [`Server::accept`]: crate::server::Server::accept
//! [`Server::handle_stream`]: crate::server::Server::handle_stream
//! [`Server::handle_stream_closed`]: crate::server::Server::handle_stream_closed
//! [`Server::handle_datagram`]: crate::server::Server::handle_datagram
//! [`Server::send_ip`]: crate::server::Server::send_ip
//! [`Server::handle_timeout`]: crate::server::Server::handle_timeout
//! [`Server::close`]: crate::server::Server::close
//! [`Server::connection_of_call`]: crate::server::Server::connection_of_call
//! [`Server::connection_count`]: crate::server::Server::connection_count
//! [`Server::owns_call_id`]: crate::server::Server::owns_call_id
//! [`Server::provide_credentials`]: crate::server::Server::provide_credentials
//! [`Server::provide_verdict`]: crate::server::Server::provide_verdict
//! [`Server::assign_address`]: crate::server::Server::assign_address
//! [`ServerConfig`]: crate::server::ServerConfig
//! [`ServerConfig::new`]: crate::server::ServerConfig::new
//! [`ServerConfig::control`]: crate::server::ServerConfig::control
//! [`ServerConfig::gre`]: crate::server::ServerConfig::gre
//! [`ServerConfig::ppp`]: crate::server::ServerConfig::ppp
//! [`ServerConfig::pool`]: crate::server::ServerConfig::pool
//! [`ServerConfig::call_ids`]: crate::server::ServerConfig::call_ids
//! [`ServerConfig::max_connections`]: crate::server::ServerConfig::max_connections
//! [`ServerEvent`]: crate::server::ServerEvent
//! [`ServerEvent::AddressRequest`]: crate::server::ServerEvent::AddressRequest
//! [`ServerEvent::SessionDown`]: crate::server::ServerEvent::SessionDown
//! [`ConnectionId`]: crate::server::ConnectionId
//! [`DownReason`]: crate::ppp::session::DownReason
//! [`DownReason::LocalClose`]: crate::ppp::session::DownReason::LocalClose
//! [`DownReason::LcpTimeout`]: crate::ppp::session::DownReason::LcpTimeout
//! [`DownReason::LcpFailed`]: crate::ppp::session::DownReason::LcpFailed
//! [`DownReason::NoAuthMethod`]: crate::ppp::session::DownReason::NoAuthMethod
//! [`DownReason::AuthFailed`]: crate::ppp::session::DownReason::AuthFailed
//! [`DownReason::IpcpFailed`]: crate::ppp::session::DownReason::IpcpFailed
//! [`DownReason::MppeRefused`]: crate::ppp::session::DownReason::MppeRefused
//! [`DownReason::NoMppeKeys`]: crate::ppp::session::DownReason::NoMppeKeys
//! [`DownReason::EchoTimeout`]: crate::ppp::session::DownReason::EchoTimeout
//! [`DownReason::LoopedBack`]: crate::ppp::session::DownReason::LoopedBack
//! [`DownReason::MppeFramesRejected`]: crate::ppp::session::DownReason::MppeFramesRejected
//! [`DownReason::LowerLayerDown`]: crate::ppp::session::DownReason::LowerLayerDown
//! [`DownReason::PeerTerminated`]: crate::ppp::session::DownReason::PeerTerminated
