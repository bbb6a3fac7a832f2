//! MPPE (RFC 3078): the RC4 cipher state of one PPP link, both directions.
//!
//! [`Mppe`] is built from the options CCP negotiated ([`MppeOptions`]) and
//! the start keys derived at authentication ([`MppeKeys`], see
//! [`crate::crypto::key_derivation`]). It works in place on caller buffers
//! and never allocates:
//!
//! - [`Mppe::encrypt`] takes the plaintext (PPP protocol field + data) at
//!   `buf[2..2 + len]`, writes the 2-octet MPPE header into `buf[0..2]` and
//!   encrypts; the result is the information field of a PPP frame with
//!   protocol `0x00FD`.
//! - [`Mppe::decrypt`] takes that information field, decrypts in place and
//!   returns the plaintext as a sub-slice, or tells the caller to send a CCP
//!   Reset-Request (stateful mode, after a loss).
//! - [`Mppe::reset_requested`] is called when a CCP Reset-Request arrives.
//!
//! Key schedule (matches Windows and Linux `ppp_mppe`): each direction
//! starts from `GetNewKeyFromSHA(StartKey, StartKey)` with coherency count
//! 4095, and the first packet carries count 0, so count 0 is already
//! rekeyed once.
//!
//! - Stateless mode (RFC 3078 §8.1): every packet is rekeyed and has the
//!   FLUSHED bit. A receiver that is N counts behind rekeys N times, at most
//!   [`MppeOptions::max_catch_up`] (≤ 4095) times.
//! - Stateful mode (RFC 3078 §8.2): the keystream runs on across packets;
//!   the sender rekeys and sets FLUSHED when the count's low octet is
//!   0xFF and on the packet after a CCP Reset-Request. A receiver that sees
//!   a gap answers [`Decrypted::SendResetRequest`] and discards until a
//!   FLUSHED packet, rekeying once for each 0xFF packet it missed and once
//!   for the FLUSHED packet itself. (Linux also refuses a 0xFF packet
//!   without FLUSHED; this receiver rekeys for it anyway, as FreeBSD
//!   `ng_mppc` senders leave the bit clear there.)
//!
//! # Example
//!
//! From the MS-CHAPv2 NT-Response to a packet each way, with the start
//! keys of [`mppe_keys_mschapv2`](crate::crypto::mppe_keys_mschapv2):
//!
//! ```
//! use pptp_proto::crypto::{mppe_keys_mschapv2, NtHash, Role};
//! use pptp_proto::mppe::{Decrypted, KeyLength, Mppe, MppeOptions};
//!
//! let (nt_hash, nt_response) = (NtHash::from_bytes([0x44; 16]), [0x82; 24]); // from authentication
//! let options = MppeOptions::new(KeyLength::Bits128, true); // as CCP negotiated
//! let mut client = Mppe::new(options, &mppe_keys_mschapv2(&nt_hash, &nt_response, Role::Peer));
//! let mut server = Mppe::new(options, &mppe_keys_mschapv2(&nt_hash, &nt_response, Role::Authenticator));
//!
//! let mut buf = *b"..\x00\x21ping"; // room for the MPPE header, then protocol and data
//! let n = client.encrypt(&mut buf, 6)?;
//! assert_ne!(&buf[2..], b"\x00\x21ping");
//! let Decrypted::Plaintext { payload, .. } = server.decrypt(&mut buf[..n])? else { unreachable!() };
//! assert_eq!(payload, b"\x00\x21ping");
//!
//! let mut buf = *b"..\x00\x21pong";
//! let n = server.encrypt(&mut buf, 6)?;
//! let Decrypted::Plaintext { payload, .. } = client.decrypt(&mut buf[..n])? else { unreachable!() };
//! assert_eq!(payload, b"\x00\x21pong");
//! # Ok::<(), pptp_proto::mppe::MppeError>(())
//! ```

mod state;

use crate::crypto::MppeKeys;
use crate::mppc::MppcFlags;
use crate::wire::mppe::MppeBits;

pub use crate::crypto::KeyLength;

use crate::wire::mppe::{CoherencyCount, MppeFlags, MppeHeader};

/// The 12 bits of the coherency count (RFC 3078 §3).
const COUNT_MASK: u16 = crate::wire::mppe::CoherencyCount::MODULUS - 1;
use state::KeyState;

/// Octets of the MPPE header in front of every encrypted packet.
pub const HEADER_LEN: usize = 2;

/// How much MPPE lowers the PPP MTU: the header plus the 2-octet
/// protocol field `0x00FD` in front of it.
pub const MTU_OVERHEAD: usize = 4;

/// Stateless catch-up rekeys an [`Mppe`] receiver may spend at once (its
/// budget starts full); every packet accepted refills
/// [`CATCH_UP_REFILL`]. Forged far-ahead counts cost at most this, then
/// `CATCH_UP_REFILL` per genuine packet; a genuine burst of losses is far
/// below it.
pub const CATCH_UP_BUDGET: u32 = 8192;

/// Catch-up rekeys each accepted packet adds to the budget.
pub const CATCH_UP_REFILL: u32 = 32;

/// The largest stateless catch-up: the count space less one.
pub const MAX_CATCH_UP: u16 = 4095;

/// Stateful mode: a receiver still discarding repeats its Reset-Request
/// after this many discarded packets.
const RESET_REPEAT: u16 = 32;

/// The negotiated MPPE options (CCP option 18, RFC 3078 §2).
///
/// # Example
///
/// ```
/// use pptp_proto::mppe::{KeyLength, MppeOptions};
/// use pptp_proto::wire::mppe::MppeBits;
///
/// // The option both ends acked: 0x01000040, stateless 128-bit.
/// let options = MppeOptions::from_bits(MppeBits::from_bits_retain(0x0100_0040)).unwrap();
/// assert_eq!(options, MppeOptions::new(KeyLength::Bits128, true));
/// assert_eq!(options.max_catch_up, 4095);
/// assert_eq!(MppeOptions::from_bits(MppeBits::MPPC), None); // no key length
///
/// // Stateful: a Reset-Request derives a new key (Linux; the default).
/// let stateful = MppeOptions::new(KeyLength::Bits128, false);
/// assert!(stateful.reset_rekeys && !stateful.stateless);
/// let restart = stateful.with_reset_rekeys(false); // RC4 restarts (RFC 3078)
/// assert!(!restart.reset_rekeys);
/// // Raw payloads that are not PPP frames: no protocol check.
/// assert!(!stateful.with_verify_protocol(false).verify_protocol);
/// let bounded = options.with_max_catch_up(2048);
/// assert_eq!(bounded.max_catch_up, 2048);
/// assert_eq!(options.with_max_catch_up(0).max_catch_up, 1); // clamped to 1..=4095
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MppeOptions {
    /// Session key strength.
    pub key_length: KeyLength,
    /// Stateless mode (the `H` bit): rekey on every packet.
    pub stateless: bool,
    /// Stateless mode: how many counts ahead a received packet may be
    /// (1..=4095). Each count costs one rekey; a smaller bound limits the
    /// work one packet can cause and drops late packets (Linux uses 2048).
    pub max_catch_up: u16,
    /// Stateful mode: what a CCP Reset-Request does to the sender's next
    /// (FLUSHED) packet. `true` (the default): a new session key is
    /// derived, as Linux `ppp_mppe` does. `false`: RC4 restarts with the
    /// current session key (RFC 3078 §8.2's reading, FreeBSD's), which
    /// reuses the keystream: anyone on the path can send a Reset-Request in
    /// clear and get two packets under the same keystream. We never send
    /// that way unless the peer does: a receiver that sees a FLUSHED packet
    /// decrypt to an implausible protocol under its policy tries the other
    /// and follows the peer from then on (both directions).
    pub reset_rekeys: bool,
    /// Check that a decrypted packet starts with a PPP protocol (IPv4,
    /// IPv6, IPX; any valid network-layer number for the next count)
    /// before its key is kept (default `true`): a forged stateless count
    /// then cannot move the receiver off the genuine sequence, and a
    /// stateful receiver finds the key of a FLUSHED packet. Turn it off
    /// only to carry payloads that are not PPP frames.
    pub verify_protocol: bool,
}

impl MppeOptions {
    /// Options with the default catch-up bound ([`MAX_CATCH_UP`]). See the
    /// [example](Self#example).
    pub const fn new(key_length: KeyLength, stateless: bool) -> Self {
        Self {
            key_length,
            stateless,
            max_catch_up: MAX_CATCH_UP,
            reset_rekeys: true,
            verify_protocol: true,
        }
    }

    /// The same options with Linux's stateful reset behaviour (see
    /// [`MppeOptions::reset_rekeys`]). See the [example](Self#example).
    pub const fn with_reset_rekeys(mut self, rekeys: bool) -> Self {
        self.reset_rekeys = rekeys;
        self
    }

    /// The same options with the protocol check on or off (see
    /// [`MppeOptions::verify_protocol`]). See the [example](Self#example).
    pub const fn with_verify_protocol(mut self, verify: bool) -> Self {
        self.verify_protocol = verify;
        self
    }

    /// The same options with another stateless catch-up bound, clamped to
    /// 1..=4095. See the [example](Self#example).
    pub const fn with_max_catch_up(mut self, max: u16) -> Self {
        self.max_catch_up = if max == 0 {
            1
        } else if max > MAX_CATCH_UP {
            MAX_CATCH_UP
        } else {
            max
        };
        self
    }

    /// The options of a negotiated CCP option 18: the strongest key length
    /// offered and the `H` bit. `None` if no key length bit is set. See the
    /// [example](Self#example).
    pub fn from_bits(bits: MppeBits) -> Option<Self> {
        let key_length = if bits.contains(MppeBits::BITS_128) {
            KeyLength::Bits128
        } else if bits.contains(MppeBits::BITS_56) {
            KeyLength::Bits56
        } else if bits.contains(MppeBits::BITS_40) {
            KeyLength::Bits40
        } else {
            return None;
        };
        Some(Self::new(key_length, bits.contains(MppeBits::STATELESS)))
    }
}

/// Why a packet could not be encrypted or decrypted. The cipher state is
/// unchanged in every case.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::MppeKeys;
/// use pptp_proto::mppe::{KeyLength, Mppe, MppeError, MppeOptions};
///
/// let options = MppeOptions::new(KeyLength::Bits128, true).with_max_catch_up(16);
/// let mut mppe = Mppe::new(options, &MppeKeys { send: [1; 16], recv: [2; 16] });
/// let mut buf = [0u8; 4];
/// assert_eq!(mppe.encrypt(&mut buf, 0), Err(MppeError::TooShort { len: 0 }));
/// assert_eq!(mppe.encrypt(&mut buf, 3), Err(MppeError::BufferTooSmall { required: 5 }));
/// assert_eq!(mppe.decrypt(&mut [0x90, 0x00]), Err(MppeError::TooShort { len: 2 }));
/// // Header bits A (0x80) FLUSHED, D (0x10) encrypted, then the 12-bit count.
/// assert_eq!(mppe.decrypt(&mut [0x80, 0x00, 0x21]), Err(MppeError::NotEncrypted));
/// assert_eq!(mppe.decrypt(&mut [0x10, 0x00, 0x21]), Err(MppeError::FlushedBitMissing { count: 0 }));
/// assert_eq!(
///     mppe.decrypt(&mut [0x90, 0x20, 0x21]), // count 32, 33 ahead of 4095
///     Err(MppeError::CountOutOfRange { count: 32, distance: 33, max: 16 })
/// );
/// assert_eq!(mppe.receive_coherency_count(), 4095); // unchanged
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MppeError {
    /// The packet does not have the encrypted bit (D) although MPPE
    /// encryption is in use (RFC 3078 §3).
    #[error("MPPE packet is not encrypted (D bit clear) but encryption is required")]
    NotEncrypted,
    /// Stateless mode: the coherency count is further ahead than the
    /// allowed catch-up (or behind: a late packet).
    #[error("MPPE coherency count {count} is {distance} ahead, more than the allowed {max}")]
    CountOutOfRange {
        /// The packet's coherency count.
        count: u16,
        /// How many counts ahead of the last one it is (mod 4096).
        distance: u16,
        /// The configured bound.
        max: u16,
    },
    /// Stateless mode: the packet lacks the FLUSHED bit (A), which every
    /// stateless packet carries (RFC 3078 §8.1).
    #[error("MPPE packet with coherency count {count} lacks the FLUSHED bit")]
    FlushedBitMissing {
        /// The packet's coherency count.
        count: u16,
    },
    /// Stateless mode: the coherency count is the last one accepted: a
    /// replay (a genuine sender never repeats a count), dropped.
    #[error("MPPE coherency count {count} repeated: a replay")]
    Replayed {
        /// The packet's coherency count.
        count: u16,
    },
    /// Stateless mode: catching up to this count would exceed the rekey
    /// budget ([`CATCH_UP_BUDGET`]), which genuine packets refill; dropped.
    /// Bounds the work forged far-ahead counts can cause.
    #[error("MPPE coherency count {count} is {distance} ahead: over the rekey budget")]
    RekeyBudget {
        /// The packet's coherency count.
        count: u16,
        /// How many counts ahead it is.
        distance: u16,
    },
    /// The packet decrypted to no protocol a PPP peer sends under MPPE: a
    /// forgery (or corruption). The receive state is left as it was, so
    /// genuine packets keep decrypting.
    #[error("MPPE packet with coherency count {count} decrypted to garbage: dropped")]
    Implausible {
        /// The packet's coherency count.
        count: u16,
    },
    /// The packet is shorter than the MPPE header plus one octet, or the
    /// plaintext to encrypt is empty (it holds at least the protocol field).
    #[error("MPPE packet or plaintext of {len} octets is too short")]
    TooShort {
        /// The packet's (or plaintext's) length.
        len: usize,
    },
    /// The caller's buffer cannot hold the header and the plaintext.
    #[error("buffer too small for the MPPE packet: {required} octets required")]
    BufferTooSmall {
        /// The octets the buffer needs.
        required: usize,
    },
}

/// The outcome of [`Mppe::decrypt`]. The [`Mppe`] examples show each
/// variant ([stateless](Mppe#example), [stateful](Mppe#stateful-mode)).
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub enum Decrypted<'a> {
    /// The decrypted packet: the PPP protocol field and information, or
    /// MPPC data if `compressed` is set.
    Plaintext {
        /// The plaintext, in place inside the caller's packet.
        payload: &'a mut [u8],
        /// Header bit A: the sender flushed (RC4 and MPPC history reset).
        flushed: bool,
        /// Header bit B: MPPC "packet at front of history".
        at_front: bool,
        /// Header bit C: the plaintext is MPPC-compressed.
        compressed: bool,
    },
    /// Stateful mode: a packet was lost. The packet was discarded; send a
    /// CCP Reset-Request. Packets are discarded until one has FLUSHED.
    SendResetRequest,
    /// Stateful mode: discarded while waiting for a FLUSHED packet after a
    /// loss (the Reset-Request was already asked for).
    Discarded,
}

/// Sending half.
#[derive(Debug)]
struct Sender {
    keys: KeyState,
    /// Count of the last packet sent.
    count: u16,
    /// A CCP Reset-Request arrived: flush on the next packet.
    reset_pending: bool,
}

/// Receiving half.
#[derive(Debug)]
struct Receiver {
    keys: KeyState,
    /// Count of the last packet accepted (stateful: the one expected last).
    count: u16,
    /// Stateful mode: a loss was seen, waiting for FLUSHED.
    discarding: bool,
    /// Packets discarded since the loss, to repeat the Reset-Request.
    discarded: u16,
    /// Stateless: catch-up rekeys left ([`CATCH_UP_BUDGET`]).
    budget: u32,
}

/// MPPE state of one PPP link: a sending and a receiving direction.
///
/// Driving contract: call [`encrypt`](Self::encrypt) for every frame to
/// send, [`decrypt`](Self::decrypt) for every received protocol `0x00FD`
/// frame, and [`reset_requested`](Self::reset_requested) when a CCP
/// Reset-Request arrives; send a CCP Reset-Request whenever `decrypt` says
/// [`Decrypted::SendResetRequest`]. Errors leave the state unchanged.
///
/// # Example
///
/// ```
/// use pptp_proto::crypto::MppeKeys;
/// use pptp_proto::mppe::{Decrypted, KeyLength, Mppe, MppeOptions};
///
/// let client_keys = MppeKeys { send: [1; 16], recv: [2; 16] };
/// let server_keys = MppeKeys { send: [2; 16], recv: [1; 16] };
/// let options = MppeOptions::new(KeyLength::Bits128, true);
/// let (mut client, mut server) = (Mppe::new(options, &client_keys), Mppe::new(options, &server_keys));
///
/// let mut buf = [0u8; 64];
/// buf[2..7].copy_from_slice(&[0x00, 0x21, 0x45, 0x00, 0x00]); // PPP protocol + IPv4 start
/// let n = client.encrypt(&mut buf, 5)?;
/// match server.decrypt(&mut buf[..n])? {
///     Decrypted::Plaintext { payload, .. } => assert_eq!(payload, &[0x00, 0x21, 0x45, 0x00, 0x00]),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), pptp_proto::mppe::MppeError>(())
/// ```
///
/// # Stateful mode
///
/// A lost packet makes the receiver discard until the sender, asked by a
/// CCP Reset-Request, sends a FLUSHED packet:
///
/// ```
/// use pptp_proto::crypto::MppeKeys;
/// use pptp_proto::mppe::{Decrypted, KeyLength, Mppe, MppeOptions};
///
/// let options = MppeOptions::new(KeyLength::Bits128, false);
/// let mut tx = Mppe::new(options, &MppeKeys { send: [1; 16], recv: [2; 16] });
/// let mut rx = Mppe::new(options, &MppeKeys { send: [2; 16], recv: [1; 16] });
/// assert_eq!(tx.options(), options);
/// let mut buf = [0u8; 8];
/// tx.encrypt(&mut buf, 6)?; // count 0: lost on the way
/// buf[2..].copy_from_slice(b"\x00\x21data");
/// let n = tx.encrypt(&mut buf, 6)?; // count 1
/// assert_eq!(tx.send_coherency_count(), 1);
/// assert_eq!(rx.decrypt(&mut buf[..n])?, Decrypted::SendResetRequest);
/// assert!(rx.is_discarding());
///
/// // The CCP Reset-Request reaches the sender.
/// assert!(!tx.next_packet_flushes());
/// tx.reset_requested();
/// assert!(tx.next_packet_flushes());
/// buf[2..].copy_from_slice(b"\x00\x21data");
/// let n = tx.encrypt(&mut buf, 6)?; // count 2, FLUSHED
/// match rx.decrypt(&mut buf[..n])? {
///     Decrypted::Plaintext { payload, flushed, .. } => assert!(flushed && payload == b"\x00\x21data"),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(rx.receive_coherency_count(), 2);
/// assert!(!rx.is_discarding());
/// # Ok::<(), pptp_proto::mppe::MppeError>(())
/// ```
#[derive(Debug)]
pub struct Mppe {
    options: MppeOptions,
    send: Sender,
    recv: Receiver,
}

impl Mppe {
    /// Starts both directions from the start keys of this end (`keys.send`
    /// for what it sends, `keys.recv` for what it receives). See the
    /// [example](Self#example).
    pub fn new(options: MppeOptions, keys: &MppeKeys) -> Self {
        Self {
            options,
            send: Sender {
                keys: KeyState::new(&keys.send, options.key_length),
                count: COUNT_MASK,
                reset_pending: false,
            },
            recv: Receiver {
                keys: KeyState::new(&keys.recv, options.key_length),
                count: COUNT_MASK,
                discarding: false,
                discarded: 0,
                budget: CATCH_UP_BUDGET,
            },
        }
    }

    /// The options this state was built with. See the
    /// [stateful example](Self#stateful-mode).
    pub fn options(&self) -> MppeOptions {
        self.options
    }

    /// Coherency count of the last packet sent (4095 before the first). See
    /// the [stateful example](Self#stateful-mode).
    pub fn send_coherency_count(&self) -> u16 {
        self.send.count
    }

    /// Coherency count of the last packet received (4095 before the first).
    /// See the [stateful example](Self#stateful-mode).
    pub fn receive_coherency_count(&self) -> u16 {
        self.recv.count
    }

    /// Stateful mode: whether a loss was seen and packets are discarded
    /// until one with FLUSHED arrives. See the
    /// [stateful example](Self#stateful-mode).
    pub fn is_discarding(&self) -> bool {
        self.recv.discarding
    }

    /// A CCP Reset-Request arrived (RFC 3078 §8.2): the next packet sent is
    /// rekeyed and carries FLUSHED. Repeated calls before that packet count
    /// once. See the [stateful example](Self#stateful-mode).
    pub fn reset_requested(&mut self) {
        self.send.reset_pending = true;
    }

    /// Encrypts `buf[2..2 + len]` (PPP protocol field + information) in
    /// place and writes the MPPE header into `buf[0..2]`. Returns the
    /// packet length, `2 + len`.
    ///
    /// # Example
    ///
    /// The first packet of a real client (the pptpcrack capture's frame
    /// 315): header `90 00` (FLUSHED, encrypted, count 0), then the
    /// ciphertext.
    ///
    /// ```
    /// use pptp_proto::crypto::MppeKeys;
    /// use pptp_proto::mppe::{KeyLength, Mppe, MppeOptions};
    /// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
    /// // The start keys of a real stateless 128-bit session (pptpcrack test capture).
    /// let client_send = bytes("5feb418becd3d469e35a579c206297d0");
    /// let server_send = bytes("b34084a4b243be1aa89b97ccaf0782e3");
    ///
    /// let options = MppeOptions::new(KeyLength::Bits128, true);
    /// let mut client = Mppe::new(options, &MppeKeys { send: client_send, recv: server_send });
    /// let plaintext = hex::decode("00214600002800000000010258a2c0a82b6fe0000016940400002200f9010000000104000000e00000fc").unwrap();
    /// let mut buf = [0u8; 64];
    /// buf[2..2 + plaintext.len()].copy_from_slice(&plaintext);
    /// let n = client.encrypt(&mut buf, plaintext.len())?;
    /// assert_eq!(&buf[..2], &[0x90, 0x00]);
    /// assert_eq!(hex::encode(&buf[2..n]), "0e55bc7331b4cb89d6f49a82be2c59345b08192f4a7447d9c2d1a27088607ca1618f7a5fd741127f787c");
    /// # Ok::<(), pptp_proto::mppe::MppeError>(())
    /// ```
    pub fn encrypt(&mut self, buf: &mut [u8], len: usize) -> Result<usize, MppeError> {
        self.encrypt_with(buf, len, MppcFlags::empty())
    }

    /// Whether the next packet [`encrypt`](Self::encrypt) sends carries
    /// FLUSHED (stateless mode, a 0xFF count, or after a Reset-Request).
    /// With MPPC the bit also resets the peer's history (RFC 3078 §3: one
    /// header for both), so reset the compressor before compressing it.
    /// See the [stateful example](Self#stateful-mode) and
    /// [`encrypt_with`](Self::encrypt_with).
    pub fn next_packet_flushes(&self) -> bool {
        let count = (self.send.count + 1) & COUNT_MASK;
        self.options.stateless || count & 0xFF == 0xFF || self.send.reset_pending
    }

    /// [`encrypt`](Self::encrypt) for an MPPC packet: `mppc` are the A/B/C
    /// bits the compressor returned, sent in the same header. A FLUSHED
    /// from MPPC (a packet sent uncompressed) restarts RC4 as a
    /// Reset-Request does, since the receiver treats the bit alike.
    ///
    /// # Example
    ///
    /// ```
    /// use pptp_proto::crypto::MppeKeys;
    /// use pptp_proto::mppc::{MppcCompressor, MppcDecompressor, MppcFlags};
    /// use pptp_proto::mppe::{Decrypted, KeyLength, Mppe, MppeOptions};
    ///
    /// let options = MppeOptions::new(KeyLength::Bits128, false);
    /// let mut tx = Mppe::new(options, &MppeKeys { send: [1; 16], recv: [2; 16] });
    /// let mut rx = Mppe::new(options, &MppeKeys { send: [2; 16], recv: [1; 16] });
    /// let (mut compressor, mut decompressor) = (MppcCompressor::new(), MppcDecompressor::new());
    ///
    /// let packet = b"\x00\x21hello hello hello hello";
    /// let mut buf = [0u8; 64];
    /// if tx.next_packet_flushes() {
    ///     compressor.reset();
    /// }
    /// let out = compressor.compress(packet, &mut buf[2..])?;
    /// let n = tx.encrypt_with(&mut buf, out.len, out.flags)?;
    ///
    /// let flags = MppcFlags::from_header(u16::from_be_bytes([buf[0], buf[1]]));
    /// assert_eq!(flags, out.flags);
    /// let Decrypted::Plaintext { payload, .. } = rx.decrypt(&mut buf[..n])? else { unreachable!() };
    /// assert_eq!(decompressor.decompress(flags, payload)?, packet);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encrypt_with(
        &mut self,
        buf: &mut [u8],
        len: usize,
        mppc: MppcFlags,
    ) -> Result<usize, MppeError> {
        if len == 0 {
            return Err(MppeError::TooShort { len });
        }
        let required = len.saturating_add(HEADER_LEN);
        let Some(packet) = buf.get_mut(..required) else {
            return Err(MppeError::BufferTooSmall { required });
        };
        let count = (self.send.count + 1) & COUNT_MASK;
        // RFC 3078 §7: rekey every packet (stateless) and on 0xFF "flag"
        // packets; after a Reset-Request restart RC4 (or rekey, as Linux).
        let flag = count & 0xFF == 0xFF;
        let reset = self.send.reset_pending || mppc.contains(MppcFlags::FLUSHED);
        let flush = self.options.stateless || flag || reset;
        if self.options.stateless || flag || (reset && self.options.reset_rekeys) {
            self.send.keys.rekey();
        } else if reset {
            self.send.keys.reset_rc4();
        }
        self.send.count = count;
        self.send.reset_pending = false;
        let mut flags = MppeFlags::ENCRYPTED | MppeFlags::from_bits_truncate(mppc.to_header());
        if flush {
            flags |= MppeFlags::FLUSHED;
        }
        let (head, body) = packet.split_at_mut(HEADER_LEN);
        let header = MppeHeader {
            flags,
            coherency_count: CoherencyCount::new(count),
        };
        header.emit(&mut &mut head[..]);
        self.send.keys.apply(body);
        Ok(required)
    }

    /// Decrypts one MPPE packet (the information field of a protocol
    /// `0x00FD` frame: header, then ciphertext) in place.
    ///
    /// # Example
    ///
    /// The server decrypts the first packet of a real client (the
    /// pptpcrack capture's frame 315, count 0): an IPv4 packet.
    ///
    /// ```
    /// use pptp_proto::crypto::MppeKeys;
    /// use pptp_proto::mppe::{Decrypted, KeyLength, Mppe, MppeOptions};
    /// # fn bytes<const N: usize>(h: &str) -> [u8; N] { hex::decode(h).unwrap().try_into().unwrap() }
    /// // The start keys of a real stateless 128-bit session (pptpcrack test capture).
    /// let client_send = bytes("5feb418becd3d469e35a579c206297d0");
    /// let server_send = bytes("b34084a4b243be1aa89b97ccaf0782e3");
    ///
    /// let options = MppeOptions::new(KeyLength::Bits128, true);
    /// let mut server = Mppe::new(options, &MppeKeys { send: server_send, recv: client_send });
    /// let mut packet = hex::decode("90000e55bc7331b4cb89d6f49a82be2c59345b08192f4a7447d9c2d1a27088607ca1618f7a5fd741127f787c").unwrap();
    /// match server.decrypt(&mut packet)? {
    ///     Decrypted::Plaintext { payload, flushed, compressed, .. } => {
    ///         assert!(flushed && !compressed);
    ///         assert_eq!(hex::encode(&payload[..]), "00214600002800000000010258a2c0a82b6fe0000016940400002200f9010000000104000000e00000fc");
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// assert_eq!(server.receive_coherency_count(), 0);
    /// # Ok::<(), pptp_proto::mppe::MppeError>(())
    /// ```
    pub fn decrypt<'a>(&mut self, packet: &'a mut [u8]) -> Result<Decrypted<'a>, MppeError> {
        let len = packet.len();
        let header = match MppeHeader::parse(packet) {
            Ok((h, _)) if len > HEADER_LEN => h,
            _ => return Err(MppeError::TooShort { len }),
        };
        if !header.flags.contains(MppeFlags::ENCRYPTED) {
            return Err(MppeError::NotEncrypted);
        }
        let payload = packet.get_mut(HEADER_LEN..).unwrap_or_default();
        if self.options.stateless {
            self.decrypt_stateless(header, payload)?;
        } else {
            if let Some(outcome) = self.sync_stateful(header, payload)? {
                return Ok(outcome);
            }
            self.recv.keys.apply(payload);
        }
        Ok(Decrypted::Plaintext {
            payload,
            flushed: header.flags.contains(MppeFlags::FLUSHED),
            at_front: header.flags.contains(MppeFlags::AT_FRONT),
            compressed: header.flags.contains(MppeFlags::COMPRESSED),
        })
    }

    /// RFC 3078 §8.1: rekey once per count advanced, tentatively: the new
    /// key is kept only if the packet decrypts to a plausible protocol, so
    /// a forged count cannot move the receiver off the genuine sequence. A
    /// repeated count is a replay; the catch-up draws on a rekey budget.
    fn decrypt_stateless(
        &mut self,
        header: MppeHeader,
        payload: &mut [u8],
    ) -> Result<(), MppeError> {
        let count = header.coherency_count.get();
        if !header.flags.contains(MppeFlags::FLUSHED) {
            return Err(MppeError::FlushedBitMissing { count });
        }
        let distance = count.wrapping_sub(self.recv.count) & COUNT_MASK;
        let max = self.options.max_catch_up;
        if distance == 0 {
            return Err(MppeError::Replayed { count });
        }
        if distance > max {
            return Err(MppeError::CountOutOfRange {
                count,
                distance,
                max,
            });
        }
        let extra = u32::from(distance - 1);
        if extra > self.recv.budget {
            return Err(MppeError::RekeyBudget { count, distance });
        }
        self.recv.budget -= extra;
        let before = self.recv.keys.session_key();
        for _ in 0..distance {
            self.recv.keys.rekey();
        }
        self.recv.keys.apply(payload);
        // Every stateless packet is FLUSHED: MPPC data starts from an empty
        // history, so its first symbols are the protocol's literal octets
        // (RFC 2118 §4.2.1: octets below 0x80 encode as themselves).
        if self.options.verify_protocol && !plausible(payload, distance == 1) {
            self.recv.keys.restore_session_key(before);
            return Err(MppeError::Implausible { count });
        }
        self.recv.count = count;
        self.recv.budget = (self.recv.budget + CATCH_UP_REFILL).min(CATCH_UP_BUDGET);
        Ok(())
    }

    /// RFC 3078 §8.2 with Linux `ppp_mppe` semantics.
    fn sync_stateful(
        &mut self,
        header: MppeHeader,
        payload: &[u8],
    ) -> Result<Option<Decrypted<'static>>, MppeError> {
        let count = header.coherency_count.get();
        let flushed = header.flags.contains(MppeFlags::FLUSHED);
        let recv = &mut self.recv;
        if !recv.discarding {
            recv.count = (recv.count + 1) & COUNT_MASK;
            if count != recv.count {
                recv.discarding = true;
                return Ok(Some(Decrypted::SendResetRequest));
            }
        } else if !flushed {
            // Ask again now and then: the FLUSHED answer may have been lost.
            recv.discarded = recv.discarded.wrapping_add(1);
            if recv.discarded % RESET_REPEAT == 0 {
                return Ok(Some(Decrypted::SendResetRequest));
            }
            return Ok(Some(Decrypted::Discarded));
        } else {
            // The sender rekeyed on every 0xFF packet we missed.
            while count & 0xF00 != recv.count & 0xF00 {
                recv.keys.rekey();
                recv.count = (recv.count + 0x100) & COUNT_MASK;
            }
            recv.discarding = false;
            recv.discarded = 0;
            recv.count = count;
        }
        // Every sender rekeys on 0xFF packets (Linux also flags them
        // FLUSHED, FreeBSD does not); other FLUSHED packets follow a reset.
        // FLUSHED MPPC data starts with literals too (see decrypt_stateless).
        if count & 0xFF == 0xFF && !(flushed && self.options.verify_protocol) {
            recv.keys.rekey();
        } else if count & 0xFF == 0xFF {
            // A flag packet that also answers a Reset-Request: one rekey
            // for both, plus one per earlier answer that was lost.
            let (keys, _) = resync_flush(&recv.keys, true, payload, true);
            recv.keys = keys;
        } else if flushed {
            let verify = self.options.verify_protocol;
            let (keys, policy) =
                resync_flush(&recv.keys, self.options.reset_rekeys, payload, verify);
            recv.keys = keys;
            self.options.reset_rekeys = policy;
        }
        Ok(None)
    }
}

/// Flushed packets a lost Reset-Request answer can leave the receiver
/// behind by, which a FLUSHED packet can still catch up.
const MAX_FLUSH_REKEYS: usize = 8;

/// The keys for a FLUSHED packet after a Reset-Request: our policy (a new
/// key, or RC4 restarted), checked against the packet's protocol field when
/// `verify`. A new key is tried up to [`MAX_FLUSH_REKEYS`] times (the
/// sender rekeys once per Reset-Request, and FLUSHED answers get lost too),
/// then the other policy, which is then followed (returned as the policy).
fn resync_flush(keys: &KeyState, rekeys: bool, payload: &[u8], verify: bool) -> (KeyState, bool) {
    let head = |k: &KeyState| {
        let mut h = [0u8; 2];
        let n = payload.len().min(2);
        h[..n].copy_from_slice(&payload[..n]);
        k.clone().apply(&mut h[..n]);
        plausible(&h[..n], false)
    };
    let restarted = || {
        let mut k = keys.clone();
        k.reset_rc4();
        k
    };
    let rekeyed = || {
        let mut k = keys.clone();
        (0..MAX_FLUSH_REKEYS).find_map(|_| {
            k.rekey();
            head(&k).then(|| k.clone())
        })
    };
    if !verify {
        let mut k = keys.clone();
        flush(&mut k, rekeys);
        return (k, rekeys);
    }
    let found = if rekeys {
        rekeyed()
            .map(|k| (k, true))
            .or_else(|| Some(restarted()).filter(|k| head(k)).map(|k| (k, false)))
    } else {
        Some(restarted())
            .filter(|k| head(k))
            .map(|k| (k, false))
            .or_else(|| rekeyed().map(|k| (k, true)))
    };
    found.unwrap_or_else(|| {
        let mut k = keys.clone();
        flush(&mut k, rekeys);
        (k, rekeys)
    })
}

/// A stateful flush: a new key (`rekeys`) or RC4 restarted with this one.
fn flush(keys: &mut KeyState, rekeys: bool) {
    if rekeys {
        keys.rekey();
    } else {
        keys.reset_rc4();
    }
}

/// Whether decrypted `data` starts with a PPP protocol a peer sends under
/// MPPE: IPv4, IPv6 or IPX (full or PFC-compressed); with `any_valid`,
/// any network-layer protocol number of the valid form (RFC 1661 §2: the
/// low byte odd, the high byte even). Random bytes pass the strict test
/// about once in 10 000.
fn plausible(data: &[u8], any_valid: bool) -> bool {
    const KNOWN: [u8; 3] = [0x21, 0x57, 0x2b];
    match data {
        [first, ..] if first & 1 == 1 => KNOWN.contains(first) || any_valid,
        [0, second, ..] if KNOWN.contains(second) => true,
        [high, low, ..] => any_valid && high & 1 == 0 && low & 1 == 1 && *high < 0x40,
        _ => false,
    }
}

impl Mppe {
    /// Stateless: catch-up rekeys left in the budget ([`CATCH_UP_BUDGET`]).
    /// See [`MppeError::RekeyBudget`].
    ///
    /// ```
    /// use pptp_proto::crypto::MppeKeys;
    /// use pptp_proto::mppe::{KeyLength, Mppe, MppeError, MppeOptions, CATCH_UP_BUDGET};
    ///
    /// let options = MppeOptions::new(KeyLength::Bits128, true);
    /// let mut rx = Mppe::new(options, &MppeKeys { send: [1; 16], recv: [2; 16] });
    /// assert_eq!(rx.catch_up_budget(), CATCH_UP_BUDGET);
    /// // A forged packet 4 000 counts ahead: the rekeys are spent, the key
    /// // chain is not moved (it decrypts to no PPP protocol).
    /// let mut forged = [0x9f, 0xa0, 1, 2, 3, 4, 5, 6];
    /// assert_eq!(rx.decrypt(&mut forged), Err(MppeError::Implausible { count: 4000 }));
    /// assert_eq!(rx.catch_up_budget(), CATCH_UP_BUDGET - 4000);
    /// assert_eq!(rx.receive_coherency_count(), 4095);
    /// ```
    pub fn catch_up_budget(&self) -> u32 {
        self.recv.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> MppeKeys {
        MppeKeys {
            send: [0x11; 16],
            recv: [0x11; 16],
        }
    }

    #[test]
    fn session_keys_follow_the_count() {
        let mut m = Mppe::new(MppeOptions::new(KeyLength::Bits40, true), &keys());
        assert_eq!(&m.send.keys.current()[..3], &[0xD1, 0x26, 0x9E]);
        let mut buf = [0u8; 8];
        assert_eq!(m.encrypt(&mut buf, 6), Ok(8));
        assert_eq!(&buf[..2], &[0x90, 0x00]);
        assert_eq!(&m.send.keys.current()[..3], &[0xD1, 0x26, 0x9E]);
        assert_eq!(&m.send.keys.current()[8..], &[0; 8]);
    }

    #[test]
    fn buffer_too_small_leaves_state_alone() {
        let mut m = Mppe::new(MppeOptions::new(KeyLength::Bits128, false), &keys());
        let mut buf = [0u8; 5];
        assert_eq!(
            m.encrypt(&mut buf, 4),
            Err(MppeError::BufferTooSmall { required: 6 })
        );
        assert_eq!(m.send_coherency_count(), 4095);
        assert_eq!(
            m.encrypt(&mut buf, usize::MAX),
            Err(MppeError::BufferTooSmall {
                required: usize::MAX
            })
        );
    }

    #[test]
    fn options_from_bits() {
        let o = MppeOptions::from_bits(MppeBits::BITS_128 | MppeBits::STATELESS);
        assert_eq!(o, Some(MppeOptions::new(KeyLength::Bits128, true)));
        let o = MppeOptions::from_bits(MppeBits::BITS_56 | MppeBits::BITS_40);
        assert_eq!(o, Some(MppeOptions::new(KeyLength::Bits56, false)));
        assert_eq!(MppeOptions::from_bits(MppeBits::MPPC), None);
        assert_eq!(
            MppeOptions::new(KeyLength::Bits40, true)
                .with_max_catch_up(0)
                .max_catch_up,
            1
        );
        assert_eq!(
            MppeOptions::new(KeyLength::Bits40, true)
                .with_max_catch_up(9999)
                .max_catch_up,
            4095
        );
    }

    #[test]
    fn debug_redacts_keys() {
        let m = Mppe::new(MppeOptions::new(KeyLength::Bits128, true), &keys());
        let text = alloc::format!("{m:?}");
        assert!(text.contains("<redacted>"));
        assert!(!text.contains("17"), "{text}");
    }
}
