//! A private FreeRADIUS per test: `tests/radius/start.sh` renders the rig's
//! configuration into a fresh work directory and runs the server on
//! 127.0.0.1, authentication on a free UDP port and accounting on the next.
//!
//! ```ignore
//! mod freeradius;
//!
//! #[test]
//! fn bob_gets_his_address() {
//!     let Some(radius) = freeradius::start() else { return };
//!     // ... send Access-Request to radius.auth with radius.secret ...
//!     let record = radius.wait_detail("Acct-Status-Type = Stop", Duration::from_secs(5));
//! }
//! ```
//!
//! Accounts (tests/radius/users): `alice`/`secret`; `bob`/`hunter2` with
//! Framed-IP-Address 10.77.0.9, Session-Timeout 30, Idle-Timeout 20, Class
//! "bob-class", Acct-Interim-Interval 60; `carol`/`carol-pw` with
//! Session-Timeout 3; `User`/`clientPass` (RFC 2759 §9.2's sample). Anyone
//! else is rejected. EAP offers MD5 first, then EAP-MSCHAPv2 or PEAP on a
//! Nak; a PEAP peer checks the server against [`FreeRadius::ca_cert`].
//!
//! Without FreeRADIUS installed, [`start`] prints a SKIPPED line and returns
//! `None`; with `CI` (non-empty) or `PPTP_RADIUS_REQUIRE=1` set it panics
//! instead. `PPTP_RADIUS_DEBUG=1` runs the server with `-X`: every packet's
//! attributes land in `radiusd.log` in the work directory.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fs;
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The shared secret of the rig's one client, 127.0.0.1 (tests/radius/clients.conf).
pub const SECRET: &str = "testing123-pptp";

/// How long FreeRADIUS may take to say "Ready to process requests".
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts at a port pair before giving up (another process may take one
/// between our probe and FreeRADIUS's bind).
const START_ATTEMPTS: u32 = 3;

/// A running FreeRADIUS; dropping it kills the server (the work directory stays).
pub struct FreeRadius {
    /// Where Access-Requests go.
    pub auth: SocketAddr,
    /// Where Accounting-Requests go (`auth`'s port + 1).
    pub acct: SocketAddr,
    /// The shared secret for both ports.
    pub secret: &'static str,
    /// The rendered configuration, `radiusd.log` and the `detail` file.
    pub workdir: PathBuf,
    child: Child,
}

/// Starts a FreeRADIUS of its own for the calling test, or returns `None`
/// (after a loud SKIPPED line) when FreeRADIUS is not installed and neither
/// `CI` nor `PPTP_RADIUS_REQUIRE=1` is set.
pub fn start() -> Option<FreeRadius> {
    if !installed() {
        if required() {
            panic!("FreeRADIUS is not installed: apt-get install freeradius freeradius-utils");
        }
        eprintln!(
            "SKIPPED: FreeRADIUS not installed (apt-get install freeradius freeradius-utils); \
             the RADIUS tests did not run"
        );
        return None;
    }
    let mut last_log = String::new();
    for _ in 0..START_ATTEMPTS {
        match spawn(free_port_pair()) {
            Ok(radius) => return Some(radius),
            // Someone took the port between our probe and FreeRADIUS's bind: new ports.
            Err(log) => last_log = log,
        }
    }
    panic!("FreeRADIUS could not bind a free port pair in {START_ATTEMPTS} attempts:\n{last_log}");
}

impl FreeRadius {
    /// The accounting detail file's contents; empty before the first record.
    pub fn detail(&self) -> String {
        fs::read_to_string(self.workdir.join("detail")).unwrap_or_default()
    }

    /// Polls the detail file until it contains `needle` and returns it all.
    /// Records are blank-line separated: a ctime line, then one tab-indented
    /// `Attribute = value` line each, ending with `Timestamp = <unix>`.
    pub fn wait_detail(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let detail = self.detail();
            if detail.contains(needle) {
                return detail;
            }
            if Instant::now() >= deadline {
                panic!(
                    "FreeRADIUS's detail file has no {needle:?} after {timeout:?} \
                     ({}):\n{detail}\n--- radiusd.log:\n{}",
                    self.workdir.display(),
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The CA that signed the server's PEAP certificate (made afresh by
    /// start.sh), for a PEAP peer's `ca_cert`.
    pub fn ca_cert(&self) -> PathBuf {
        self.workdir.join("certs/ca.pem")
    }

    /// The server's log (`radiusd.log`: start.sh's and FreeRADIUS's output).
    pub fn log(&self) -> String {
        read_log(&self.workdir)
    }
}

impl Drop for FreeRadius {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!(
                "FreeRADIUS work dir kept for inspection: {}",
                self.workdir.display()
            );
        }
    }
}

/// Whether `freeradius` is on PATH or at Debian's /usr/sbin/freeradius (what start.sh looks for).
fn installed() -> bool {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join("freeradius").is_file()))
        .unwrap_or(false);
    on_path || Path::new("/usr/sbin/freeradius").is_file()
}

/// CI must fail, not skip, when the rig (or a tool a test drives it with) is missing.
pub fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var_os("PPTP_RADIUS_REQUIRE").is_some_and(|v| v == "1")
}

/// Spawns start.sh on `port` and waits for readiness; `Err(log)` if the port
/// was taken, a panic with the log on any other failure.
fn spawn(port: u16) -> Result<FreeRadius, String> {
    let workdir = fresh_workdir();
    let log_path = workdir.join("radiusd.log");
    let log = File::create(&log_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
    let log_err = log
        .try_clone()
        .unwrap_or_else(|e| panic!("cannot dup {}: {e}", log_path.display()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/radius/start.sh");
    let child = Command::new("bash")
        .arg(&script)
        .arg(&workdir)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run bash {}: {e}", script.display()));
    let localhost = Ipv4Addr::LOCALHOST.into();
    let mut radius = FreeRadius {
        auth: SocketAddr::new(localhost, port),
        acct: SocketAddr::new(localhost, port + 1),
        secret: SECRET,
        workdir,
        child,
    };
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let log = radius.log();
        if log.contains("Ready to process requests") {
            return Ok(radius);
        }
        if let Ok(Some(status)) = radius.child.try_wait() {
            if log.contains("Address already in use") {
                return Err(log);
            }
            panic!(
                "FreeRADIUS exited ({status}) before it was ready; log in {}:\n{log}",
                radius.workdir.display()
            );
        }
        if Instant::now() >= deadline {
            panic!(
                "FreeRADIUS not ready after {READY_TIMEOUT:?}; log in {}:\n{log}",
                radius.workdir.display()
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn read_log(workdir: &Path) -> String {
    fs::read(workdir.join("radiusd.log"))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// A new, empty directory under the temp dir, unique across parallel tests and runs.
fn fresh_workdir() -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    loop {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "pptp-freeradius-{}-{}-{nanos:09}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(name);
        match fs::create_dir(&dir) {
            Ok(()) => return dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("cannot create {}: {e}", dir.display()),
        }
    }
}

/// A UDP port `p` with `p + 1` free too, never handed out twice in this
/// process (parallel tests in one binary get disjoint pairs).
fn free_port_pair() -> u16 {
    static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut taken = TAKEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let taken = taken.get_or_insert_with(HashSet::new);
    for _ in 0..200 {
        let Ok(first) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) else {
            continue;
        };
        let Ok(addr) = first.local_addr() else {
            continue;
        };
        let port = addr.port();
        if port == u16::MAX || taken.contains(&port) || taken.contains(&(port + 1)) {
            continue;
        }
        if UdpSocket::bind((Ipv4Addr::LOCALHOST, port + 1)).is_ok() {
            taken.insert(port);
            taken.insert(port + 1);
            return port;
        }
    }
    panic!("no free UDP port pair on 127.0.0.1 after 200 tries");
}
