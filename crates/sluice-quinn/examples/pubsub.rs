//! A MoQ publisher (server thread) and subscriber (main thread) over real QUIC on
//! 127.0.0.1, each driven by its own blocking [`Endpoint`] loop: no async runtime.
//!
//! Run: `cargo run -p sluice-quinn --example pubsub [moq-lite-05|moq-lite-04|moqt-18]`

use std::time::{Duration, Instant};

use bytes::Bytes;
use sluice::{
    Config, Event, Filter, Location, Namespace, ObjectWrite, SubscribeOptions, TrackInfo, TrackName, Version,
};
use sluice_quinn::{Endpoint, ServerIdentity, ServerVerification, client_config, server_config};

const GROUPS: u64 = 5;
const FRAMES: u64 = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wanted = std::env::args().nth(1).unwrap_or_else(|| "moq-lite-05".into());
    let version = Version::from_alpn(wanted.as_bytes()).ok_or("unknown version")?;

    // Server: a fresh self-signed certificate; clients pin its fingerprint.
    let identity = ServerIdentity::self_signed(["localhost"])?;
    let fingerprint = identity.fingerprint();
    println!("server certificate sha-256: {fingerprint}");
    let server =
        Endpoint::server("127.0.0.1:0".parse()?, server_config(identity, &Version::ALL)?, Config::default())?;
    let addr = server.local_addr()?;
    let publisher = std::thread::spawn(move || serve(server));

    // Client: offers only the version asked for.
    let tls = client_config(ServerVerification::Pin(fingerprint), &[version])?;
    let mut client = Endpoint::client("127.0.0.1:0".parse()?, tls, Config::default())?;
    let conn = client.connect(addr, "localhost")?;
    let track = TrackName::new(Namespace::from_path("demo/clock"), "seconds");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut received = 0;
    client.run_until(deadline, |ep| {
        let Some(c) = ep.connection(conn) else { return true };
        while let Some(event) = c.poll_event() {
            match event {
                Event::Ready { version, .. } => {
                    println!("client: connected with {version}");
                    let options = SubscribeOptions {
                        filter: Filter::AbsoluteStart(Location::default()),
                        ..SubscribeOptions::default()
                    };
                    if let Err(e) = c.session().subscribe(track.clone(), options) {
                        eprintln!("client: subscribe refused: {e}");
                        return true;
                    }
                }
                Event::Subscribed { .. } => println!("client: subscribed"),
                Event::Object { info, payload, .. } => {
                    received += 1;
                    println!("client: group {} object {}: {:?}", info.group, info.object, payload.to_bytes());
                }
                Event::SubscriptionEnded { reason, .. } => {
                    println!("client: subscription ended (code {}), {received} objects", reason.code);
                    c.session().close(0, "thanks");
                }
                Event::Closed { code, reason, .. } => {
                    println!("client: closed {code} {reason}");
                    return true;
                }
                other => println!("client: {other:?}"),
            }
        }
        false
    })?;
    // Let the CONNECTION_CLOSE leave before the process ends.
    client.step(Duration::from_millis(20))?;
    publisher.join().map_err(|_| "publisher thread panicked")??;
    Ok(())
}

/// Accepts one connection and publishes GROUPS groups of FRAMES frames to whoever subscribes.
fn serve(mut server: Endpoint) -> Result<(), sluice_quinn::Error> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = None;
    server.run_until(deadline, |ep| {
        if conn.is_none() {
            conn = ep.accept();
        }
        let Some(c) = conn.and_then(|h| ep.connection(h)) else { return false };
        while let Some(event) = c.poll_event() {
            match event {
                Event::IncomingSubscribe { request, track, .. } => {
                    println!(
                        "server: subscribe to {}/{}",
                        track.namespace.to_path(),
                        String::from_utf8_lossy(&track.name)
                    );
                    let version = c.version();
                    let s = c.session();
                    if s.accept_subscribe(request, TrackInfo::default()).is_err() {
                        continue;
                    }
                    for group in 0..GROUPS {
                        let Ok(stream) = s.open_subgroup(request, group, 0, None) else { continue };
                        for frame in 0..FRAMES {
                            let payload = Bytes::from(format!("group {group} frame {frame}"));
                            let timestamp =
                                matches!(version, Some(Version::Lite(_))).then_some(group * 1000 + frame);
                            let _ = s.write_object(
                                stream,
                                ObjectWrite { timestamp, ..ObjectWrite::new(frame, payload) },
                            );
                        }
                        let _ = s.close_subgroup(stream, true);
                    }
                    let _ = s.end_subscription(request, 0, "that's all");
                }
                Event::Closed { .. } => return true,
                _ => {}
            }
        }
        false
    })?;
    Ok(())
}
