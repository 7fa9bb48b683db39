//! TLS for raw-QUIC MoQ: a self-signed server identity, certificate pinning by SHA-256
//! fingerprint, and ALPN lists built from the versions sluice speaks.
//!
//! Why pinning: MoQ endpoints on a LAN, in tests or behind a relay are often reached by
//! address, with a certificate nobody signed. The WebTransport convention
//! (`serverCertificateHashes`) is to pin the SHA-256 of the leaf certificate's DER; we do the
//! same for raw QUIC, so a client can trust exactly one self-signed server. Skipping
//! verification is possible but must be asked for by name ([`ServerVerification::Insecure`]).
//!
//! Version negotiation is by ALPN (DESIGN.md "Wire versions"): the client offers every version
//! it is willing to speak, the server answers with the first of *its* list that the client
//! offered (rustls selects by the server's order), so the server's list is its preference order.
//! Only TLS 1.3 is offered, as QUIC requires (RFC 9001 §4.2). The crypto provider is *ring*,
//! which keeps the build free of a C/CMake toolchain step.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use quinn_proto::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sluice::Version;

use crate::error::Error;

/// The SHA-256 digest of a certificate's DER encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(cert_der: &[u8]) -> Fingerprint {
        let digest = ring::digest::digest(&ring::digest::SHA256, cert_der);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        Fingerprint(out)
    }
}

impl fmt::Display for Fingerprint {
    /// Lower-case hex, no separators.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    /// Accepts 64 hex digits, optionally separated by `:` (as `openssl x509 -fingerprint` prints).
    fn from_str(s: &str) -> Result<Fingerprint, Error> {
        let digits: Vec<u8> = s.bytes().filter(|b| *b != b':').collect();
        if digits.len() != 64 {
            return Err(Error::BadFingerprint);
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| Error::BadFingerprint)?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| Error::BadFingerprint)?;
        }
        Ok(Fingerprint(out))
    }
}

/// Total validity of [`ServerIdentity::self_signed`] certificates: 13 days, inside the 14 that
/// WebTransport's `serverCertificateHashes` accepts (W3C WebTransport, "custom certificate
/// requirements").
pub const SELF_SIGNED_VALIDITY: std::time::Duration = std::time::Duration::from_secs(13 * 24 * 3600);

/// A server's certificate chain and private key.
#[derive(Debug)]
pub struct ServerIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl ServerIdentity {
    /// A fresh self-signed ECDSA P-256 certificate for `names` (DNS names or IP addresses),
    /// valid from one hour ago for [`SELF_SIGNED_VALIDITY`] in total.
    ///
    /// Short-lived on purpose: browsers accept a pinned certificate (WebTransport's
    /// `serverCertificateHashes`) only if it is ECDSA and valid for at most 14 days, so the
    /// fingerprint a relay prints can be pinned by a web page as well as by `--fingerprint`.
    pub fn self_signed<I, S>(names: I) -> Result<ServerIdentity, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let mut params =
            rcgen::CertificateParams::new(names).map_err(|e| Error::Certificate(e.to_string()))?;
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| Error::Certificate(e.to_string()))?;
        let backdate = std::time::Duration::from_secs(3600);
        params.not_before = rcgen::date_time_ymd(1970, 1, 1) + since_epoch.saturating_sub(backdate);
        params.not_after = params.not_before + SELF_SIGNED_VALIDITY;
        let signing_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| Error::Certificate(e.to_string()))?;
        let cert = params.self_signed(&signing_key).map_err(|e| Error::Certificate(e.to_string()))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
        Ok(ServerIdentity { chain: vec![cert.der().clone()], key })
    }

    /// An identity from PEM files: `cert` holds the chain (leaf first, one or more
    /// `CERTIFICATE` blocks), `key` the private key (PKCS#8, PKCS#1 or SEC1 block).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<ServerIdentity, Error> {
        let pem_error = |what: &str, path: &Path, e: rustls::pki_types::pem::Error| {
            Error::Certificate(format!("{what} {}: {e}", path.display()))
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| pem_error("reading", cert, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("parsing", cert, e))?;
        if chain.is_empty() {
            return Err(Error::Certificate(format!("no CERTIFICATE in {}", cert.display())));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error("reading key", key, e))?;
        Ok(ServerIdentity { chain, key })
    }

    /// An identity from an existing chain (leaf first) and its key.
    pub fn from_der(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> ServerIdentity {
        ServerIdentity { chain, key }
    }

    /// The SHA-256 fingerprint of the leaf certificate (what clients pin).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self.chain.first().map_or(&[][..], |c| c.as_ref()))
    }

    /// The leaf certificate, DER.
    pub fn certificate(&self) -> Option<&CertificateDer<'static>> {
        self.chain.first()
    }
}

/// How a client checks the server's certificate.
#[derive(Debug, Clone)]
pub enum ServerVerification {
    /// Accept exactly the leaf certificate with this SHA-256 fingerprint (any name, any
    /// validity period: the pin *is* the trust).
    Pin(Fingerprint),
    /// Accept any certificate (handshake signatures are still checked). Tests and debugging
    /// only: anyone on the path can impersonate the server.
    Insecure,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The ALPN strings of `versions`, in order.
pub fn alpn_list(versions: &[Version]) -> Vec<Vec<u8>> {
    versions.iter().map(|v| v.alpn().as_bytes().to_vec()).collect()
}

/// The ALPN of HTTP/3, under which WebTransport runs.
pub const H3_ALPN: &[u8] = b"h3";

/// A quinn-proto server configuration offering `versions` (in preference order), then `h3`
/// for WebTransport: a client that offers a MoQ ALPN gets raw QUIC, one that offers only
/// `h3` gets WebTransport (the MoQ version then travels in `WT-Protocol`).
pub fn server_config(
    identity: ServerIdentity,
    versions: &[Version],
) -> Result<quinn_proto::ServerConfig, Error> {
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)?;
    tls.alpn_protocols = alpn_list(versions);
    tls.alpn_protocols.push(H3_ALPN.to_vec());
    tls.max_early_data_size = 0;
    let quic = QuicServerConfig::try_from(tls).map_err(|e| Error::Certificate(e.to_string()))?;
    Ok(quinn_proto::ServerConfig::with_crypto(Arc::new(quic)))
}

/// A client's TLS: one quinn-proto configuration per transport (raw QUIC offers the MoQ
/// ALPNs, WebTransport offers `h3`), and the versions offered, which WebTransport sends in
/// `WT-Available-Protocols`. A bare `quinn_proto::ClientConfig` converts into one that can
/// only do raw QUIC.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// For [`crate::Transport::Quic`].
    pub quic: quinn_proto::ClientConfig,
    /// For [`crate::Transport::WebTransport`], when available.
    pub webtransport: Option<quinn_proto::ClientConfig>,
    /// The MoQ versions offered, most preferred first.
    pub versions: Vec<Version>,
}

impl From<quinn_proto::ClientConfig> for ClientTls {
    fn from(quic: quinn_proto::ClientConfig) -> ClientTls {
        ClientTls { quic, webtransport: None, versions: Vec::new() }
    }
}

/// A client configuration offering `versions` and verifying the server as `verification`
/// says, for both transports.
pub fn client_config(verification: ServerVerification, versions: &[Version]) -> Result<ClientTls, Error> {
    Ok(ClientTls {
        quic: client_config_with_alpns(verification.clone(), alpn_list(versions))?,
        webtransport: Some(client_config_with_alpns(verification, vec![H3_ALPN.to_vec()])?),
        versions: versions.to_vec(),
    })
}

fn client_config_with_alpns(
    verification: ServerVerification,
    alpns: Vec<Vec<u8>>,
) -> Result<quinn_proto::ClientConfig, Error> {
    let provider = provider();
    let verifier = Arc::new(FingerprintVerifier { verification, provider: provider.clone() });
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = alpns;
    let quic = QuicClientConfig::try_from(tls).map_err(|e| Error::Certificate(e.to_string()))?;
    Ok(quinn_proto::ClientConfig::new(Arc::new(quic)))
}

/// Checks the leaf certificate against a pin (or not at all) and the handshake signatures
/// with the provider's algorithms.
#[derive(Debug)]
struct FingerprintVerifier {
    verification: ServerVerification,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for FingerprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.verification {
            ServerVerification::Insecure => Ok(ServerCertVerified::assertion()),
            ServerVerification::Pin(pin) if Fingerprint::of(end_entity.as_ref()) == *pin => {
                Ok(ServerCertVerified::assertion())
            }
            ServerVerification::Pin(_) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_text_roundtrips_with_and_without_colons() {
        let f = Fingerprint::of(b"certificate");
        let hex = f.to_string();
        assert_eq!(hex.len(), 64);
        assert_eq!(hex.parse::<Fingerprint>().unwrap(), f);
        let colons: Vec<String> = f.0.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(colons.join(":").parse::<Fingerprint>().unwrap(), f);
        assert!("abcd".parse::<Fingerprint>().is_err());
        assert!("zz".repeat(32).parse::<Fingerprint>().is_err());
    }

    /// RFC 7468 text: base64 (RFC 4648) in 64-column lines between BEGIN/END labels.
    fn pem(label: &str, der: &[u8]) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut b64 = String::new();
        for chunk in der.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                let c =
                    if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' };
                b64.push(c);
            }
        }
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|l| std::str::from_utf8(l).unwrap()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    #[test]
    fn pem_files_load_the_same_identity_as_the_der() {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let dir = std::env::temp_dir().join(format!("sluice-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, pem("CERTIFICATE", certified.cert.der())).unwrap();
        std::fs::write(&key, pem("PRIVATE KEY", &certified.signing_key.serialize_der())).unwrap();
        let identity = ServerIdentity::from_pem_files(&cert, &key).unwrap();
        assert_eq!(identity.fingerprint(), Fingerprint::of(certified.cert.der()));
        // The key is usable: a server configuration accepts the pair.
        assert!(server_config(identity, &Version::ALL).is_ok());
        // A key file where the certificate should be has no CERTIFICATE block.
        assert!(matches!(ServerIdentity::from_pem_files(&key, &key), Err(Error::Certificate(_))));
        assert!(ServerIdentity::from_pem_files(&dir.join("missing.pem"), &key).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn alpn_list_keeps_the_preference_order() {
        assert_eq!(
            alpn_list(&Version::ALL),
            vec![b"moq-lite-05".to_vec(), b"moq-lite-04".to_vec(), b"moqt-18".to_vec()]
        );
    }
}
