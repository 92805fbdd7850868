//! Bit-level writer and reader for the XOR chunk codec.

/// Appends bits most-significant first into a byte vector.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// Bits still free in the last byte of `buf` (0 means a new byte is needed).
    free: u8,
}

impl BitWriter {
    pub(crate) fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.buf.push(0);
            self.free = 8;
        }
        if bit && let Some(last) = self.buf.last_mut() {
            *last |= 1 << (self.free - 1);
        }
        self.free -= 1;
    }

    /// Writes the low `n` bits of `v` (n ≤ 64), most significant first.
    pub(crate) fn write_bits(&mut self, v: u64, mut n: u8) {
        while n > 0 {
            if self.free == 0 {
                self.buf.push(0);
                self.free = 8;
            }
            let take = n.min(self.free);
            let shift = n - take;
            let chunk = ((v >> shift) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.buf.last_mut() {
                *last |= chunk << (self.free - take);
            }
            self.free -= take;
            n -= take;
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn free_bits(&self) -> u8 {
        self.free
    }

    pub(crate) fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }
}

/// Reads bits written by [`BitWriter`]; every read is bounds-checked and returns `None` past the end.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        let byte = *self.buf.get(self.pos / 8)?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1 == 1;
        self.pos += 1;
        Some(bit)
    }

    pub(crate) fn read_bits(&mut self, n: u8) -> Option<u64> {
        if n > 64 || self.pos + n as usize > self.buf.len() * 8 {
            return None;
        }
        let mut v = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = self.buf[self.pos / 8];
            let off = (self.pos % 8) as u8;
            let avail = 8 - off;
            let take = left.min(avail);
            let bits = (byte >> (avail - take)) & (((1u16 << take) - 1) as u8);
            v = (v << take) | bits as u64;
            self.pos += take as usize;
            left -= take;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_mixed_widths() {
        let mut w = BitWriter::default();
        let items: Vec<(u64, u8)> = vec![
            (1, 1),
            (0b101, 3),
            (u64::MAX, 64),
            (0, 7),
            (12345, 17),
            (1, 1),
        ];
        for &(v, n) in &items {
            w.write_bits(v, n);
        }
        let mut r = BitReader::new(w.bytes());
        for &(v, n) in &items {
            let mask = if n == 64 { u64::MAX } else { (1 << n) - 1 };
            assert_eq!(r.read_bits(n), Some(v & mask));
        }
    }

    #[test]
    fn reading_past_end_is_none() {
        let mut r = BitReader::new(&[0xff]);
        assert_eq!(r.read_bits(8), Some(0xff));
        assert_eq!(r.read_bit(), None);
        assert_eq!(r.read_bits(3), None);
    }
}
