//! PPP frames as they travel in enhanced GRE (RFC 1661 §2, RFC 2637 §4).
//!
//! Over GRE there is no HDLC flag, byte stuffing or FCS: a frame is the
//! optional Address/Control pair `ff 03` (absent once ACFC is negotiated),
//! the Protocol field (one byte once PFC is negotiated and the value allows
//! it), and the information field.

code_point! {
    /// A PPP Protocol field value (RFC 1661 §2, IANA "PPP DLL Protocol Numbers").
    pub struct Protocol(u16) {
        /// Internet Protocol version 4.
        IPV4 = 0x0021 => "IP",
        /// Internet Protocol version 6.
        IPV6 = 0x0057 => "IPv6",
        /// Compressed datagram: MPPE/MPPC payload (RFC 1962, RFC 3078).
        COMPRESSED = 0x00fd => "Compressed",
        /// IP Control Protocol (RFC 1332).
        IPCP = 0x8021 => "IPCP",
        /// IPv6 Control Protocol (RFC 5072).
        IPV6CP = 0x8057 => "IPV6CP",
        /// Compression Control Protocol (RFC 1962).
        CCP = 0x80fd => "CCP",
        /// Link Control Protocol (RFC 1661).
        LCP = 0xc021 => "LCP",
        /// Password Authentication Protocol (RFC 1334).
        PAP = 0xc023 => "PAP",
        /// Link Quality Report (RFC 1989).
        LQR = 0xc025 => "LQR",
        /// Callback Control Protocol (Microsoft CBCP).
        CBCP = 0xc029 => "CBCP",
        /// Challenge-Handshake Authentication Protocol (RFC 1994).
        CHAP = 0xc223 => "CHAP",
        /// Extensible Authentication Protocol (RFC 3748).
        EAP = 0xc227 => "EAP",
    }
}
