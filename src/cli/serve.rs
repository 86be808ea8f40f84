//! `storyprint serve`: the index over HTTP/JSON (feature `serve`).

use std::path::PathBuf;
use std::sync::Arc;

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
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
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
    let options = ServiceOptions {
        token,
        max_body_bytes: args.max_body_bytes,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        let addr = listener.local_addr()?;
        // Handlers in place before the banner: a client that signals as soon as it reads the
        // address must get a clean shutdown, not the default action.
        let shutdown = shutdown_signal()?;
        eprintln!(
            "storyprint: serving {} on http://{addr}",
            index.path().display()
        );
        http::serve(index, listener, &options, shutdown).await?;
        eprintln!("storyprint: shut down cleanly");
        anyhow::Ok(())
    })?;
    Ok(EXIT_OK)
}

/// A future that resolves on Ctrl-C or SIGTERM, the handlers installed when it is made.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        #[cfg(not(unix))]
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
}
