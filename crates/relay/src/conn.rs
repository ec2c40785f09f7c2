//! Connections under hostile traffic: a cap on open connections in all and per client address,
//! taken when a connection is accepted and given back when it closes. With the header read
//! timeout (`Limits::header_timeout_ms`) and the body timeout of each endpoint, a client that
//! opens connections and sends nothing, or sends headers a byte at a time (slowloris), holds at
//! most its share, and never for long.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::metrics::Metrics;

/// How many connections are open, in all and per address.
pub struct ConnLimits {
    max: usize,
    max_per_ip: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
    metrics: Arc<Metrics>,
}

impl ConnLimits {
    pub fn new(max: usize, max_per_ip: usize, metrics: Arc<Metrics>) -> Arc<ConnLimits> {
        Arc::new(ConnLimits {
            max: max.max(1),
            max_per_ip: max_per_ip.max(1),
            open: Mutex::default(),
            metrics,
        })
    }

    /// A place for a connection from `ip`, or `None` when it is over a cap.
    pub fn take(self: &Arc<Self>, ip: IpAddr) -> Option<ConnGuard> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (total, per_ip) = &mut *open;
        let mine = per_ip.get(&ip).copied().unwrap_or(0);
        if *total >= self.max {
            self.metrics.reject("too_many_connections");
            return None;
        }
        if mine >= self.max_per_ip {
            self.metrics.reject("too_many_connections_from_one_address");
            return None;
        }
        *total += 1;
        per_ip.insert(ip, mine + 1);
        self.metrics.connections.inc();
        Some(ConnGuard {
            limits: self.clone(),
            ip,
        })
    }

    /// Connections open now, in all.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

/// A connection's place; given back when the connection closes.
pub struct ConnGuard {
    limits: Arc<ConnLimits>,
    ip: IpAddr,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        let (total, per_ip) = &mut *open;
        *total = total.saturating_sub(1);
        self.limits.metrics.connections.dec();
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// A connection that holds its place while it is open.
pub struct Limited<S> {
    inner: S,
    _guard: ConnGuard,
}

impl<S: AsyncRead + Unpin> AsyncRead for Limited<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Limited<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Accepts a TCP connection when the caps allow it (else closes it at once), with
/// `TCP_NODELAY`: frames are already gathered by the streams, and Nagle's algorithm would only
/// hold one back until the desktop's delayed ACK.
#[derive(Clone)]
pub struct LimitAcceptor {
    limits: Arc<ConnLimits>,
}

impl LimitAcceptor {
    pub fn new(limits: Arc<ConnLimits>) -> LimitAcceptor {
        LimitAcceptor { limits }
    }
}

impl<S> Accept<TcpStream, S> for LimitAcceptor {
    type Stream = Limited<TcpStream>;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let accepted = (|| {
            let ip = stream.peer_addr()?.ip();
            let guard = self.limits.take(ip).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    format!("connection limit reached for {ip}"),
                )
            })?;
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
            Ok((
                Limited {
                    inner: stream,
                    _guard: guard,
                },
                service,
            ))
        })();
        std::future::ready(accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_in_all_and_per_address_and_given_back() {
        let limits = ConnLimits::new(3, 2, Arc::new(Metrics::default()));
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let a1 = limits.take(a).unwrap();
        let _a2 = limits.take(a).unwrap();
        assert!(limits.take(a).is_none(), "two per address");
        let _b1 = limits.take(b).unwrap();
        assert!(limits.take(b).is_none(), "three in all");
        assert_eq!(limits.open(), 3);
        drop(a1);
        assert_eq!(limits.open(), 2);
        assert!(limits.take(b).is_some(), "a place given back");
    }
}
