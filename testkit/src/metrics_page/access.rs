//! Who may read the metrics page: peers on loopback, unless the deployment names more.

use std::net::IpAddr;

/// The peers (the TCP peer's address: behind a proxy, the proxy) that may read `GET /metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Loopback only (`127.0.0.0/8`, `::1`): the default.
    #[default]
    Loopback,
    /// Loopback and these addresses and networks.
    Also(Vec<Network>),
    /// Any peer.
    Any,
}

/// An address with the number of leading bits that must match: `10.0.0.0/8`, `fd00::/8`, or a
/// single address (all its bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl MetricsAccess {
    /// Reads a setting: empty or `loopback`, `any`, or a comma-separated list of addresses and
    /// networks (`10.0.0.0/8,192.168.1.5,fd00::/8`) allowed besides loopback.
    pub fn parse(setting: &str) -> Result<Self, String> {
        match setting.trim() {
            "" | "loopback" => Ok(Self::Loopback),
            "any" => Ok(Self::Any),
            list => list
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(Network::parse)
                .collect::<Result<Vec<_>, _>>()
                .map(Self::Also),
        }
    }

    /// Whether `peer` may read the page; an unknown peer may not, unless any peer may.
    pub fn allows(&self, peer: Option<IpAddr>) -> bool {
        let Some(peer) = peer.map(|ip| ip.to_canonical()) else {
            return *self == Self::Any;
        };
        match self {
            Self::Any => true,
            _ if peer.is_loopback() => true,
            Self::Loopback => false,
            Self::Also(networks) => networks.iter().any(|network| network.contains(peer)),
        }
    }
}

impl Network {
    fn parse(entry: &str) -> Result<Self, String> {
        let invalid = || format!("{entry:?} is neither an IP address nor a network (10.0.0.0/8)");
        let (address, prefix) = match entry.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (entry, None),
        };
        let address: IpAddr = address.parse().map_err(|_| invalid())?;
        let address = address.to_canonical();
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .parse()
                .ok()
                .filter(|&prefix| prefix <= bits)
                .ok_or_else(invalid)?,
        };
        Ok(Self { address, prefix })
    }

    fn contains(&self, peer: IpAddr) -> bool {
        match (self.address, peer) {
            (IpAddr::V4(network), IpAddr::V4(peer)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(peer) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(peer)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(peer) & mask
            }
            _ => false,
        }
    }
}
