//! `storyprint serve`: the index over HTTP/JSON (feature `serve`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use storyprint::Config;
use storyprint::index::OpenOptions;
use storyprint::index::http::{self, ServiceOptions};

use super::EXIT_OK;
use super::index::IndexLocation;

/// `storyprint serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    location: IndexLocation,
    /// Address to listen on (loopback by default; port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    addr: std::net::SocketAddr,
    /// File holding a bearer token every request must carry.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Allow a non-loopback `--addr` without `--token-file` (anyone who reaches the port can
    /// read and write the index).
    #[arg(long)]
    allow_remote_without_token: bool,
    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, value_name = "BYTES", default_value_t = ServiceOptions::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Seconds a client has to send a request's headers (an idle connection is closed then).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    header_timeout: Duration,
    /// Seconds a client has to send a request's body once its headers are in (then: 408).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
    body_timeout: Duration,
    /// Connections served at once; further ones wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = ServiceOptions::default().max_connections)]
    max_connections: usize,
    /// Seconds SIGTERM or Ctrl-C waits for open connections before closing them and exiting.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    shutdown_deadline: Duration,
    /// A further host name the service answers to in `Host` and `Origin` (`NAME` or
    /// `NAME:PORT`; repeatable). Others get 421 and 403 against DNS rebinding.
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
}

/// A positive number of seconds (fractions allowed).
fn seconds(value: &str) -> Result<Duration, String> {
    let secs: f64 = value
        .parse()
        .map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!("{value} is not between 0 and 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Runs `storyprint serve` until SIGTERM or Ctrl-C.
pub fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    if !args.addr.ip().is_loopback() && args.token_file.is_none() {
        anyhow::ensure!(
            args.allow_remote_without_token,
            "refusing to serve {} (not loopback) without --token-file; \
             --allow-remote-without-token overrides",
            args.addr
        );
        eprintln!(
            "storyprint: warning: serving {} without a token: anyone who reaches it can \
             read and change the index",
            args.addr
        );
    }
    let token = match &args.token_file {
        Some(path) => {
            let token = std::fs::read_to_string(path)
                .with_context(|| format!("reading the token file {}", path.display()))?;
            let token = token.trim().to_string();
            anyhow::ensure!(
                !token.is_empty(),
                "the token file {} is empty",
                path.display()
            );
            Some(token)
        }
        None => None,
    };
    let index = Arc::new(
        args.location
            .open(OpenOptions::create(Config::default()).any_settings())?,
    );
    anyhow::ensure!(
        args.max_connections > 0,
        "--max-connections must be at least 1"
    );
    let options = ServiceOptions {
        token,
        max_body_bytes: args.max_body_bytes,
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        max_connections: args.max_connections,
        shutdown_deadline: args.shutdown_deadline,
        hosts: args.hosts,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        let addr = listener.local_addr()?;
        let shutdown = shutdown_signal()?;
        eprintln!(
            "storyprint: serving {} on http://{addr}",
            index.path().display()
        );
        let closed = http::serve(index, listener, &options, shutdown).await?;
        if closed > 0 {
            eprintln!(
                "storyprint: closed {closed} connection(s) still open after {:?}",
                options.shutdown_deadline
            );
        }
        eprintln!("storyprint: shut down cleanly");
        anyhow::Ok(())
    })?;
    Ok(EXIT_OK)
}

/// A future that resolves on Ctrl-C or SIGTERM. The handlers are installed here, before the
/// address is announced: a signal sent as soon as a client sees it must not kill the process.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("handling Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("handling SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}

/// A future that resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::ServeArgs;
    use clap::Parser;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn serve_binds_loopback_by_default() {
        let args = Serve::parse_from(["serve"]).serve;
        assert!(args.addr.ip().is_loopback());
        assert_eq!(args.addr.port(), 7878);
    }

    #[test]
    fn the_default_limits_are_the_library_defaults() {
        let args = Serve::parse_from(["serve"]).serve;
        let defaults = storyprint::index::http::ServiceOptions::default();
        assert_eq!(args.header_timeout, defaults.header_timeout);
        assert_eq!(args.body_timeout, defaults.body_timeout);
        assert_eq!(args.shutdown_deadline, defaults.shutdown_deadline);
        assert!(Serve::try_parse_from(["serve", "--header-timeout", "0"]).is_err());
        let args = Serve::parse_from(["serve", "--body-timeout", "0.5"]).serve;
        assert_eq!(args.body_timeout, std::time::Duration::from_millis(500));
    }
}
