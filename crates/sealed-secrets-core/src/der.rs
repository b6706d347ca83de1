//! Just enough DER (X.690) to move between PKCS#8 and PKCS#1 (RFC 5208, RFC 8017
//! A.1.2), since aws-lc-rs only speaks PKCS#8 and the Go controller writes PKCS#1, and
//! to write the few small key structures Go writes that no crate here emits.

/// DER encoding of the OID rsaEncryption (1.2.840.113549.1.1.1), content bytes only.
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

const TAG_INTEGER: u8 = 0x02;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// Splits one tag-length-value off `input`: `(tag, content, rest)`.
pub fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// One tag-length-value, the length in its shortest form.
pub fn write_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, content, rest) = read_tlv(input)?;
    (t == tag).then_some((content, rest))
}

/// The fields of a PrivateKeyInfo: (algorithm OID content, privateKey octets).
fn pkcs8_fields(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (info, _) = expect(der, TAG_SEQUENCE)?;
    let (_version, rest) = expect(info, TAG_INTEGER)?;
    let (algorithm, rest) = expect(rest, TAG_SEQUENCE)?;
    let (oid, _params) = expect(algorithm, TAG_OID)?;
    let (key, _attributes) = expect(rest, TAG_OCTET_STRING)?;
    Some((oid, key))
}

/// The algorithm OID of a PKCS#8 key, if `der` is shaped like one.
pub(crate) fn pkcs8_algorithm(der: &[u8]) -> Option<&[u8]> {
    pkcs8_fields(der).map(|(oid, _)| oid)
}

/// Whether a PKCS#8 key is an RSA key.
pub(crate) fn pkcs8_is_rsa(der: &[u8]) -> bool {
    pkcs8_algorithm(der) == Some(RSA_ENCRYPTION_OID)
}

/// The PKCS#1 `RSAPrivateKey` inside an RSA PKCS#8 key.
pub(crate) fn pkcs8_inner_key(der: &[u8]) -> Option<&[u8]> {
    match pkcs8_fields(der)? {
        (oid, key) if oid == RSA_ENCRYPTION_OID => Some(key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_form_lengths_are_read() {
        let mut v = vec![0x04, 0x82, 0x01, 0x00];
        v.extend(std::iter::repeat_n(7u8, 256));
        let (tag, content, rest) = read_tlv(&v).unwrap();
        assert_eq!((tag, content.len(), rest.len()), (0x04, 256, 0));
    }

    #[test]
    fn written_lengths_are_shortest_and_read_back() {
        assert_eq!(write_tlv(0x04, &[0; 3])[..2], [0x04, 3]);
        assert_eq!(write_tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(write_tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
        let written = write_tlv(0x30, &[7; 300]);
        let (tag, content, rest) = read_tlv(&written).unwrap();
        assert_eq!((tag, content.len(), rest.len()), (0x30, 300, 0));
    }

    #[test]
    fn truncated_input_is_none() {
        assert!(read_tlv(&[0x30, 0x05, 1, 2]).is_none());
        assert!(read_tlv(&[0x30, 0x80]).is_none());
        assert!(read_tlv(&[0x30]).is_none());
        assert!(pkcs8_inner_key(&[0x30, 0x00]).is_none());
    }
}
