//! Progress bars shared by the long-running commands.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `len` items that draws only on a terminal (indicatif hides itself otherwise,
/// so CI logs stay clean).
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}
