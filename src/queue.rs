//! Control-plane queues that give their memory back when drained.
//!
//! A session's control messages, PPP frames and events come in bursts (the
//! handshake, then an echo now and then); between bursts an idle tunnel
//! should not keep the capacity the handshake grew. The data path does not
//! use these queues, so releasing costs nothing per data packet.

use alloc::collections::VecDeque;

/// Pops the oldest item; when there is none left and the owner is
/// `settled` (past its handshake, where the queue is refilled at once),
/// frees the buffer.
///
/// Inlined: the owners poll their empty queues on every data packet, where
/// this must cost no more than the emptiness check.
#[inline(always)]
pub(crate) fn pop_or_release<T>(queue: &mut VecDeque<T>, settled: bool) -> Option<T> {
    if queue.is_empty() {
        if settled && queue.capacity() != 0 {
            release(queue);
        }
        return None;
    }
    queue.pop_front()
}

#[cold]
#[inline(never)]
fn release<T>(queue: &mut VecDeque<T>) {
    *queue = VecDeque::new();
}

#[cfg(test)]
mod tests {
    use super::pop_or_release;
    use alloc::collections::VecDeque;

    #[test]
    fn drained_queue_frees_its_buffer() {
        let mut q: VecDeque<u32> = (0..10).collect();
        let drained: alloc::vec::Vec<u32> =
            core::iter::from_fn(|| pop_or_release(&mut q, true)).collect();
        assert_eq!(drained, (0..10).collect::<alloc::vec::Vec<u32>>());
        assert_eq!(q.capacity(), 0);
        // An empty, unallocated queue stays as it is.
        assert_eq!(pop_or_release(&mut q, true), None);
        assert_eq!(q.capacity(), 0);
        // Before its owner settles, a drained queue keeps its buffer.
        q.push_back(1);
        assert_eq!(pop_or_release(&mut q, false), Some(1));
        assert_eq!(pop_or_release(&mut q, false), None);
        assert_ne!(q.capacity(), 0);
    }
}
