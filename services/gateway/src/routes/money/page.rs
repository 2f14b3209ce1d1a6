//! Cursor paging: `page_size` 1..=100 (default 30) and an opaque `cursor`,
//! the base64url JSON of the last item's sort key; a cursor that does not
//! decode is a 400.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: u32 = 30;
pub const MAX_PAGE_SIZE: u32 = 100;
/// A cursor longer than this was not made here.
const MAX_CURSOR_BYTES: usize = 512;

/// The page size asked for, checked.
pub fn size(page_size: Option<u32>) -> Result<u32, ApiError> {
    match page_size.unwrap_or(DEFAULT_PAGE_SIZE) {
        n @ 1..=MAX_PAGE_SIZE => Ok(n),
        n => Err(ApiError::BadRequest(format!(
            "page_size {n} is not between 1 and {MAX_PAGE_SIZE}"
        ))),
    }
}

pub fn encode<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode<K: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<K>, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let bad = || ApiError::BadRequest("cursor is not one this API handed out".to_owned());
    if cursor.len() > MAX_CURSOR_BYTES {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
}

/// Splits `found` (fetched with one extra item) into the page and whether more follow.
pub fn split<T>(mut found: Vec<T>, size: u32) -> (Vec<T>, bool) {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let has_more = found.len() > size;
    found.truncate(size);
    (found, has_more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let key = (17_i64, "17:1".to_owned());
        let cursor = encode(&key);
        assert_eq!(
            decode::<(i64, String)>(Some(&cursor)).expect("ok"),
            Some(key)
        );
        assert_eq!(decode::<(i64, String)>(None).expect("none"), None);
        for bad in ["!!", "e30", "bm90IGpzb24", &"A".repeat(600)] {
            assert!(decode::<(i64, String)>(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(size(None).expect("default"), DEFAULT_PAGE_SIZE);
        assert!(size(Some(0)).is_err());
        assert!(size(Some(101)).is_err());
        let (page, more) = split(vec![1, 2, 3], 2);
        assert_eq!((page, more), (vec![1, 2], true));
    }
}
