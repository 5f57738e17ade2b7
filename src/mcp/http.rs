//! Streamable HTTP MCP servers. The HTTP client obeys the offline rule like the model's
//! (`config::offline`): the host is checked by name before connecting and every address
//! it resolves to is checked in the resolver. `https://` verifies the server against the
//! system's roots (as the model client does; internal CAs installed there work) with
//! rustls and ring, the TLS stack the model client already uses.

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
            let addrs = crate::config::offline::lookup_checked(&policy, &host).await?;
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
    let client = client(server, config, url, policy)?;
    Ok(StreamableHttpClientTransport::with_client(
        client,
        StreamableHttpClientTransportConfig::with_uri(url.to_owned()),
    ))
}

/// The HTTP client for one server's `url`: the offline rule, its headers, TLS for https.
fn client(
    server: &str,
    config: &McpServerConfig,
    url: &str,
    policy: &HostPolicy,
) -> Result<reqwest_mcp::Client, String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| format!("mcp.servers.{server}.url `{url}` is not a URL: {e}"))?;
    let tls = match parsed.scheme() {
        "http" => false,
        "https" => true,
        other => {
            return Err(format!(
                "mcp.servers.{server}.url has the scheme `{other}`; use http:// or https://"
            ));
        }
    };
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
    // this reqwest has no crypto provider of its own: ring, once, as for the model client
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let mut builder = reqwest_mcp::Client::builder();
    if tls {
        builder = builder.tls_backend_preconfigured(tls_config()?);
    }
    builder
        .default_headers(headers)
        .redirect(reqwest_mcp::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(Guarded {
            policy: Arc::new(policy.clone()),
        }))
        .build()
        .map_err(|e| format!("the HTTP client for mcp.servers.{server} could not be built: {e}"))
}

/// rustls with ring and the system's root certificates (loaded only for an https server).
fn tls_config() -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err("no system root certificates were found for an https MCP server".into());
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error with its causes (reqwest's own message names the request only).
    fn chain(e: &dyn std::error::Error) -> String {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            text.push_str(&format!(": {s}"));
            source = s.source();
        }
        text
    }

    #[tokio::test]
    async fn https_verifies_the_certificate_and_http_speaks_no_tls() {
        let dir = tempfile::tempdir().unwrap();
        let (key, cert) = (dir.path().join("k.pem"), dir.path().join("c.pem"));
        let ok = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl (scripts/test.sh installs it)");
        assert!(ok.success());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let script = format!(
            "import http.server, ssl\ns = http.server.HTTPServer(('127.0.0.1', {port}), http.server.BaseHTTPRequestHandler)\nc = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\nc.load_cert_chain('{}', '{}')\ns.socket = c.wrap_socket(s.socket, server_side=True)\ns.serve_forever()\n",
            cert.display(),
            key.display()
        );
        let mut child = std::process::Command::new("python3")
            .args(["-c", &script])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let policy = HostPolicy {
            offline: true,
            allowed_hosts: vec![],
        };
        let cfg = McpServerConfig::default();
        let url = format!("https://127.0.0.1:{port}/mcp");
        let c = client("t", &cfg, &url, &policy).unwrap();
        let err = c.get(&url).send().await.unwrap_err();
        let text = chain(&err).to_lowercase();
        let _ = child.kill();
        let _ = child.wait();
        // TLS was spoken, and a certificate no system root vouches for was refused
        assert!(text.contains("certificate"), "{text}");
        // a scheme other than http(s) is refused before anything is built
        assert!(
            client("t", &cfg, "ftp://127.0.0.1/", &policy)
                .unwrap_err()
                .contains("scheme")
        );
    }
}
