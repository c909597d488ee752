//! Who is on the other end of a request. Behind a reverse proxy every connection comes from the
//! proxy; the proxy names the client in a header. That header is believed only when the
//! connection comes from one of `trusted_proxies`, and only the header the proxies are
//! configured to set (`forwarded_header`): a client can send either, and a proxy passes on what
//! it does not manage. The chain is read from the right — the hop the last proxy appended — past
//! every trusted proxy, to the first address that is not one: that is the client. Anything the
//! client wrote further left is never reached.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;
use pishkhan_app::config::ForwardedHeader;

/// The client's address: `peer` itself unless it is a trusted proxy, else the rightmost address
/// in the forwarded chain that is not a trusted proxy.
pub fn client_address(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpNet],
    header: ForwardedHeader,
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain = match header {
        ForwardedHeader::XForwardedFor => x_forwarded_for(headers),
        ForwardedHeader::Forwarded => forwarded(headers),
    };
    let mut client = peer;
    for hop in chain.iter().rev() {
        // A hop the proxy could not name (`unknown`, garbage): stop at the last one known.
        let Some(ip) = hop else { break };
        client = *ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Every `X-Forwarded-For` header, left to right, as addresses (`None` where not one).
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .map(|hop| parse_hop(hop.trim()))
        .collect()
}

/// Every `for=` of every `Forwarded` element, left to right.
fn forwarded(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("forwarded")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value.trim().trim_matches('"')))
            })
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn a_direct_client_is_its_own_address_whatever_it_claims() {
        let forged = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ]);
        let trusted = nets(&["10.0.0.0/8"]);
        for header in [ForwardedHeader::XForwardedFor, ForwardedHeader::Forwarded] {
            assert_eq!(
                client_address(ip("198.51.100.7"), &forged, &trusted, header),
                ip("198.51.100.7")
            );
        }
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        let xff = ForwardedHeader::XForwardedFor;
        // The client wrote "1.2.3.4" itself; nginx appended the real address.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7")]);
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &trusted, xff),
            ip("198.51.100.7")
        );
        // Two proxies, the header split over two lines.
        let h = headers(&[
            ("x-forwarded-for", "garbage, 198.51.100.7"),
            ("x-forwarded-for", "10.1.1.1"),
        ]);
        assert_eq!(
            client_address(ip("10.2.2.2"), &h, &trusted, xff),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("10.2.2.2"), &HeaderMap::new(), &trusted, xff),
            ip("10.2.2.2")
        );
        // The header the proxies do not set is never believed.
        let h = headers(&[("forwarded", "for=198.51.100.99")]);
        assert_eq!(
            client_address(ip("10.2.2.2"), &h, &trusted, xff),
            ip("10.2.2.2")
        );
    }

    #[test]
    fn rfc_7239_forwarded_is_read_with_ports_brackets_and_quotes() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[(
            "forwarded",
            r#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711";by=10.0.0.1, for=10.0.0.2"#,
        )]);
        assert_eq!(
            client_address(ip("10.0.0.3"), &h, &trusted, ForwardedHeader::Forwarded),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(parse_hop("192.0.2.1:4711"), Some(ip("192.0.2.1")));
        assert_eq!(parse_hop("unknown"), None);
        assert_eq!(parse_hop("_hidden"), None);
    }
}
