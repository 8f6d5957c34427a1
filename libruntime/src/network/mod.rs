//! Container networking: user-mode networking with slirp4netns and published ports.
//! (Bridges, DNS and pasta are still to come.)

pub mod ports;
pub mod slirp;
