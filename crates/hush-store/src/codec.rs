//! Little-endian binary encoding shared by the WAL and block files, with a cursor whose reads
//! are all bounds-checked (files can be torn or corrupt; decoding must never panic).

use hush_model::{Labels, LabelsBuilder};

pub(crate) fn put_u16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_i64(b: &mut Vec<u8>, v: i64) {
    b.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_labels(b: &mut Vec<u8>, labels: &Labels) {
    put_u16(b, labels.len() as u16);
    for l in labels.iter() {
        put_u16(b, l.name.len() as u16);
        b.extend_from_slice(l.name.as_bytes());
        put_u32(b, l.value.len() as u32);
        b.extend_from_slice(l.value.as_bytes());
    }
}

pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn arr<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.arr::<1>()?[0])
    }
    pub(crate) fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.arr()?))
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.arr()?))
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.arr()?))
    }
    pub(crate) fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.arr()?))
    }
    pub(crate) fn labels(&mut self) -> Option<Labels> {
        let n = self.u16()? as usize;
        let mut b = LabelsBuilder::with_capacity(n);
        for _ in 0..n {
            let nl = self.u16()? as usize;
            let name = std::str::from_utf8(self.bytes(nl)?).ok()?;
            let vl = self.u32()? as usize;
            let value = std::str::from_utf8(self.bytes(vl)?).ok()?;
            b.push(name, value);
        }
        b.build().ok()
    }
}

impl Cursor<'_> {
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
}
