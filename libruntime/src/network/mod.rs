//! Container networking: user-mode networking with slirp4netns or pasta, and published
//! ports. (Bridge networks and their DNS are still to come.)

pub mod pasta;
pub mod ports;
pub mod slirp;
