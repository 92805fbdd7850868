//! Prometheus remote_write 1.0: a snappy block (`snap::raw`, not the framed format) holding a
//! protobuf `prometheus.WriteRequest`.
//!
//! The messages are declared by hand with only the fields Hush reads; protobuf skips unknown
//! fields, so metadata (field 3 of `WriteRequest`), exemplars and native histograms (fields 3 and
//! 4 of `TimeSeries`) are ignored without error. A series carrying no float samples is skipped.

use crate::IngestError;
use crate::limits::{Budget, Limits};
use hush_model::{Sample, TimeSeries};
use prost::Message;

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<WireSeries>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WireSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<WireLabel>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<WireSample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WireLabel {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
///
/// `value` is declared with presence so the encoder can write `-0.0`: proto3 skips a field equal
/// to its default, and prost compares with `==`, for which `-0.0 == 0.0`, so the sign would be
/// lost. Go's encoder compares bits; [`encode`] does the same. The wire format is unchanged.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WireSample {
    #[prost(double, optional, tag = "1")]
    pub value: Option<f64>,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// Decodes and validates a remote_write request body (snappy-compressed protobuf).
///
/// The decompressed size is read from the snappy header and checked against
/// `max_decompressed_bytes` before anything is allocated. The result holds one [`TimeSeries`]
/// per input series that carries samples, in input order.
pub fn decode(body: &[u8], limits: &Limits) -> Result<Vec<TimeSeries>, IngestError> {
    let len = snap::raw::decompress_len(body).map_err(|e| IngestError::BadSnappy(e.to_string()))?;
    limits.check_size(len as u64)?;
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| IngestError::BadSnappy(e.to_string()))?;
    decode_protobuf(&raw, limits)
}

/// Decodes and validates an uncompressed `WriteRequest` (the step after snappy).
pub fn decode_protobuf(raw: &[u8], limits: &Limits) -> Result<Vec<TimeSeries>, IngestError> {
    limits.check_size(raw.len() as u64)?;
    let req = WriteRequest::decode(raw).map_err(|e| IngestError::BadProtobuf(e.to_string()))?;
    let mut budget = Budget::new(limits);
    // Cheap checks on counts first, so an oversized request fails before any label is built.
    budget.add_series(
        req.timeseries
            .iter()
            .filter(|s| !s.samples.is_empty())
            .count(),
    )?;
    budget.add_samples(req.timeseries.iter().map(|s| s.samples.len()).sum())?;
    let mut out = Vec::with_capacity(req.timeseries.len());
    for ws in req.timeseries {
        if ws.samples.is_empty() {
            continue;
        }
        let pairs = ws.labels.into_iter().map(|l| (l.name, l.value)).collect();
        let labels = limits.labels(pairs)?;
        let mut samples = Vec::with_capacity(ws.samples.len());
        for s in ws.samples {
            let v = s.value.unwrap_or(0.0);
            if limits.check_value(&labels, s.timestamp, v)? {
                samples.push(Sample::new(s.timestamp, v));
            }
        }
        if !samples.is_empty() {
            out.push(TimeSeries::new(labels, samples));
        }
    }
    Ok(out)
}

/// Encodes series as a remote_write body (protobuf, then a snappy block), as Prometheus sends it.
pub fn encode(series: &[TimeSeries]) -> Vec<u8> {
    let raw = encode_protobuf(series);
    // Compressing a Vec cannot fail short of the input exceeding snappy's 4 GiB block limit,
    // which no in-memory request here reaches; an empty body is the defined fallback.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

/// Encodes series as an uncompressed `WriteRequest`.
pub fn encode_protobuf(series: &[TimeSeries]) -> Vec<u8> {
    let req = WriteRequest {
        timeseries: series
            .iter()
            .map(|s| WireSeries {
                labels: s
                    .labels
                    .iter()
                    .map(|l| WireLabel {
                        name: l.name.clone(),
                        value: l.value.clone(),
                    })
                    .collect(),
                samples: s
                    .samples
                    .iter()
                    .map(|p| WireSample {
                        value: (p.v.to_bits() != 0).then_some(p.v),
                        timestamp: p.t,
                    })
                    .collect(),
            })
            .collect(),
    };
    req.encode_to_vec()
}

#[cfg(test)]
mod tests;
