//! Signal names as users write them: `TERM`, `SIGTERM`, `sigterm`, `15`.

use crate::error::{Error, Result};
use nix::sys::signal::Signal;
use std::str::FromStr;

pub fn parse(s: &str) -> Result<Signal> {
    let bad = || Error::InvalidArgument(format!("invalid signal {s:?}"));
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| bad());
    }
    let upper = s.to_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    #[test]
    fn spellings() {
        use nix::sys::signal::Signal;
        assert_eq!(super::parse("term").unwrap(), Signal::SIGTERM);
        assert_eq!(super::parse("SIGKILL").unwrap(), Signal::SIGKILL);
        assert_eq!(super::parse("2").unwrap(), Signal::SIGINT);
        assert!(super::parse("nope").is_err());
        assert!(super::parse("99").is_err());
    }
}
