//! moq-relay 0.17.10 as a standalone process for the relay comparison: the upstream
//! `moq-relay` binary's startup (`main.rs`: install the crypto provider, `Relay::load`,
//! `run` on a default multi-threaded tokio runtime) with the configuration given in code
//! instead of a file: QUIC on 127.0.0.1:PORT, a generated certificate for `localhost`,
//! every path public (no tokens), no HTTP listener.
//!
//! Prints `listening 127.0.0.1:PORT` on stderr once ready and runs until killed.
//!
//!     moq-relay-bench [PORT]      (0, the default: any free port)

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    moq_tokio::crypto::install_default().map_err(|_| anyhow::anyhow!("crypto provider"))?;
    let port: u16 = std::env::args().nth(1).map(|p| p.parse()).transpose()?.unwrap_or(0);
    let mut config = moq_relay::Config::default();
    config.listen.bind = Some(format!("127.0.0.1:{port}").parse()?);
    config.listen.tls.generate = vec!["localhost".into()];
    config.auth.public = vec![moq_auth::Pattern::all()];
    let relay = moq_relay::Relay::load(config).await?;
    let addr = relay.quic_addr()?;
    let ready = relay.ready();
    let task = tokio::spawn(relay.run());
    ready.wait().await?;
    eprintln!("listening {addr}");
    task.await?
}
