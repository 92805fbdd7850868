//! A deterministic node_exporter-like batch for benchmarks and fuzz seeds: ~500 series with the
//! label sets a real node_exporter scrape carries (cpu/mode, device/fstype/mountpoint, …).

use hush_model::{Labels, Sample, TimeSeries};

/// A tiny LCG so the data is the same on every run without a dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn label_sets() -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut add = |name: &str, extra: &[(&str, String)]| {
        let mut l = vec![
            ("__name__".to_string(), name.to_string()),
            ("instance".to_string(), "10.0.3.17:9100".to_string()),
            ("job".to_string(), "node".to_string()),
        ];
        l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        out.push(l);
    };
    for cpu in 0..8 {
        for mode in [
            "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
        ] {
            add(
                "node_cpu_seconds_total",
                &[("cpu", cpu.to_string()), ("mode", mode.into())],
            );
        }
    }
    let fs = [
        ("/dev/nvme0n1p2", "ext4", "/"),
        ("/dev/nvme0n1p1", "vfat", "/boot/efi"),
        ("tmpfs", "tmpfs", "/run"),
        ("tmpfs", "tmpfs", "/dev/shm"),
        ("/dev/sda1", "xfs", "/var/lib/data"),
        ("overlay", "overlay", "/var/lib/docker/overlay2/3f1c/merged"),
    ];
    for m in [
        "avail_bytes",
        "files",
        "files_free",
        "free_bytes",
        "readonly",
        "size_bytes",
        "device_error",
    ] {
        for (d, t, p) in fs {
            add(
                &format!("node_filesystem_{m}"),
                &[
                    ("device", d.into()),
                    ("fstype", t.into()),
                    ("mountpoint", p.into()),
                ],
            );
        }
    }
    for m in [
        "receive_bytes_total",
        "receive_packets_total",
        "receive_errs_total",
        "receive_drop_total",
        "transmit_bytes_total",
        "transmit_packets_total",
        "transmit_errs_total",
        "transmit_drop_total",
        "up",
        "mtu_bytes",
        "speed_bytes",
    ] {
        for dev in ["eth0", "eth1", "lo", "docker0", "veth3a9f1c2"] {
            add(&format!("node_network_{m}"), &[("device", dev.into())]);
        }
    }
    for m in [
        "reads_completed_total",
        "writes_completed_total",
        "read_bytes_total",
        "written_bytes_total",
        "io_time_seconds_total",
        "read_time_seconds_total",
        "write_time_seconds_total",
        "io_now",
        "discard_time_seconds_total",
        "flush_requests_total",
    ] {
        for dev in ["nvme0n1", "sda", "dm-0"] {
            add(&format!("node_disk_{m}"), &[("device", dev.into())]);
        }
    }
    for cpu in 0..8 {
        for t in ["LOC", "RES", "CAL", "TLB", "NMI", "PMI", "MCE", "SPU"] {
            add(
                "node_interrupts_total",
                &[("cpu", cpu.to_string()), ("type", t.into())],
            );
        }
    }
    for i in 0..90 {
        add(&format!("node_memory_metric{i}_bytes"), &[]);
    }
    for handler in ["/metrics", "/api/v1/query", "/api/v1/write", "/-/healthy"] {
        for le in [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
        ] {
            add(
                "http_request_duration_seconds_bucket",
                &[("handler", handler.into()), ("le", le.into())],
            );
        }
        add(
            "http_request_duration_seconds_sum",
            &[("handler", handler.into())],
        );
        add(
            "http_request_duration_seconds_count",
            &[("handler", handler.into())],
        );
    }
    for m in [
        "go_goroutines",
        "go_threads",
        "process_open_fds",
        "process_max_fds",
        "process_resident_memory_bytes",
    ] {
        add(m, &[]);
    }
    for q in ["0", "0.25", "0.5", "0.75", "1"] {
        add("go_gc_duration_seconds", &[("quantile", q.into())]);
    }
    for i in 0..96 {
        add(
            "node_hwmon_temp_celsius",
            &[
                ("chip", format!("platform_coretemp_{}", i / 16)),
                ("sensor", format!("temp{}", i % 16)),
            ],
        );
    }
    out
}

/// The batch: every series with `samples` samples, 15 s apart, from `start_ms`.
pub fn batch(samples: usize, start_ms: i64) -> Vec<TimeSeries> {
    let mut rng = Lcg(42);
    label_sets()
        .into_iter()
        .map(|pairs| {
            let labels = Labels::from_pairs(pairs).expect("valid generated labels");
            let base = (rng.next() * 1e6).round();
            let samples = (0..samples)
                .map(|i| {
                    Sample::new(
                        start_ms + 15_000 * i as i64,
                        base + (rng.next() * 100.0).round() / 4.0,
                    )
                })
                .collect();
            TimeSeries::new(labels, samples)
        })
        .collect()
}

/// The batch's first samples as a text-format scrape, with HELP/TYPE lines per family.
pub fn exposition_text() -> String {
    let mut out = String::new();
    let mut last_family = String::new();
    for s in batch(1, 0) {
        let name = s.labels.metric_name().unwrap_or_default().to_string();
        let family = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count")
            .to_string();
        if family != last_family {
            out.push_str(&format!(
                "# HELP {family} Generated.\n# TYPE {family} untyped\n"
            ));
            last_family = family;
        }
        let labels: Vec<String> = s
            .labels
            .iter()
            .filter(|l| l.name != "__name__")
            .map(|l| format!("{}=\"{}\"", l.name, l.value))
            .collect();
        out.push_str(&format!(
            "{name}{{{}}} {}\n",
            labels.join(","),
            s.samples[0].v
        ));
    }
    out
}
