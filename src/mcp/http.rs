//! Streamable HTTP MCP servers. The HTTP client obeys the offline rule like the model's
//! (`config::offline`): the host is checked by name before connecting and every address
//! it resolves to is checked in the resolver. Plain `http://` only: an MCP server over
//! HTTPS is refused with a clear message (run it over stdio, or on loopback).

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest_mcp::dns::{Addrs, Name, Resolve, Resolving};
use reqwest_mcp::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use crate::config::McpServerConfig;
use crate::config::offline::HostPolicy;

struct Guarded {
    policy: Arc<HostPolicy>,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ips: Vec<_> = addrs.iter().map(SocketAddr::ip).collect();
            policy.check_resolved(&host, &ips)?;
            let iter: Addrs = Box::new(addrs.into_iter());
            Ok(iter)
        })
    }
}

pub fn transport(
    server: &str,
    config: &McpServerConfig,
    url: &str,
    policy: &HostPolicy,
) -> Result<StreamableHttpClientTransport<reqwest_mcp::Client>, String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| format!("mcp.servers.{server}.url `{url}` is not a URL: {e}"))?;
    match parsed.scheme() {
        "http" => {}
        "https" => {
            return Err(format!(
                "mcp.servers.{server}.url is https: this build of cove speaks plain HTTP to MCP servers (run the server over stdio with `command`, or on a loopback or private address over http)"
            ));
        }
        other => {
            return Err(format!(
                "mcp.servers.{server}.url has the scheme `{other}`; use http://"
            ));
        }
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("mcp.servers.{server}.url has no host"))?;
    policy.check_host(host).map_err(|e| e.to_string())?;
    let mut headers = HeaderMap::new();
    for (k, v) in &config.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("mcp.servers.{server}.headers: `{k}` is not a header name"))?;
        let mut value = HeaderValue::from_str(v).map_err(|_| {
            format!("mcp.servers.{server}.headers.{k}: the value is not a valid header value")
        })?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    let client = reqwest_mcp::Client::builder()
        .default_headers(headers)
        .redirect(reqwest_mcp::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(Guarded {
            policy: Arc::new(policy.clone()),
        }))
        .build()
        .map_err(|e| format!("the HTTP client for mcp.servers.{server} could not be built: {e}"))?;
    Ok(StreamableHttpClientTransport::with_client(
        client,
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()),
    ))
}
