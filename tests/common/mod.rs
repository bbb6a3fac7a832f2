//! Shared test support: the captures in `../shared/captures` ([`capture`])
//! and in-memory sessions ([`sessions`]).
#![allow(dead_code)]

pub mod capture;
pub mod sessions;

pub use capture::*;
