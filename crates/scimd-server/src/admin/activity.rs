//! A tenant's activity over time: its requests and their errors counted in buckets of a
//! window (a minute, an hour or a day each, whichever keeps the window to a few hundred
//! points), for the go-live chart. Counted by the store in one grouped query, so a window
//! of any length costs one pass over the tenant's events of that window.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{Admin, AdminError, AdminResult, parse_time};

/// At most about this many buckets in a window (past 200 days, a bucket spans several
/// days).
pub const MAX_BUCKETS: i64 = 200;

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// A window's requests and errors over time.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    pub tenant: String,
    /// The window, `[from, to)`, in RFC 3339 (UTC).
    pub from: String,
    pub to: String,
    /// Each bucket's width in seconds, and its unit (`minute`, `hour`, `day`, or `days`
    /// when a bucket spans several).
    pub width: i64,
    pub unit: &'static str,
    /// Every bucket of the window in order, empty ones included.
    pub buckets: Vec<ActivityBucket>,
}

/// One bucket: from `start` (seconds since the Unix epoch) for the activity's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActivityBucket {
    pub start: i64,
    pub requests: u64,
    /// Requests answered with a status of 400 or more.
    pub errors: u64,
}

/// `a / b` rounded up, for `a` ≥ 0 and `b` > 0.
fn ceil_div(a: i64, b: i64) -> i64 {
    a / b + i64::from(a % b != 0)
}

/// The counts of the same outcome added up across buckets (first and last kept).
fn merged(counts: impl Iterator<Item = scimd_store::EventCount>) -> Vec<scimd_store::EventCount> {
    let mut out: Vec<scimd_store::EventCount> = Vec::new();
    for c in counts {
        let same = |o: &&mut scimd_store::EventCount| {
            o.rtype == c.rtype
                && o.op == c.op
                && o.status == c.status
                && o.scim_type == c.scim_type
                && o.deactivated == c.deactivated
        };
        match out.iter_mut().find(|o| same(o)) {
            Some(o) => {
                o.count += c.count;
                o.first = o.first.clone().min(c.first);
                o.last = o.last.clone().max(c.last);
            }
            None => out.push(c),
        }
    }
    out
}

/// The width of the buckets of a window of `span` seconds: the smallest of a minute, an
/// hour and a day that keeps the window to `MAX_BUCKETS`; past that, as many days as it
/// takes.
pub fn bucket_width(span: i64) -> (i64, &'static str) {
    let span = span.max(1);
    for (width, unit) in [(MINUTE, "minute"), (HOUR, "hour"), (DAY, "day")] {
        if ceil_div(span, width) <= MAX_BUCKETS {
            return (width, unit);
        }
    }
    (ceil_div(span, DAY * MAX_BUCKETS) * DAY, "days")
}

/// The buckets of `[from, to)` (seconds): aligned on their width since the epoch (a day's
/// at midnight UTC), so that the same hour is the same bucket in every window; the counts
/// of `counted` (bucket index, requests, errors) put in place, every other bucket empty.
pub fn buckets(from: i64, to: i64, width: i64, counted: &[(i64, u64, u64)]) -> Vec<ActivityBucket> {
    let origin = from.div_euclid(width) * width;
    let n = if to > from { ceil_div(to - origin, width) } else { 0 };
    let mut out: Vec<ActivityBucket> =
        (0..n).map(|i| ActivityBucket { start: origin + i * width, requests: 0, errors: 0 }).collect();
    for &(i, requests, errors) in counted {
        if let Some(b) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
            b.requests += requests;
            b.errors += errors;
        }
    }
    out
}

impl Admin {
    /// The go-live check of a window and its requests and errors over time, from one pass
    /// over the window's events (the summary is what `audit_summary` gives: the buckets'
    /// counts added up).
    pub async fn audit_window(&self, tenant: &str, from: &str, to: &str) -> AdminResult<(serde_json::Value, Activity)> {
        let t = self.tenant(tenant).await?;
        let (from, to) = (parse_time(from, "--from")?, parse_time(to, "--to")?);
        if from >= to {
            return Err(AdminError::invalid("--from must be before --to"));
        }
        let (from_ms, to_ms) = (from.timestamp_millis(), to.timestamp_millis());
        let (width, unit) = bucket_width(ceil_div(to_ms - from_ms, 1000));
        let origin = from.timestamp().div_euclid(width) * width;
        self.flush().await;
        let counted = self
            .store
            .event_buckets(t.id, origin * 1000, width * 1000, from_ms, to_ms)
            .await
            .map_err(AdminError::internal)?;
        let per_bucket: Vec<_> = counted
            .iter()
            .map(|b| (b.index, b.count.count, if b.count.status >= 400 { b.count.count } else { 0 }))
            .collect();
        let summary = crate::audit::summary(
            &t.name,
            &from.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            &to.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            &merged(counted.into_iter().map(|b| b.count)),
        );
        let show = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let activity = Activity {
            tenant: t.name,
            from: show(from),
            to: show(to),
            width,
            unit,
            buckets: buckets(from.timestamp(), to.timestamp(), width, &per_bucket),
        };
        Ok((summary, activity))
    }

    /// The window a go-live check looks at unless told otherwise: the last day, up to the
    /// end of the current minute.
    pub fn default_window(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let now = self.now().timestamp();
        let to = DateTime::<Utc>::from_timestamp((now / MINUTE + 1) * MINUTE, 0).unwrap_or_else(|| self.now());
        (to - Duration::days(1), to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_gets_the_smallest_unit_that_keeps_it_to_two_hundred_buckets() {
        assert_eq!(bucket_width(1), (MINUTE, "minute"));
        assert_eq!(bucket_width(200 * MINUTE), (MINUTE, "minute"));
        assert_eq!(bucket_width(200 * MINUTE + 1), (HOUR, "hour"));
        assert_eq!(bucket_width(7 * DAY), (HOUR, "hour"));
        assert_eq!(bucket_width(30 * DAY), (DAY, "day"));
        assert_eq!(bucket_width(200 * DAY), (DAY, "day"));
        assert_eq!(bucket_width(1000 * DAY), (5 * DAY, "days"));
    }

    #[test]
    fn buckets_are_aligned_and_every_one_is_there() {
        // 10:00:30 to 10:03:00: the minutes 10:00, 10:01, 10:02.
        let from = 36_000 + 30;
        let b = buckets(from, 36_000 + 180, MINUTE, &[(0, 2, 1), (2, 5, 0), (9, 1, 1)]);
        assert_eq!(b.iter().map(|b| b.start).collect::<Vec<_>>(), vec![36_000, 36_060, 36_120]);
        assert_eq!(b.iter().map(|b| (b.requests, b.errors)).collect::<Vec<_>>(), vec![(2, 1), (0, 0), (5, 0)]);
        assert!(buckets(100, 100, MINUTE, &[]).is_empty());
    }
}
