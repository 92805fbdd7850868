//! The candidate models: a closed set, each turning a clean series into point forecasts and a
//! per-step standard deviation.
//!
//! The standard deviation is the model's own view of its uncertainty. [`crate::auto`] rescales
//! it with backtest errors, so a model whose intervals are too narrow (ETS ignores parameter
//! and seasonal uncertainty) still ends up with honest bands.

mod ets;
mod holt;
mod mstl;
mod simple;
mod stl;
mod theta;

use crate::error::{ForecastError, Result};
pub(crate) use mstl::Decompositions;

/// Point forecasts and the model's standard deviation at each step ahead.
#[derive(Debug, Clone, PartialEq)]
pub struct PointForecast {
    /// Forecast values, one per step.
    pub point: Vec<f64>,
    /// Standard deviation of the forecast error at each step, as the model sees it.
    pub sd: Vec<f64>,
}

/// One forecasting method with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModelSpec {
    /// The last value, repeated.
    Naive,
    /// The value one period earlier, repeated season after season.
    SeasonalNaive {
        /// Season length in steps.
        period: usize,
    },
    /// Automatic non-seasonal exponential smoothing (Hyndman et al. 2008), chosen by AICc among
    /// additive/multiplicative error and none/additive/damped trend, via `augurs-ets`.
    Ets,
    /// MSTL decomposition (Bandara, Hyndman & Bergmeir 2021) with automatic ETS on the
    /// seasonally adjusted series, via `augurs-mstl`. Seasons are repeated from the last cycle.
    MstlEts {
        /// Season lengths in steps, shortest first.
        periods: Vec<usize>,
    },
    /// Naive on the seasonally adjusted series, the M4 competition's reference for OWA.
    Naive2 {
        /// Season length tested for and removed (1 disables the adjustment).
        period: usize,
    },
    /// MSTL decomposition with the Theta method (SES with drift) on the seasonally adjusted
    /// series: MSTL's seasons at a fraction of the cost of ETS.
    MstlTheta {
        /// Season lengths in steps, shortest first.
        periods: Vec<usize>,
    },
    /// Additive-error non-seasonal ETS (A,N,N / A,A,N / A,Ad,N by AICc), fitted here by grid
    /// search on closed-form state updates: the same family as [`Self::Ets`] without the
    /// multiplicative forms, roughly 100 times cheaper.
    Holt,
    /// MSTL decomposition with [`Self::Holt`] on the seasonally adjusted series.
    MstlHolt {
        /// Season lengths in steps, shortest first.
        periods: Vec<usize>,
    },
    /// The Theta method (Assimakopoulos & Nikolopoulos 2000) in its SES-with-drift form
    /// (Hyndman & Billah 2003), on a classically deseasonalised series when `period` is set.
    Theta {
        /// Season length for multiplicative deseasonalisation, if any.
        period: Option<usize>,
    },
}

impl ModelSpec {
    /// A short stable name, used in reports and the CLI: `snaive(24)`, `mstl_ets(24,168)`.
    pub fn name(&self) -> String {
        match self {
            Self::Naive => "naive".into(),
            Self::SeasonalNaive { period } => format!("snaive({period})"),
            Self::Ets => "ets".into(),
            Self::MstlEts { periods } => {
                let p: Vec<String> = periods.iter().map(usize::to_string).collect();
                format!("mstl_ets({})", p.join(","))
            }
            Self::Naive2 { period } => format!("naive2({period})"),
            Self::MstlTheta { periods } => {
                let p: Vec<String> = periods.iter().map(usize::to_string).collect();
                format!("mstl_theta({})", p.join(","))
            }
            Self::Holt => "holt".into(),
            Self::MstlHolt { periods } => {
                let p: Vec<String> = periods.iter().map(usize::to_string).collect();
                format!("mstl_holt({})", p.join(","))
            }
            Self::Theta { period: Some(p) } => format!("theta({p})"),
            Self::Theta { period: None } => "theta".into(),
        }
    }

    /// The fewest points this model accepts; shorter series are not offered to it.
    pub fn min_len(&self) -> usize {
        match self {
            Self::Naive => 1,
            Self::Naive2 { .. } => 2,
            Self::SeasonalNaive { period } => *period,
            // augurs' AutoETS refuses n <= free parameters + 4; keep a margin for damped trend.
            Self::Ets | Self::Holt => 12,
            // STL needs two full cycles of the longest season.
            Self::MstlEts { periods }
            | Self::MstlTheta { periods }
            | Self::MstlHolt { periods } => 2 * periods.iter().copied().max().unwrap_or(1) + 1,
            // Theta drops the season by itself when the series is too short to test it.
            Self::Theta { .. } => 4,
        }
    }

    /// Checks settings that would make fitting meaningless.
    ///
    /// # Errors
    /// [`ForecastError::InvalidPeriod`] for a season shorter than 2 steps.
    pub fn validate(&self) -> Result<()> {
        let bad = match self {
            Self::SeasonalNaive { period }
            | Self::Theta {
                period: Some(period),
            } => (*period < 2).then_some(*period),
            Self::MstlEts { periods }
            | Self::MstlTheta { periods }
            | Self::MstlHolt { periods } => periods
                .iter()
                .copied()
                .find(|&p| p < 2)
                .or(periods.is_empty().then_some(0)),
            _ => None,
        };
        bad.map_or(Ok(()), |p| Err(ForecastError::InvalidPeriod(p)))
    }

    /// Fits the model to `y` (finite values only) and forecasts `horizon` steps.
    ///
    /// # Errors
    /// [`ForecastError::TooShort`] below [`Self::min_len`], [`ForecastError::Model`] when the
    /// underlying fit fails.
    pub fn fit_forecast(&self, y: &[f64], horizon: usize) -> Result<PointForecast> {
        self.fit_forecast_prefix(&mut Decompositions::new(y), y.len(), horizon)
    }

    /// [`Self::fit_forecast`] on the first `len` values of the store's series, reusing (and
    /// keeping) its MSTL decompositions.
    pub(crate) fn fit_forecast_prefix(
        &self,
        store: &mut Decompositions<'_>,
        len: usize,
        horizon: usize,
    ) -> Result<PointForecast> {
        self.validate()?;
        let y = &store.series()[..len];
        if y.len() < self.min_len() {
            return Err(ForecastError::TooShort {
                observed: y.len(),
                min: self.min_len(),
            });
        }
        let fc = match self {
            Self::Naive => simple::naive(y, horizon),
            Self::SeasonalNaive { period } => simple::seasonal_naive(y, *period, horizon),
            Self::Ets => ets::auto_ets(y, horizon),
            Self::MstlEts { periods } => ets::mstl_ets(y, periods, horizon),
            Self::Naive2 { period } => theta::naive2(y, *period, horizon),
            Self::MstlTheta { periods } => mstl::mstl_with(store, len, periods, horizon, |x, h| {
                theta::theta(x, None, h)
            }),
            Self::Holt => holt::holt(y, horizon),
            Self::MstlHolt { periods } => mstl::mstl_with(store, len, periods, horizon, holt::holt),
            Self::Theta { period } => theta::theta(y, *period, horizon),
        }
        .map_err(|reason| ForecastError::Model {
            model: self.name(),
            reason,
        })?;
        self.check(fc)
    }

    fn check(&self, fc: PointForecast) -> Result<PointForecast> {
        if fc.point.iter().chain(&fc.sd).all(|v| v.is_finite()) {
            Ok(fc)
        } else {
            Err(ForecastError::Model {
                model: self.name(),
                reason: "produced non-finite values".into(),
            })
        }
    }

    /// Backtest forecasts of `h` steps from the origins `y.len() - o * h`, `o = 1..=origins`
    /// (in that order), each using only the values before its origin.
    ///
    /// [`Self::Holt`] is fitted once, at the earliest origin, and its states are run on to the
    /// later ones (its updates are closed-form); [`Self::MstlHolt`] also decomposes once there.
    /// Other models are refitted per origin.
    ///
    /// # Errors
    /// As [`Self::fit_forecast`] for any origin.
    pub fn backtest(&self, y: &[f64], h: usize, origins: usize) -> Result<Vec<PointForecast>> {
        self.backtest_shared(&mut Decompositions::new(y), h, origins)
    }

    /// [`Self::backtest`] on the store's series, reusing (and keeping) its MSTL
    /// decompositions, so candidates with the same seasons decompose each prefix once.
    pub(crate) fn backtest_shared(
        &self,
        store: &mut Decompositions<'_>,
        h: usize,
        origins: usize,
    ) -> Result<Vec<PointForecast>> {
        let y = store.series();
        let n = y.len();
        let cuts: Vec<usize> = (1..=origins)
            .map(|o| n.checked_sub(o * h))
            .collect::<Option<_>>()
            .ok_or(ForecastError::TooShort {
                observed: n,
                min: origins * h,
            })?;
        let first = *cuts.last().unwrap_or(&n);
        let model_err = |reason| ForecastError::Model {
            model: self.name(),
            reason,
        };
        let runs = match self {
            Self::Holt | Self::MstlHolt { .. } if first < self.min_len() => {
                return Err(ForecastError::TooShort {
                    observed: first,
                    min: self.min_len(),
                });
            }
            Self::Holt => holt::Holt::fit(&y[..first])
                .map_err(model_err)?
                .forecasts_at(y, &cuts, h),
            Self::MstlHolt { periods } => {
                self.validate()?;
                mstl::mstl_holt_backtest(store, periods, &cuts, h).map_err(model_err)?
            }
            _ => {
                return cuts
                    .iter()
                    .map(|&c| self.fit_forecast_prefix(store, c, h))
                    .collect();
            }
        };
        runs.into_iter().map(|fc| self.check(fc)).collect()
    }
}
