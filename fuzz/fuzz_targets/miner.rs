//! The log miner: every line of the input is learned by a small-capped miner; templates stay
//! within the cap, each line's template exists with as many parameters as variables, and the
//! saved state restores.
#![no_main]

use hush_logs::{LineFormat, Miner, MinerConfig};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

// Compiled once: a format is configuration, not input, and compiling its regex each run
// would dominate the time.
static FORMAT: LazyLock<LineFormat> =
    LazyLock::new(|| LineFormat::new("<Date> <Level> <Component>: <Content>").unwrap());

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut miner = Miner::new(MinerConfig {
        max_templates: 16,
        max_tokens: 32,
        ..MinerConfig::default()
    })
    .unwrap();
    let format = &*FORMAT;
    for line in text.lines() {
        let content = format.split(line).map_or(line, |s| s.content);
        let m = miner.add(content);
        let id = miner.resolve(m.id);
        let t = miner.template(id).expect("a learned line has a template");
        assert_eq!(m.params.len(), t.arity());
        assert!(miner.len() <= 16);
        let _ = miner.find(content);
    }
    let restored = Miner::from_state(miner.state()).unwrap();
    assert_eq!(restored.len(), miner.len());
});
