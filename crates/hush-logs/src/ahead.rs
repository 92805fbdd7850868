//! Masking blocks of lines on other threads while the caller learns them in order.
//!
//! Learning must see lines in order, but masking them — about three quarters of the work for
//! common logs — need not: `workers` scoped threads take blocks from the source, mask them
//! and queue them by sequence number, while the calling thread hands each block, in order, to
//! its consumer (which learns it). Whenever the next block is not ready yet, the calling
//! thread masks one itself rather than wait, so with one worker and the caller the masking is
//! shared between two cores and neither sits idle. The consumer sees the same blocks in the
//! same order as a sequential loop would: results do not depend on timing.
//!
//! Blocks are recycled, text buffer included: allocating them afresh cost page faults, as
//! freeing a block on another thread than the one that allocated it returns its memory to
//! that thread's arena, which hands it back to the system.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::masked::MaskedLines;
use crate::types::MinerConfig;

/// Blocks masked ahead of the consumer, at most this many per worker: enough to ride out
/// scheduling hiccups, few enough to bound memory to a handful of blocks.
const QUEUED_PER_WORKER: usize = 2;

/// Masks blocks of lines on `workers` extra threads and on the calling thread, and calls
/// `each` with every masked block, on the calling thread and in the order `read` produced
/// them.
///
/// `read` replaces the content of the buffer it is given with the next block of lines and
/// returns whether there was one; lines are separated by `\n` and a block should end with
/// one, as a line is never continued in the next block (see [`MaskedLines::from_text`]). The
/// buffer is an earlier block's, recycled: reading over its bytes saves zeroing them. Bytes
/// that are not UTF-8 are decoded lossily. `read` runs on any of the threads, one call at a time, so
/// reading a file can be its job. With `workers == 0` everything runs on the calling thread.
///
/// If a worker panics, or `each` or `read` panic, the panic is propagated once the other
/// threads have stopped.
pub fn mask_ahead<R, F>(config: &MinerConfig, read: R, workers: usize, mut each: F)
where
    R: FnMut(&mut Vec<u8>) -> bool + Send,
    F: FnMut(&MaskedLines),
{
    let shared = Shared {
        source: Mutex::new(Source {
            read,
            taken: 0,
            done: false,
        }),
        queue: Mutex::new(Queue::default()),
        changed: Condvar::new(),
        cap: workers.saturating_mul(QUEUED_PER_WORKER),
    };
    if workers == 0 {
        let mut spare = None;
        while let Some((_, block)) = shared.next(config, spare.take()) {
            each(&block);
            spare = Some(block);
        }
        return;
    }
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                // Whatever ends this thread, a panic included, must wake the caller.
                let _done = Finished(&shared);
                shared.work(config);
            });
        }
        // Stops the workers if `each` panics, so the scope can join them.
        let stop = Finished(&shared);
        let mut want = 0u64;
        let mut used: Option<MaskedLines> = None;
        loop {
            let mut q = shared.queue();
            if let Some(block) = used.take() {
                q.free.push(block);
            }
            if let Some(block) = q.ready.remove(&want) {
                shared.notify(q);
                want += 1;
                each(&block);
                used = Some(block);
                continue;
            }
            if q.total == Some(want) || q.failed {
                break;
            }
            // The next block is not ready: mask one rather than wait, unless enough are
            // queued already (a worker held up would otherwise let the queue grow without
            // bound).
            if q.ready.len() < shared.cap {
                let spare = q.free.pop();
                drop(q);
                if let Some((seq, block)) = shared.next(config, spare) {
                    if seq == want {
                        want += 1;
                        each(&block);
                        used = Some(block);
                    } else {
                        shared.queue().ready.insert(seq, block);
                    }
                    continue;
                }
            } else {
                drop(q);
            }
            // The next block is being masked by a worker.
            let mut q = shared.queue();
            while !q.ready.contains_key(&want) && q.total != Some(want) && !q.failed {
                q = shared.wait(q);
            }
        }
        drop(stop);
    });
}

struct Source<R> {
    read: R,
    /// Blocks taken so far: the next block's sequence number.
    taken: u64,
    done: bool,
}

#[derive(Default)]
struct Queue {
    /// Masked blocks waiting for the consumer, by sequence number.
    ready: BTreeMap<u64, MaskedLines>,
    /// Blocks the consumer is done with, for reuse.
    free: Vec<MaskedLines>,
    /// The number of blocks, once the source is exhausted.
    total: Option<u64>,
    /// Set when a thread ended early (a panic): everyone stops.
    failed: bool,
    /// Threads waiting on `changed`: with none, a change needs no wake-up call (a system
    /// call each).
    waiting: usize,
}

struct Shared<R> {
    source: Mutex<Source<R>>,
    queue: Mutex<Queue>,
    /// Signalled when a block is queued or taken from the queue, or a thread stops.
    changed: Condvar,
    cap: usize,
}

impl<R: FnMut(&mut Vec<u8>) -> bool> Shared<R> {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // A panic elsewhere is reported through `failed`; the queue itself stays consistent.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a change to the queue.
    fn wait<'a>(&self, mut q: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        q.waiting += 1;
        let mut q = self.changed.wait(q).unwrap_or_else(PoisonError::into_inner);
        q.waiting -= 1;
        q
    }

    /// Releases the queue after changing it, waking the threads waiting for a change.
    fn notify(&self, q: MutexGuard<'_, Queue>) {
        let waiting = q.waiting > 0;
        drop(q);
        if waiting {
            self.changed.notify_all();
        }
    }

    /// Reads the next block into `spare` (or a new block) and masks it; returns it with its
    /// sequence number, or `None` once the source is exhausted.
    fn next(&self, config: &MinerConfig, spare: Option<MaskedLines>) -> Option<(u64, MaskedLines)> {
        let mut block = spare.unwrap_or_else(|| MaskedLines::new(config));
        let mut bytes = block.take_text().into_bytes();
        let mut src = self.source.lock().unwrap_or_else(PoisonError::into_inner);
        if src.done {
            return None;
        }
        if !(src.read)(&mut bytes) {
            src.done = true;
            let total = src.taken;
            drop(src);
            let mut q = self.queue();
            q.total = Some(total);
            self.notify(q);
            return None;
        }
        let seq = src.taken;
        src.taken += 1;
        drop(src);
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        block.refill(text);
        Some((seq, block))
    }

    /// A worker: masks blocks while the queue has room, until the source is exhausted.
    fn work(&self, config: &MinerConfig) {
        loop {
            let spare = {
                let mut q = self.queue();
                while q.ready.len() >= self.cap && !q.failed {
                    q = self.wait(q);
                }
                if q.failed {
                    return;
                }
                q.free.pop()
            };
            let Some((seq, block)) = self.next(config, spare) else {
                return;
            };
            let mut q = self.queue();
            q.ready.insert(seq, block);
            self.notify(q);
        }
    }
}

/// Marks the pipeline failed when dropped during a panic, waking everyone.
struct Finished<'a, R>(&'a Shared<R>);

impl<R> Drop for Finished<'_, R> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut q = self.0.queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.failed = true;
            drop(q);
            self.0.changed.notify_all();
        }
    }
}
