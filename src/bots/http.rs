//! A bot's HTTP request node: the templated request sent, the JSON answer's fields mapped to
//! variables. A bot must not be a way into the business's own network: an address that resolves
//! to a private, loopback, link-local or otherwise internal IP is refused unless an administrator
//! allowed its host, and the request goes to the address that was checked (no second lookup).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde_json::Value;

use super::BotsError;
use crate::Result;
use crate::audit::{self, Change};
use crate::screens::Screen;
use crate::workspace::{Ctx, Workspace};

/// What a request node asks for (its text already filled in).
pub(crate) struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a str,
    pub map: &'a [(String, String)],
    pub timeout_ms: u32,
}

/// Whether `ip` is one the public internet would not route to us: the business's own network.
pub fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..=127).contains(&o[1])) // carrier-grade NAT
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19)) // benchmarking
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        }
    }
}

impl Ctx<'_> {
    /// The hosts bots may call although they resolve to internal addresses (administrators).
    pub async fn bot_http_hosts(&self) -> Result<Vec<String>> {
        self.actor().await?.require(
            crate::permissions::Resource::WhatsappBot,
            crate::permissions::Action::View,
        )?;
        self.workspace().allowed_hosts().await
    }

    pub async fn set_bot_http_hosts(&self, hosts: Vec<String>) -> Result<Vec<String>> {
        let actor = self.actor().await?;
        let allowed = actor.require_admin("the hosts bots may call");
        let mut clean = Vec::new();
        for h in hosts {
            let h = h.trim().trim_end_matches('.').to_lowercase();
            if h.is_empty() {
                continue;
            }
            if h.contains('/') || h.contains(' ') || h.contains(':') && h.parse::<IpAddr>().is_err()
            {
                return Err(BotsError::Invalid(format!(
                    "“{h}” is not a host name or an IP address (no scheme, port or path)"
                ))
                .into());
            }
            if !clean.contains(&h) {
                clean.push(h);
            }
        }
        let list = clean.clone();
        audit::perform(
            self.db(),
            &actor,
            Change::new(
                Screen::Settings,
                "settings.bot_hosts",
                "hosts bots may call",
            ),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    sqlx::query!("DELETE FROM bot_http_hosts")
                        .execute(&mut *tx)
                        .await?;
                    for h in &list {
                        sqlx::query!("INSERT INTO bot_http_hosts (host) VALUES (?)", h)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Ok(((), Some(list.join(", "))))
                })
            }),
        )
        .await?;
        Ok(clean)
    }
}

impl Workspace {
    async fn allowed_hosts(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar!("SELECT host FROM bot_http_hosts ORDER BY host")
                .fetch_all(self.db())
                .await?,
        )
    }

    /// Sends a request node's request: whether it succeeded (a 2xx answer), the variables its
    /// map took from the JSON answer, and why it failed when it did.
    pub(crate) async fn bot_http(
        &self,
        r: Request<'_>,
    ) -> (bool, Vec<(String, String)>, Option<String>) {
        match self.bot_http_inner(&r).await {
            Ok((ok, values, problem)) => (ok, values, problem),
            Err(e) => (false, Vec::new(), Some(e.to_string())),
        }
    }

    async fn bot_http_inner(
        &self,
        r: &Request<'_>,
    ) -> Result<(bool, Vec<(String, String)>, Option<String>)> {
        let refuse = |why: String| Ok((false, Vec::new(), Some(why)));
        let Ok(url) = reqwest::Url::parse(r.url) else {
            return refuse(format!("“{}” is not a web address", r.url));
        };
        if !matches!(url.scheme(), "http" | "https") {
            return refuse(format!(
                "{} requests are not sent (http or https only)",
                url.scheme()
            ));
        }
        let Some(host) = url.host_str().map(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .to_lowercase()
        }) else {
            return refuse("the address has no host".into());
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(a) => a.collect(),
            Err(e) => return refuse(format!("{host} could not be resolved: {e}")),
        };
        let Some(addr) = addrs.first().copied() else {
            return refuse(format!("{host} has no address"));
        };
        let allowed = self.allowed_hosts().await?;
        if addrs.iter().any(|a| internal(a.ip())) && !allowed.contains(&host) {
            return refuse(format!(
                "{host} is an address inside the network ({}): an administrator may allow it in Settings → AI for bots",
                addr.ip()
            ));
        }
        let timeout = Duration::from_millis(u64::from(r.timeout_ms));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, addr)
            .build()
            .map_err(|e| BotsError::Invalid(e.to_string()))?;
        let method = reqwest::Method::from_bytes(r.method.as_bytes())
            .map_err(|e| BotsError::Invalid(e.to_string()))?;
        let mut call = client.request(method, url);
        for (k, v) in r.headers {
            call = call.header(k.as_str(), v.as_str());
        }
        if !r.body.is_empty() {
            call = call
                .header("content-type", "application/json")
                .body(r.body.to_owned());
        }
        let response = match call.send().await {
            Ok(resp) => resp,
            Err(e) if e.is_timeout() => {
                return refuse(format!("no answer within {} ms", r.timeout_ms));
            }
            // Without its URL: the address may carry what the customer wrote.
            Err(e) => return refuse(format!("the request failed: {}", e.without_url())),
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return refuse(format!("the service answered {status}"));
        }
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let values = r
            .map
            .iter()
            .filter_map(|(var, pointer)| {
                let v = json.pointer(pointer)?;
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => return None,
                    other => other.to_string(),
                };
                Some((var.clone(), s.chars().take(1000).collect()))
            })
            .collect();
        Ok((true, values, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_named() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.9",
            "172.16.5.5",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1:248:1893:25c8:1946",
        ] {
            assert!(!internal(ip.parse().unwrap()), "{ip}");
        }
    }
}
