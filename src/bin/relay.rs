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
    /// Run the sandbox: a local stand-in for Meta's Graph API that sends signed webhooks
    /// (control endpoints under /sandbox; see the `crmconnect::sandbox` docs).
    Sandbox {
        /// Address and port to listen on.
        #[arg(long, env = "SANDBOX_LISTEN", default_value = "127.0.0.1:8788")]
        listen: SocketAddr,
        /// Where to POST webhooks (e.g. the relay's webhook endpoint); can be set later with
        /// PUT /sandbox/webhooks/target.
        #[arg(long, env = "SANDBOX_WEBHOOK_URL")]
        webhook_url: Option<String>,
        /// The app secret webhooks are signed with (X-Hub-Signature-256).
        #[arg(
            long,
            env = "SANDBOX_APP_SECRET",
            default_value = "sandbox-app-secret",
            hide_env_values = true
        )]
        app_secret: String,
        /// The access token the Graph API accepts.
        #[arg(
            long,
            env = "SANDBOX_ACCESS_TOKEN",
            default_value = "sandbox-token",
            hide_env_values = true
        )]
        access_token: String,
        /// The token sent in Meta's hub.verify_token handshake.
        #[arg(
            long,
            env = "SANDBOX_VERIFY_TOKEN",
            default_value = "sandbox-verify-token",
            hide_env_values = true
        )]
        verify_token: String,
        /// Seconds (sandbox time) a new template stays PENDING before its review.
        #[arg(long, default_value_t = 60)]
        approval_delay: u64,
        /// Share of accepted messages that fail (0.0 to 1.0).
        #[arg(long, default_value_t = 0.0)]
        failure_rate: f64,
        /// Messages per second per number before error 130429.
        #[arg(long, default_value_t = 80)]
        throughput_mps: u32,
        /// Simulated customers answer buttons, lists and quick replies they read.
        #[arg(long)]
        auto_reply: bool,
        /// Each simulated customer sends a first message at start.
        #[arg(long)]
        greet: bool,
        /// Seed of ids and simulated failures.
        #[arg(long, default_value_t = 0x5A4D_B0C5)]
        seed: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    crmconnect::logging::init_relay();
    let cli = Cli::parse();
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Serve { listen } => crmconnect::relay::serve(listen).await.map_err(Into::into),
        Command::Sandbox {
            listen,
            webhook_url,
            app_secret,
            access_token,
            verify_token,
            approval_delay,
            failure_rate,
            throughput_mps,
            auto_reply,
            greet,
            seed,
        } => {
            let config = crmconnect::sandbox::SandboxConfig {
                listen,
                webhook_url,
                app_secret: app_secret.as_str().into(),
                access_token: access_token.as_str().into(),
                verify_token: verify_token.as_str().into(),
                template_approval_delay: std::time::Duration::from_secs(approval_delay),
                failure_rate,
                throughput_mps,
                auto_reply,
                greet_on_start: greet,
                seed,
                ..Default::default()
            };
            crmconnect::sandbox::serve(config).await.map_err(Into::into)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("relay: {e}");
            ExitCode::FAILURE
        }
    }
}
