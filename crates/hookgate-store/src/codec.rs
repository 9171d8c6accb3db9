//! How bodies are kept on disk. Webhook bodies are mostly JSON, which zstd shrinks three- to
//! tenfold; since ingest is bound by how many bytes reach the disk (each page is written twice,
//! once to the WAL and once by the checkpoint), compressing on the request's own task, where CPU
//! is spare, is what lets one fsync'd commit carry more events.

use std::cell::RefCell;

/// The codec a stored body was written with (the `body_codec` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    Raw = 0,
    Zstd = 1,
}

/// Bodies smaller than this are stored as they are: zstd's frame overhead would eat the gain.
const MIN_COMPRESS: usize = 256;
/// zstd level 1: the fastest, still several-fold on JSON; higher levels cost CPU ingest needs.
const LEVEL: i32 = 1;

thread_local! {
    // One zstd context per thread, reused: creating one (~100 KB of tables, zeroed) per body
    // cost more than compressing a 1 KB body, and was a quarter of the delivery path's CPU.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

fn compress(body: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Compressor::new(LEVEL)?);
        }
        match slot.as_mut() {
            Some(c) => c.compress(body),
            None => zstd::bulk::compress(body, LEVEL),
        }
    })
}

fn decompress(stored: &[u8], size: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new()?);
        }
        match slot.as_mut() {
            Some(d) => d.decompress(stored, size),
            None => zstd::bulk::decompress(stored, size),
        }
    })
}

/// Compresses when it pays (at least 1/8 smaller), else keeps the body raw.
pub(crate) fn encode(body: Vec<u8>) -> (Vec<u8>, Codec) {
    if body.len() < MIN_COMPRESS {
        return (body, Codec::Raw);
    }
    match compress(&body) {
        Ok(packed) if packed.len() < body.len() - body.len() / 8 => (packed, Codec::Zstd),
        _ => (body, Codec::Raw),
    }
}

/// The body as received. `size` is the original length, stored beside it.
pub(crate) fn decode(stored: Vec<u8>, codec: i64, size: usize) -> Result<Vec<u8>, String> {
    match codec {
        0 => Ok(stored),
        1 => decompress(&stored, size).map_err(|e| format!("zstd: {e}")),
        other => Err(format!("unknown body codec {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_only_compresses_when_it_pays() {
        let json = br#"{"action":"opened","repository":{"full_name":"octo/hello"}}"#.repeat(20);
        let (packed, codec) = encode(json.clone());
        assert_eq!(codec, Codec::Zstd);
        assert!(packed.len() < json.len() / 4);
        assert_eq!(decode(packed, codec as i64, json.len()).unwrap(), json);

        let small = b"{\"a\":1}".to_vec();
        assert_eq!(encode(small.clone()), (small, Codec::Raw));

        // Random-looking bytes do not compress: kept raw.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert_eq!(encode(noise).1, Codec::Raw);

        assert!(decode(vec![1, 2, 3], 1, 10).is_err());
        assert!(decode(vec![1, 2, 3], 7, 3).is_err());
    }
}
