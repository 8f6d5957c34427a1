//! IPv4 subnets in CIDR form: parsing, membership, and the host addresses in them.

use crate::error::{Error, Result};
use std::fmt;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    /// The network address (host bits zero).
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    /// Parses "10.89.0.0/24". Host bits must be zero, as podman requires.
    pub fn parse(s: &str) -> Result<Subnet> {
        let bad = |why: &str| Error::InvalidArgument(format!("invalid subnet {s:?}: {why}"));
        let (ip, len) = s
            .split_once('/')
            .ok_or_else(|| bad("want ADDRESS/LENGTH"))?;
        let ip: Ipv4Addr = ip
            .parse()
            .map_err(|_| bad("only IPv4 subnets are supported"))?;
        let prefix: u8 = len.parse().map_err(|_| bad("bad prefix length"))?;
        if !(8..=30).contains(&prefix) {
            return Err(bad("the prefix length must be between 8 and 30"));
        }
        let net = Subnet { base: ip, prefix };
        if u32::from(ip) & !net.mask() != 0 {
            return Err(bad("host bits are set"));
        }
        Ok(net)
    }

    fn mask(&self) -> u32 {
        u32::MAX << (32 - self.prefix)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.base)
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.base) || other.contains(self.base)
    }

    /// The n-th address of the subnet (0 is the network address).
    pub fn nth(&self, n: u32) -> Option<Ipv4Addr> {
        let size = 1u64 << (32 - self.prefix);
        (u64::from(n) < size).then(|| Ipv4Addr::from(u32::from(self.base) + n))
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) | !self.mask())
    }

    /// True for an address a container may hold: inside, and neither the network nor
    /// the broadcast address.
    pub fn is_host(&self, ip: Ipv4Addr) -> bool {
        self.contains(ip) && ip != self.base && ip != self.broadcast()
    }
}

impl TryFrom<String> for Subnet {
    type Error = Error;
    fn try_from(s: String) -> Result<Subnet> {
        Subnet::parse(&s)
    }
}

impl From<Subnet> for String {
    fn from(s: Subnet) -> String {
        s.to_string()
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let s = Subnet::parse("10.89.3.0/24").unwrap();
        assert!(s.contains("10.89.3.200".parse().unwrap()));
        assert!(!s.contains("10.89.4.1".parse().unwrap()));
        assert_eq!(s.nth(1), Some("10.89.3.1".parse().unwrap()));
        assert_eq!(s.broadcast(), "10.89.3.255".parse::<Ipv4Addr>().unwrap());
        assert!(Subnet::parse("10.89.3.1/24").is_err());
        assert!(Subnet::parse("10.89.3.0").is_err());
        assert!(Subnet::parse("fd00::/64").is_err());
        assert!(Subnet::parse("10.0.0.0/31").is_err());
        let wide = Subnet::parse("10.88.0.0/16").unwrap();
        assert!(wide.overlaps(&Subnet::parse("10.88.7.0/24").unwrap()));
        assert!(!wide.overlaps(&s));
    }
}
