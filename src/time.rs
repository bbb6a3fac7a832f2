//! The crate's own notion of time.
//!
//! The crate never reads a clock. The embedder picks an epoch (process start,
//! `Instant::ZERO` in tests) and passes the current time into every `handle_*`
//! call as an [`Instant`]: microseconds since that epoch. Durations are
//! [`core::time::Duration`].

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

pub use core::time::Duration;

/// A point in time, in microseconds since an epoch chosen by the embedder.
///
/// # Example
///
/// ```
/// use pptp_proto::time::{Duration, Instant};
/// let t = Instant::from_millis(3000);
/// assert_eq!(t, Instant::from_secs(3));
/// assert_eq!(t, Instant::from_micros(3_000_000));
/// assert_eq!((t.total_millis(), t.total_micros()), (3000, 3_000_000));
/// assert_eq!(t + Duration::from_secs(1), Instant::from_secs(4));
/// assert_eq!(Instant::from_secs(4) - t, Duration::from_secs(1));
/// // Arithmetic saturates instead of panicking.
/// assert_eq!(Instant::ZERO - t, Duration::ZERO);
/// assert_eq!(Instant::ZERO.saturating_duration_since(t), Duration::ZERO);
/// assert_eq!(Instant::MAX.checked_add(Duration::from_micros(1)), None);
/// assert_eq!(Instant::MAX.saturating_add(Duration::from_secs(1)), Instant::MAX);
/// assert_eq!(format!("{t}"), "3.000000s");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    micros: u64,
}

impl Instant {
    /// The epoch.
    pub const ZERO: Instant = Instant { micros: 0 };
    /// The latest representable instant; useful as "never".
    pub const MAX: Instant = Instant { micros: u64::MAX };

    /// An instant `micros` microseconds after the epoch. See the
    /// [example](Instant#example).
    pub const fn from_micros(micros: u64) -> Self {
        Instant { micros }
    }

    /// An instant `millis` milliseconds after the epoch (saturating). See the
    /// [example](Instant#example).
    pub const fn from_millis(millis: u64) -> Self {
        Instant {
            micros: millis.saturating_mul(1_000),
        }
    }

    /// An instant `secs` seconds after the epoch (saturating). See the
    /// [example](Instant#example).
    pub const fn from_secs(secs: u64) -> Self {
        Instant {
            micros: secs.saturating_mul(1_000_000),
        }
    }

    /// Microseconds since the epoch. See the [example](Instant#example).
    pub const fn total_micros(self) -> u64 {
        self.micros
    }

    /// Milliseconds since the epoch (truncated). See the
    /// [example](Instant#example).
    pub const fn total_millis(self) -> u64 {
        self.micros / 1_000
    }

    /// The time elapsed since `earlier`, or zero if `earlier` is later
    /// (what `self - earlier` returns). See the [example](Instant#example).
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(earlier.micros))
    }

    /// `self + d`, or `None` on overflow. See the [example](Instant#example).
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        let d = u64::try_from(d.as_micros()).ok()?;
        self.micros.checked_add(d).map(Instant::from_micros)
    }

    /// `self + d`, clamped to [`Instant::MAX`] (what `self + d` does). See
    /// the [example](Instant#example).
    pub fn saturating_add(self, d: Duration) -> Instant {
        self.checked_add(d).unwrap_or(Instant::MAX)
    }

    /// The earlier of two optional deadlines; `None` means "no deadline".
    ///
    /// This is the fold every facade uses for `poll_timeout`: the soonest wins.
    ///
    /// ```
    /// use pptp_proto::time::Instant;
    /// let (one, two) = (Instant::from_secs(1), Instant::from_secs(2));
    /// assert_eq!(Instant::soonest(Some(two), Some(one)), Some(one));
    /// assert_eq!(Instant::soonest(None, Some(two)), Some(two));
    /// assert_eq!(Instant::soonest(None, None), None);
    /// ```
    pub fn soonest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        }
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates at [`Instant::MAX`] instead of overflowing.
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturates at zero when `rhs` is later than `self`.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:06}s",
            self.micros / 1_000_000,
            self.micros % 1_000_000
        )
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::ZERO - Instant::from_secs(1), Duration::ZERO);
        assert_eq!(Instant::from_millis(1500).total_millis(), 1500);
        assert_eq!(Instant::from_secs(2).total_micros(), 2_000_000);
    }

    #[test]
    fn soonest_folds() {
        let a = Some(Instant::from_secs(1));
        let b = Some(Instant::from_secs(2));
        assert_eq!(Instant::soonest(a, b), a);
        assert_eq!(Instant::soonest(None, b), b);
        assert_eq!(Instant::soonest(a, None), a);
        assert_eq!(Instant::soonest(None, None), None);
    }

    #[test]
    fn debug_prints_seconds() {
        assert_eq!(format!("{:?}", Instant::from_millis(3001)), "3.001000s");
    }
}
