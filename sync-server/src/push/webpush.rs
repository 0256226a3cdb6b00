//! The Web Push wire format, on `ring` (the crypto library the relay already has for TLS and
//! single sign-on): message encryption per RFC 8291 (`aes128gcm`, RFC 8188) and the sender's
//! identity per RFC 8292 (VAPID: an ES256 JWT signed by the relay's own P-256 key).
//!
//! Encryption, for a device that gave us its P-256 public key `ua_public` and a 16-byte
//! authentication secret `auth`:
//!
//! ```text
//! ecdh   = ECDH(fresh server key, ua_public)
//! ikm    = HKDF(salt = auth, ecdh, "WebPush: info\0" || ua_public || as_public, 32)
//! cek    = HKDF(salt = random 16 bytes, ikm, "Content-Encoding: aes128gcm\0", 16)
//! nonce  = HKDF(same salt, ikm, "Content-Encoding: nonce\0", 12)
//! body   = salt || rs (u32 BE) || 65 || as_public || AES-128-GCM(cek, nonce, plaintext || 0x02)
//! ```
//!
//! Only the device can read the body: the push service (Google's, Mozilla's, Apple's) carries
//! it without seeing the message.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use ring::{aead, agreement, hkdf};

#[derive(Debug, thiserror::Error)]
pub enum PushCryptoError {
    #[error("the device's key is not a P-256 public key")]
    BadDeviceKey,
    #[error("the device's authentication secret must be 16 bytes")]
    BadAuthSecret,
    #[error("the server's push key does not load")]
    BadServerKey,
    #[error("encryption failed")]
    Crypto,
}

impl From<ring::error::Unspecified> for PushCryptoError {
    fn from(_: ring::error::Unspecified) -> Self {
        PushCryptoError::Crypto
    }
}

/// Record size written in the header: one record holds the whole message (push services cap
/// payloads at 4 KiB, so one record is always enough).
const RECORD_SIZE: u32 = 4096;
/// Largest plaintext accepted: the encrypted body (86-byte header, 1 delimiter, 16 tag) stays
/// within the 4,096 bytes every push service accepts.
pub const MAX_PLAINTEXT: usize = 3_993;

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>, PushCryptoError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    let okm = prk.expand(&info, Len(len))?;
    let mut out = vec![0; len];
    okm.fill(&mut out)?;
    Ok(out)
}

/// Encrypt `plaintext` for one device (`aes128gcm`, RFC 8291).
pub fn encrypt(ua_public: &[u8], auth: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, PushCryptoError> {
    if ua_public.len() != 65 || ua_public[0] != 4 {
        return Err(PushCryptoError::BadDeviceKey);
    }
    if auth.len() != 16 {
        return Err(PushCryptoError::BadAuthSecret);
    }
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(PushCryptoError::Crypto);
    }
    let rng = SystemRandom::new();
    let ephemeral = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)?;
    let as_public = ephemeral.compute_public_key()?;
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, ua_public);
    let ecdh = agreement::agree_ephemeral(ephemeral, &peer, |secret| secret.to_vec())
        .map_err(|_| PushCryptoError::BadDeviceKey)?;

    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public.as_ref());
    let ikm = hkdf_sha256(auth, &ecdh, &key_info, 32)?;
    let mut salt = [0u8; 16];
    rng.fill(&mut salt)?;
    let cek = hkdf_sha256(&salt, &ikm, b"Content-Encoding: aes128gcm\0", 16)?;
    let nonce = hkdf_sha256(&salt, &ikm, b"Content-Encoding: nonce\0", 12)?;

    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek)?);
    let mut record = Vec::with_capacity(plaintext.len() + 17);
    record.extend_from_slice(plaintext);
    record.push(2); // the last (and only) record's delimiter; no padding
    key.seal_in_place_append_tag(aead::Nonce::try_assume_unique_for_key(&nonce)?, aead::Aad::empty(), &mut record)?;

    let mut body = Vec::with_capacity(86 + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.as_ref().len() as u8);
    body.extend_from_slice(as_public.as_ref());
    body.extend_from_slice(&record);
    Ok(body)
}

/// The relay's VAPID identity: one P-256 key pair, kept in the settings table (PKCS#8).
pub struct Vapid {
    key: EcdsaKeyPair,
    /// Who runs this relay (`mailto:` or `https:`), told to push services in every token.
    subject: String,
}

impl Vapid {
    /// A new key pair, as PKCS#8 bytes to store.
    pub fn generate() -> Result<Vec<u8>, PushCryptoError> {
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())?;
        Ok(doc.as_ref().to_vec())
    }

    pub fn from_pkcs8(pkcs8: &[u8], subject: String) -> Result<Self, PushCryptoError> {
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new())
            .map_err(|_| PushCryptoError::BadServerKey)?;
        Ok(Self { key, subject })
    }

    /// The public key as the browser's `applicationServerKey` wants it: base64url, uncompressed.
    pub fn public_key(&self) -> String {
        B64.encode(self.key.public_key().as_ref())
    }

    /// The `Authorization` header for a request to `endpoint`: `vapid t=<JWT>, k=<key>`, the
    /// token valid for `ttl_secs` from `now_secs` (push services accept up to 24 hours).
    pub fn authorization(&self, endpoint: &url::Url, now_secs: u64, ttl_secs: u64) -> Result<String, PushCryptoError> {
        let audience = endpoint.origin().ascii_serialization();
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": now_secs + ttl_secs, "sub": self.subject });
        let claims = B64.encode(claims.to_string().as_bytes());
        let signing_input = format!("{header}.{claims}");
        let sig = self.key.sign(&SystemRandom::new(), signing_input.as_bytes())?;
        Ok(format!("vapid t={signing_input}.{}, k={}", B64.encode(sig.as_ref()), self.public_key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decrypt as a browser would (the receiving half of RFC 8291), with the device's key.
    fn decrypt(ua: agreement::EphemeralPrivateKey, ua_public: &[u8], auth: &[u8], body: &[u8]) -> Vec<u8> {
        let (salt, rest) = body.split_at(16);
        let idlen = rest[4] as usize;
        let as_public = &rest[5..5 + idlen];
        let record = &rest[5 + idlen..];
        let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, as_public);
        let ecdh = agreement::agree_ephemeral(ua, &peer, |s| s.to_vec()).unwrap();
        let mut key_info = b"WebPush: info\0".to_vec();
        key_info.extend_from_slice(ua_public);
        key_info.extend_from_slice(as_public);
        let ikm = hkdf_sha256(auth, &ecdh, &key_info, 32).unwrap();
        let cek = hkdf_sha256(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16).unwrap();
        let nonce = hkdf_sha256(salt, &ikm, b"Content-Encoding: nonce\0", 12).unwrap();
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).unwrap());
        let mut buf = record.to_vec();
        let plain = key
            .open_in_place(aead::Nonce::try_assume_unique_for_key(&nonce).unwrap(), aead::Aad::empty(), &mut buf)
            .unwrap();
        assert_eq!(plain.last(), Some(&2), "last record delimiter");
        plain[..plain.len() - 1].to_vec()
    }

    #[test]
    fn a_device_decrypts_what_was_encrypted_for_it() {
        let rng = SystemRandom::new();
        let ua = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).unwrap();
        let ua_public = ua.compute_public_key().unwrap().as_ref().to_vec();
        let auth = [7u8; 16];
        let msg = "张三: 明天 9 点开会 @李四".as_bytes();
        let body = encrypt(&ua_public, &auth, msg).unwrap();
        assert_eq!(&body[16..20], &RECORD_SIZE.to_be_bytes());
        assert!(!body.windows(msg.len()).any(|w| w == msg), "the plaintext is not in the body");
        assert_eq!(decrypt(ua, &ua_public, &auth, &body), msg);
    }

    #[test]
    fn bad_device_keys_and_oversized_messages_are_refused() {
        assert!(matches!(encrypt(&[4; 10], &[0; 16], b"x"), Err(PushCryptoError::BadDeviceKey)));
        assert!(matches!(encrypt(&[4; 65], &[0; 16], b"x"), Err(PushCryptoError::BadDeviceKey)));
        let rng = SystemRandom::new();
        let ua = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).unwrap();
        let ua_public = ua.compute_public_key().unwrap().as_ref().to_vec();
        assert!(matches!(encrypt(&ua_public, &[0; 3], b"x"), Err(PushCryptoError::BadAuthSecret)));
        assert!(encrypt(&ua_public, &[0; 16], &vec![b'a'; MAX_PLAINTEXT + 1]).is_err());
        assert!(encrypt(&ua_public, &[0; 16], &vec![b'a'; MAX_PLAINTEXT]).unwrap().len() <= 4096);
    }

    #[test]
    fn the_vapid_token_verifies_with_the_public_key() {
        let vapid = Vapid::from_pkcs8(&Vapid::generate().unwrap(), "mailto:ops@example.com".into()).unwrap();
        let endpoint = url::Url::parse("https://push.example.com:8443/send/abc?x=1").unwrap();
        let auth = vapid.authorization(&endpoint, 1_000, 3_600).unwrap();
        let (t, k) = auth.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, vapid.public_key());
        let (input, sig) = t.rsplit_once('.').unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&B64.decode(input.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.com:8443");
        assert_eq!(claims["exp"], 4_600);
        let public =
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, B64.decode(k).unwrap());
        public.verify(input.as_bytes(), &B64.decode(sig).unwrap()).expect("signature verifies");
    }
}
