//! What `server` and `tokio_server` share of RADIUS (AAA): the
//! `--radius…` options, the authentication job either runs off its event
//! loop (a thread, or tokio's blocking pool), the verdict as the loop
//! logs it (no answer is a Reject), the one ordered accounting worker
//! behind a bounded queue, and the Disconnect-Request's matching and
//! answer. The RADIUS exchange itself is `radius_nas`'s (blocking).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use pptp_proto::accounting::AccountingRecord;
use pptp_proto::ppp::auth::{AuthExchange, Rejection, Verdict};

use super::radius_nas::{self as radius, DisconnectRequest, RadiusClient, RadiusConfig};
use super::Args;

/// Accounting records queued for the worker; beyond, they are dropped.
pub const ACCOUNTING_QUEUE: usize = 4096;

/// The `--radius…` options.
pub struct RadiusOptions {
    pub config: RadiusConfig,
    /// The RFC 5176 Disconnect port (0: none).
    pub coa_port: u16,
}

/// Reads `--radius HOST[:PORT] --radius-secret S [--radius-acct-port P]
/// [--radius-coa-port P] [--radius-nas-id NAME]`; `None` without
/// `--radius`. `nas_name` is the default NAS-Identifier.
pub fn options(a: &mut Args, nas_name: &str) -> Option<RadiusOptions> {
    let host = a.opt("--radius")?;
    let auth = SocketAddr::from(
        super::ipv4_and_port(&host, 1812).unwrap_or_else(|| a.fail("--radius: HOST or HOST:PORT")),
    );
    let secret = a.req("--radius-secret");
    let acct_port = a.opt("--radius-acct-port").map_or(auth.port() + 1, |p| {
        p.parse()
            .unwrap_or_else(|_| a.fail("--radius-acct-port: a port"))
    });
    let coa_port = a.opt("--radius-coa-port").map_or(3799, |p| {
        p.parse()
            .unwrap_or_else(|_| a.fail("--radius-coa-port: a port"))
    });
    Some(RadiusOptions {
        config: RadiusConfig {
            auth,
            acct: SocketAddr::new(auth.ip(), acct_port),
            secret: secret.into_bytes(),
            nas_identifier: a.opt("--radius-nas-id").unwrap_or_else(|| nas_name.into()),
            nas_ip: None,
            timeout: Duration::from_secs(3),
            tries: 3,
        },
        coa_port,
    })
}

/// The RADIUS side of a server: the client, the accounting worker's
/// queue, the shared secret (for the Disconnect exchange).
pub struct Aaa {
    client: Arc<RadiusClient>,
    secret: Vec<u8>,
    accounting: Option<SyncSender<AccountingRecord>>,
    /// Records dropped because the queue was full.
    dropped: u64,
    /// Told when the worker has sent everything and ended.
    done: std::sync::mpsc::Receiver<()>,
    /// Records the worker could not deliver (no answer, or not accepted).
    pub failed: Arc<AtomicU64>,
}

impl Aaa {
    /// A client for `config` and its accounting worker: one thread, so
    /// a session's Start, Interim and Stop reach the server in order.
    /// `name` prefixes its error lines.
    pub fn new(config: RadiusConfig, name: &'static str) -> Self {
        let secret = config.secret.clone();
        let client = Arc::new(RadiusClient::new(config));
        let (accounting, records) = sync_channel::<AccountingRecord>(ACCOUNTING_QUEUE);
        let (finished, done) = sync_channel(1);
        let failed = Arc::new(AtomicU64::new(0));
        {
            let (client, failed) = (client.clone(), failed.clone());
            thread::spawn(move || {
                for record in records {
                    if let Err(e) = client.account(&record) {
                        failed.fetch_add(1, Ordering::Relaxed);
                        eprintln!("{name}: RADIUS accounting {}: {e}", record.session_id);
                    }
                }
                let _ = finished.send(());
            });
        }
        Aaa {
            client,
            secret,
            accounting: Some(accounting),
            dropped: 0,
            done,
            failed,
        }
    }

    /// One session's authentication, to run off the event loop (it
    /// blocks for up to the timeout times the tries): the verdict, or why
    /// there is none. `nas_port` is the session's Call ID.
    pub fn authentication(
        &self,
        username: String,
        exchange: AuthExchange,
        nas_port: u16,
        peer: Ipv4Addr,
    ) -> impl FnOnce() -> Result<Verdict, String> + Send + 'static {
        let client = self.client.clone();
        move || {
            client
                .authenticate(&username, &exchange, nas_port, IpAddr::V4(peer))
                .map_err(|e| e.to_string())
        }
    }

    /// Queues an accounting record for the worker. When the queue is
    /// full it is dropped: `Err` with the count dropped so far.
    pub fn account(&mut self, record: AccountingRecord) -> Result<(), u64> {
        let Some(queue) = &self.accounting else {
            return Err(self.dropped);
        };
        match queue.try_send(record) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped += 1;
                Err(self.dropped)
            }
        }
    }

    /// Records dropped at a full queue so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// At exit: lets the worker send what is queued (the sessions' Stop
    /// records), waiting at most `within`; true if it finished.
    pub fn finish(&mut self, within: Duration) -> bool {
        self.accounting = None;
        !matches!(
            self.done.recv_timeout(within),
            Err(RecvTimeoutError::Timeout)
        )
    }

    /// Parses and authenticates a Disconnect-Request.
    pub fn parse_disconnect(&self, bytes: &[u8]) -> Result<DisconnectRequest, radius::RadiusError> {
        radius::parse_disconnect(bytes, &self.secret)
    }

    /// The Disconnect-ACK (`found`) or -NAK answering `request`.
    pub fn disconnect_reply(&self, request: &[u8], found: bool) -> Vec<u8> {
        radius::disconnect_reply(request, &self.secret, found)
    }
}

/// A RADIUS answer as the loop hands it to the server, and its log line:
/// no answer (or a broken one) is a Reject, so the server fails closed.
pub fn verdict(answer: Result<Verdict, String>) -> (Verdict, String) {
    match answer {
        Ok(v) => {
            let what = match &v {
                Verdict::Accept(a) => format!(
                    "RADIUS: Access-Accept{}",
                    a.address
                        .map_or(String::new(), |a| format!(", address {a}"))
                ),
                Verdict::Reject(r) => format!("RADIUS: Access-Reject (E={})", r.error),
                Verdict::Challenge(_) => String::from("RADIUS: Access-Challenge (EAP)"),
            };
            (v, what)
        }
        Err(e) => (
            Verdict::Reject(Rejection::default()),
            format!("RADIUS: {e}: rejecting"),
        ),
    }
}

/// The log line of an accounting record.
pub fn accounting_line(record: &AccountingRecord) -> String {
    format!(
        "accounting {:?} {}: {} octets in, {} out{}",
        record.status,
        record.session_id,
        record.bytes_in,
        record.bytes_out,
        record
            .terminate_cause
            .map_or(String::new(), |c| format!(", cause {c:?}"))
    )
}

/// What a session is known by to a Disconnect-Request.
pub struct SessionNames<'a> {
    /// Its Acct-Session-Id, once accounting started.
    pub session_id: Option<&'a str>,
    /// The name it authenticated as (empty: none yet).
    pub user: &'a str,
    /// Its tunnel address, once up.
    pub address: Option<Ipv4Addr>,
}

/// Whether a Disconnect-Request names this session: by Acct-Session-Id,
/// User-Name or Framed-IP-Address, any of them.
pub fn names(request: &DisconnectRequest, session: &SessionNames<'_>) -> bool {
    request.session_id.is_some() && request.session_id.as_deref() == session.session_id
        || request
            .username
            .as_ref()
            .is_some_and(|u| !session.user.is_empty() && u == session.user)
        || request.address.is_some() && request.address == session.address
}

/// The log line of a Disconnect-Request.
pub fn disconnect_line(request: &DisconnectRequest, from: SocketAddr, found: bool) -> String {
    format!(
        "RADIUS Disconnect-Request from {from} for {request:?}: {}",
        if found { "closing" } else { "no such session" }
    )
}
