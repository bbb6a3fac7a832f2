//! MPPE/MPPC: the CCP option 18 bits (RFC 3078 §2.1, RFC 2118 §2) and the
//! header of every compressed/encrypted packet (RFC 3078 §3).

bitflags::bitflags! {
    /// The 32-bit "Supported Bits" of CCP option 18 (MPPE/MPPC).
    ///
    /// Note the RFC's letters: `S` is 128-bit and `M` is 56-bit.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct MppeBits: u32 {
        /// `C`: MPPC compression (RFC 2118).
        const MPPC = 0x0000_0001;
        /// `D`: obsolete (was 56-bit in early drafts); never offered.
        const OBSOLETE_D = 0x0000_0010;
        /// `L`: 40-bit MPPE keys.
        const BITS_40 = 0x0000_0020;
        /// `S`: 128-bit MPPE keys.
        const BITS_128 = 0x0000_0040;
        /// `M`: 56-bit MPPE keys.
        const BITS_56 = 0x0000_0080;
        /// `H`: stateless mode (rekey every packet).
        const STATELESS = 0x0100_0000;
        // Unknown bits are kept so a Configure-Nak/Reject can echo them.
        const _ = !0;
    }
}
