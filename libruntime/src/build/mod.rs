//! Builds from Containerfiles and Dockerfiles: the parser, the build context with its
//! ignore file, the executor that runs each step in a container made by libruntime,
//! and the cache of steps.

pub mod cache;
pub mod config_steps;
pub mod containerfile;
pub mod context;
mod copy_step;
pub mod executor;
pub mod expand;
pub mod ignore;
pub mod instruction;
pub mod lines;
mod run_step;
pub mod transfer;
pub mod work_container;

use std::fmt;

/// A Containerfile that cannot be built, and the line that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// 1-based; 0 when no line is to blame.
    pub line: usize,
    pub message: String,
}

impl BuildError {
    pub fn at(line: usize, message: String) -> BuildError {
        BuildError { line, message }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}
