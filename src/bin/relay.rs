//! `relay`: the headless server of CRMConnect WhatsApp. Links no Tauri, WebKit or keychain crate.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "relay",
    version,
    about = "CRMConnect WhatsApp relay: receives Meta's webhooks and streams them to the team's desktops"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (currently `/healthz`; the webhook endpoint and desktop stream come with the relay issue).
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "RELAY_LISTEN", default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    crmconnect::logging::init_relay();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { listen } => crmconnect::relay::serve(listen).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("relay: {e}");
            ExitCode::FAILURE
        }
    }
}
