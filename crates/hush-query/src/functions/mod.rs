//! PromQL functions: which ones Hush knows, and the element-wise ones on instant vectors.
//!
//! Range-vector functions live in [`range`], `histogram_quantile` in [`histogram`], label
//! manipulation in [`labels`]. Float edge cases follow Go's `math` package, which Prometheus uses
//! (e.g. `max(NaN, 1)` is NaN in Go but 1 with Rust's `f64::max`).

pub(crate) mod date;
pub(crate) mod histogram;
pub(crate) mod labels;
pub(crate) mod range;

/// A function Hush evaluates. Names outside this list are `unsupported`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Rate,
    Irate,
    Increase,
    Delta,
    Idelta,
    Resets,
    Changes,
    Deriv,
    PredictLinear,
    AvgOverTime,
    SumOverTime,
    MinOverTime,
    MaxOverTime,
    CountOverTime,
    LastOverTime,
    StddevOverTime,
    StdvarOverTime,
    QuantileOverTime,
    PresentOverTime,
    AbsentOverTime,
    Abs,
    Ceil,
    Floor,
    Round,
    Exp,
    Ln,
    Log2,
    Log10,
    Sqrt,
    Sgn,
    Clamp,
    ClampMin,
    ClampMax,
    Scalar,
    Vector,
    Time,
    Timestamp,
    HistogramQuantile,
    LabelReplace,
    LabelJoin,
    Absent,
    Sort,
    SortDesc,
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atanh,
    Cos,
    Cosh,
    Sin,
    Sinh,
    Tan,
    Tanh,
    Deg,
    Rad,
    Pi,
    Minute,
    Hour,
    DayOfMonth,
    DayOfWeek,
    DayOfYear,
    DaysInMonth,
    Month,
    Year,
}

impl Func {
    pub(crate) fn from_name(name: &str) -> Option<Func> {
        use Func::*;
        Some(match name {
            "rate" => Rate,
            "irate" => Irate,
            "increase" => Increase,
            "delta" => Delta,
            "idelta" => Idelta,
            "resets" => Resets,
            "changes" => Changes,
            "deriv" => Deriv,
            "predict_linear" => PredictLinear,
            "avg_over_time" => AvgOverTime,
            "sum_over_time" => SumOverTime,
            "min_over_time" => MinOverTime,
            "max_over_time" => MaxOverTime,
            "count_over_time" => CountOverTime,
            "last_over_time" => LastOverTime,
            "stddev_over_time" => StddevOverTime,
            "stdvar_over_time" => StdvarOverTime,
            "quantile_over_time" => QuantileOverTime,
            "present_over_time" => PresentOverTime,
            "absent_over_time" => AbsentOverTime,
            "abs" => Abs,
            "ceil" => Ceil,
            "floor" => Floor,
            "round" => Round,
            "exp" => Exp,
            "ln" => Ln,
            "log2" => Log2,
            "log10" => Log10,
            "sqrt" => Sqrt,
            "sgn" => Sgn,
            "clamp" => Clamp,
            "clamp_min" => ClampMin,
            "clamp_max" => ClampMax,
            "scalar" => Scalar,
            "vector" => Vector,
            "time" => Time,
            "timestamp" => Timestamp,
            "histogram_quantile" => HistogramQuantile,
            "label_replace" => LabelReplace,
            "label_join" => LabelJoin,
            "absent" => Absent,
            "sort" => Sort,
            "sort_desc" => SortDesc,
            "acos" => Acos,
            "acosh" => Acosh,
            "asin" => Asin,
            "asinh" => Asinh,
            "atan" => Atan,
            "atanh" => Atanh,
            "cos" => Cos,
            "cosh" => Cosh,
            "sin" => Sin,
            "sinh" => Sinh,
            "tan" => Tan,
            "tanh" => Tanh,
            "deg" => Deg,
            "rad" => Rad,
            "pi" => Pi,
            "minute" => Minute,
            "hour" => Hour,
            "day_of_month" => DayOfMonth,
            "day_of_week" => DayOfWeek,
            "day_of_year" => DayOfYear,
            "days_in_month" => DaysInMonth,
            "month" => Month,
            "year" => Year,
            _ => return None,
        })
    }

    /// Functions whose last (or only) argument is a range vector.
    pub(crate) fn takes_range(self) -> bool {
        use Func::*;
        matches!(
            self,
            Rate | Irate
                | Increase
                | Delta
                | Idelta
                | Resets
                | Changes
                | Deriv
                | PredictLinear
                | AvgOverTime
                | SumOverTime
                | MinOverTime
                | MaxOverTime
                | CountOverTime
                | LastOverTime
                | StddevOverTime
                | StdvarOverTime
                | QuantileOverTime
                | PresentOverTime
                | AbsentOverTime
        )
    }

    /// Calendar functions, whose vector argument defaults to `vector(time())`.
    pub(crate) fn is_date(self) -> bool {
        use Func::*;
        matches!(
            self,
            Minute | Hour | DayOfMonth | DayOfWeek | DayOfYear | DaysInMonth | Month | Year
        )
    }

    /// A one-argument element-wise function, if this is one.
    pub(crate) fn simple(self) -> Option<fn(f64) -> f64> {
        use Func::*;
        Some(match self {
            Abs => f64::abs,
            Ceil => f64::ceil,
            Floor => f64::floor,
            Exp => f64::exp,
            Ln => f64::ln,
            Log2 => f64::log2,
            Log10 => f64::log10,
            Sqrt => f64::sqrt,
            Sgn => sgn,
            Acos => f64::acos,
            Acosh => f64::acosh,
            Asin => f64::asin,
            Asinh => f64::asinh,
            Atan => f64::atan,
            Atanh => f64::atanh,
            Cos => f64::cos,
            Cosh => f64::cosh,
            Sin => f64::sin,
            Sinh => f64::sinh,
            Tan => f64::tan,
            Tanh => f64::tanh,
            Deg => f64::to_degrees,
            Rad => f64::to_radians,
            _ => return None,
        })
    }
}

/// Go's `math.Max`: NaN wins, and +0 beats -0.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { b } else { a }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: NaN wins, and -0 beats +0.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

fn sgn(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        // 0, -0 and NaN are returned as they are
        v
    }
}

/// `round(v, to_nearest)`: halves round up, as Prometheus' `math.Floor(v*inv+0.5)/inv`.
pub(crate) fn round(v: f64, to_nearest: f64) -> f64 {
    let inv = 1.0 / to_nearest;
    (v * inv + 0.5).floor() / inv
}

/// Prometheus' `quantile` (φ-quantile with linear interpolation between closest ranks).
/// `values` is sorted in place; NaNs sort first, like Go's `sort.Float64s`.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    let at = |i: f64| values.get(i as usize).copied().unwrap_or(f64::NAN);
    at(lower) * (1.0 - weight) + at(upper) * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_min_max_propagate_nan() {
        assert!(go_max(f64::NAN, 1.0).is_nan());
        assert!(go_min(1.0, f64::NAN).is_nan());
        assert_eq!(go_max(1.0, 2.0), 2.0);
        assert!(go_max(-0.0, 0.0).is_sign_positive());
        assert!(go_min(0.0, -0.0).is_sign_negative());
    }

    #[test]
    fn quantile_interpolates_between_ranks() {
        // values 1..=4, q=0.5: rank 1.5 -> 2*0.5 + 3*0.5
        assert_eq!(quantile(0.5, &mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(quantile(0.0, &mut [4.0, 1.0]), 1.0);
        assert_eq!(quantile(1.0, &mut [4.0, 1.0]), 4.0);
        // rank 0.9*3 = 2.7: 3*0.3 + 4*0.7
        assert!((quantile(0.9, &mut [1.0, 2.0, 3.0, 4.0]) - 3.7).abs() < 1e-12);
        assert_eq!(quantile(-1.0, &mut [1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, &mut [1.0]), f64::INFINITY);
        assert!(quantile(0.5, &mut []).is_nan());
    }

    #[test]
    fn round_halves_up() {
        assert_eq!(round(2.5, 1.0), 3.0);
        assert_eq!(round(-2.5, 1.0), -2.0);
        assert_eq!(round(7.0, 5.0), 5.0);
        assert_eq!(round(1.26, 0.1), 1.3);
    }
}
