//! Keyed HMAC states, signature decoding, and the one constant-time comparison.
//!
//! Every scheme funnels its comparison through [`Tag::matches`], so "constant time, exact
//! length" is enforced in one place rather than remembered in five. Keys are absorbed once
//! at [`crate::Verifier::new`]; a request clones the keyed state (a memcpy of two hash
//! states) instead of re-running the key schedule.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::{Algorithm, Encoding};

/// Room for the largest tag we compute (HMAC-SHA512).
const MAX_TAG: usize = 64;

/// An HMAC state with its key already absorbed.
#[derive(Clone)]
pub(crate) enum KeyedMac {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl KeyedMac {
    /// HMAC takes keys of any length (RFC 2104 §2 hashes long ones), so the error case is
    /// unreachable in practice; it is still passed up rather than unwrapped.
    pub(crate) fn new(
        algorithm: Algorithm,
        key: &[u8],
    ) -> Result<Self, hmac::digest::InvalidLength> {
        Ok(match algorithm {
            Algorithm::Sha1 => KeyedMac::Sha1(Hmac::new_from_slice(key)?),
            Algorithm::Sha256 => KeyedMac::Sha256(Hmac::new_from_slice(key)?),
            Algorithm::Sha512 => KeyedMac::Sha512(Hmac::new_from_slice(key)?),
        })
    }

    /// The tag over the concatenation of `parts`, fed piecewise so the signed content is
    /// never assembled in a buffer.
    pub(crate) fn tag(&self, parts: &[&[u8]]) -> Tag {
        fn finish<M: Mac + Clone>(mac: &M, parts: &[&[u8]]) -> Tag {
            let mut mac = mac.clone();
            for part in parts {
                mac.update(part);
            }
            Tag::from_slice(&mac.finalize().into_bytes())
        }
        match self {
            KeyedMac::Sha1(mac) => finish(mac, parts),
            KeyedMac::Sha256(mac) => finish(mac, parts),
            KeyedMac::Sha512(mac) => finish(mac, parts),
        }
    }
}

/// A fixed-capacity byte string for tags and decoded signatures, so verifying allocates
/// nothing for them.
#[derive(Clone, Copy)]
pub(crate) struct Tag {
    bytes: [u8; MAX_TAG],
    len: usize,
}

impl Tag {
    pub(crate) fn from_slice(bytes: &[u8]) -> Tag {
        let mut tag = Tag {
            bytes: [0; MAX_TAG],
            len: bytes.len(),
        };
        tag.bytes[..bytes.len()].copy_from_slice(bytes);
        tag
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Constant-time equality. Lengths are compared first (they are public: every scheme
    /// fixes them), so a truncated or prefix signature can never match.
    pub(crate) fn matches(&self, candidate: &Tag) -> bool {
        self.len == candidate.len && bool::from(self.as_bytes().ct_eq(candidate.as_bytes()))
    }

    pub(crate) fn encode(&self, encoding: Encoding) -> String {
        match encoding {
            Encoding::Hex => hex::encode(self.as_bytes()),
            Encoding::Base64 => BASE64.encode(self.as_bytes()),
        }
    }
}

/// Decodes a signature that must be exactly `len` bytes. `None` means "not a signature of
/// this shape"; callers turn that into a precise `Malformed` reason.
pub(crate) fn decode_signature(text: &str, encoding: Encoding, len: usize) -> Option<Tag> {
    debug_assert!(len <= MAX_TAG);
    let mut tag = Tag {
        bytes: [0; MAX_TAG],
        len,
    };
    match encoding {
        Encoding::Hex => {
            // `hex` accepts both cases; GitHub sends lower case, but hand-written test
            // senders and some proxies upper-case it.
            if text.len() != 2 * len {
                return None;
            }
            hex::decode_to_slice(text, &mut tag.bytes[..len]).ok()?;
        }
        Encoding::Base64 => {
            // Padding is required (RFC 4648 §4, what Standard Webhooks sends), so the text
            // length is fixed by `len`; checking it first also bounds the decode below.
            if text.len() != len.div_ceil(3) * 4 {
                return None;
            }
            let mut scratch = [0u8; MAX_TAG + 3];
            let written = BASE64.decode_slice(text, &mut scratch).ok()?;
            if written != len {
                return None;
            }
            tag.bytes[..len].copy_from_slice(&scratch[..len]);
        }
    }
    Some(tag)
}

/// Index of the first key whose tag over `parts` equals any of `candidates`.
///
/// Every candidate is compared against every key without short-circuiting inside a key, so
/// the time taken does not depend on which candidate was closest.
pub(crate) fn first_matching_key(
    keys: &[KeyedMac],
    parts: &[&[u8]],
    candidates: &[Tag],
) -> Option<usize> {
    keys.iter().position(|key| {
        let expected = key.tag(parts);
        candidates.iter().fold(false, |found, candidate| {
            found | expected.matches(candidate)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_case_insensitive_and_length_exact() {
        let lower = decode_signature("00ff", Encoding::Hex, 2).unwrap();
        let upper = decode_signature("00FF", Encoding::Hex, 2).unwrap();
        assert!(lower.matches(&upper));
        assert!(decode_signature("00f", Encoding::Hex, 2).is_none());
        assert!(decode_signature("00ff00", Encoding::Hex, 2).is_none());
        assert!(decode_signature("zzzz", Encoding::Hex, 2).is_none());
    }

    #[test]
    fn base64_needs_padding_and_exact_length() {
        let tag = decode_signature("AAECAwQF", Encoding::Base64, 6).unwrap();
        assert_eq!(tag.as_bytes(), &[0, 1, 2, 3, 4, 5]);
        assert!(decode_signature("AAECAw==", Encoding::Base64, 4).is_some());
        assert!(decode_signature("AAECAw", Encoding::Base64, 4).is_none());
        assert!(decode_signature("AAECAw==", Encoding::Base64, 5).is_none());
        // Non-canonical trailing bits are rejected, so two texts never decode alike.
        assert!(decode_signature("AAECAx==", Encoding::Base64, 4).is_none());
    }

    #[test]
    fn a_prefix_of_a_tag_never_matches() {
        let key = KeyedMac::new(Algorithm::Sha256, b"k").unwrap();
        let tag = key.tag(&[b"body"]);
        let truncated = Tag::from_slice(&tag.as_bytes()[..16]);
        assert!(!tag.matches(&truncated));
        assert!(tag.matches(&Tag::from_slice(tag.as_bytes())));
    }
}
