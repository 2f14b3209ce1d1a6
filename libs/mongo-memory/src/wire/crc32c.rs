//! CRC-32C (Castagnoli), the checksum an `OP_MSG` may carry.

const POLYNOMIAL_REFLECTED: u32 = 0x82F6_3B78;

/// Bitwise CRC-32C: clients rarely send checksums, so a table is not worth it.
pub fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (POLYNOMIAL_REFLECTED & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::crc32c;

    #[test]
    fn matches_the_standard_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }
}
