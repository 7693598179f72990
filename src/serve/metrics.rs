//! The server's counters and their Prometheus text rendering. Every hot-path update is one
//! relaxed atomic add; label sets are fixed (routes, status codes) or registered when a snapshot
//! is built (resolutions), never on the request path.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::routes;

/// The routes, as their metrics label them: each by its pattern, each webhook by its platform.
pub const ROUTES: &[&str] = &[
    routes::RESOLVE,
    routes::AGENTS,
    routes::VERSIONS,
    routes::VERSION,
    routes::CONFIG,
    routes::CHANNELS,
    routes::CALLS,
    routes::CALL,
    routes::PRUNE,
    routes::STATS,
    routes::HOOK_VAPI,
    routes::HOOK_RETELL,
    routes::HOOK_ELEVENLABS,
    routes::HOOK_ELEVENLABS_INITIATION,
    routes::HOOK_TWILIO,
    routes::HEALTHZ,
    routes::READYZ,
    routes::METRICS,
    "other",
];

const STATUSES: &[u16] = &[200, 400, 401, 404, 405, 408, 409, 413, 500, 503];

/// Upper bounds of the duration histogram, in seconds.
const BUCKETS: &[f64] = &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

#[derive(Default)]
struct Histogram {
    /// One count per bucket and one for +Inf (not cumulative; summed when rendered).
    counts: [AtomicU64; 12],
    sum_nanos: AtomicU64,
}

pub struct Metrics {
    /// Requests by route (index into ROUTES) and status (index into STATUSES, or the last slot).
    requests: Vec<[AtomicU64; 11]>,
    durations: Vec<Histogram>,
    resolutions: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
    pub reloads: AtomicU64,
    pub reload_failures: AtomicU64,
    /// Times the followed ref moved to a commit that does not contain the one served.
    pub history_rewinds: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: ROUTES.iter().map(|_| Default::default()).collect(),
            durations: ROUTES.iter().map(|_| Histogram::default()).collect(),
            resolutions: Mutex::default(),
            reloads: AtomicU64::new(0),
            reload_failures: AtomicU64::new(0),
            history_rewinds: AtomicU64::new(0),
        }
    }
}

/// The metrics label of a matched route pattern.
pub fn route_index(pattern: Option<&str>) -> usize {
    let pattern = pattern.unwrap_or("other");
    ROUTES.iter().position(|r| *r == pattern).unwrap_or(ROUTES.len() - 1)
}

impl Metrics {
    pub fn observe(&self, route: usize, status: u16, elapsed: Duration) {
        let slot = STATUSES.iter().position(|s| *s == status).unwrap_or(STATUSES.len());
        self.requests[route][slot].fetch_add(1, Relaxed);
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(BUCKETS.len());
        let h = &self.durations[route];
        h.counts[bucket].fetch_add(1, Relaxed);
        h.sum_nanos.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    /// The counter for one label set of `agentver_resolutions_total`, the same one across reloads.
    pub fn resolution_counter(&self, labels: &str) -> Arc<AtomicU64> {
        self.resolutions.lock().expect("not poisoned").entry(labels.to_owned()).or_default().clone()
    }

    /// Prometheus text exposition format, version 0.0.4.
    pub fn render(&self, revision: Option<&str>, build_seconds: Option<f64>) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP agentver_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE agentver_http_requests_total counter\n");
        for (route, counts) in ROUTES.iter().zip(&self.requests) {
            for (i, count) in counts.iter().enumerate() {
                let n = count.load(Relaxed);
                if n > 0 {
                    let status = STATUSES.get(i).map_or("other".to_owned(), u16::to_string);
                    let _ = writeln!(out, "agentver_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
                }
            }
        }
        out.push_str("# HELP agentver_http_request_duration_seconds Time from request to response head.\n");
        out.push_str("# TYPE agentver_http_request_duration_seconds histogram\n");
        for (route, h) in ROUTES.iter().zip(&self.durations) {
            let total: u64 = h.counts.iter().map(|c| c.load(Relaxed)).sum();
            if total == 0 {
                continue;
            }
            let mut running = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                running += h.counts[i].load(Relaxed);
                let _ = writeln!(
                    out,
                    "agentver_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {running}"
                );
            }
            let _ =
                writeln!(out, "agentver_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {total}");
            let sum = h.sum_nanos.load(Relaxed) as f64 / 1e9;
            let _ = writeln!(out, "agentver_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "agentver_http_request_duration_seconds_count{{route=\"{route}\"}} {total}");
        }
        out.push_str("# HELP agentver_resolutions_total Calls resolved, by channel, agent, version and variant.\n");
        out.push_str("# TYPE agentver_resolutions_total counter\n");
        for (labels, count) in self.resolutions.lock().expect("not poisoned").iter() {
            let _ = writeln!(out, "agentver_resolutions_total{{{labels}}} {}", count.load(Relaxed));
        }
        out.push_str(
            "# HELP agentver_reloads_total Snapshots built and swapped in.\n# TYPE agentver_reloads_total counter\n",
        );
        let _ = writeln!(out, "agentver_reloads_total {}", self.reloads.load(Relaxed));
        out.push_str("# HELP agentver_reload_failures_total Revisions that failed to load and were not served.\n");
        out.push_str("# TYPE agentver_reload_failures_total counter\n");
        let _ = writeln!(out, "agentver_reload_failures_total {}", self.reload_failures.load(Relaxed));
        out.push_str("# HELP agentver_history_rewinds_total Times the followed ref moved to a commit that does not contain the one served (a force-push).\n");
        out.push_str("# TYPE agentver_history_rewinds_total counter\n");
        let _ = writeln!(out, "agentver_history_rewinds_total {}", self.history_rewinds.load(Relaxed));
        if let Some(revision) = revision {
            out.push_str(
                "# HELP agentver_revision_info The commit being served.\n# TYPE agentver_revision_info gauge\n",
            );
            let _ = writeln!(out, "agentver_revision_info{{revision=\"{revision}\"}} 1");
        }
        if let Some(seconds) = build_seconds {
            out.push_str("# HELP agentver_snapshot_build_seconds How long the served snapshot took to build.\n");
            out.push_str("# TYPE agentver_snapshot_build_seconds gauge\n");
            let _ = writeln!(out, "agentver_snapshot_build_seconds {seconds}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_and_buckets_durations() {
        let m = Metrics::default();
        let resolve = route_index(Some("/v1/resolve"));
        m.observe(resolve, 200, Duration::from_micros(80));
        m.observe(resolve, 200, Duration::from_millis(3));
        m.observe(resolve, 404, Duration::from_micros(80));
        m.observe(route_index(Some("/hooks/vapi")), 401, Duration::from_micros(1));
        m.observe(route_index(Some("/v1/agents/{id}/versions/{reference}")), 200, Duration::from_micros(1));
        m.resolution_counter("channel=\"a\"").fetch_add(2, Relaxed);
        let text = m.render(Some("abc"), None);
        assert!(text.contains("agentver_http_requests_total{route=\"/v1/resolve\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("agentver_http_requests_total{route=\"/v1/resolve\",status=\"404\"} 1\n"), "{text}");
        assert!(text.contains("agentver_http_requests_total{route=\"/hooks/vapi\",status=\"401\"} 1\n"), "{text}");
        assert!(
            text.contains(
                "agentver_http_requests_total{route=\"/v1/agents/{id}/versions/{reference}\",status=\"200\"} 1\n"
            ),
            "{text}"
        );
        assert!(text.contains("route=\"/v1/resolve\",le=\"0.0001\"} 2\n"), "{text}");
        assert!(text.contains("route=\"/v1/resolve\",le=\"0.0025\"} 2\n"), "{text}");
        assert!(text.contains("route=\"/v1/resolve\",le=\"0.005\"} 3\n"), "{text}");
        assert!(text.contains("agentver_resolutions_total{channel=\"a\"} 2\n"), "{text}");
        assert!(text.contains("agentver_revision_info{revision=\"abc\"} 1\n"), "{text}");
        assert_eq!(route_index(Some("/nowhere")), ROUTES.len() - 1);
    }
}
