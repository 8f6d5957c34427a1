//! Resource quantities (`100m`, `1.5`, `128Mi`, `1G`, `1e3`) parsed, compared and
//! written in canonical form as Kubernetes' `resource.Quantity` does. The value is
//! kept exactly, in units of 10⁻⁹, which holds every quantity Kubernetes accepts
//! (up to exa with binary suffixes) without rounding.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// How a quantity was written, which its canonical form keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `Ki`, `Mi`, …
    BinarySi,
    /// `m`, `k`, `M`, … or none.
    DecimalSi,
    /// `e3`, `E6`.
    DecimalExponent,
}

#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

const NANO: i128 = 1_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)]
pub struct QuantityError;

impl Quantity {
    pub fn zero() -> Quantity {
        Quantity {
            nanos: 0,
            format: Format::DecimalSi,
        }
    }

    /// Whole units, rounded up (bytes, counts).
    pub fn value(&self) -> i128 {
        div_ceil(self.nanos, NANO)
    }

    /// Thousandths, rounded up (millicores).
    pub fn milli_value(&self) -> i128 {
        div_ceil(self.nanos, 1_000_000)
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// The sum, written as the first non-zero term was (so a total that starts
    /// from zero keeps `2Gi` binary).
    pub fn add(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos + other.nanos,
            format: if self.nanos == 0 {
                other.format
            } else {
                self.format
            },
        }
    }

    pub fn sub(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos - other.nanos,
            format: self.format,
        }
    }

    /// `self` times `n` / `d` (a ratio of two quantities, as limit/request).
    pub fn ratio_to(&self, other: &Quantity) -> f64 {
        if other.nanos == 0 {
            return f64::INFINITY;
        }
        self.nanos as f64 / other.nanos as f64
    }
}

fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a > 0) == (b > 0)) {
        q + 1
    } else {
        q
    }
}

impl Default for Quantity {
    fn default() -> Quantity {
        Quantity::zero()
    }
}

impl PartialEq for Quantity {
    fn eq(&self, o: &Self) -> bool {
        self.nanos == o.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Quantity {
    fn cmp(&self, o: &Self) -> Ordering {
        self.nanos.cmp(&o.nanos)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Quantity, QuantityError> {
        let s = s.trim();
        let split = s
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '+' || *c == '-')))
            })
            .map_or(s.len(), |(i, _)| i);
        let (number, suffix) = s.split_at(split);
        let (negative, digits) = match number.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, number.strip_prefix('+').unwrap_or(number)),
        };
        if digits.is_empty() || digits == "." || digits.matches('.').count() > 1 {
            return Err(QuantityError);
        }
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        // The number in units of 10⁻⁹ before the suffix; finer digits round up.
        let mut nanos: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| QuantityError)?
        };
        nanos = nanos.checked_mul(NANO).ok_or(QuantityError)?;
        let mut scale = NANO / 10;
        for (i, d) in frac.chars().enumerate() {
            let d = d.to_digit(10).ok_or(QuantityError)? as i128;
            if i < 9 {
                nanos += d * scale;
                scale /= 10;
            } else if d > 0 {
                nanos += 1;
                break;
            }
        }
        let (mul, div, format): (i128, i128, Format) = match suffix {
            "" => (1, 1, Format::DecimalSi),
            "n" => (1, NANO, Format::DecimalSi),
            "u" => (1, 1_000_000, Format::DecimalSi),
            "m" => (1, 1_000, Format::DecimalSi),
            "k" => (1_000, 1, Format::DecimalSi),
            "M" => (1_000_000, 1, Format::DecimalSi),
            "G" => (NANO, 1, Format::DecimalSi),
            "T" => (1_000_000_000_000, 1, Format::DecimalSi),
            "P" => (1_000_000_000_000_000, 1, Format::DecimalSi),
            "E" => (1_000_000_000_000_000_000, 1, Format::DecimalSi),
            "Ki" => (1 << 10, 1, Format::BinarySi),
            "Mi" => (1 << 20, 1, Format::BinarySi),
            "Gi" => (1 << 30, 1, Format::BinarySi),
            "Ti" => (1 << 40, 1, Format::BinarySi),
            "Pi" => (1 << 50, 1, Format::BinarySi),
            "Ei" => (1 << 60, 1, Format::BinarySi),
            e if e.starts_with(['e', 'E']) => {
                let exp: i32 = e[1..].parse().map_err(|_| QuantityError)?;
                if !(-9..=18).contains(&exp) {
                    return Err(QuantityError);
                }
                let p = 10i128.pow(exp.unsigned_abs());
                if exp >= 0 {
                    (p, 1, Format::DecimalExponent)
                } else {
                    (1, p, Format::DecimalExponent)
                }
            }
            _ => return Err(QuantityError),
        };
        let mut v = nanos.checked_mul(mul).ok_or(QuantityError)?;
        v = div_ceil(v, div);
        Ok(Quantity {
            nanos: if negative { -v } else { v },
            format,
        })
    }
}

/// The canonical form: the largest suffix of the quantity's own family that keeps
/// the number whole.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.nanos;
        let bytes_whole = v % NANO == 0;
        if self.format == Format::BinarySi && bytes_whole && v.abs() >= 1024 * NANO {
            let units = v / NANO;
            for (k, suffix) in [
                (6, "Ei"),
                (5, "Pi"),
                (4, "Ti"),
                (3, "Gi"),
                (2, "Mi"),
                (1, "Ki"),
            ] {
                let p: i128 = 1 << (10 * k);
                if units % p == 0 {
                    return write!(f, "{}{suffix}", units / p);
                }
            }
            return write!(f, "{units}");
        }
        if v == 0 {
            return write!(f, "0");
        }
        for (exp, suffix) in [
            (18, "E"),
            (15, "P"),
            (12, "T"),
            (9, "G"),
            (6, "M"),
            (3, "k"),
            (0, ""),
            (-3, "m"),
            (-6, "u"),
            (-9, "n"),
        ] {
            let p = 10i128.pow((exp + 9) as u32);
            if v % p == 0 {
                return match self.format {
                    Format::DecimalExponent if exp != 0 => write!(f, "{}e{exp}", v / p),
                    _ => write!(f, "{}{suffix}", v / p),
                };
            }
        }
        write!(f, "{v}n")
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        // Manifests write quantities as strings or as plain numbers.
        let v = serde_json::Value::deserialize(d)?;
        let text = match &v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(serde::de::Error::custom(QuantityError)),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_canonical_forms_as_kubernetes() {
        for (given, canonical, milli) in [
            ("100m", "100m", 100),
            ("1.5", "1500m", 1500),
            ("0.1", "100m", 100),
            ("1", "1", 1000),
            ("1000m", "1", 1000),
            ("1000", "1k", 1_000_000),
            ("1500", "1500", 1_500_000),
            ("128Mi", "128Mi", 134_217_728_000),
            ("1024Ki", "1Mi", 1_048_576_000),
            ("1536", "1536", 1_536_000),
            ("1G", "1G", 1_000_000_000_000),
            ("1e3", "1e3", 1_000_000),
            ("1E6", "1e6", 1_000_000_000),
            ("12e-3", "12e-3", 12),
            ("0", "0", 0),
            ("500Ki", "500Ki", 512_000_000),
            ("0.5Gi", "512Mi", 536_870_912_000),
            ("1.5Ki", "1536", 1_536_000),
            ("100Ki", "100Ki", 102_400_000),
            ("-1", "-1", -1000),
            ("250u", "250u", 1),
        ] {
            let q: Quantity = given.parse().unwrap_or_else(|_| panic!("{given}"));
            assert_eq!(q.to_string(), canonical, "{given}");
            assert_eq!(q.milli_value(), milli, "{given}");
        }
    }

    #[test]
    fn compares_across_suffixes_and_refuses_junk() {
        let q = |s: &str| s.parse::<Quantity>().unwrap();
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert!(q("1G") < q("1Gi"));
        assert!(q("500m") < q("1"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("128Mi").value(), 134_217_728);
        assert_eq!(q("0.0000000001").value(), 1, "finer than nano rounds up");
        for bad in [
            "", "abc", "1.2.3", "1Zi", "1 Mi", "Mi", "1e", "1e99", "--1", ".",
        ] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad:?}");
        }
        let from_number: Quantity = serde_json::from_value(serde_json::json!(2)).unwrap();
        assert_eq!(from_number, q("2"));
    }
}
