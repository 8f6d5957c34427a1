//! Link the `skiff` binary as a non-PIE executable with lazy binding: every command is a
//! short-lived process, and a PIE of this size spends a good part of its start-up
//! applying tens of thousands of relative relocations and resolving every symbol of
//! libssl and libcrypto, which most commands never call.
fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
    println!("cargo:rustc-link-arg-bins=-Wl,-z,lazy");
}
