//! Calendar functions (`hour()`, `day_of_week()`, …) on Unix seconds, in UTC.

use super::Func;

/// Applies a calendar function to a Unix time in seconds; NaN for non-finite input.
pub(crate) fn apply(func: Func, unix_s: f64) -> f64 {
    if !unix_s.is_finite() {
        return f64::NAN;
    }
    // Go's `time.Unix(int64(v), 0)`: the fraction is truncated towards zero.
    let secs = unix_s.trunc() as i64;
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let v = match func {
        Func::Minute => (of_day / 60) % 60,
        Func::Hour => of_day / 3600,
        Func::DayOfMonth => d,
        // 1970-01-01 was a Thursday; Sunday is 0.
        Func::DayOfWeek => (days + 4).rem_euclid(7),
        Func::DayOfYear => days - days_from_civil(y, 1, 1) + 1,
        Func::DaysInMonth => days_in_month(y, m),
        Func::Month => m,
        Func::Year => y,
        _ => return f64::NAN,
    };
    v as f64
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 to (year, month, day), after H. Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The inverse: (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_fields() {
        // 2024-02-29T13:45:10Z, a Thursday in a leap year: 1709214310
        let t = 1_709_214_310.0;
        assert_eq!(apply(Func::Year, t), 2024.0);
        assert_eq!(apply(Func::Month, t), 2.0);
        assert_eq!(apply(Func::DayOfMonth, t), 29.0);
        assert_eq!(apply(Func::Hour, t), 13.0);
        assert_eq!(apply(Func::Minute, t), 45.0);
        assert_eq!(apply(Func::DayOfWeek, t), 4.0);
        assert_eq!(apply(Func::DayOfYear, t), 60.0);
        assert_eq!(apply(Func::DaysInMonth, t), 29.0);
        // the epoch and the day before it
        assert_eq!(apply(Func::DayOfWeek, 0.0), 4.0);
        assert_eq!(apply(Func::Year, -1.0), 1969.0);
        assert_eq!(apply(Func::DayOfYear, -1.0), 365.0);
        assert_eq!(apply(Func::DaysInMonth, 0.0), 31.0);
        assert!(apply(Func::Hour, f64::NAN).is_nan());
        // huge values neither overflow nor panic
        let _ = apply(Func::Year, 1e300);
        let _ = apply(Func::Year, -1e300);
    }
}
