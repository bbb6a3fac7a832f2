//! One timer table for the machines: a deadline per reason.
//!
//! A machine names its timers with a small enum implementing [`Timer`];
//! the table keeps one optional deadline for each and answers the earliest
//! (for `poll_timeout`) together with its reason. No allocation: the table
//! is an array the size of the enum.

use crate::time::Instant;

/// A machine's timer reasons: every value in [`Timer::ALL`], each with its
/// own slot.
pub(crate) trait Timer: Copy + core::fmt::Debug + 'static {
    /// Every reason, in slot order.
    const ALL: &'static [Self];
    /// The reason's slot, below `ALL.len()`.
    fn slot(self) -> usize;
}

/// One deadline per reason of `T`; `N` is `T::ALL.len()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerTable<T: Timer, const N: usize> {
    deadlines: [Option<Instant>; N],
    reason: core::marker::PhantomData<T>,
}

impl<T: Timer, const N: usize> Default for TimerTable<T, N> {
    fn default() -> Self {
        TimerTable {
            deadlines: [None; N],
            reason: core::marker::PhantomData,
        }
    }
}

impl<T: Timer, const N: usize> TimerTable<T, N> {
    /// Arms `timer` for `at`, replacing its deadline.
    pub(crate) fn set(&mut self, timer: T, at: Instant) {
        self.deadlines[timer.slot()] = Some(at);
    }

    /// Sets or clears `timer`.
    pub(crate) fn set_opt(&mut self, timer: T, at: Option<Instant>) {
        self.deadlines[timer.slot()] = at;
    }

    /// Arms `timer` for `at` unless it is armed already.
    pub(crate) fn set_if_idle(&mut self, timer: T, at: Instant) {
        self.deadlines[timer.slot()].get_or_insert(at);
    }

    /// Disarms `timer`.
    pub(crate) fn stop(&mut self, timer: T) {
        self.deadlines[timer.slot()] = None;
    }

    /// Disarms every timer.
    pub(crate) fn stop_all(&mut self) {
        self.deadlines = [None; N];
    }

    /// `timer`'s deadline.
    pub(crate) fn get(&self, timer: T) -> Option<Instant> {
        self.deadlines[timer.slot()]
    }

    /// If `timer` is due at `now`: disarms it and returns true.
    pub(crate) fn fire(&mut self, timer: T, now: Instant) -> bool {
        let slot = &mut self.deadlines[timer.slot()];
        match *slot {
            Some(at) if at <= now => {
                *slot = None;
                true
            }
            _ => false,
        }
    }

    /// The earliest deadline and its reason (for `poll_timeout`, and for
    /// saying which timer fired).
    pub(crate) fn next(&self) -> Option<(T, Instant)> {
        T::ALL
            .iter()
            .filter_map(|&t| self.get(t).map(|at| (t, at)))
            .min_by_key(|&(_, at)| at)
    }

    /// The earliest deadline.
    pub(crate) fn earliest(&self) -> Option<Instant> {
        self.next().map(|(_, at)| at)
    }
}

/// Declares a machine's timer reasons: the enum, and its [`Timer`] impl with
/// `ALL` listing every variant in declaration order, so a slot can never be
/// missing from `ALL` or out of order. `COUNT` is the table's `N`:
/// `TimerTable<Reason, { Reason::COUNT }>`.
macro_rules! timer_reasons {
    (
        $(#[$meta:meta])*
        enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// How many reasons there are (the timer table's size).
            const COUNT: usize = [$($name::$variant),+].len();
        }

        impl $crate::timer::Timer for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn slot(self) -> usize {
                self as usize
            }
        }
    };
}
pub(crate) use timer_reasons;

#[cfg(test)]
mod tests {
    use super::{Timer, TimerTable};
    use crate::time::Instant;

    timer_reasons! {
        enum T {
            A,
            B,
        }
    }

    #[test]
    fn every_reason_has_its_slot_in_order() {
        assert_eq!(T::COUNT, 2);
        assert_eq!(T::ALL, [T::A, T::B]);
        assert_eq!((T::A.slot(), T::B.slot()), (0, 1));
    }

    #[test]
    fn earliest_with_its_reason_and_fire_once() {
        let mut table = TimerTable::<T, { T::COUNT }>::default();
        assert_eq!(table.next(), None);
        table.set(T::A, Instant::from_secs(5));
        table.set_if_idle(T::B, Instant::from_secs(3));
        table.set_if_idle(T::B, Instant::from_secs(9)); // already armed
        assert_eq!(table.next(), Some((T::B, Instant::from_secs(3))));
        assert_eq!(table.earliest(), Some(Instant::from_secs(3)));
        assert!(!table.fire(T::A, Instant::from_secs(4)), "not due");
        assert!(table.fire(T::B, Instant::from_secs(4)));
        assert!(!table.fire(T::B, Instant::from_secs(4)), "fires once");
        assert_eq!(table.next(), Some((T::A, Instant::from_secs(5))));
        table.stop_all();
        assert_eq!(table.get(T::A), None);
        table.set_opt(T::A, None);
        assert_eq!(table.earliest(), None);
    }
}
