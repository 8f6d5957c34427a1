//! Containers: records, the lifecycle state machine, and the OCI spec they run by.

mod error;
pub use error::ContainerError;
pub mod commit;
pub mod copy;
pub mod create;
pub mod etc_users;
pub mod filesystem;
pub mod handle;
pub mod health;
pub mod logconfig;
pub mod logfile;
pub mod mounts;
pub mod names;
pub mod networks;
pub mod options;
pub mod record;
pub mod rootfs_plan;
pub mod secrets;
pub mod spawn;
pub mod spec;
pub mod state;
pub mod stats;
pub mod top;
pub mod verbs;
pub mod volumes;

pub use handle::Container;

pub use record::{
    find, list, user_of_image, ContainerDirs, ContainerRecord, MountRecord, RunConfig,
};
pub use state::{State, Status};
