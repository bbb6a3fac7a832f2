//! The command line both servers take (`server.rs`, `tokio_server.rs`):
//! the listen address, the accounts, the pool, the PPP policy and RADIUS.
//! Each server adds its own flags and calls [`Args::finish`] itself.

use std::net::{Ipv4Addr, SocketAddr};

use pptp_proto::crypto::Password;
use pptp_proto::ppp::ccp::StatelessPolicy;
use pptp_proto::ppp::lcp::AuthMethod;
use pptp_proto::server::{AddressPool, ServerConfig};

use super::aaa;
use super::pppd::{self, Pool, Secret};
use super::Args;

/// What both servers are configured with.
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub accounts: Vec<Secret>,
    pub pool: Pool,
    pub dns: Option<Ipv4Addr>,
    pub config: ServerConfig,
    pub local: Ipv4Addr,
    pub tun: Option<String>,
    pub quiet: bool,
    pub radius: Option<aaa::RadiusOptions>,
}

/// Reads the common options; `name` is our name (CHAP, `chap-secrets`'
/// server column, the RADIUS NAS-Identifier by default).
pub fn parse(a: &mut Args, name: &str) -> ServeOptions {
    let listen = a.req("--listen");
    let listen = SocketAddr::from(
        super::ipv4_and_port(&listen, 1723)
            .unwrap_or_else(|| a.fail("--listen: ADDR or ADDR:PORT")),
    );
    let mut accounts = Vec::new();
    if let Some(file) = a.opt("--secrets") {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| a.fail(&format!("--secrets {file}: {e}")));
        accounts = pppd::parse_secrets(&text)
            .unwrap_or_else(|e| a.fail(&format!("--secrets {file}: {e}")));
    }
    if let Some(user) = a.opt("--user") {
        let password = a.req("--password");
        if Password::new(&password).is_err() {
            a.fail("--password: at most 256 characters");
        }
        accounts.push(Secret {
            client: user,
            server: "*".into(),
            secret: password,
            addresses: Vec::new(),
        });
    }
    let radius = aaa::options(a, name);
    if accounts.is_empty() && radius.is_none() {
        a.fail("no account: give --user and --password, --secrets FILE or --radius");
    }
    let ip = |a: &mut Args, s: &str, what: &str| -> Ipv4Addr {
        s.parse()
            .unwrap_or_else(|_| a.fail(&format!("{what}: an IPv4 address")))
    };
    let local = a.req("--local");
    let local = ip(a, &local, "--local");
    let pool = a.req("--pool");
    let ranges = pppd::parse_ranges(&pool).unwrap_or_else(|e| a.fail(&format!("--pool {e}")));
    let dns = a.opt("--dns").map(|d| ip(a, &d, "--dns"));
    let mut config = ServerConfig::new(
        name,
        AddressPool {
            local,
            range: ranges[0],
            dns: [dns, None],
        },
    );
    // Addresses come from our own pool (several ranges, per-user addresses).
    config.pool = None;
    config.accounting = radius.is_some();
    config = config.with_seed_bytes(super::os_seed());
    if let Some(list) = a.opt("--auth") {
        config.ppp.lcp.auth = pppd::parse_auth(&list).unwrap_or_else(|e| a.fail(&e));
        if config.ppp.lcp.auth.contains(&AuthMethod::Eap) && radius.is_none() {
            a.fail("--auth eap relays EAP to RADIUS: add --radius, or use eap-md5 or eap-mschapv2");
        }
    }
    if a.flag("--stateful") {
        config.ppp.ccp.stateless = StatelessPolicy::Refused;
    }
    if let Some(mru) = a.opt("--mru") {
        config.ppp.lcp.mru = mru.parse().unwrap_or_else(|_| a.fail("--mru: octets"));
    }
    if let Some(mtu) = a.opt("--mtu") {
        config.ppp.lcp.mtu = mtu.parse().unwrap_or_else(|_| a.fail("--mtu: octets"));
    }
    if let Some(m) = a.opt("--mppe") {
        super::set_mppe(&mut config.ppp, &m).unwrap_or_else(|e| a.fail(&e));
    }
    if let Err(e) = pppd::check_keys(&config.ppp) {
        a.fail(&e);
    }
    if let Some(s) = a.opt("--echo") {
        let s = s.parse().unwrap_or_else(|_| a.fail("--echo: seconds"));
        super::set_echo(&mut config.ppp, s);
    }
    let tun = a.opt("--tun");
    let quiet = a.flag("--quiet");
    ServeOptions {
        listen,
        accounts,
        pool: Pool::new(ranges),
        dns,
        config,
        local,
        tun,
        quiet,
        radius,
    }
}
