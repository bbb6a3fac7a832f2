//! Stateless codecs for every packet a PPTP session carries.
//!
//! Each packet kind has a `parse(&[u8]) -> Result<Self, Error>` (built with
//! `nom`), an `emit(&self, &mut impl BufMut)` and a `buffer_len(&self)` that
//! says how many bytes `emit` writes. `emit` followed by `parse` is the
//! identity. Nothing here keeps state or reads a clock; the state machines in
//! the rest of the crate are built on top.
//!
//! Parsing never panics on peer bytes: every malformed input is an [`Error`]
//! that says what was wrong and where.
//!
//! `Display` prints packets the way pppd's debug log does, for example
//! `[LCP ConfReq id=0x1 <mru 1400> <magic 0x5f3c2a19> <pcomp> <accomp>]`.
//!
//! # Example
//!
//! A GRE packet from the peer, decoded layer by layer down to a log line,
//! and written back byte for byte:
//!
//! ```
//! use pptp_proto::wire::{gre::GrePacket, packet::PppPacket, ppp::PppFrame};
//!
//! let bytes = [
//!     0x30, 0x81, 0x88, 0x0b, 0x00, 0x12, 0x00, 0x00, // GRE, 18 bytes of PPP for call 0
//!     0x00, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x00, 0x2a, // seq 47, ack 42
//!     0xff, 0x03, 0xc0, 0x21, // PPP: LCP
//!     0x09, 0x2a, 0x00, 0x0e, 0x00, 0x00, 0x10, 0x92, b'a', b'b', b'c', b'd', b'e', b'f',
//! ];
//! let gre = GrePacket::parse(&bytes)?;
//! let frame = PppFrame::parse(gre.payload)?;
//! let packet = PppPacket::parse(&frame)?;
//! assert_eq!(
//!     packet.to_string(),
//!     "[LCP EchoReq id=0x2a magic=0x1092 61 62 63 64 65 66]"
//! );
//!
//! let mut out = Vec::with_capacity(gre.buffer_len());
//! gre.emit(&mut out);
//! assert_eq!(out, bytes);
//! # Ok::<(), pptp_proto::wire::Error>(())
//! ```
//!
//! # Code points
//!
//! Type and code fields (PPP protocols, message types, option types, error
//! codes) are open newtypes: the known values are associated constants, and
//! any other value is kept as is, so it can be rejected or echoed byte for
//! byte. `name()` gives the short name of a known value.
//!
//! ```
//! use pptp_proto::wire::{auth::MsChapError, ppp::Protocol};
//!
//! assert_eq!(Protocol::CHAP.name(), Some("CHAP"));
//! assert_eq!(Protocol(0x8281).name(), None);
//! assert_eq!(MsChapError::from(691), MsChapError::AUTHENTICATION_FAILURE);
//! assert_eq!(u32::from(MsChapError::PASSWORD_EXPIRED), 648);
//! assert_eq!(format!("{:?}", MsChapError(709)), "ERROR_CHANGING_PASSWORD");
//! ```

use core::fmt;

/// Declares an open code-point newtype: associated constants for the known
/// values, any other value kept as-is (so it can be rejected byte-for-byte).
macro_rules! code_point {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($ty:ty) {
            $( $(#[$cmeta:meta])* $cname:ident = $val:literal => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        $vis struct $name(pub $ty);

        impl $name {
            $( $(#[$cmeta])* pub const $cname: $name = $name($val); )*

            /// The short name of a known value, `None` for an unknown one
            /// (see the [example](crate::wire#code-points)).
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some($text), )*
                    _ => None,
                }
            }
        }

        impl From<$ty> for $name {
            fn from(v: $ty) -> Self { $name(v) }
        }

        impl From<$name> for $ty {
            fn from(v: $name) -> Self { v.0 }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}({:#x})", stringify!($name), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{:#x}", self.0),
                }
            }
        }
    };
}
pub(crate) use code_point;

pub mod auth;
pub mod control;
pub mod cp;
pub mod eap;
pub mod gre;
pub mod mppe;
pub mod packet;
pub mod ppp;

/// A malformed packet. Every variant says which packet kind (`what`) and,
/// where it helps, the offset or the numbers that did not fit.
///
/// # Example
///
/// ```
/// use pptp_proto::wire::{gre::GreHeader, Error};
///
/// let err = GreHeader::parse(&[0x30, 0x81, 0x88]).unwrap_err();
/// assert_eq!(err, Error::Truncated { what: "GRE", needed: 8, available: 3 });
/// assert_eq!(err.to_string(), "GRE: truncated: need 8 bytes, have 3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before the packet did.
    #[error("{what}: truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// The packet kind or field being parsed.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// A length field disagrees with the packet kind or with the bytes present.
    #[error("{what}: bad length {length} (expected {expected})")]
    BadLength {
        /// The packet kind.
        what: &'static str,
        /// The length field's value.
        length: usize,
        /// What was expected, in words (for example `"156"` or `"4..=1500"`).
        expected: &'static str,
    },
    /// A PPTP control message whose magic cookie is not 0x1A2B3C4D.
    #[error("PPTP: bad magic cookie {0:#010x} (expected 0x1a2b3c4d)")]
    BadMagicCookie(u32),
    /// A PPTP message whose PPTP Message Type is not 1 (control).
    #[error("PPTP: bad PPTP message type {0} (expected 1, control)")]
    BadPptpMessageType(u16),
    /// A PPTP control message type outside 1..=15.
    #[error("PPTP: unknown control message type {0}")]
    UnknownMessageType(u16),
    /// A type-length-value option whose length is below 2 or runs past the packet.
    #[error("{what}: bad option length {length} at offset {offset}")]
    BadOptionLength {
        /// The protocol whose options were parsed.
        what: &'static str,
        /// Offset of the option within the option list.
        offset: usize,
        /// The option's length octet.
        length: usize,
    },
    /// A header field with a value the protocol forbids.
    #[error("{what}: bad {field} {value:#x}")]
    BadField {
        /// The packet kind.
        what: &'static str,
        /// The field.
        field: &'static str,
        /// Its value.
        value: u32,
    },
    /// Anything else that is malformed, with a reason.
    #[error("{what}: malformed: {reason}")]
    Malformed {
        /// The packet kind.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// Shorthand for a [`Error::Truncated`] check: `Ok(())` when `input` holds at
/// least `needed` bytes.
pub(crate) fn need(what: &'static str, input: &[u8], needed: usize) -> Result<(), Error> {
    if input.len() < needed {
        Err(Error::Truncated {
            what,
            needed,
            available: input.len(),
        })
    } else {
        Ok(())
    }
}

/// Writes bytes as lower-case hex (used by `Display` impls for raw data).
pub(crate) struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}
