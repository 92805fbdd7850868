//! Lines masked ahead ([`MaskedLines`], [`mask_ahead`]) mine exactly as lines given one at a
//! time to [`Miner::add`] and [`Miner::learn`]: same ids, changes, parameters and final state,
//! whatever the blocks and however many threads mask them.

use hush_logs::{Change, MaskedLines, Miner, MinerConfig, TemplateId, mask_ahead};
use proptest::prelude::*;

/// What mining a line gave, owned.
type Outcome = (TemplateId, Change, Vec<String>);

fn sequential(config: &MinerConfig, lines: &[String]) -> (Vec<Outcome>, Miner) {
    let mut m = Miner::new(config.clone()).unwrap();
    let out = lines
        .iter()
        .map(|l| {
            let r = m.add(l);
            (
                r.id,
                r.change,
                r.params.iter().map(|p| p.to_string()).collect(),
            )
        })
        .collect();
    (out, m)
}

/// A deterministic stream shaped like service logs, with the awkward cases mixed in: empty
/// lines, `\r\n` endings, lines longer than `max_tokens`, literal `<*>`, invalid UTF-8, many
/// user names (so templates fold and merge) and more templates than a small cap holds.
fn generated(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut out = Vec::new();
    for _ in 0..n {
        let (a, b, c) = (next() % 256, next() % 65_536, next() % 1_000_000);
        let line = match next() % 16 {
            0 => format!(
                "Receiving block blk_{c} src: /10.250.{a}.{b}:{b} dest: /10.250.{a}.7:50010"
            ),
            1 => format!(
                "Invalid user user{} from 192.168.{a}.{b} port {b}",
                next() % 40
            ),
            2 => format!("session opened for user u{} by (uid={a})", next() % 9),
            3 => {
                format!("proxy.example.org:{b} close, {c} bytes ({a}.{b} KB) sent, lifetime <1 sec")
            }
            4 => format!("acquire lock={c}, flags=0x{a:x}, tag=\"job{a}\", name=w{b}, uid={b}"),
            5 => {
                format!("GET /v2/{c:032x}/servers/detail HTTP/1.1 status: 200 len: {b} time: 0.{c}")
            }
            6 => String::new(),
            7 => format!(
                "component{} reported state {} after {a} ms\r",
                next() % 30,
                next() % 7
            ),
            8 => "w ".repeat(20 + (next() % 300) as usize),
            9 => format!("literal <*> and x=<*> in {a}"),
            10 => format!("event{c} kind{} code{}", next() % 50, next() % 50),
            11 => format!("Found block rdd_{a}_{b} locally"),
            12 => format!(
                "VM {} (Lifecycle Event)",
                ["Started", "Stopped", "Paused"][(next() % 3) as usize]
            ),
            13 => format!("ffffffff deadbeef {a} é{b} ünïcode"),
            14 => format!(
                "{}.{}: {a}",
                ["a", "b", "c"][(next() % 3) as usize],
                next() % 200
            ),
            _ => format!("step {a} of {b} done"),
        };
        out.extend_from_slice(line.as_bytes());
        if next() % 97 == 0 {
            // Bytes that are not UTF-8, decoded lossily by both paths.
            out.extend_from_slice(&[0xff, 0xc3, b' ', 0xe2, 0x82]);
        }
        out.push(b'\n');
    }
    out
}

/// The lines of `bytes` as the masked path reads them: lossily decoded, split on `\n`, a
/// trailing `\r` dropped.
fn lines_of(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    text.split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

/// Blocks of whole lines of about `size` bytes.
fn blocks(bytes: &[u8], size: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let want = (start + size).min(bytes.len());
        let end = bytes[want..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |k| want + k + 1);
        out.push(bytes[start..end].to_vec());
        start = end;
    }
    out
}

fn configs() -> Vec<MinerConfig> {
    vec![
        MinerConfig::default(),
        // A small cap (evictions) and few tokens per line (the long lines are cut).
        MinerConfig {
            max_templates: 40,
            max_tokens: 12,
            ..MinerConfig::default()
        },
    ]
}

#[test]
fn mask_ahead_mines_exactly_as_the_sequential_miner() {
    let bytes = generated(6_000, 0x2545_f491_4f6c_dd1d);
    let lines = lines_of(&bytes);
    for config in configs() {
        let (expected, seq) = sequential(&config, &lines);
        // The stream exercises folding, merging and (under the small cap) eviction.
        assert!(seq.stats().merged > 0);
        assert!(config.max_templates > 1000 || seq.stats().evicted > 0);
        for (workers, size) in [(0, 4096), (1, 4096), (1, 1), (3, 700), (2, 1 << 20)] {
            for learn in [false, true] {
                let mut m = Miner::new(config.clone()).unwrap();
                let mut source = blocks(&bytes, size).into_iter();
                let read = |buf: &mut Vec<u8>| match source.next() {
                    Some(b) => {
                        buf.clear();
                        buf.extend_from_slice(&b);
                        true
                    }
                    None => false,
                };
                let mut got: Vec<Outcome> = Vec::new();
                mask_ahead(&config, read, workers, |block| {
                    for k in 0..block.len() {
                        got.push(if learn {
                            let (id, change) = m.learn_masked(block, k).unwrap();
                            (id, change, Vec::new())
                        } else {
                            let r = m.add_masked(block, k).unwrap();
                            (
                                r.id,
                                r.change,
                                r.params.iter().map(|p| p.to_string()).collect(),
                            )
                        });
                    }
                });
                let want: Vec<Outcome> = if learn {
                    expected
                        .iter()
                        .map(|(id, c, _)| (*id, *c, Vec::new()))
                        .collect()
                } else {
                    expected.clone()
                };
                let label = format!("workers {workers}, blocks of {size}, learn {learn}");
                assert_eq!(got.len(), want.len(), "{label}");
                for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(g, w, "{label}: line {k} {:?}", lines[k]);
                }
                assert_eq!(m.state(), seq.state(), "{label}");
                assert_eq!(m.stats(), seq.stats(), "{label}");
            }
        }
    }
}

#[test]
fn a_block_masked_for_other_settings_is_masked_again() {
    let lines = lines_of(&generated(500, 7));
    let narrow = MinerConfig {
        max_tokens: 3,
        ..MinerConfig::default()
    };
    let mut block = MaskedLines::new(&narrow);
    for l in &lines {
        block.push(l);
    }
    assert_eq!(block.len(), lines.len());
    let (expected, seq) = sequential(&MinerConfig::default(), &lines);
    let mut m = Miner::default();
    for (k, want) in expected.iter().enumerate() {
        assert_eq!(block.line(k), Some(lines[k].as_str()));
        let r = m.add_masked(&block, k).unwrap();
        let got: Outcome = (
            r.id,
            r.change,
            r.params.iter().map(|p| p.to_string()).collect(),
        );
        assert_eq!(&got, want);
    }
    assert_eq!(m.state(), seq.state());
    assert!(m.learn_masked(&block, lines.len()).is_none());
    assert!(block.line(lines.len()).is_none());
}

#[test]
fn from_text_splits_lines_as_documented() {
    let config = MinerConfig::default();
    let block = MaskedLines::from_text(&config, "a 1\r\n\nb 2\nlast".to_string());
    let got: Vec<_> = (0..block.len()).map(|k| block.line(k).unwrap()).collect();
    assert_eq!(got, ["a 1", "", "b 2", "last"]);
    let block = MaskedLines::from_text(&config, "one\n".to_string());
    assert_eq!(block.len(), 1);
    assert!(MaskedLines::from_text(&config, String::new()).is_empty());
}

#[test]
#[should_panic(expected = "consumer failed")]
fn a_panicking_consumer_stops_the_workers() {
    let bytes = generated(3_000, 11);
    let mut source = blocks(&bytes, 512).into_iter();
    let read = |buf: &mut Vec<u8>| match source.next() {
        Some(b) => {
            buf.clear();
            buf.extend_from_slice(&b);
            true
        }
        None => false,
    };
    let mut seen = 0;
    mask_ahead(&MinerConfig::default(), read, 2, |_| {
        seen += 1;
        assert!(seen < 3, "consumer failed");
    });
}

#[test]
#[should_panic(expected = "source failed")]
fn a_panicking_source_is_reported() {
    let mut n = 0;
    let read = |buf: &mut Vec<u8>| {
        n += 1;
        assert!(n < 20, "source failed");
        buf.clear();
        buf.extend_from_slice(b"some line 1\nanother line 2\n");
        true
    };
    mask_ahead(&MinerConfig::default(), read, 2, |_| {});
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn masked_lines_learn_as_lines_one_at_a_time(
        lines in prop::collection::vec("(user|host|id|[a-c]{1,3}=)[ :]?[a-e0-9.<*>/]{0,6}( [0-9]{1,3})?( done,)?", 1..80),
    ) {
        let config = MinerConfig::default();
        let (expected, seq) = sequential(&config, &lines);
        let mut block = MaskedLines::new(&config);
        for l in &lines {
            block.push(l);
        }
        let mut m = Miner::default();
        for (k, want) in expected.iter().enumerate() {
            let r = m.add_masked(&block, k).unwrap();
            let got: Outcome = (r.id, r.change, r.params.iter().map(|p| p.to_string()).collect());
            prop_assert_eq!(&got, want);
        }
        prop_assert_eq!(m.state(), seq.state());
    }
}
