//! The words of the logs: routes, error causes and how each language prints them.

use chrono::DateTime;

use crate::estate::Estate;
use crate::fault::FaultKind;
use crate::logs::Level;
use crate::rng::SimRng;
use crate::world::World;

/// The language a service is written in, which decides its log and stack-trace shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Java,
    Python,
    Go,
    Node,
}

/// The language of a service of the shop.
pub fn lang(service: &str) -> Lang {
    match service {
        "search" | "checkout" | "payments" | "order-worker" => Lang::Java,
        "recommendations" | "fraud" | "notifications" | "reporting" => Lang::Python,
        "frontend" => Lang::Node,
        _ => Lang::Go,
    }
}

/// Browsers and bots seen at the edge.
pub const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
];

/// A request path a service serves, with ids filled in.
pub fn route(service: &str, rng: &mut SimRng) -> (&'static str, String) {
    let id = 1000 + rng.below(90_000);
    let r = rng.below(3);
    match service {
        "gateway" | "frontend" => match r {
            0 => ("GET", format!("/products/{id}")),
            1 => ("GET", "/".to_string()),
            _ => ("GET", format!("/search?q=item{}", id % 300)),
        },
        "catalog" => ("GET", format!("/v1/products/{id}")),
        "search" => (
            "GET",
            format!("/v1/search?q=item{}&page={}", id % 300, r + 1),
        ),
        "recommendations" => ("GET", format!("/v1/recommendations?product={id}")),
        "cart" => {
            if r == 0 {
                ("POST", format!("/v1/carts/{id:x}/items"))
            } else {
                ("GET", format!("/v1/carts/{id:x}"))
            }
        }
        "checkout" => ("POST", "/v1/checkout".to_string()),
        "payments" => ("POST", "/v1/payments/authorize".to_string()),
        "fraud" => ("POST", "/v1/score".to_string()),
        "inventory" => {
            if r == 0 {
                ("POST", "/v1/reservations".to_string())
            } else {
                ("GET", format!("/v1/stock/{id}"))
            }
        }
        "shipping" => ("POST", "/v1/quotes".to_string()),
        _ => ("GET", format!("/v1/users/{id}")),
    }
}

/// A one-line application log entry in the language's usual layout.
pub fn app_line(lang: Lang, ms: i64, level: Level, service: &str, text: &str) -> String {
    let d = DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let lv = match level {
        Level::Debug => "DEBUG",
        Level::Info => "INFO",
        Level::Warn => "WARN",
        Level::Error => "ERROR",
        Level::Fatal => "FATAL",
    };
    match lang {
        Lang::Java => format!(
            "{} {lv:>5} 1 --- [nio-8080-exec-{}] c.s.{}.Application : {text}",
            d.format("%Y-%m-%d %H:%M:%S%.3f"),
            1 + ms % 9,
            service.replace('-', "")
        ),
        Lang::Python => format!(
            "{},{:03} {lv} [{}] {text}",
            d.format("%Y-%m-%d %H:%M:%S"),
            ms.rem_euclid(1000),
            service.replace('-', "_")
        ),
        Lang::Go => format!(
            "time={} level={} msg={text:?}",
            crate::time::rfc3339(ms),
            lv.to_lowercase()
        ),
        Lang::Node => format!(
            "{{\"level\":\"{}\",\"time\":{ms},\"service\":\"{service}\",\"msg\":{text:?}}}",
            lv.to_lowercase()
        ),
    }
}

/// Why one request failed, as the service would tell it.
#[derive(Debug, Clone)]
pub enum Cause {
    Timeout(String),
    Upstream(String),
    Pool,
    Deploy,
    CertExpired(String),
    Network,
    Generic,
}

/// Picks the cause of one failure in proportion to what contributes to the error rate.
pub fn error_cause(
    estate: &Estate,
    world: &World,
    s: usize,
    i: usize,
    versions: &[Vec<String>],
    rng: &mut SimRng,
) -> Cause {
    let svc = &estate.services[s];
    let st = &world.inst[s][i];
    let mut w: Vec<(f64, Cause)> = vec![
        (svc.base_error, Cause::Generic),
        (st.pool_wait * 0.7, Cause::Pool),
        (st.packet_loss * 0.45, Cause::Network),
    ];
    let bad = world.faults().iter().any(|f| {
        f.kind == FaultKind::BadDeploy
            && f.service == s
            && f.active(world.t_ms)
            && versions[s][i] != svc.version
    });
    if bad {
        w.push((0.3, Cause::Deploy));
    }
    for e in &svc.depends_on {
        let v = world.view[e.to];
        let name = estate.services[e.to].name.clone();
        if v.cert_expired {
            w.push((e.error_pass, Cause::CertExpired(name)));
        } else if v.p99_ms() > 1_000.0 {
            w.push((v.err.max(0.05) * e.error_pass, Cause::Timeout(name)));
        } else {
            w.push((v.err * e.error_pass, Cause::Upstream(name)));
        }
    }
    let total: f64 = w.iter().map(|x| x.0).sum();
    let mut x = rng.unit() * total;
    for (p, c) in w {
        if x < p {
            return c;
        }
        x -= p;
    }
    Cause::Generic
}

/// A failure written the way the service's language writes it, stack trace included.
pub fn app_error(lang: Lang, ms: i64, service: &str, cause: &Cause, rng: &mut SimRng) -> String {
    let pkg = service.replace('-', "");
    let (exc, text) = match cause {
        Cause::Timeout(d) => (
            "java.net.SocketTimeoutException",
            format!("call to {d} timed out after 2000 ms"),
        ),
        Cause::Upstream(d) => (
            "org.springframework.web.client.HttpServerErrorException",
            format!("call to {d} failed: 503 Service Unavailable"),
        ),
        Cause::Pool => (
            "java.sql.SQLTransientConnectionException",
            "HikariPool-1 - Connection is not available, request timed out after 30000ms"
                .to_string(),
        ),
        Cause::Deploy => (
            "java.lang.NullPointerException",
            "Cannot invoke \"com.shop.promo.Promotion.discount()\" because \"promo\" is null"
                .to_string(),
        ),
        Cause::CertExpired(d) => (
            "javax.net.ssl.SSLHandshakeException",
            format!(
                "PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed ({d}.shop.svc)"
            ),
        ),
        Cause::Network => ("java.net.SocketException", "Connection reset".to_string()),
        Cause::Generic => (
            "java.lang.IllegalStateException",
            format!("unexpected state for order {}", 10_000 + rng.below(90_000)),
        ),
    };
    match lang {
        Lang::Java => format!(
            "{}\n{exc}: {text}\n\tat com.shop.{pkg}.service.{}Service.handle({}Service.java:{})\n\tat com.shop.{pkg}.web.ApiController.post(ApiController.java:88)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)",
            app_line(lang, ms, Level::Error, service, "request failed"),
            capitalise(&pkg),
            capitalise(&pkg),
            40 + rng.below(300)
        ),
        Lang::Python => {
            let (pyexc, text) = match cause {
                Cause::Deploy => (
                    "AttributeError",
                    "'NoneType' object has no attribute 'template_id'".to_string(),
                ),
                Cause::Timeout(d) => (
                    "requests.exceptions.ReadTimeout",
                    format!(
                        "HTTPConnectionPool(host='{d}', port=8080): Read timed out. (read timeout=2)"
                    ),
                ),
                Cause::CertExpired(d) => (
                    "ssl.SSLCertVerificationError",
                    format!(
                        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired ({d})"
                    ),
                ),
                _ => ("RuntimeError", text),
            };
            format!(
                "{}\nTraceback (most recent call last):\n  File \"/app/{pkg}/handlers.py\", line {}, in handle\n    result = process(message)\n  File \"/app/{pkg}/core.py\", line 57, in process\n    return render(payload)\n{pyexc}: {text}",
                app_line(
                    lang,
                    ms,
                    Level::Error,
                    service,
                    "unhandled error processing message"
                ),
                100 + rng.below(200)
            )
        }
        Lang::Go | Lang::Node => {
            let text = match cause {
                Cause::Timeout(d) => format!("{d}: context deadline exceeded"),
                Cause::Upstream(d) => format!("{d}: unexpected status 503"),
                Cause::Pool => "pgxpool: acquire connection: context deadline exceeded".to_string(),
                Cause::CertExpired(d) => {
                    format!("x509: certificate has expired or is not yet valid ({d})")
                }
                Cause::Network => "read: connection reset by peer".to_string(),
                Cause::Deploy => "invalid memory address or nil pointer dereference".to_string(),
                Cause::Generic => "unexpected EOF".to_string(),
            };
            app_line(
                lang,
                ms,
                Level::Error,
                service,
                &format!("request failed: {text}"),
            )
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// A routine, healthy log line.
pub fn routine(service: &str, rng: &mut SimRng) -> String {
    match rng.below(4) {
        0 => format!(
            "refreshed configuration from config-server in {} ms",
            20 + rng.below(200)
        ),
        1 => format!(
            "cache warm-up complete: {} entries loaded",
            1_000 + rng.below(50_000)
        ),
        2 => format!(
            "scheduled task cleanup completed, {} expired records removed",
            rng.below(500)
        ),
        _ => format!("{service} health check passed (db=ok, cache=ok)"),
    }
}

const QUERIES: [&str; 4] = [
    "SELECT p.id, p.name, p.price FROM products p JOIN stock s ON s.product_id = p.id WHERE p.category_id = $1 ORDER BY p.rank LIMIT 48",
    "UPDATE stock SET reserved = reserved + $1 WHERE product_id = $2 AND available >= $1",
    "INSERT INTO payments (order_id, amount, currency, status) VALUES ($1, $2, $3, 'authorized')",
    "SELECT o.* FROM orders o WHERE o.user_id = $1 ORDER BY o.created_at DESC LIMIT 20",
];

/// PostgreSQL's own lines for one instance in one tick: checkpoints, slow statements,
/// timeouts, WAL archiving trouble and, when the disk is full, panics.
pub fn postgres_lines(
    world: &World,
    s: usize,
    i: usize,
    capacity: f64,
    t: i64,
    step_ms: i64,
    rng: &mut SimRng,
) -> Vec<(Level, String)> {
    let st = &world.inst[s][i];
    let mut out = Vec::new();
    if i == 0 && t % 300_000 < step_ms {
        out.push((Level::Info, "checkpoint starting: time".to_string()));
        out.push((
            Level::Info,
            format!(
                "checkpoint complete: wrote {} buffers ({:.1}%); write={:.3} s, sync={:.3} s",
                800 + rng.below(4000),
                rng.uniform(0.5, 4.0),
                rng.uniform(20.0, 120.0),
                rng.uniform(0.001, 0.05)
            ),
        ));
    }
    let slow = 1.0 - crate::rng::lognormal_cdf(500.0, st.median_ms, st.sigma);
    let n = rng
        .poisson(st.rps * step_ms as f64 / 1000.0 * slow / 10.0)
        .min(12);
    for _ in 0..n {
        let d = 500.0 + rng.exponential(st.median_ms * 4.0);
        out.push((
            Level::Info,
            format!("duration: {d:.3} ms  statement: {}", rng.pick(&QUERIES)),
        ));
    }
    if st.err > 0.02 && rng.chance(st.err.min(1.0)) {
        out.push((
            Level::Error,
            "canceling statement due to statement timeout".to_string(),
        ));
    }
    if world
        .faults()
        .iter()
        .any(|f| f.kind == FaultKind::DiskFill && f.service == s && f.hits(i) && f.active(t))
        && rng.chance(step_ms as f64 / 60_000.0)
    {
        out.push((
            Level::Info,
            "archive command failed with exit code 1".to_string(),
        ));
        out.push((Level::Warn, format!("archiving write-ahead log file \"00000001000000{:02X}000000{:02X}\" failed too many times, will try again later", 10 + (t / 3_600_000) % 200, (t / 60_000) % 256)));
    }
    if capacity > 0.0 && st.disk >= capacity && rng.chance(0.5) {
        out.push((
            Level::Fatal,
            format!(
                "could not write to file \"pg_wal/xlogtemp.{}\": No space left on device",
                100 + rng.below(900)
            ),
        ));
    }
    out
}
