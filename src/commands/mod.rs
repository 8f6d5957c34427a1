pub mod archive;
pub mod image;
pub mod system;
