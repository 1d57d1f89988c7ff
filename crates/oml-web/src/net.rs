//! Who the client is: the peer address, or what a trusted reverse proxy
//! (the local nginx) says in `X-Forwarded-For`. Pure functions, tested alone.
//!
//! A header from anyone else is ignored: otherwise an attacker could pick a
//! fresh "IP" for every wrong password and never hit the per-IP block.

use std::net::{IpAddr, Ipv6Addr};

/// The client address for lock-out and the audit log.
///
/// When `peer` is a trusted proxy, `X-Forwarded-For` is read from the right
/// (the hop nearest to us) and the first address that is not itself a
/// trusted proxy is the client. A malformed entry stops the walk: what is
/// left of it was written by someone we do not trust.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for entry in header.rsplit(',') {
        let Some(ip) = parse_entry(entry) else {
            break;
        };
        client = ip;
        if !is_trusted(ip, trusted) {
            break;
        }
    }
    client
}

/// True when the request reached the proxy over HTTPS (`X-Forwarded-Proto:
/// https` from a trusted proxy), so cookies must be `Secure`.
pub fn forwarded_https(peer: IpAddr, forwarded_proto: Option<&str>, trusted: &[IpAddr]) -> bool {
    is_trusted(peer.to_canonical(), trusted)
        && forwarded_proto.is_some_and(|p| {
            p.split(',')
                .next()
                .is_some_and(|first| first.trim().eq_ignore_ascii_case("https"))
        })
}

/// The IPv6 `/64` network of `ip`, written `2001:db8:1:2::/64`.
pub fn network64(ip: Ipv6Addr) -> String {
    let s = ip.segments();
    let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
    format!("{net}/64")
}

/// What failed logins from `ip` are counted and blocked under: the address,
/// and for IPv6 also its `/64` network (one site usually gets a whole /64,
/// so an attacker there could take a fresh address for every attempt).
pub fn lockout_subjects(ip: IpAddr) -> Vec<String> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => vec![v4.to_string()],
        IpAddr::V6(v6) => vec![v6.to_string(), network64(v6)],
    }
}

/// A blocked address as an administrator types it (to unblock): an address
/// or an IPv6 `/64` network, in the form the blocks are stored under.
pub fn parse_block_subject(text: &str) -> Option<String> {
    let t = text.trim();
    if let Some(net) = t.strip_suffix("/64") {
        return match net.parse::<IpAddr>().ok()?.to_canonical() {
            IpAddr::V6(v6) => Some(network64(v6)),
            IpAddr::V4(_) => None,
        };
    }
    Some(t.parse::<IpAddr>().ok()?.to_canonical().to_string())
}

fn is_trusted(ip: IpAddr, trusted: &[IpAddr]) -> bool {
    trusted.iter().any(|t| t.to_canonical() == ip)
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or
/// `[2001:db8::1]:5678`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    if let Ok(ip) = e.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sa) = e.parse::<std::net::SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn header_from_an_untrusted_peer_is_ignored() {
        let trusted = [ip("127.0.0.1")];
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("10.9.9.9"), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client_ip(ip("203.0.113.9"), None, &[]), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_proxy_gives_the_nearest_untrusted_hop() {
        let trusted = [ip("127.0.0.1"), ip("10.0.0.2")];
        // The client forged the first entry; nginx appended the real one.
        assert_eq!(
            client_ip(
                ip("127.0.0.1"),
                Some("6.6.6.6, 198.51.100.7, 10.0.0.2"),
                &trusted
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("198.51.100.7:4711"), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("[2001:db8::5]:443"), &trusted),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn garbage_stops_the_walk() {
        let trusted = [ip("127.0.0.1")];
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("1.1.1.1, nonsense"), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some(""), &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_trust_entries() {
        let trusted = [ip("127.0.0.1")];
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), Some("192.0.2.1"), &trusted),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn ipv6_clients_count_per_address_and_per_64() {
        assert_eq!(lockout_subjects(ip("192.0.2.1")), vec!["192.0.2.1"]);
        assert_eq!(lockout_subjects(ip("::ffff:192.0.2.1")), vec!["192.0.2.1"]);
        assert_eq!(
            lockout_subjects(ip("2001:db8:1:2:aaaa::1")),
            vec!["2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"]
        );
        assert_eq!(
            lockout_subjects(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))[1],
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            parse_block_subject(" 2001:DB8:1:2:0::/64 "),
            Some("2001:db8:1:2::/64".into())
        );
        assert_eq!(
            parse_block_subject("2001:db8::7"),
            Some("2001:db8::7".into())
        );
        assert_eq!(parse_block_subject("10.0.0.0/64"), None);
        assert_eq!(parse_block_subject("2001:db8::/48"), None);
        assert_eq!(parse_block_subject("nonsense"), None);
    }

    #[test]
    fn https_only_believed_from_trusted_proxies() {
        let trusted = [ip("127.0.0.1")];
        assert!(forwarded_https(ip("127.0.0.1"), Some("https"), &trusted));
        assert!(!forwarded_https(ip("127.0.0.1"), Some("http"), &trusted));
        assert!(!forwarded_https(ip("192.0.2.1"), Some("https"), &trusted));
    }
}
