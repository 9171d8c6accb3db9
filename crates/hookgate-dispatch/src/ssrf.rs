//! The SSRF guard for outgoing HTTP deliveries (`deny_private_networks = true`): a webhook
//! destination chosen by whoever configures an endpoint must not be able to reach the
//! gateway's own host, its private network, or a cloud metadata service.
//!
//! The guard has two halves because reqwest has two paths to an address. An IP-literal host
//! never reaches a resolver, so [`check_url`] checks it before the request is built. A domain
//! name goes through [`GuardedResolver`], which resolves it, refuses the whole lookup if any
//! answer is forbidden, and hands reqwest only the addresses it checked, so the connection
//! goes to an address that was checked rather than to a second, possibly different lookup
//! (DNS rebinding). Redirects are never followed by the delivery client, so no later hop
//! escapes the check.
//!
//! This module must never let a forbidden address through on a lookup error, and never
//! resolve through anything but the host's ordinary resolver (getaddrinfo, so `/etc/hosts`
//! applies the same way it does to every other program).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a delivery target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsrfError {
    #[error("{host} resolves to {addr}, a private or reserved address")]
    Forbidden { host: String, addr: IpAddr },
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    #[error("the URL has no host to deliver to")]
    NoHost,
}

/// IPv4 ranges no delivery may reach: this host, private and shared (CGNAT) networks,
/// link-local (which holds the 169.254.169.254 metadata service), documentation and
/// benchmarking ranges, multicast, and everything reserved (240/4 includes broadcast).
const FORBIDDEN_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    (Ipv4Addr::new(192, 0, 2, 0), 24),
    (Ipv4Addr::new(192, 88, 99, 0), 24),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    (Ipv4Addr::new(198, 51, 100, 0), 24),
    (Ipv4Addr::new(203, 0, 113, 0), 24),
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    (Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// Special-purpose ranges inside global unicast (2000::/3). Everything outside 2000::/3
/// (loopback, IPv4-compatible, discard-only 100::/64, unique local, link-local, site-local,
/// multicast, unassigned space) is refused wholesale by [`is_forbidden_v6`], so it is not
/// listed here.
const FORBIDDEN_V6_GLOBAL: &[(Ipv6Addr, u8)] = &[
    // IETF protocol assignments: Teredo (2001::/32) tunnels to an arbitrary IPv4 address,
    // and the rest (benchmarking, ORCHID, AMT) is never a webhook receiver.
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    (Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0), 32),
    // 6to4 embeds an IPv4 address that a relay or the host's own 6to4 interface would
    // reach; RFC 7526 deprecated it, so refusing all of it costs nothing real.
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16),
    // Documentation, RFC 9637.
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),
];

/// NAT64 well-known prefix (RFC 6052): the gateway's NAT64 translates the last 32 bits
/// into an IPv4 destination, so that embedded address is what must be checked.
const NAT64_WELL_KNOWN: (Ipv6Addr, u8) = (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96);

/// True for every address a webhook delivery must not reach when the guard is on.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    FORBIDDEN_V4.iter().any(|&(network, prefix)| {
        let mask = u32::MAX << (32 - u32::from(prefix));
        bits & mask == u32::from(network) & mask
    })
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    // A dual-stack socket connecting to ::ffff:a.b.c.d talks IPv4 to a.b.c.d.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    if in_v6_prefix(ip, NAT64_WELL_KNOWN) {
        return is_forbidden_v4(embedded_v4(ip));
    }
    let global_unicast = in_v6_prefix(ip, (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3));
    !global_unicast
        || FORBIDDEN_V6_GLOBAL
            .iter()
            .any(|&range| in_v6_prefix(ip, range))
}

fn in_v6_prefix(ip: Ipv6Addr, (network, prefix): (Ipv6Addr, u8)) -> bool {
    let mask = u128::MAX << (128 - u32::from(prefix));
    u128::from(ip) & mask == u128::from(network) & mask
}

fn embedded_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let [.., a, b, c, d] = ip.octets();
    Ipv4Addr::new(a, b, c, d)
}

/// Checks a URL before sending: an IP-literal host is checked directly, because reqwest
/// connects to IP literals without ever calling the resolver. Domain names pass here and
/// are checked by [`GuardedResolver`] when the request connects.
///
/// The `url` crate has already applied the WHATWG host parser, so `http://2130706433/`,
/// `http://0x7f.1/` and `http://0177.0.0.1/` arrive here as the IPv4 address 127.0.0.1,
/// which is also what reqwest will connect to.
pub fn check_url(url: &url::Url) -> Result<(), SsrfError> {
    let addr = match url.host().ok_or(SsrfError::NoHost)? {
        url::Host::Domain(_) => return Ok(()),
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
    };
    if is_forbidden(addr) {
        return Err(SsrfError::Forbidden {
            host: url.host_str().unwrap_or_default().to_owned(),
            addr,
        });
    }
    Ok(())
}

/// A reqwest DNS resolver that refuses any name with a forbidden address among its answers
/// and otherwise returns exactly the addresses it checked.
///
/// Install it with `reqwest::ClientBuilder::dns_resolver(Arc::new(GuardedResolver))`, and
/// build that client with `.no_proxy()`: through a proxy, reqwest resolves the proxy's name
/// and the proxy connects to the destination, so this resolver would never see it.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = lookup_checked(&host).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Refuses the whole name, not just the bad answers: a name that mixes a public and a
/// private address is either misconfigured or an attempt to get the private one tried
/// after the public one fails, and neither should be delivered to.
async fn lookup_checked(host: &str) -> Result<Vec<SocketAddr>, SsrfError> {
    // Port 0: reqwest replaces it with the URL's port or the scheme's default.
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|err| SsrfError::Resolve {
            host: host.to_owned(),
            reason: err.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(SsrfError::Resolve {
            host: host.to_owned(),
            reason: "no addresses".to_owned(),
        });
    }
    if let Some(bad) = addrs.iter().find(|addr| is_forbidden(addr.ip())) {
        return Err(SsrfError::Forbidden {
            host: host.to_owned(),
            addr: bad.ip(),
        });
    }
    Ok(addrs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::{
        net::{Ipv4Addr, Ipv6Addr},
        sync::{
            atomic::{AtomicUsize, Ordering},
            Arc,
        },
    };

    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;

    fn check(url: &str) -> Result<(), SsrfError> {
        check_url(&url::Url::parse(url).unwrap())
    }

    const FORBIDDEN_URLS: &[&str] = &[
        "http://127.0.0.1/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://0x7f000001/",
        "http://127.255.255.254:9000/admin",
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[::ffff:10.1.2.3]/",
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a00:1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00::1]/",
        "http://[fc00::1]/",
        "http://[fe80::1]/",
        "http://[fec0::1]/",
        "http://[ff02::1]/",
        "http://[100::1]/",
        "http://[2001::1]/",
        "http://[2001:db8::1]/",
        "http://[2002:7f00:1::1]/",
        "http://[2002:5db8:d822::1]/",
        "http://0.0.0.0/",
        "http://0/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://172.31.255.255/",
        "http://192.168.1.1:8080/",
        "http://100.64.0.1/",
        "http://100.127.255.255/",
        "http://192.0.0.8/",
        "http://192.0.2.1/",
        "http://192.88.99.1/",
        "http://198.18.0.1/",
        "http://198.19.255.255/",
        "http://198.51.100.7/",
        "http://203.0.113.9/",
        "http://224.0.0.1/",
        "http://239.255.255.250/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "https://user:pw@127.0.0.1:443/",
        "http://127.0.0.1./",
    ];

    #[test]
    fn forbidden_url_targets_are_refused() {
        assert!(FORBIDDEN_URLS.len() >= 25);
        for url in FORBIDDEN_URLS {
            assert!(
                matches!(check(url), Err(SsrfError::Forbidden { .. })),
                "{url} should be forbidden, got {:?}",
                check(url)
            );
        }
    }

    #[test]
    fn whatwg_parser_turns_numeric_hosts_into_ipv4_literals() {
        // Why check_url can trust Host::Ipv4: these never reach it as domain names.
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://0x7f000001/",
            "http://127.0.0.1./",
        ] {
            let parsed = url::Url::parse(url).unwrap();
            assert_eq!(
                parsed.host(),
                Some(url::Host::Ipv4(Ipv4Addr::LOCALHOST)),
                "{url}"
            );
            assert_eq!(parsed.host_str(), Some("127.0.0.1"), "{url}");
        }
        let mapped = url::Url::parse("http://[::ffff:127.0.0.1]/").unwrap();
        assert_eq!(mapped.host_str(), Some("[::ffff:7f00:1]"));
    }

    #[test]
    fn the_error_names_host_and_address() {
        let err = check("http://[::ffff:a9fe:a9fe]/").unwrap_err();
        assert_eq!(
            err,
            SsrfError::Forbidden {
                host: "[::ffff:a9fe:a9fe]".to_owned(),
                addr: "::ffff:169.254.169.254".parse().unwrap(),
            }
        );
        assert!(err.to_string().contains("private or reserved"));
    }

    #[test]
    fn public_targets_and_names_pass() {
        for url in [
            "https://93.184.216.34/",
            "https://1.1.1.1/",
            "http://8.8.8.8:8080/hook",
            "https://172.32.0.1/",
            "https://100.128.0.1/",
            "https://[2606:4700::1111]/",
            "https://[2a00:1450:4001::200e]/",
            "https://[::ffff:93.184.216.34]/",
            "https://[64:ff9b::808:808]/",
            "https://example.com/",
            "https://localhost/",
        ] {
            assert_eq!(check(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn a_url_without_host_is_refused() {
        assert_eq!(check("file:///etc/passwd"), Err(SsrfError::NoHost));
    }

    #[test]
    fn range_edges_are_exact() {
        let v4 = |s: &str| is_forbidden(s.parse().unwrap());
        assert!(v4("172.31.255.255") && !v4("172.32.0.0") && !v4("172.15.255.255"));
        assert!(v4("100.64.0.0") && !v4("100.63.255.255") && !v4("100.128.0.0"));
        assert!(v4("198.18.0.0") && v4("198.19.255.255") && !v4("198.20.0.0"));
        assert!(!v4("11.0.0.0") && !v4("9.255.255.255"));
        assert!(!v4("223.255.255.255") && v4("224.0.0.0"));
        let v6 = |s: &str| is_forbidden(IpAddr::V6(s.parse::<Ipv6Addr>().unwrap()));
        assert!(v6("2001:1ff:ffff::1") && !v6("2001:200::1"));
        assert!(v6("2001:db8:ffff::1") && !v6("2001:db9::1"));
        assert!(v6("3fff:fff::1") && !v6("3fff:1000::1"));
        assert!(v6("1fff:ffff::1") && v6("4000::1"));
    }

    #[tokio::test]
    async fn resolver_refuses_localhost() {
        let err = match GuardedResolver.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(err) => err,
        };
        match err.downcast_ref::<SsrfError>() {
            Some(SsrfError::Forbidden { host, addr }) => {
                assert_eq!(host, "localhost");
                assert!(addr.is_loopback(), "{addr}");
            }
            other => panic!("expected Forbidden, got {other:?} from {err}"),
        }
    }

    #[tokio::test]
    async fn resolver_reports_names_that_do_not_resolve() {
        let err = match GuardedResolver
            .resolve("does-not-exist.invalid".parse().unwrap())
            .await
        {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(err) => err,
        };
        assert!(
            matches!(
                err.downcast_ref::<SsrfError>(),
                Some(SsrfError::Resolve { .. })
            ),
            "{err}"
        );
    }

    /// A real HTTP listener on 127.0.0.1 that counts the connections it accepts and answers
    /// each one, one at a time, so accept order follows connect order.
    async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let mut request = [0_u8; 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            }
        });
        (port, accepted)
    }

    #[tokio::test]
    async fn guarded_client_never_connects_to_localhost() {
        let (port, accepted) = counting_listener().await;
        let guarded = reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver))
            .build()
            .unwrap();

        let err = guarded
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        let mut refused = false;
        while let Some(cause) = source {
            refused |= matches!(
                cause.downcast_ref::<SsrfError>(),
                Some(SsrfError::Forbidden { .. })
            );
            source = cause.source();
        }
        assert!(refused, "the error chain should carry SsrfError: {err:?}");

        // The listener does answer: an unguarded request gets through. It also acts as a
        // barrier: had the guarded client connected, that connection would have been
        // accepted (and counted) before this one.
        let plain = reqwest::Client::builder().no_proxy().build().unwrap();
        let body = plain
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }
}
