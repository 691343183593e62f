//! Version 2 of the stored state: one short string of dot-separated fields, numbers in base 36
//! (see [`STATE_KEY`](crate::STATE_KEY) for the layout). It is read on every request, in one
//! pass and without a JSON parser.

use super::{
    instant, policy_from_millis, policy_millis, ExpiryState, InvalidState, Record, SessionCap,
    MAX_USER_ID_BYTES,
};
use crate::{stamp::StampHash, unix_ms::UnixMs, Policy};

/// The version this crate writes.
pub(crate) const FORMAT_VERSION: &str = "2";
/// Base-36 digits of the largest `u64` (`3w5e11264sgsf`): a longer number, even one of leading
/// zeros, was not written by this crate.
pub(super) const U64_DIGITS: usize = 13;
/// Base-36 digits of the largest `u32` (`1z141z3`), for the session limit.
pub(super) const U32_DIGITS: usize = 7;
/// The longest version-2 record this crate writes: the quotes, the version, eleven separators, a
/// user id of which every byte is escaped (`%XX`), seven `u64` fields (the stamp hash last), two
/// flags and the limit.
pub(super) const MAX_RECORD_BYTES: usize =
    2 + 1 + 11 + 3 * MAX_USER_ID_BYTES + 7 * U64_DIGITS + 2 + U32_DIGITS;

impl ExpiryState {
    /// What to store under the state key, with the deadline the state has under `policy` (the
    /// policy in force for it).
    pub(crate) fn encode(&self, policy: &Policy) -> String {
        use std::fmt::Write as _;

        let login = self.login.millis();
        let after_login = |at: UnixMs| at.millis().saturating_sub(login);
        let mut out = String::with_capacity(48 + self.user.len());
        out.push_str(FORMAT_VERSION);
        out.push('.');
        escape_user(&self.user, &mut out);
        let _infallible = write!(
            out,
            ".{}.{}.",
            base36(login),
            base36(after_login(self.seen))
        );
        match policy.deadline(self.login, self.seen) {
            Some(deadline) => out.push_str(&base36(after_login(deadline))),
            None => out.push('-'),
        }
        out.push('.');
        if let Some(own) = &self.policy {
            let (idle, absolute) = policy_millis(own);
            out.push_str(&idle.map_or_else(|| "-".to_owned(), base36));
            out.push('.');
            out.push_str(&absolute.map_or_else(|| "-".to_owned(), base36));
        } else {
            out.push('.');
        }
        out.push('.');
        match self.authenticated {
            Some(at) => out.push_str(&base36(after_login(at))),
            None => out.push('-'),
        }
        out.push('.');
        if self.remembered {
            out.push('r');
        }
        if self.cap.is_some_and(|cap| cap.refuse) {
            out.push('x');
        }
        out.push('.');
        match self.cap {
            Some(cap) => out.push_str(&base36(u64::from(cap.max))),
            None => out.push('-'),
        }
        if let Some(stamp) = self.stamp {
            out.push('.');
            out.push_str(&base36(stamp.bits()));
        }
        out
    }
}

impl Record {
    pub(crate) fn parse(raw: &str) -> Result<Self, InvalidState> {
        if raw.starts_with('[') {
            return Self::parse_legacy(raw);
        }
        if raw.len() > MAX_RECORD_BYTES {
            return Err(InvalidState::Oversize);
        }
        // A JSON string that needs no escaping: this format never produces one that does.
        let text = raw
            .strip_prefix('"')
            .and_then(|text| text.strip_suffix('"'))
            .ok_or(InvalidState::Malformed)?;
        let mut fields = Fields::new(text);
        if fields.text()? != FORMAT_VERSION {
            return Err(InvalidState::UnknownVersion);
        }
        let user = fields.text()?;
        let login = instant(fields.numeric()?.required()?)?;
        let after_login = |offset: u64| {
            let at = login
                .millis()
                .checked_add(offset)
                .ok_or(InvalidState::OutOfRange)?;
            instant(at)
        };
        let seen = after_login(fields.numeric()?.required()?)?;
        let deadline = fields.numeric()?.optional()?.map(after_login).transpose()?;
        let policy = match (fields.numeric()?, fields.numeric()?) {
            (Numeric::Empty, Numeric::Empty) => None,
            (idle, absolute) => Some(policy_from_millis((idle.optional()?, absolute.optional()?))),
        };
        let authenticated = fields.numeric()?.optional()?.map(after_login).transpose()?;
        let (remembered, refuse) = match fields.text()? {
            "" => (false, false),
            "r" => (true, false),
            "x" => (false, true),
            "rx" => (true, true),
            _ => return Err(InvalidState::Malformed),
        };
        let cap = match fields.numeric_of(U32_DIGITS)?.optional()? {
            None => None,
            Some(max) => Some(SessionCap {
                max: u32::try_from(max).map_err(|_| InvalidState::OutOfRange)?,
                refuse,
            }),
        };
        // The stamp hash, last, since `security_stamp` was set (records before it end here).
        let stamp = if fields.finish().is_ok() {
            None
        } else {
            Some(StampHash::from_bits(fields.numeric()?.required()?))
        };
        fields.finish()?;
        let state = ExpiryState {
            user: unescape_user(user)?,
            login,
            seen,
            authenticated,
            policy,
            remembered,
            cap,
            stamp,
        };
        Ok(Self { state, deadline })
    }
}

/// Base-36 digits any `u64` holds (`36^12 < 2^64`): below this many, a number needs no
/// overflow check.
const DIGITS_THAT_FIT: usize = 12;
/// In [`DIGIT_OF`]: the byte ends a field.
const FIELD_END: u8 = 0xFE;
/// In [`DIGIT_OF`]: the byte is no lowercase base-36 digit.
const NOT_A_DIGIT: u8 = 0xFF;
/// Each byte's base-36 value: one table lookup per digit on the per-request path.
const DIGIT_OF: [u8; 256] = {
    let mut table = [NOT_A_DIGIT; 256];
    let mut byte = 0;
    while byte < 10 {
        table[b'0' as usize + byte] = byte as u8;
        byte += 1;
    }
    let mut letter = 0;
    while letter < 26 {
        table[b'a' as usize + letter] = 10 + letter as u8;
        letter += 1;
    }
    table[b'.' as usize] = FIELD_END;
    table
};

/// Reads the fields of a version-2 record left to right, in one pass over its bytes (this runs
/// on every request). Every field ends at a `.` but the last, which ends the text. Only the user
/// id may hold any text; every other field is checked for its own alphabet, so a JSON escape
/// anywhere fails the record.
pub(crate) struct Fields<'a> {
    text: &'a str,
    /// Where the next field starts: past the end once the last one has been read.
    at: usize,
}

/// A numeric field: a base-36 number of lowercase digits, `-` for none, or nothing at all.
pub(crate) enum Numeric {
    Number(u64),
    Dash,
    Empty,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, at: 0 }
    }

    /// The next field, whatever it holds.
    pub(crate) fn text(&mut self) -> Result<&'a str, InvalidState> {
        let rest = self.text.get(self.at..).ok_or(InvalidState::Malformed)?;
        let len = rest
            .bytes()
            .position(|byte| byte == b'.')
            .unwrap_or(rest.len());
        self.at += len + 1;
        rest.get(..len).ok_or(InvalidState::Malformed)
    }

    /// The next field as a number of a `u64`'s digits at most, read as it is scanned.
    pub(crate) fn numeric(&mut self) -> Result<Numeric, InvalidState> {
        self.numeric_of(U64_DIGITS)
    }

    /// The next field as a number of `max_digits` digits at most, read as it is scanned.
    pub(crate) fn numeric_of(&mut self, max_digits: usize) -> Result<Numeric, InvalidState> {
        let rest = self
            .text
            .as_bytes()
            .get(self.at..)
            .ok_or(InvalidState::Malformed)?;
        let (field, len) = match rest {
            [] | [b'.', ..] => (Numeric::Empty, 0),
            [b'-'] | [b'-', b'.', ..] => (Numeric::Dash, 1),
            digits => {
                let mut n = 0_u64;
                let mut len = 0;
                for &byte in digits {
                    let digit = DIGIT_OF[usize::from(byte)];
                    if digit == FIELD_END {
                        break;
                    }
                    if digit == NOT_A_DIGIT {
                        return Err(InvalidState::Malformed);
                    }
                    if len == max_digits {
                        return Err(InvalidState::Oversize);
                    }
                    n = if len < DIGITS_THAT_FIT {
                        n * 36 + u64::from(digit)
                    } else {
                        n.checked_mul(36)
                            .and_then(|n| n.checked_add(u64::from(digit)))
                            .ok_or(InvalidState::OutOfRange)?
                    };
                    len += 1;
                }
                (Numeric::Number(n), len)
            }
        };
        self.at += len + 1;
        Ok(field)
    }

    /// Whether the last field read was the last of the text.
    pub(crate) fn finish(&self) -> Result<(), InvalidState> {
        if self.at == self.text.len() + 1 {
            Ok(())
        } else {
            Err(InvalidState::Malformed)
        }
    }
}

impl Numeric {
    pub(crate) fn required(self) -> Result<u64, InvalidState> {
        match self {
            Self::Number(n) => Ok(n),
            Self::Dash | Self::Empty => Err(InvalidState::Malformed),
        }
    }

    /// A number, or `-` for none.
    pub(crate) fn optional(self) -> Result<Option<u64>, InvalidState> {
        match self {
            Self::Number(n) => Ok(Some(n)),
            Self::Dash => Ok(None),
            Self::Empty => Err(InvalidState::Malformed),
        }
    }
}

pub(super) fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = [0u8; 13];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = DIGITS[usize::try_from(n % 36).unwrap_or(0)];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits[at..].iter().map(|&d| char::from(d)).collect()
}

/// Whether a byte of a user id is written as `%XX`: the field separator, the escape itself,
/// and whatever JSON would escape.
fn needs_escape(byte: u8) -> bool {
    matches!(byte, b'.' | b'%' | b'"' | b'\\') || byte < 0x20 || byte == 0x7f
}

fn escape_user(user: &str, out: &mut String) {
    if !user.bytes().any(needs_escape) {
        out.push_str(user);
        return;
    }
    for c in user.chars() {
        match u8::try_from(c) {
            Ok(byte) if needs_escape(byte) => out.push_str(&format!("%{byte:02X}")),
            _ => out.push(c),
        }
    }
}

fn unescape_user(field: &str) -> Result<String, InvalidState> {
    let user = unescape(field)?;
    if user.len() > MAX_USER_ID_BYTES {
        return Err(InvalidState::Oversize);
    }
    Ok(user)
}

fn unescape(field: &str) -> Result<String, InvalidState> {
    if !field
        .bytes()
        .any(|byte| matches!(byte, b'%' | b'"' | b'\\'))
    {
        return Ok(field.to_owned());
    }
    if field.bytes().any(|byte| byte == b'"' || byte == b'\\') {
        return Err(InvalidState::Malformed);
    }
    let mut bytes = Vec::with_capacity(field.len());
    let mut rest = field.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail.get(..2).ok_or(InvalidState::Malformed)?;
            let hex = std::str::from_utf8(hex).map_err(|_| InvalidState::Malformed)?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| InvalidState::Malformed)?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).map_err(|_| InvalidState::Malformed)
}
