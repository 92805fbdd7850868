//! Serde for floats that may be NaN or infinite. JSON has no such numbers (serde_json writes
//! them as `null` and then refuses to read `null` back as a float), yet a detector's state
//! legitimately holds them: "no previous value", "no season range yet", a missing point in the
//! season buffer. They are written as the strings `"NaN"`, `"inf"` and `"-inf"`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr<'a> {
    Num(f64),
    Tag(&'a str),
}

fn to_repr(v: f64) -> Repr<'static> {
    if v.is_finite() {
        Repr::Num(v)
    } else if v.is_nan() {
        Repr::Tag("NaN")
    } else if v > 0.0 {
        Repr::Tag("inf")
    } else {
        Repr::Tag("-inf")
    }
}

fn from_repr<E: serde::de::Error>(r: Repr<'_>) -> Result<f64, E> {
    match r {
        Repr::Num(v) => Ok(v),
        Repr::Tag("NaN") => Ok(f64::NAN),
        Repr::Tag("inf") => Ok(f64::INFINITY),
        Repr::Tag("-inf") => Ok(f64::NEG_INFINITY),
        Repr::Tag(other) => Err(E::custom(format!("invalid float `{other}`"))),
    }
}

pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    to_repr(*v).serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    from_repr(Repr::deserialize(d)?)
}

/// The same for a vector of floats.
pub mod vec {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| to_repr(*x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let raw: Vec<Repr<'de>> = Vec::deserialize(d)?;
        raw.into_iter().map(from_repr).collect()
    }
}
