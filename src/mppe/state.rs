//! Per-direction key state: start key, current session key and the RC4
//! cipher keyed with it.

use core::fmt;

use zeroize::Zeroize;

use crate::crypto::key_derivation::{new_key_from_sha, reduce_session_key, rekey_in_place};
use crate::crypto::KeyLength;
use crate::rc4::Rc4;

/// One direction's keys. Zeroized on drop (the RC4 state zeroizes itself).
#[derive(Clone)]
pub(crate) struct KeyState {
    start: [u8; 16],
    current: [u8; 16],
    rc4: Rc4,
    length: KeyLength,
}

impl KeyState {
    /// Keys for one direction: the initial session key is
    /// `GetNewKeyFromSHA(start, start)`, reduced (RFC 3079 §3.5).
    pub(crate) fn new(start_key: &[u8; 16], length: KeyLength) -> Self {
        let len = length.octets();
        let mut start = [0u8; 16];
        start[..len].copy_from_slice(&start_key[..len]);
        let mut current = [0u8; 16];
        new_key_from_sha(&start, &start, len, &mut current);
        reduce_session_key(&mut current, length);
        let rc4 = Rc4::new(&current[..len]);
        Self {
            start,
            current,
            rc4,
            length,
        }
    }

    /// RFC 3078 §7.3: derive the next session key and re-key RC4 with it.
    pub(crate) fn rekey(&mut self) {
        // The interim step runs in `self.rc4`, which is re-keyed just after.
        rekey_in_place(&self.start, &mut self.current, self.length, &mut self.rc4);
        self.reset_rc4();
    }

    /// Re-initializes RC4 with the current session key.
    pub(crate) fn reset_rc4(&mut self) {
        // In place: no allocation, and the old state is overwritten.
        self.rc4.rekey(&self.current[..self.length.octets()]);
    }

    /// The current session key, to undo a tentative catch-up.
    pub(crate) fn session_key(&self) -> [u8; 16] {
        self.current
    }

    /// Puts back a session key from [`KeyState::session_key`] (stateless:
    /// RC4 is re-keyed from it before it is used again).
    pub(crate) fn restore_session_key(&mut self, key: [u8; 16]) {
        self.current = key;
    }

    /// Encrypts or decrypts in place with the running keystream.
    pub(crate) fn apply(&mut self, data: &mut [u8]) {
        self.rc4.apply_keystream(data);
    }

    /// The current session key, for tests against published values.
    #[cfg(test)]
    pub(crate) fn current(&self) -> &[u8; 16] {
        &self.current
    }
}

impl Drop for KeyState {
    fn drop(&mut self) {
        self.start.zeroize();
        self.current.zeroize();
    }
}

impl fmt::Debug for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyState")
            .field("length", &self.length)
            .field("keys", &format_args!("<redacted>"))
            .finish()
    }
}
