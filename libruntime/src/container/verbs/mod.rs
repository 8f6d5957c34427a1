//! One file per verb of the container handle (`super::handle::Container`).

mod attach;
mod exec;
mod files;
mod health;
mod init;
mod kill;
mod observe;
mod pause;
mod polling;
mod remove;
mod rename;
mod start;
mod stop;
mod update;
mod wait;

pub use attach::connect;
pub use exec::ExecOptions;
pub use health::health_restart_marker;
pub use pause::PauseMethod;
pub use start::check_startable;
