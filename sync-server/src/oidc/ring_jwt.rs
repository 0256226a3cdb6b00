//! A verify-only [`CryptoProvider`] for `jsonwebtoken` on top of ring.
//!
//! `jsonwebtoken` (since 10) leaves its signature math to a provider: aws-lc (a C library built
//! with cmake) or RustCrypto (some thirty more crates). The relay already links ring for TLS
//! (rustls), and ring verifies every asymmetric algorithm an OpenID provider signs ID tokens
//! with, so this module hands `jsonwebtoken`'s checks to ring. It only verifies: the relay never
//! signs a token, and HMAC (`HS*`) is refused, so an ID token signed with the client secret,
//! or a token whose header claims `HS256` over a public key, never verifies.
//!
//! Key material comes from [`DecodingKey::from_jwk`]: RSA keys as modulus and exponent, EC keys
//! as the uncompressed point `04 || x || y`, Ed25519 keys as the 32-byte `x`; ring checks the
//! sizes (RSA 2048 to 8192 bits, points on the named curve).

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::signature::{self, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature as sig;

/// The provider; [`install`] makes it the process default.
pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(ErrorKind::InvalidRsaKey("no private keys here".into()).into()),
        rsa_pub_components_from_public_key: |_| Err(ErrorKind::InvalidRsaKey("no DER keys here".into()).into()),
        ec_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidEcdsaKey.into()),
        ed_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidEddsaKey.into()),
        compute_digest,
    },
};

/// Make [`PROVIDER`] `jsonwebtoken`'s process default (idempotent).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when another provider was installed first; then that one stays.
        let _ = PROVIDER.install_default();
    });
}

/// The algorithms an ID token may be signed with here.
pub const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, Error> {
    let alg = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(ring::digest::digest(alg, data).as_ref().to_vec())
}

enum Scheme {
    Rsa(&'static sig::RsaParameters),
    /// EC and Ed25519: the key is the raw public key bytes.
    Raw(&'static dyn sig::VerificationAlgorithm),
}

struct RingVerifier {
    alg: Algorithm,
    scheme: Scheme,
    key: DecodingKey,
}

fn new_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    let (family, scheme) = match alg {
        Algorithm::RS256 => (AlgorithmFamily::Rsa, Scheme::Rsa(&sig::RSA_PKCS1_2048_8192_SHA256)),
        Algorithm::RS384 => (AlgorithmFamily::Rsa, Scheme::Rsa(&sig::RSA_PKCS1_2048_8192_SHA384)),
        Algorithm::RS512 => (AlgorithmFamily::Rsa, Scheme::Rsa(&sig::RSA_PKCS1_2048_8192_SHA512)),
        Algorithm::PS256 => (AlgorithmFamily::Rsa, Scheme::Rsa(&sig::RSA_PSS_2048_8192_SHA256)),
        Algorithm::PS384 => (AlgorithmFamily::Rsa, Scheme::Rsa(&sig::RSA_PSS_2048_8192_SHA384)),
        Algorithm::PS512 => (AlgorithmFamily::Rsa, Scheme::Rsa(&sig::RSA_PSS_2048_8192_SHA512)),
        Algorithm::ES256 => (AlgorithmFamily::Ec, Scheme::Raw(&sig::ECDSA_P256_SHA256_FIXED)),
        Algorithm::ES384 => (AlgorithmFamily::Ec, Scheme::Raw(&sig::ECDSA_P384_SHA384_FIXED)),
        Algorithm::EdDSA => (AlgorithmFamily::Ed, Scheme::Raw(&sig::ED25519)),
        // HS256/384/512 and anything added later.
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    if key.family() != family {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(RingVerifier { alg: *alg, scheme, key: key.clone() }))
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let checked = match (&self.scheme, self.key.kind()) {
            (Scheme::Rsa(params), DecodingKeyKind::RsaModulusExponent { n, e }) => {
                sig::RsaPublicKeyComponents { n, e }.verify(params, msg, signature)
            }
            (Scheme::Raw(alg), DecodingKeyKind::SecretOrDer(public)) => {
                sig::UnparsedPublicKey::new(*alg, public).verify(msg, signature)
            }
            // An RSA key given as DER: JWKs never are.
            _ => Err(ring::error::Unspecified),
        };
        checked.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}
