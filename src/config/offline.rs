//! The offline rule: with `offline = true` (the default) cove sends nothing to a host that
//! is not loopback, a private-range address, or listed in `allowed_hosts`.
//!
//! Host names are checked twice: by name here (an allowed name passes), and by every
//! address they resolve to in the client's resolver (`llm::net`), so a name that points
//! at a public address is refused too, and no second lookup can swap the address.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPolicy {
    pub offline: bool,
    pub allowed_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "offline mode: refusing to contact {host}{why}. To allow it, add it to allowed_hosts in your config \
     (allowed_hosts = [\"{host}\"]) or set offline = false"
)]
pub struct Refusal {
    pub host: String,
    pub why: String,
}

impl HostPolicy {
    pub fn permissive() -> Self {
        HostPolicy {
            offline: false,
            allowed_hosts: Vec::new(),
        }
    }

    /// Whether the name itself is allowed without looking at its addresses.
    pub fn host_allowed_by_name(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if !self.offline || host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        self.allowed_hosts.iter().any(|pattern| {
            let pattern = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
            match pattern.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => pattern == host,
            }
        })
    }

    /// Checks a host as written in a URL (a name, or an address literal).
    /// `Ok(true)` = allowed outright; `Ok(false)` = a name whose addresses must be checked.
    pub fn check_host(&self, host: &str) -> Result<bool, Refusal> {
        if self.host_allowed_by_name(host) {
            return Ok(true);
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip) if is_local(ip) => Ok(true),
            Ok(_) => Err(Refusal {
                host: host.to_owned(),
                why: " (a public address)".into(),
            }),
            Err(_) => Ok(false),
        }
    }

    /// Checks the addresses a name resolved to.
    pub fn check_resolved(&self, host: &str, addrs: &[IpAddr]) -> Result<(), Refusal> {
        if self.host_allowed_by_name(host) {
            return Ok(());
        }
        match addrs.iter().find(|a| !is_local(**a)) {
            Some(public) => Err(Refusal {
                host: host.to_owned(),
                why: format!(" (it resolves to the public address {public})"),
            }),
            None => Ok(()),
        }
    }
}

/// Loopback, private-range (RFC 1918, CGNAT as used by Tailscale-style overlays,
/// link-local, IPv6 unique-local and link-local) or unspecified.
/// Every address `host` resolves to, once each has passed the rule: the body of the model
/// client's resolver (`llm::net`) and the MCP client's (`mcp::http`), which implement two
/// versions of reqwest's resolver trait.
pub async fn lookup_checked(
    policy: &HostPolicy,
    host: &str,
) -> Result<Vec<std::net::SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
    let ips: Vec<IpAddr> = addrs.iter().map(std::net::SocketAddr::ip).collect();
    policy.check_resolved(host, &ips)?;
    Ok(addrs)
}

pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_local(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline(allowed: &[&str]) -> HostPolicy {
        HostPolicy {
            offline: true,
            allowed_hosts: allowed.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn local_addresses_pass_public_ones_are_refused() {
        let p = offline(&[]);
        for host in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "100.64.0.1",
            "[::1]",
            "[fd00::1]",
            "localhost",
            "gpu.localhost",
        ] {
            assert_eq!(p.check_host(host), Ok(true), "{host}");
        }
        let err = p.check_host("8.8.8.8").unwrap_err();
        assert!(err.to_string().contains("8.8.8.8") && err.to_string().contains("allowed_hosts"));
        assert!(p.check_host("[2001:4860::8888]").is_err());
        assert!(p.check_host("172.32.0.1").is_err());
        assert_eq!(p.check_host("api.openai.com"), Ok(false));
    }

    #[test]
    fn names_are_judged_by_their_addresses_unless_allowed() {
        let p = offline(&["vllm.corp.example", "*.lab.example"]);
        let public = ["93.184.216.34".parse().unwrap()];
        let private = ["10.0.0.7".parse().unwrap()];
        assert!(p.check_resolved("gpu-box", &private).is_ok());
        let err = p
            .check_resolved("api.openai.com", &public)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("api.openai.com") && err.contains("93.184.216.34"),
            "{err}"
        );
        assert!(p.check_resolved("vllm.corp.example", &public).is_ok());
        assert!(p.check_resolved("a.lab.example", &public).is_ok());
        assert!(p.check_resolved("lab.example.evil", &public).is_err());
        assert!(
            HostPolicy::permissive()
                .check_resolved("api.openai.com", &public)
                .is_ok()
        );
    }

    #[test]
    fn mapped_ipv6_uses_the_ipv4_rule() {
        assert!(is_local("::ffff:192.168.0.1".parse().unwrap()));
        assert!(!is_local("::ffff:1.1.1.1".parse().unwrap()));
    }
}
