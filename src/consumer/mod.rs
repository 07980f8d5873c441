//! Where events go: the TUI, or headless lines and the summary table.
//! Consumers only consume; the pipeline (`crate::pipeline`) feeds them.

pub mod headless;
pub mod publish;
pub mod tui;
