//! Gorilla-style chunk codec: delta-of-delta timestamps and XOR'd float values.
//!
//! The scheme follows Pelkonen et al., "Gorilla: A Fast, Scalable, In-Memory Time Series
//! Database" (VLDB 2015), with Prometheus' wider timestamp buckets for millisecond resolution.
//! Written here rather than taken from a crate: the Gorilla crates on crates.io are unmaintained,
//! and the store needs incremental appends plus a decoder that never panics on corrupt input.

use crate::bits::{BitReader, BitWriter};
use hush_model::Sample;

/// An append-only compressed run of samples with strictly increasing timestamps.
#[derive(Debug, Clone, Default)]
pub struct XorChunk {
    w: BitWriter,
    count: u32,
    min_t: i64,
    last_t: i64,
    last_delta: i64,
    last_bits: u64,
    leading: u8,
    trailing: u8,
    /// Whether `leading`/`trailing` describe a window a later value may reuse.
    window: bool,
}

/// Timestamp delta-of-delta buckets: (prefix bits, prefix len, payload bits).
const T_BUCKETS: [(u64, u8, u8); 3] = [(0b10, 2, 14), (0b110, 3, 17), (0b1110, 4, 20)];

impl XorChunk {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn min_t(&self) -> i64 {
        self.min_t
    }

    pub fn max_t(&self) -> i64 {
        self.last_t
    }

    /// Encoded payload size in bytes (without the count header).
    pub fn byte_len(&self) -> usize {
        self.w.bytes().len()
    }

    /// Appends a sample; the caller guarantees `t` is greater than [`Self::max_t`] when non-empty.
    pub fn append(&mut self, t: i64, v: f64) {
        let bits = v.to_bits();
        match self.count {
            0 => {
                self.w.write_bits(t as u64, 64);
                self.w.write_bits(bits, 64);
                self.min_t = t;
                self.last_delta = 0;
            }
            _ => {
                let delta = t.wrapping_sub(self.last_t);
                let dod = delta.wrapping_sub(self.last_delta);
                self.write_dod(dod);
                self.last_delta = delta;
                self.write_value(bits);
            }
        }
        self.last_t = t;
        self.last_bits = bits;
        self.count += 1;
    }

    fn write_dod(&mut self, dod: i64) {
        if dod == 0 {
            self.w.write_bit(false);
            return;
        }
        for (prefix, plen, nbits) in T_BUCKETS {
            let lo = -(1i64 << (nbits - 1)) + 1;
            let hi = 1i64 << (nbits - 1);
            if (lo..=hi).contains(&dod) {
                self.w.write_bits(prefix, plen);
                self.w.write_bits(dod as u64, nbits);
                return;
            }
        }
        self.w.write_bits(0b1111, 4);
        self.w.write_bits(dod as u64, 64);
    }

    fn write_value(&mut self, bits: u64) {
        let xor = bits ^ self.last_bits;
        if xor == 0 {
            self.w.write_bit(false);
            return;
        }
        self.w.write_bit(true);
        let leading = (xor.leading_zeros() as u8).min(31);
        let trailing = xor.trailing_zeros() as u8;
        if self.window && leading >= self.leading && trailing >= self.trailing {
            // The new value's meaningful bits fit the previous window: reuse it.
            self.w.write_bit(false);
            let sig = 64 - self.leading - self.trailing;
            self.w.write_bits(xor >> self.trailing, sig);
        } else {
            self.w.write_bit(true);
            let sig = 64 - leading - trailing;
            self.w.write_bits(leading as u64, 5);
            // 64 significant bits is written as 0: six bits hold 0..=63.
            self.w.write_bits((sig & 63) as u64, 6);
            self.w.write_bits(xor >> trailing, sig);
            self.leading = leading;
            self.trailing = trailing;
            self.window = true;
        }
    }

    /// Serialises as `count: u32 LE` followed by the bit stream.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.w.bytes().len());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(self.w.bytes());
        out
    }

    pub fn iter(&self) -> ChunkIter<'_> {
        ChunkIter::new(self.w.bytes(), self.count)
    }

    /// Releases spare capacity once the chunk is sealed.
    pub fn shrink(&mut self) {
        self.w.shrink();
    }

    /// Heap bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.w.bytes().len()
    }

    #[doc(hidden)]
    pub fn free_bits(&self) -> u8 {
        self.w.free_bits()
    }
}

/// Decodes a chunk's bit stream; yields nothing further once the input runs out or is corrupt.
#[derive(Debug, Clone)]
pub struct ChunkIter<'a> {
    r: BitReader<'a>,
    remaining: u32,
    read: u32,
    t: i64,
    delta: i64,
    bits: u64,
    leading: u8,
    trailing: u8,
}

impl<'a> ChunkIter<'a> {
    pub fn new(buf: &'a [u8], count: u32) -> Self {
        Self {
            r: BitReader::new(buf),
            remaining: count,
            read: 0,
            t: 0,
            delta: 0,
            bits: 0,
            leading: 0,
            trailing: 0,
        }
    }

    /// Parses the `count: u32 LE` header written by [`XorChunk::to_bytes`].
    pub fn from_bytes(buf: &'a [u8]) -> Option<Self> {
        let head: [u8; 4] = buf.get(..4)?.try_into().ok()?;
        Some(Self::new(&buf[4..], u32::from_le_bytes(head)))
    }

    fn read_dod(&mut self) -> Option<i64> {
        // Prefixes: 0 | 10 | 110 | 1110 | 1111.
        let mut ones = 0;
        while ones < 4 && self.r.read_bit()? {
            ones += 1;
        }
        let width = match ones {
            0 => return Some(0),
            1 => 14,
            2 => 17,
            3 => 20,
            _ => return Some(self.r.read_bits(64)? as i64),
        };
        let v = self.r.read_bits(width)? as i64;
        // The encoder's range is (-2^(w-1), 2^(w-1)], so 2^(w-1) itself reads as positive.
        Some(if v > 1 << (width - 1) {
            v - (1 << width)
        } else {
            v
        })
    }

    fn read_value(&mut self) -> Option<u64> {
        if !self.r.read_bit()? {
            return Some(self.bits);
        }
        if self.r.read_bit()? {
            self.leading = self.r.read_bits(5)? as u8;
            let sig = match self.r.read_bits(6)? as u8 {
                0 => 64,
                n => n,
            };
            if self.leading as u16 + sig as u16 > 64 {
                return None;
            }
            self.trailing = 64 - self.leading - sig;
        }
        let sig = 64u8.checked_sub(self.leading)?.checked_sub(self.trailing)?;
        let x = self.r.read_bits(sig)?;
        Some(self.bits ^ x.checked_shl(self.trailing as u32).unwrap_or(0))
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if self.remaining == 0 {
            return None;
        }
        let out = if self.read == 0 {
            self.t = self.r.read_bits(64)? as i64;
            self.bits = self.r.read_bits(64)?;
            Sample::new(self.t, f64::from_bits(self.bits))
        } else {
            let dod = self.read_dod()?;
            self.delta = self.delta.wrapping_add(dod);
            self.t = self.t.wrapping_add(self.delta);
            self.bits = self.read_value()?;
            Sample::new(self.t, f64::from_bits(self.bits))
        };
        self.read += 1;
        self.remaining -= 1;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(samples: &[Sample]) -> Vec<Sample> {
        let mut c = XorChunk::new();
        for s in samples {
            c.append(s.t, s.v);
        }
        let bytes = c.to_bytes();
        ChunkIter::from_bytes(&bytes).unwrap().collect()
    }

    fn same(a: &[Sample], b: &[Sample]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.t == y.t && x.v.to_bits() == y.v.to_bits())
    }

    #[test]
    fn regular_scrape_compresses_well() {
        let samples: Vec<Sample> = (0..120)
            .map(|i| Sample::new(1_700_000_000_000 + i * 15_000, 42.0))
            .collect();
        let mut c = XorChunk::new();
        for s in &samples {
            c.append(s.t, s.v);
        }
        // 16 bytes for the first sample, then ~2 bits per sample.
        assert!(c.byte_len() < 16 + 40, "{} bytes", c.byte_len());
        assert!(same(&round_trip(&samples), &samples));
    }

    #[test]
    fn jitter_counters_and_special_values() {
        let mut samples = Vec::new();
        let mut t = 1_000i64;
        let mut v = 0.0f64;
        for i in 0..500i64 {
            t += 15_000 + (i * 7919 % 401) - 200;
            v += (i % 13) as f64 * 0.37;
            samples.push(Sample::new(t, v));
        }
        samples.push(Sample::new(t + 1, f64::NAN));
        samples.push(Sample::new(t + 2, f64::INFINITY));
        samples.push(Sample::new(t + 3, f64::from_bits(0x7ff0_0000_0000_0002)));
        samples.push(Sample::new(t + 10_000_000_000, -0.0));
        samples.push(Sample::new(t + 10_000_000_001, f64::MIN_POSITIVE));
        assert!(same(&round_trip(&samples), &samples));
    }

    #[test]
    fn bucket_edges() {
        let base = 1_000_000i64;
        for w in [14u32, 17, 20] {
            for d in [
                (1i64 << (w - 1)),
                -(1i64 << (w - 1)) + 1,
                -(1i64 << (w - 1)),
                (1i64 << (w - 1)) + 1,
            ] {
                let s = [
                    Sample::new(base, 1.0),
                    Sample::new(base + 1000, 2.0),
                    Sample::new(base + 2000 + d, 3.0),
                ];
                if s[2].t > s[1].t {
                    assert!(same(&round_trip(&s), &s), "dod {d}");
                }
            }
        }
    }

    #[test]
    fn corrupt_input_ends_iteration() {
        let mut c = XorChunk::new();
        for i in 0..50 {
            c.append(i * 1000, i as f64 * 1.5);
        }
        let bytes = c.to_bytes();
        for cut in 0..bytes.len() {
            if let Some(it) = ChunkIter::from_bytes(&bytes[..cut]) {
                assert!(it.count() <= 50);
            }
        }
        // A lying count cannot make the decoder read past the buffer.
        let mut lying = bytes.clone();
        lying[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(ChunkIter::from_bytes(&lying).unwrap().count() < 1000);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_series_round_trip(start in -1_000_000_000_000i64..1_000_000_000_000, steps in proptest::collection::vec((1i64..100_000_000, proptest::num::f64::ANY), 1..300)) {
            let mut t = start;
            let mut samples = Vec::new();
            for (d, v) in steps {
                t += d;
                samples.push(Sample::new(t, v));
            }
            proptest::prop_assert!(same(&round_trip(&samples), &samples));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if let Some(it) = ChunkIter::from_bytes(&bytes) {
                let _ = it.take(10_000).count();
            }
        }
    }
}
