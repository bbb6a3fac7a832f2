//! GRE that overtakes the Outgoing-Call-Reply: a server sends its first
//! LCP Configure-Request in GRE right after the reply on TCP, and on a real
//! path (or a server that flushes GRE before TCP) the GRE can arrive first.
//! The client keeps a few such packets for the call it asked for and
//! handles them once the call is up, instead of dropping them and waiting
//! for the server's LCP Restart timer (3 s).

use pptp_proto::client::{Client, ClientConfig, ClientEvent};
use pptp_proto::crypto::Password;
use pptp_proto::ppp::auth::Credentials;
use pptp_proto::server::{AddressPool, ConnectionId, Server, ServerConfig, ServerEvent};
use pptp_proto::time::{Duration, Instant};

/// One turn with the server's GRE delivered before its TCP bytes; with
/// `lose_gre`, the server's GRE is lost instead (what a client that drops
/// GRE before its call is up makes of it, for contrast).
fn turn(server: &mut Server, client: &mut Client, now: Instant, lose_gre: bool) {
    let peer = [192, 0, 2, 1].into();
    server.handle_timeout(now);
    client.handle_timeout(now);
    while let Some(b) = client.poll_stream_transmit() {
        server.handle_stream(now, ConnectionId(0), &b).unwrap();
    }
    while let Some(mut d) = client.poll_datagram_transmit() {
        let _ = server.handle_datagram(now, peer, &mut d);
    }
    while let Some(e) = server.poll_event() {
        if let ServerEvent::AuthRequest { connection, .. } = e {
            let secret = Credentials::Password(Password::new("secret").unwrap());
            server.provide_credentials(now, connection, secret);
        }
    }
    // GRE first, then TCP: the race.
    while let Some((_, mut d)) = server.poll_datagram_transmit() {
        if lose_gre {
            continue;
        }
        let _ = client.handle_datagram(now, &mut d);
    }
    while let Some((_, b)) = server.poll_stream_transmit() {
        client.handle_stream(now, &b);
    }
}

fn time_to_up(lose_early: bool) -> Option<Duration> {
    let pool = AddressPool {
        local: [10, 0, 0, 1].into(),
        range: ([10, 0, 0, 2].into(), [10, 0, 0, 9].into()),
        dns: [None, None],
    };
    let mut server = Server::new(ServerConfig::new("vpn", pool));
    let mut client = Client::new(ClientConfig::new("alice", Password::new("secret").unwrap()));
    let start = Instant::ZERO;
    server.accept(start, [192, 0, 2, 1].into()).unwrap();
    client.start(start);
    let mut now = start;
    let mut call_up = false;
    while now < start + Duration::from_secs(10) {
        now += Duration::from_millis(10);
        turn(&mut server, &mut client, now, lose_early && !call_up);
        while let Some(e) = client.poll_event() {
            match e {
                ClientEvent::CallUp { .. } => call_up = true,
                ClientEvent::Up { .. } => return Some(now - start),
                _ => {}
            }
        }
    }
    None
}

#[test]
fn gre_that_overtakes_the_call_reply_is_kept_not_dropped() {
    let up = time_to_up(false).expect("the tunnel comes up");
    assert!(up < Duration::from_millis(500), "up after {up:?}");
}

#[test]
fn losing_that_gre_costs_the_servers_lcp_restart() {
    // The contrast that shows what the kept packets save: the same race
    // with the early GRE lost waits for the server's Restart timer.
    let up = time_to_up(true).expect("the tunnel comes up");
    assert!(up >= Duration::from_secs(2), "up after {up:?}");
}
