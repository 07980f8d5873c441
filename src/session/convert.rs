//! `systrace-tui convert IN OUT`: a session file rewritten in the format
//! OUT's name chooses (JSON Lines, zstd JSON Lines, binary `*.strc`).

use std::path::Path;

use anyhow::{anyhow, Context, Result};

use super::reader;
use super::writer::SessionFile;
use crate::model::event::{Event, LostEvents};

/// Converts `input` to `output`; returns the events written. A bad input
/// record is an error naming it (nothing is skipped), and the output then
/// holds what came before it, cut short, as the error says.
pub fn convert(input: &Path, output: &Path, overwrite: bool) -> Result<u64> {
    if input == output {
        return Err(anyhow!("{} is both input and output", input.display()));
    }
    let (mut rd, _) = reader::open(input, false)?;
    let mut header = rd.header().clone();
    header.records = None;
    header.version = super::format::FORMAT_VERSION;
    let mut out = SessionFile::create(output, overwrite, &header)?;
    let mut lost = LostEvents::default();
    // A lost count is written once something follows it: the last one is
    // the final summary, which `finish` writes.
    let mut held: Option<Event> = None;
    loop {
        match rd.next_item() {
            Ok(Some(ev)) => {
                if let Some(h) = held.take() {
                    out.event(&h)
                        .with_context(|| format!("writing {}", output.display()))?;
                }
                if let Event::Lost(l) = ev {
                    lost = l;
                    held = Some(ev);
                    continue;
                }
                out.event(&ev)
                    .with_context(|| format!("writing {}", output.display()))?;
            }
            Ok(None) => break,
            Err(e) => {
                // What came before the bad record is kept, and the output
                // ends without a summary, so its reader sees it is cut.
                let n = out
                    .cut()
                    .with_context(|| format!("writing {}", output.display()))?;
                return Err(anyhow!(
                    "{}: {e} ({} is incomplete: the {n} events before it)",
                    input.display(),
                    output.display()
                ));
            }
        }
    }
    // The input's own summary, when it has one, is what was lost.
    if let Some(s) = &rd.summary {
        lost = s.lost();
    }
    out.finish(lost)
        .with_context(|| format!("writing {}", output.display()))
}
