//! A fixed, seeded dataset shaped like node_exporter output: per host, CPU-mode counters with
//! two decimals, page-multiple memory gauges, filesystem and network byte counters, netstat and
//! vmstat counters that mostly stand still, load averages and constant info series; scraped
//! every 15 s with millisecond jitter. Deterministic so benchmark runs compare like with like.

use hush_model::{Labels, Sample, TimeSeries};

/// splitmix64: a tiny deterministic generator; statistical quality is irrelevant here and it
/// keeps the bench free of an RNG crate's API.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy)]
enum Kind {
    /// Grows by about `rate` per second, rounded to `decimals`.
    Counter { rate: f64, decimals: i32 },
    /// Random walk of `step` around `level`, in multiples of `quantum`.
    Gauge { step: f64, quantum: f64 },
    /// Never changes (info metrics, sizes).
    Constant,
    /// Mostly still, occasionally a small integer increment.
    Sparse { p: f64 },
}

struct Spec {
    labels: Labels,
    kind: Kind,
    value: f64,
}

fn labels(name: &str, host: usize, extra: &[(&str, String)]) -> Labels {
    let mut pairs = vec![
        ("__name__".to_string(), name.to_string()),
        ("instance".to_string(), format!("host-{host:04}:9100")),
        ("job".to_string(), "node".to_string()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Labels::from_pairs(pairs).expect("generated labels are valid")
}

fn host_specs(host: usize, rng: &mut Rng) -> Vec<Spec> {
    let mut v = Vec::new();
    let mut push = |labels: Labels, kind: Kind, value: f64| {
        v.push(Spec {
            labels,
            kind,
            value,
        })
    };
    for cpu in 0..8 {
        for (mode, rate) in [
            ("idle", 0.8),
            ("iowait", 0.01),
            ("irq", 0.0),
            ("nice", 0.0),
            ("softirq", 0.005),
            ("steal", 0.001),
            ("system", 0.05),
            ("user", 0.13),
        ] {
            let l = labels(
                "node_cpu_seconds_total",
                host,
                &[("cpu", cpu.to_string()), ("mode", mode.into())],
            );
            push(
                l,
                Kind::Counter { rate, decimals: 2 },
                1e5 * rate + rng.unit() * 100.0,
            );
        }
    }
    for m in [
        "MemFree",
        "MemAvailable",
        "Buffers",
        "Cached",
        "Active",
        "Inactive",
        "Dirty",
        "Writeback",
        "AnonPages",
        "Mapped",
        "Shmem",
        "Slab",
        "SReclaimable",
        "SUnreclaim",
        "KernelStack",
        "PageTables",
        "Committed_AS",
        "VmallocUsed",
        "Active_anon",
        "Inactive_anon",
        "Active_file",
        "Inactive_file",
    ] {
        push(
            labels(&format!("node_memory_{m}_bytes"), host, &[]),
            Kind::Gauge {
                step: 2e5,
                quantum: 4096.0,
            },
            4096.0 * (1e5 + (rng.unit() * 1e6).floor()),
        );
    }
    for m in [
        "MemTotal",
        "SwapTotal",
        "HugePages_Total",
        "Hugepagesize",
        "VmallocTotal",
        "CommitLimit",
        "DirectMap4k",
        "DirectMap2M",
    ] {
        push(
            labels(&format!("node_memory_{m}_bytes"), host, &[]),
            Kind::Constant,
            4096.0 * (1e6 + (rng.unit() * 1e6).floor()),
        );
    }
    for (dev, mount) in [
        ("/dev/vda1", "/"),
        ("/dev/vda2", "/var"),
        ("/dev/vdb", "/data"),
        ("tmpfs", "/run"),
        ("tmpfs", "/dev/shm"),
    ] {
        let ex = [
            ("device", dev.to_string()),
            ("fstype", "ext4".to_string()),
            ("mountpoint", mount.to_string()),
        ];
        push(
            labels("node_filesystem_size_bytes", host, &ex),
            Kind::Constant,
            1e11,
        );
        push(
            labels("node_filesystem_avail_bytes", host, &ex),
            Kind::Gauge {
                step: 1e5,
                quantum: 4096.0,
            },
            5e10,
        );
        push(
            labels("node_filesystem_free_bytes", host, &ex),
            Kind::Gauge {
                step: 1e5,
                quantum: 4096.0,
            },
            5.5e10,
        );
        push(
            labels("node_filesystem_files", host, &ex),
            Kind::Constant,
            6.5e6,
        );
        push(
            labels("node_filesystem_files_free", host, &ex),
            Kind::Sparse { p: 0.2 },
            6e6,
        );
    }
    for dev in ["eth0", "eth1", "lo"] {
        for (m, rate) in [
            ("receive_bytes", 2e5),
            ("transmit_bytes", 1e5),
            ("receive_packets", 300.0),
            ("transmit_packets", 200.0),
        ] {
            push(
                labels(
                    &format!("node_network_{m}_total"),
                    host,
                    &[("device", dev.into())],
                ),
                Kind::Counter { rate, decimals: 0 },
                1e9,
            );
        }
        for m in [
            "receive_errs",
            "transmit_errs",
            "receive_drop",
            "transmit_drop",
        ] {
            push(
                labels(
                    &format!("node_network_{m}_total"),
                    host,
                    &[("device", dev.into())],
                ),
                Kind::Sparse { p: 0.01 },
                0.0,
            );
        }
    }
    for dev in ["vda", "vdb"] {
        for (m, rate, d) in [
            ("reads_completed", 5.0, 0),
            ("writes_completed", 20.0, 0),
            ("read_bytes", 2e4, 0),
            ("written_bytes", 8e4, 0),
            ("io_time_seconds", 0.02, 3),
        ] {
            push(
                labels(
                    &format!("node_disk_{m}_total"),
                    host,
                    &[("device", dev.into())],
                ),
                Kind::Counter { rate, decimals: d },
                1e6,
            );
        }
    }
    for m in ["node_load1", "node_load5", "node_load15"] {
        push(
            labels(m, host, &[]),
            Kind::Gauge {
                step: 0.05,
                quantum: 0.01,
            },
            1.0,
        );
    }
    for i in 0..80 {
        push(
            labels(&format!("node_netstat_stat_{i}"), host, &[]),
            Kind::Sparse { p: 0.1 },
            (rng.unit() * 1e5).floor(),
        );
    }
    for i in 0..40 {
        push(
            labels(&format!("node_vmstat_stat_{i}"), host, &[]),
            Kind::Counter {
                rate: rng.unit() * 50.0,
                decimals: 0,
            },
            1e7,
        );
    }
    for i in 0..30 {
        push(
            labels(&format!("go_stat_{i}"), host, &[]),
            Kind::Gauge {
                step: 1e3,
                quantum: 1.0,
            },
            1e6,
        );
    }
    for i in 0..20 {
        push(
            labels(
                &format!("node_info_{i}"),
                host,
                &[("version", "6.1.0".into())],
            ),
            Kind::Constant,
            1.0,
        );
    }
    v
}

/// The series of `hosts` hosts; call [`Dataset::scrape`] for each scrape in turn.
pub struct Dataset {
    specs: Vec<Spec>,
    rng: Rng,
    pub interval_ms: i64,
}

impl Dataset {
    pub fn new(hosts: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let specs = (0..hosts).flat_map(|h| host_specs(h, &mut rng)).collect();
        Self {
            specs,
            rng,
            interval_ms: 15_000,
        }
    }

    pub fn series_count(&self) -> usize {
        self.specs.len()
    }

    /// One scrape of every series at about `t` (each host gets a few ms of jitter).
    pub fn scrape(&mut self, t: i64) -> Vec<TimeSeries> {
        let secs = self.interval_ms as f64 / 1000.0;
        let rng = &mut self.rng;
        self.specs
            .iter_mut()
            .map(|s| {
                s.value = match s.kind {
                    Kind::Counter { rate, decimals } => {
                        let p = 10f64.powi(decimals);
                        ((s.value + rate * secs * (0.5 + rng.unit())) * p).round() / p
                    }
                    Kind::Gauge { step, quantum } => {
                        let next = s.value + (rng.unit() - 0.5) * 2.0 * step;
                        ((next / quantum).round() * quantum).max(0.0)
                    }
                    Kind::Constant => s.value,
                    Kind::Sparse { p } => {
                        s.value
                            + if rng.unit() < p {
                                (rng.unit() * 3.0).floor() + 1.0
                            } else {
                                0.0
                            }
                    }
                };
                let jitter = (rng.next_u64() % 5) as i64;
                TimeSeries::new(s.labels.clone(), vec![Sample::new(t + jitter, s.value)])
            })
            .collect()
    }
}
