//! Encoding of chunks in block files: timestamps and values compressed separately with pco
//! (Pcodec), which finds the regularities of sealed data — fixed scrape intervals, counters
//! growing by similar steps, decimal values — better than XOR encoding does. The head keeps the
//! Gorilla codec ([`crate::chunk`]) because pco is block-oriented and cannot append.
//!
//! Layout: `tag 1 | count u32 | ts_len u32 | pco(ts) | pco(values)`; tag 0 is an XOR chunk.

use crate::chunk::{ChunkIter, XorChunk};
use crate::codec::{Cursor, put_u32};
use hush_model::Sample;

const TAG_XOR: u8 = 0;
const TAG_PCO: u8 = 1;

/// Encodes sorted samples; falls back to XOR if pco refuses the input.
pub(crate) fn encode(samples: &[Sample]) -> Vec<u8> {
    let ts: Vec<i64> = samples.iter().map(|s| s.t).collect();
    // pco is lossless on float bit patterns, NaN payloads (stale markers) included; a test
    // checks it.
    let vs: Vec<f64> = samples.iter().map(|s| s.v).collect();
    let cfg = pco::ChunkConfig::default();
    match (
        pco::standalone::simple_compress(&ts, &cfg),
        pco::standalone::simple_compress(&vs, &cfg),
    ) {
        (Ok(a), Ok(b)) => {
            let mut out = Vec::with_capacity(9 + a.len() + b.len());
            out.push(TAG_PCO);
            put_u32(&mut out, samples.len() as u32);
            put_u32(&mut out, a.len() as u32);
            out.extend_from_slice(&a);
            out.extend_from_slice(&b);
            out
        }
        _ => {
            let mut c = XorChunk::new();
            for s in samples {
                c.append(s.t, s.v);
            }
            let mut out = vec![TAG_XOR];
            out.extend_from_slice(&c.to_bytes());
            out
        }
    }
}

/// Decodes a chunk written by [`encode`]; `None` when it is corrupt.
pub(crate) fn decode(buf: &[u8]) -> Option<Vec<Sample>> {
    let (&tag, rest) = buf.split_first()?;
    match tag {
        TAG_XOR => Some(ChunkIter::from_bytes(rest)?.collect()),
        TAG_PCO => {
            let mut c = Cursor::new(rest);
            let n = c.u32()? as usize;
            let ts_len = c.u32()? as usize;
            let ts_bytes = c.bytes(ts_len)?;
            let v_bytes = c.bytes(c.remaining())?;
            let ts: Vec<i64> = pco::standalone::simple_decompress(ts_bytes).ok()?;
            let vs: Vec<f64> = pco::standalone::simple_decompress(v_bytes).ok()?;
            if ts.len() != n || vs.len() != n {
                return None;
            }
            Some(
                ts.into_iter()
                    .zip(vs)
                    .map(|(t, v)| Sample::new(t, v))
                    .collect(),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_bits_and_compresses_regular_data() {
        let mut s: Vec<Sample> = (0..4000i64)
            .map(|i| {
                Sample::new(
                    1_700_000_000_000 + i * 15_000 + i % 3,
                    (i as f64) * 0.25 + 1000.0,
                )
            })
            .collect();
        s.push(Sample::new(
            1_800_000_000_000,
            f64::from_bits(0x7ff0_0000_0000_0002),
        ));
        s.push(Sample::new(1_800_000_000_001, f64::NEG_INFINITY));
        let enc = encode(&s);
        assert!(
            enc.len() < s.len(),
            "{} bytes for {} samples",
            enc.len(),
            s.len()
        );
        let dec = decode(&enc).unwrap();
        assert_eq!(dec.len(), s.len());
        assert!(
            dec.iter()
                .zip(&s)
                .all(|(a, b)| a.t == b.t && a.v.to_bits() == b.v.to_bits())
        );
    }

    #[test]
    fn corrupt_chunks_are_none_not_panics() {
        let s: Vec<Sample> = (0..100).map(|i| Sample::new(i, i as f64)).collect();
        let enc = encode(&s);
        for cut in 0..enc.len() {
            let _ = decode(&enc[..cut]);
        }
        let mut bad = enc.clone();
        for i in (0..bad.len()).step_by(3) {
            bad[i] ^= 0x5a;
        }
        let _ = decode(&bad);
        assert!(decode(&[9, 1, 2]).is_none());
    }
}
