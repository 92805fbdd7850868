//! Miner throughput on synthetic lines shaped like service logs (numbers, addresses, ids,
//! key=value pairs, user names), generated deterministically.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hush_logs::Miner;

const TEMPLATES: &[&str] = &[
    "Receiving block blk_{n} src: /10.250.{a}.{b}:{p} dest: /10.250.{a}.{b}:50010",
    "PacketResponder {a} for block blk_{n} terminating",
    "Invalid user {u} from 192.168.{a}.{b} port {p}",
    "session opened for user {u} by (uid={a})",
    "{h}:{p} close, {n} bytes ({a}.{b} KB) sent, {p} bytes received, lifetime 00:{a}",
    "GET /v2/{x}/servers/detail HTTP/1.1 status: 200 len: {p} time: 0.{n}",
    "Found block rdd_{a}_{b} locally",
    "acquire lock={n}, flags=0x{a}, tag=\"{u}\", name={h}, uid={p}",
];
const USERS: &[&str] = &[
    "root", "admin", "guest", "oracle", "test", "ubuntu", "pi", "git",
];
const HOSTS: &[&str] = &[
    "proxy.cse.cuhk.edu.hk",
    "mtalk.google.com",
    "www.example.org",
];

fn lines(n: usize) -> Vec<String> {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..n)
        .map(|_| {
            let t = TEMPLATES[(next() % TEMPLATES.len() as u64) as usize];
            t.replace("{n}", &(next() % 1_000_000_000).to_string())
                .replace("{a}", &(next() % 256).to_string())
                .replace("{b}", &(next() % 256).to_string())
                .replace("{p}", &(next() % 65_536).to_string())
                .replace("{u}", USERS[(next() % USERS.len() as u64) as usize])
                .replace("{h}", HOSTS[(next() % HOSTS.len() as u64) as usize])
                .replace("{x}", &format!("{:032x}", next()))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let input = lines(10_000);
    let mut warm = Miner::default();
    for l in &input {
        warm.add(l);
    }
    let mut g = c.benchmark_group("miner");
    g.throughput(Throughput::Elements(input.len() as u64));
    g.bench_function("add_steady_state", |b| {
        b.iter_batched(
            || warm.clone(),
            |mut m| {
                for l in &input {
                    std::hint::black_box(m.add(l));
                }
                m
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("add_cold", |b| {
        b.iter(|| {
            let mut m = Miner::default();
            for l in &input {
                std::hint::black_box(m.add(l));
            }
            m
        })
    });
    g.bench_function("find", |b| {
        b.iter(|| input.iter().filter(|l| warm.find(l).is_some()).count())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
