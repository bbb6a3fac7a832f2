//! pppd's and pptpd's configuration, read the way they read it: the
//! `chap-secrets` file, pptpd's `remoteip` address ranges, and the option
//! names behind `--auth` and `--mppe`. Shared by the examples; tested in
//! `tests/example_support.rs`.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use pptp_proto::ppp::ccp::CcpConfig;
use pptp_proto::ppp::lcp::AuthMethod;

/// One line of a `chap-secrets` file: `client server secret [address ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// The user name (`*`: anyone).
    pub client: String,
    /// The server name (`*`: any).
    pub server: String,
    /// The password.
    pub secret: String,
    /// Addresses the user may have; the first concrete one is assigned.
    /// Empty or `*`: any address from the pool.
    pub addresses: Vec<String>,
}

impl Secret {
    /// The address to assign, if the line names one.
    pub fn address(&self) -> Option<Ipv4Addr> {
        self.addresses.iter().find_map(|a| a.parse().ok())
    }
}

/// Splits a line into words as pppd does: white space separates, double or
/// single quotes group, `#` starts a comment outside quotes.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        if c == '#' {
            break;
        }
        let mut word = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            loop {
                match chars.next() {
                    Some(q) if q == c => break,
                    Some('\\') => word.extend(chars.next()),
                    Some(ch) => word.push(ch),
                    None => return Err("unterminated quote".into()),
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                word.push(ch);
                chars.next();
            }
        }
        out.push(word);
    }
    Ok(out)
}

/// Parses a `chap-secrets` file: one account per line, any number of lines.
pub fn parse_secrets(text: &str) -> Result<Vec<Secret>, String> {
    let mut secrets = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let w = words(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        match w.len() {
            0 => continue,
            1 | 2 => {
                return Err(format!(
                    "line {}: want client server secret [addresses]",
                    n + 1
                ))
            }
            _ => {}
        }
        let mut w = w.into_iter();
        secrets.push(Secret {
            client: w.next().unwrap_or_default(),
            server: w.next().unwrap_or_default(),
            secret: w.next().unwrap_or_default(),
            addresses: w.collect(),
        });
    }
    Ok(secrets)
}

/// The line for `user` on server `ours`: an exact client name wins over
/// `*`, as in pppd.
pub fn lookup<'a>(secrets: &'a [Secret], user: &str, ours: &str) -> Option<&'a Secret> {
    let server_ok = |s: &Secret| s.server == "*" || s.server == ours;
    secrets
        .iter()
        .find(|s| s.client == user && server_ok(s))
        .or_else(|| secrets.iter().find(|s| s.client == "*" && server_ok(s)))
}

/// pptpd's `remoteip` syntax: comma-separated single addresses and ranges
/// `A-B`, where `B` may be the last octet only (`192.168.0.234-238`) or a
/// whole address. Returns inclusive ranges.
pub fn parse_ranges(text: &str) -> Result<Vec<(Ipv4Addr, Ipv4Addr)>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("{part}: want A, A-B or A-N (pptpd's remoteip)");
        let (first, last) = match part.split_once('-') {
            None => {
                let a: Ipv4Addr = part.parse().map_err(|_| bad())?;
                (a, a)
            }
            Some((a, b)) => {
                let a: Ipv4Addr = a.parse().map_err(|_| bad())?;
                let b = match b.parse::<Ipv4Addr>() {
                    Ok(b) => b,
                    Err(_) => {
                        let octet: u8 = b.parse().map_err(|_| bad())?;
                        let [x, y, z, _] = a.octets();
                        Ipv4Addr::new(x, y, z, octet)
                    }
                };
                (a, b)
            }
        };
        if u32::from(last) < u32::from(first) {
            return Err(format!("{part}: the range ends before it starts"));
        }
        out.push((first, last));
    }
    if out.is_empty() {
        return Err("no address".into());
    }
    Ok(out)
}

/// A pool over pptpd-style ranges: the lowest free address first.
///
/// Leasing and releasing cost O(log n) whatever the pool's size (a
/// `10.64.0.2-10.64.255.254` pool holds 65 533): a cursor walks the ranges
/// once, and the addresses given back behind it wait in an ordered set.
#[derive(Debug, Default)]
pub struct Pool {
    ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    leased: BTreeSet<Ipv4Addr>,
    /// The next address the cursor hands out: (range index, address);
    /// every address before it is leased or in `released`.
    cursor: (usize, u64),
    /// Free addresses before the cursor, by position (range index first).
    released: BTreeSet<(usize, u32)>,
}

impl Pool {
    pub fn new(ranges: Vec<(Ipv4Addr, Ipv4Addr)>) -> Self {
        let start = ranges
            .first()
            .map_or(0, |(lo, _)| u64::from(u32::from(*lo)));
        Pool {
            ranges,
            leased: BTreeSet::new(),
            cursor: (0, start),
            released: BTreeSet::new(),
        }
    }

    /// Whether `a` is in one of the ranges.
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        self.position(a).is_some()
    }

    /// Where `a` is: the first range holding it, and the address.
    fn position(&self, a: Ipv4Addr) -> Option<(usize, u32)> {
        let a = u32::from(a);
        self.ranges
            .iter()
            .position(|(lo, hi)| (u32::from(*lo)..=u32::from(*hi)).contains(&a))
            .map(|i| (i, a))
    }

    /// Whether position `p` is one the cursor has passed.
    fn behind_cursor(&self, (i, a): (usize, u32)) -> bool {
        (i, u64::from(a)) < self.cursor
    }

    /// Leases `wanted` (a per-user address) if free, else the lowest free
    /// address of the ranges.
    pub fn lease(&mut self, wanted: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        if let Some(w) = wanted {
            if !self.leased.insert(w) {
                return None;
            }
            if let Some(p) = self.position(w) {
                self.released.remove(&p);
            }
            return Some(w);
        }
        if let Some((_, a)) = self.released.pop_first() {
            let a = Ipv4Addr::from(a);
            self.leased.insert(a);
            return Some(a);
        }
        while let Some(&(_, hi)) = self.ranges.get(self.cursor.0) {
            let (i, a) = self.cursor;
            if a > u64::from(u32::from(hi)) {
                let next = self.ranges.get(i + 1).map_or(0, |(lo, _)| u32::from(*lo));
                self.cursor = (i + 1, u64::from(next));
                continue;
            }
            self.cursor.1 += 1;
            let addr = Ipv4Addr::from(a as u32);
            // An address of an earlier, overlapping range was its turn already.
            let first = self.position(addr).map(|(r, _)| r);
            if first == Some(i) && self.leased.insert(addr) {
                return Some(addr);
            }
        }
        None
    }

    pub fn release(&mut self, a: Ipv4Addr) {
        if !self.leased.remove(&a) {
            return;
        }
        if let Some(p) = self.position(a).filter(|p| self.behind_cursor(*p)) {
            self.released.insert(p);
        }
    }

    /// Addresses leased now.
    pub fn leased(&self) -> usize {
        self.leased.len()
    }
}

/// `--auth LIST|any`: a comma-separated list, in order of preference, of
/// `mschapv2`, `mschapv1`, `chap`, `pap` (pppd's `require-mschap-v2`,
/// `require-mschap`, `require-chap`, `require-pap`), `eap-mschapv2`,
/// `eap-md5` (pppd's `require-eap`) and `eap` (a server: EAP relayed to
/// RADIUS; a client: either EAP type); `any` is the four non-EAP methods.
pub fn parse_auth(text: &str) -> Result<Vec<AuthMethod>, String> {
    if text == "any" {
        return Ok(vec![
            AuthMethod::MsChapV2,
            AuthMethod::MsChapV1,
            AuthMethod::ChapMd5,
            AuthMethod::Pap,
        ]);
    }
    let mut out = Vec::new();
    for name in text.split(',') {
        let m = match name.trim() {
            "mschapv2" | "mschap-v2" => AuthMethod::MsChapV2,
            "mschapv1" | "mschap" => AuthMethod::MsChapV1,
            "chap" | "md5" => AuthMethod::ChapMd5,
            "pap" => AuthMethod::Pap,
            "eap-mschapv2" | "eap-mschap-v2" => AuthMethod::EapMsChapV2,
            "eap-md5" => AuthMethod::EapMd5,
            "eap" => AuthMethod::Eap,
            other => {
                return Err(format!(
                    "--auth {other}: want mschapv2, mschapv1, chap, pap, eap-mschapv2, eap-md5, \
                     eap (comma-separated) or any"
                ))
            }
        };
        if !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(out)
}

/// `--mppe MODE` with pppd's meanings: `require` (`require-mppe`: any
/// strength), `require-128`, `require-56`, `require-40`, `optional` (pppd's
/// default: MPPE if the peer agrees), `none` (`nomppe`).
pub fn parse_mppe(mode: &str) -> Result<CcpConfig, String> {
    Ok(match mode {
        "require" => CcpConfig::require_mppe(),
        "require-128" => CcpConfig::require_mppe_128(),
        "require-56" => CcpConfig::require_mppe_56(),
        "require-40" => CcpConfig::require_mppe_40(),
        "optional" => CcpConfig {
            mppe: pptp_proto::ppp::ccp::MppeRequirement::Optional,
            ..CcpConfig::require_mppe()
        },
        "none" => CcpConfig::nomppe(),
        other => {
            return Err(format!(
            "--mppe {other}: want require, require-128, require-56, require-40, optional or none"
        ))
        }
    })
}

/// Refuses up front a configuration that cannot work: MPPE required with no
/// method allowed that gives keys (PAP, CHAP-MD5 and EAP-MD5 give none).
pub fn check_keys(ppp: &pptp_proto::ppp::session::SessionConfig) -> Result<(), String> {
    use pptp_proto::ppp::ccp::MppeRequirement;
    let keyed = ppp.lcp.auth.iter().any(|m| m.gives_mppe_keys());
    if ppp.ccp.mppe == MppeRequirement::Required && !keyed {
        return Err(
            "PAP, CHAP and EAP-MD5 give no MPPE keys: add --mppe none (or optional), \
             or allow mschapv2 or eap-mschapv2"
                .into(),
        );
    }
    Ok(())
}
