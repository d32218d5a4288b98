//! Release timestamps as Helm writes them: Go's `time.Time` JSON (RFC 3339 with nanoseconds, trailing
//! fractional zeros trimmed), and `""` for the zero time. The text Helm wrote is kept as it is (it may
//! carry a local offset), so rewriting a record Helm made changes only what sailplan meant to change;
//! new timestamps are written in UTC.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time in a release record, or the zero time (`""`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timestamp(String);

impl Timestamp {
    /// The current time, in UTC.
    pub fn now() -> Timestamp {
        let (seconds, nanos) = since_epoch();
        Timestamp(format_utc(seconds, nanos))
    }

    /// The zero time, which Helm writes as `""` (e.g. `info.deleted` of a release not uninstalled).
    pub fn zero() -> Timestamp {
        Timestamp(String::new())
    }

    /// Whether this is the zero time.
    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// The RFC 3339 text (empty for the zero time).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// `""` and `null` both mean the zero time, as in Helm.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        Ok(Timestamp(Option::<String>::deserialize(deserializer)?.unwrap_or_default()))
    }
}

/// Seconds since the Unix epoch, for the `createdAt`/`modifiedAt` labels of a release record.
pub(crate) fn unix_seconds() -> u64 {
    since_epoch().0
}

fn since_epoch() -> (u64, u32) {
    // A clock before 1970 is a broken clock; the epoch itself is the least surprising stand-in.
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (elapsed.as_secs(), elapsed.subsec_nanos())
}

/// `seconds.nanos` after the epoch as Go prints a UTC time: `2026-11-22T08:57:45.04512262Z`.
fn format_utc(seconds: u64, nanos: u32) -> String {
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_print_as_go_prints_them() {
        // The `modifiedAt` label and `last_deployed` of a record helm v3.22.0 wrote in the same second.
        assert_eq!(format_utc(1_795_337_865, 45_122_620), "2026-11-22T08:57:45.04512262Z");
        assert_eq!(format_utc(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400, 500_000_000), "2000-02-29T00:00:00.5Z");
        assert_eq!(format_utc(4_102_444_799, 1), "2099-12-31T23:59:59.000000001Z");
    }

    #[test]
    fn empty_and_null_are_the_zero_time() {
        let zero: Timestamp = serde_json::from_str("null").unwrap();
        assert!(zero.is_zero());
        let zero: Timestamp = serde_json::from_str("\"\"").unwrap();
        assert_eq!(serde_json::to_string(&zero).unwrap(), "\"\"");
        let kept: Timestamp = serde_json::from_str("\"2026-05-01T10:00:00.123+02:00\"").unwrap();
        assert_eq!(kept.as_str(), "2026-05-01T10:00:00.123+02:00");
        assert!(Timestamp::now().as_str().ends_with('Z'));
    }
}
