//! Builds from Containerfiles and Dockerfiles: the parser, the build context with its
//! ignore file, the executor that runs each step in a container made by libruntime,
//! and the cache of steps.

pub mod cache;
pub mod config_steps;
pub mod containerfile;
pub mod context;
mod copy_step;
mod error;
pub mod executor;
pub mod expand;
pub mod ignore;
pub mod instruction;
pub mod lines;
mod run_step;
pub mod transfer;
pub mod work_container;

pub use error::{BuildError, ParseError};
