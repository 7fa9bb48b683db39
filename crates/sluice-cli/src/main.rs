//! `sluice`: the command line of the sluice Media over QUIC stack.
//!
//! `sluice demo` runs a relay, a publisher and a subscriber over real QUIC on 127.0.0.1 in
//! one process (see [`demo`]) for each MoQ version sluice speaks (moq-lite-04, moq-lite-05,
//! MOQT draft-18), or the one asked for, and exits 0 only if every object arrived intact.
//! `sluice relay`, `sluice publish` and `sluice subscribe` are the relay and the stdin/stdout
//! clients (one library module each: [`sluice_cli::relay`], [`sluice_cli::publish`],
//! [`sluice_cli::subscribe`]).

use sluice_cli::client::{ConnectError, EXIT_UNSUPPORTED_TRANSPORT, VersionArg as DemoVersion};
use sluice_cli::{demo, discover, interop_client, publish, relay, subscribe};

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sluice::Version;

#[derive(Debug, Parser)]
#[command(name = "sluice", version, about = "Media over QUIC (moq-lite-04/05, MOQT draft-18)")]
struct Cli {
    /// Log what happens on stderr.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Relay + publisher + subscriber over real QUIC on 127.0.0.1, checked end to end.
    Demo(DemoArgs),
    /// A relay on one UDP port, every MoQ version (until SIGINT/SIGTERM).
    Relay(relay::Args),
    /// Publish stdin as one track: each read (or line) one object.
    Publish(publish::Args),
    /// Subscribe to one track and write its payloads to stdout, in order.
    Subscribe(subscribe::Args),
    /// Print the namespaces announced under a prefix as they come (+) and go (-).
    Discover(discover::Args),
    /// The public MoQ interop runner's test client: TAP 14 on stdout, exit 0/1/127.
    InteropClient(interop_client::Args),
}

#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// The MoQ version to run; every version in turn when absent.
    #[arg(long, value_enum)]
    version: Option<DemoVersion>,
    /// Track duration per version, in seconds.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Objects per second.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    /// Objects per group (one subgroup stream per group).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    group_size: u32,
    /// Payload bytes per object (at least 16: sequence number and send time).
    #[arg(long, default_value_t = 1200)]
    payload: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    sluice_cli::log::set_verbose(cli.verbose);
    match cli.command {
        Command::Demo(args) => run_demo(&args),
        Command::Relay(args) => exit(relay::run(&args).map_err(ConnectError::Other), "relay"),
        Command::Publish(args) => exit(publish::run(args), "publish"),
        Command::Subscribe(args) => exit(subscribe::run(args), "subscribe"),
        Command::Discover(args) => exit(discover::run(&args), "discover"),
        Command::InteropClient(args) => {
            let outcome = interop_client::run(&args);
            print!("{}", outcome.stdout);
            ExitCode::from(outcome.exit_code)
        }
    }
}

/// 0 on success; 3 when the transport is unsupported in this build; 1 otherwise.
fn exit(result: Result<(), ConnectError>, what: &str) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(ConnectError::Unsupported(e)) => {
            eprintln!("{what}: {e}");
            ExitCode::from(EXIT_UNSUPPORTED_TRANSPORT)
        }
        Err(ConnectError::Other(e)) => {
            eprintln!("{what}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_demo(args: &DemoArgs) -> ExitCode {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        eprintln!("--seconds must be positive");
        return ExitCode::from(2);
    }
    let versions: Vec<Version> = match args.version {
        Some(v) => vec![v.into()],
        None => [DemoVersion::Lite04, DemoVersion::Lite05, DemoVersion::D18].map(Version::from).to_vec(),
    };
    let params = demo::Params {
        seconds: args.seconds,
        rate: args.rate,
        group_size: args.group_size,
        payload: args.payload,
    };
    let mut all_ok = true;
    for version in versions {
        eprintln!("{}: relay + publisher + subscriber on 127.0.0.1 over QUIC", version.alpn());
        match demo::run(version, params) {
            Ok(summary) => {
                if let Some(r) = summary.relay {
                    eprintln!(
                        "  relay: {} upstream subscription(s), {} objects forwarded, {} payload copies, {} late objects dropped",
                        r.upstream_subscribes, r.objects_forwarded, r.payload_copies, r.late_objects_dropped
                    );
                }
                for e in summary.errors.iter().take(10) {
                    eprintln!("  error: {e}");
                }
                println!("{}", summary.line());
                all_ok &= summary.intact();
            }
            Err(e) => {
                println!("{}: setup failed: {e}, integrity FAILED", version.alpn());
                all_ok = false;
            }
        }
    }
    if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
