//! The `tracing` feature's instrumentation: macros that expand to
//! `tracing` events with the feature and to nothing without it (their
//! arguments are then not even evaluated), and the pppd-style packet lines.

/// `event!(level, ...)`: a `tracing::<level>!` event when the feature is on.
macro_rules! event {
    ($level:ident, $($arg:tt)*) => {
        #[cfg(feature = "tracing")]
        {
            ::tracing::$level!($($arg)*);
        }
    };
}
pub(crate) use event;

/// `enter!(span)`: enters a `tracing::Span` (held in a field) until the end
/// of the enclosing block when the feature is on; nothing without it.
macro_rules! enter {
    ($span:expr) => {
        #[cfg(feature = "tracing")]
        let _entered = $span.clone().entered();
    };
}
pub(crate) use enter;

/// `record!(span, "field", value)`: records a field of a `tracing::Span`
/// (held in a field) when the feature is on; without it the value is only
/// borrowed, so it counts as used.
macro_rules! record {
    ($span:expr, $field:literal, $value:expr) => {
        #[cfg(feature = "tracing")]
        $span.record($field, $value);
        #[cfg(not(feature = "tracing"))]
        let _ = &$value;
    };
}
pub(crate) use record;

/// Logs a PPP frame the way pppd's debug log shows it: control packets at
/// DEBUG, data packets (IP, MPPE) at TRACE.
#[cfg(feature = "tracing")]
pub(crate) fn ppp_frame(word: &str, frame: &[u8]) {
    use crate::wire::packet::PppPacket;
    use crate::wire::ppp::{PppFrame, Protocol};
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let Ok(f) = PppFrame::parse(frame) else {
        tracing::debug!("{word} [malformed PPP frame, {} octets]", frame.len());
        return;
    };
    let data = matches!(
        f.protocol,
        Protocol::IPV4 | Protocol::IPV6 | Protocol::COMPRESSED
    );
    if data && !tracing::enabled!(tracing::Level::TRACE) {
        return;
    }
    match PppPacket::parse(&f) {
        Ok(p) if data => tracing::trace!("{word} {p}"),
        Ok(p) => tracing::debug!("{word} {p}"),
        Err(e) => tracing::debug!("{word} [malformed {}: {e}]", f.protocol),
    }
}
