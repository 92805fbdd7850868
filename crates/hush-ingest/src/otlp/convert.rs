//! OTLP metric data points to Prometheus-style series.

use super::names::{Shape, label_name, metric_name, value_string};
use crate::IngestError;
use crate::limits::{Limits, stale_marker};
use crate::series::SeriesSet;
use hush_model::{METRIC_NAME, TimeSeries};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, ExponentialHistogramDataPoint, HistogramDataPoint, Metric,
    NumberDataPoint, SummaryDataPoint, metric::Data, number_data_point,
};
use std::collections::BTreeMap;

type LabelMap = BTreeMap<String, String>;

/// `DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK`: the point marks the series as gone, which
/// Prometheus writes as a stale marker.
const NO_RECORDED_VALUE: u32 = 1;

/// Converts a decoded request, validating everything against `limits`.
pub(super) fn convert(
    req: &ExportMetricsServiceRequest,
    limits: &Limits,
) -> Result<Vec<TimeSeries>, IngestError> {
    let mut set = SeriesSet::new(limits);
    for rm in &req.resource_metrics {
        let resource = attributes(
            rm.resource.as_ref().map_or(&[][..], |r| &r.attributes),
            true,
        );
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                metric(&mut set, &resource, m)?;
            }
        }
    }
    Ok(set.finish())
}

/// Attributes as labels. Keys that sanitise to the same name have their values joined with `;`
/// in key order, as Prometheus does. On a resource, `service.name` becomes `service` and
/// `service.instance.id` becomes `instance`.
fn attributes(kvs: &[KeyValue], resource: bool) -> LabelMap {
    let mut sorted: Vec<&KeyValue> = kvs.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out = LabelMap::new();
    for kv in sorted {
        let name = match kv.key.as_str() {
            "service.name" if resource => "service".to_string(),
            "service.instance.id" if resource => "instance".to_string(),
            key => label_name(key),
        };
        let value = value_string(kv.value.as_ref());
        out.entry(name)
            .and_modify(|v| {
                v.push(';');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// Resource labels overlaid by the point's own attributes (the more specific wins).
fn point_labels(resource: &LabelMap, attrs: &[KeyValue]) -> LabelMap {
    let mut labels = resource.clone();
    labels.extend(attributes(attrs, false));
    labels
}

fn emit(
    set: &mut SeriesSet<'_>,
    base: &LabelMap,
    name: &str,
    extra: Option<(&str, String)>,
    t: i64,
    v: f64,
) -> Result<(), IngestError> {
    let mut labels = base.clone();
    labels.insert(METRIC_NAME.to_string(), name.to_string());
    if let Some((k, val)) = extra {
        labels.insert(k.to_string(), val);
    }
    set.push_pairs(labels.into_iter().collect(), t, v)
}

/// Nanoseconds to milliseconds; a point without a time is refused (OTLP requires one).
fn millis(ns: u64, metric: &str) -> Result<i64, IngestError> {
    if ns == 0 {
        return Err(IngestError::InvalidTimestamp {
            series: metric.to_string(),
            detail: "data point without time_unix_nano".into(),
        });
    }
    // u64::MAX / 10^6 fits in i64.
    Ok((ns / 1_000_000) as i64)
}

/// `le` and `quantile` values the way Prometheus prints them.
fn bound(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        v.to_string()
    }
}

fn cumulative_only(temporality: i32, kind: &str, name: &str) -> Result<(), IngestError> {
    if temporality == AggregationTemporality::Cumulative as i32 {
        return Ok(());
    }
    let which = if temporality == AggregationTemporality::Delta as i32 {
        "delta"
    } else {
        "unspecified"
    };
    Err(IngestError::Unsupported {
        what: format!(
            "{which} temporality of {kind} `{name}`; export cumulative temporality (for example with the \
             Collector's deltatocumulative processor)"
        ),
    })
}

fn metric(set: &mut SeriesSet<'_>, resource: &LabelMap, m: &Metric) -> Result<(), IngestError> {
    let Some(data) = &m.data else { return Ok(()) };
    match data {
        Data::Gauge(g) => {
            let name = metric_name(&m.name, &m.unit, Shape::Gauge);
            for p in &g.data_points {
                number(set, resource, &name, p)?;
            }
        }
        Data::Sum(s) => {
            cumulative_only(s.aggregation_temporality, "sum", &m.name)?;
            let shape = if s.is_monotonic {
                Shape::Counter
            } else {
                Shape::Gauge
            };
            let name = metric_name(&m.name, &m.unit, shape);
            for p in &s.data_points {
                number(set, resource, &name, p)?;
            }
        }
        Data::Histogram(h) => {
            cumulative_only(h.aggregation_temporality, "histogram", &m.name)?;
            let name = metric_name(&m.name, &m.unit, Shape::Distribution);
            for p in &h.data_points {
                histogram(set, resource, &name, p)?;
            }
        }
        Data::ExponentialHistogram(h) => {
            cumulative_only(h.aggregation_temporality, "exponential histogram", &m.name)?;
            let name = metric_name(&m.name, &m.unit, Shape::Distribution);
            for p in &h.data_points {
                exponential(set, resource, &name, p)?;
            }
        }
        Data::Summary(s) => {
            let name = metric_name(&m.name, &m.unit, Shape::Distribution);
            for p in &s.data_points {
                summary(set, resource, &name, p)?;
            }
        }
    }
    Ok(())
}

fn number(
    set: &mut SeriesSet<'_>,
    resource: &LabelMap,
    name: &str,
    p: &NumberDataPoint,
) -> Result<(), IngestError> {
    let v = match p.value {
        // A point without a value is invalid in OTLP; Prometheus' receiver drops it too.
        None => return Ok(()),
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
    };
    let v = if p.flags & NO_RECORDED_VALUE != 0 {
        stale_marker()
    } else {
        v
    };
    emit(
        set,
        &point_labels(resource, &p.attributes),
        name,
        None,
        millis(p.time_unix_nano, name)?,
        v,
    )
}

/// Emits `_sum` (when known) and `_count`, or stale markers for both.
fn sum_and_count(
    set: &mut SeriesSet<'_>,
    labels: &LabelMap,
    name: &str,
    t: i64,
    stale: bool,
    sum: Option<f64>,
    count: u64,
) -> Result<(), IngestError> {
    let pick = |v: f64| if stale { stale_marker() } else { v };
    if let Some(sum) = sum {
        emit(set, labels, &format!("{name}_sum"), None, t, pick(sum))?;
    }
    emit(
        set,
        labels,
        &format!("{name}_count"),
        None,
        t,
        pick(count as f64),
    )
}

fn histogram(
    set: &mut SeriesSet<'_>,
    resource: &LabelMap,
    name: &str,
    p: &HistogramDataPoint,
) -> Result<(), IngestError> {
    let t = millis(p.time_unix_nano, name)?;
    let labels = point_labels(resource, &p.attributes);
    let stale = p.flags & NO_RECORDED_VALUE != 0;
    let pick = |v: f64| if stale { stale_marker() } else { v };
    if !p.bucket_counts.is_empty() {
        if p.bucket_counts.len() != p.explicit_bounds.len() + 1 {
            return Err(IngestError::BadOtlp {
                metric: name.to_string(),
                message: format!(
                    "{} bucket counts for {} explicit bounds (want one more count than bounds)",
                    p.bucket_counts.len(),
                    p.explicit_bounds.len()
                ),
            });
        }
        if p.explicit_bounds.iter().any(|b| b.is_nan()) {
            return Err(IngestError::BadOtlp {
                metric: name.to_string(),
                message: "NaN bucket bound".into(),
            });
        }
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0u64;
        for (count, le) in p.bucket_counts.iter().zip(&p.explicit_bounds) {
            cumulative = cumulative.saturating_add(*count);
            emit(
                set,
                &labels,
                &bucket,
                Some(("le", bound(*le))),
                t,
                pick(cumulative as f64),
            )?;
        }
        emit(
            set,
            &labels,
            &bucket,
            Some(("le", "+Inf".into())),
            t,
            pick(p.count as f64),
        )?;
    }
    sum_and_count(set, &labels, name, t, stale, p.sum, p.count)
}

/// Exponential histograms become classic cumulative buckets: bucket `i` of scale `s` covers
/// `(2^(i·2^-s), 2^((i+1)·2^-s)]`, so its `le` is the upper bound. Negative buckets come first
/// (their `le` is the bound nearer zero), then the zero bucket (`le` = zero threshold), then the
/// positive ones and `+Inf`. `histogram_quantile` over them errs by at most one bucket width,
/// the resolution the sender chose.
fn exponential(
    set: &mut SeriesSet<'_>,
    resource: &LabelMap,
    name: &str,
    p: &ExponentialHistogramDataPoint,
) -> Result<(), IngestError> {
    let t = millis(p.time_unix_nano, name)?;
    let labels = point_labels(resource, &p.attributes);
    let stale = p.flags & NO_RECORDED_VALUE != 0;
    let pick = |v: f64| if stale { stale_marker() } else { v };
    // 2^(idx · 2^-scale), computed in f64 so any i32 scale and offset stay finite or saturate.
    let step = 2f64.powf(-f64::from(p.scale));
    let upper = |idx: i64| 2f64.powf(idx as f64 * step);
    let bucket = format!("{name}_bucket");
    let mut cumulative = 0u64;
    if let Some(neg) = &p.negative {
        for (j, count) in neg.bucket_counts.iter().enumerate().rev() {
            cumulative = cumulative.saturating_add(*count);
            let idx = i64::from(neg.offset) + j as i64;
            emit(
                set,
                &labels,
                &bucket,
                Some(("le", bound(-upper(idx)))),
                t,
                pick(cumulative as f64),
            )?;
        }
    }
    cumulative = cumulative.saturating_add(p.zero_count);
    let zero = if p.zero_threshold.is_finite() {
        p.zero_threshold.max(0.0)
    } else {
        0.0
    };
    emit(
        set,
        &labels,
        &bucket,
        Some(("le", bound(zero))),
        t,
        pick(cumulative as f64),
    )?;
    if let Some(pos) = &p.positive {
        for (j, count) in pos.bucket_counts.iter().enumerate() {
            cumulative = cumulative.saturating_add(*count);
            let idx = i64::from(pos.offset) + j as i64;
            emit(
                set,
                &labels,
                &bucket,
                Some(("le", bound(upper(idx + 1)))),
                t,
                pick(cumulative as f64),
            )?;
        }
    }
    emit(
        set,
        &labels,
        &bucket,
        Some(("le", "+Inf".into())),
        t,
        pick(p.count as f64),
    )?;
    sum_and_count(set, &labels, name, t, stale, p.sum, p.count)
}

fn summary(
    set: &mut SeriesSet<'_>,
    resource: &LabelMap,
    name: &str,
    p: &SummaryDataPoint,
) -> Result<(), IngestError> {
    let t = millis(p.time_unix_nano, name)?;
    let labels = point_labels(resource, &p.attributes);
    let stale = p.flags & NO_RECORDED_VALUE != 0;
    for q in &p.quantile_values {
        let v = if stale { stale_marker() } else { q.value };
        emit(
            set,
            &labels,
            name,
            Some(("quantile", bound(q.quantile))),
            t,
            v,
        )?;
    }
    sum_and_count(set, &labels, name, t, stale, Some(p.sum), p.count)
}
