//! How long a tenant's user deactivations took: from the identity provider's request
//! arriving to its last effect (the row written, the user's logins ended), as recorded
//! with each one, summed up over a window (count, median, 95th percentile, longest) with
//! the latest ones listed. For the admin API and `scimd tenant deactivations`.

use chrono::TimeDelta;
use serde::Serialize;

use super::{Admin, AdminError, AdminResult};

/// At most this many recent deactivations are listed (the figures cover them all).
pub const RECENT: usize = 20;
/// At most this many deactivations are read for the figures of a window.
const READ_AT_MOST: u32 = 100_000;

/// A tenant's deactivations over a window.
#[derive(Debug, Clone, Serialize)]
pub struct Deactivations {
    pub tenant: String,
    /// The window's start (RFC 3339, UTC); it ends now.
    pub since: String,
    pub count: usize,
    /// Milliseconds, `None` without deactivations.
    pub median_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Logins (refresh-token families) ended by them.
    pub logins_ended: u64,
    /// The latest, newest first.
    pub recent: Vec<DeactivationView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeactivationView {
    pub at: String,
    pub id: String,
    pub ms: f64,
    pub logins: u64,
}

/// The value at quantile `q` of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    (n > 0).then(|| sorted[((q * n as f64).ceil() as usize).clamp(1, n) - 1])
}

impl Admin {
    /// A tenant's deactivations of the last `days` days (1 to 366).
    pub async fn deactivations(&self, name: &str, days: i64) -> AdminResult<Deactivations> {
        if !(1..=366).contains(&days) {
            return Err(AdminError::invalid(format!("days must be between 1 and 366, not {days}")));
        }
        let t = self.tenant(name).await?;
        let since = self.clock.now() - TimeDelta::days(days);
        let rows = self.store.deactivations(t.id, since, READ_AT_MOST).await.map_err(AdminError::internal)?;
        let mut ms: Vec<f64> = rows.iter().map(|d| d.millis).collect();
        ms.sort_by(f64::total_cmp);
        let round = |v: Option<f64>| v.map(|v| (v * 10.0).round() / 10.0);
        Ok(Deactivations {
            tenant: t.name,
            since: since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            count: rows.len(),
            median_ms: round(quantile(&ms, 0.5)),
            p95_ms: round(quantile(&ms, 0.95)),
            max_ms: round(ms.last().copied()),
            logins_ended: rows.iter().map(|d| d.logins).sum(),
            recent: rows
                .into_iter()
                .take(RECENT)
                .map(|d| DeactivationView {
                    at: d.at,
                    id: d.id,
                    ms: (d.millis * 10.0).round() / 10.0,
                    logins: d.logins,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_nearest_ranks() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[3.0], 0.95), Some(3.0));
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!((quantile(&v, 0.5), quantile(&v, 0.95)), (Some(10.0), Some(19.0)));
    }
}
