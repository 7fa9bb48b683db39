//! The two Structured Field shapes WebTransport protocol negotiation uses (RFC 9651, which
//! obsoletes RFC 8941): `WT-Available-Protocols` is a List of Strings, `WT-Protocol` one
//! String Item (draft-ietf-webtrans-http3 §3.3). Parameters are parsed and ignored; a member
//! of any other type makes the whole field ignored (`None`), as that section requires.

/// Serializes strings as an sf-list (`"a", "b"`); `None` if one holds a character a String
/// cannot carry (RFC 9651 §3.3.3: printable ASCII only).
pub fn serialize_list(items: &[String]) -> Option<String> {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&serialize_string(item)?);
    }
    Some(out)
}

/// Serializes one sf-string.
pub fn serialize_string(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => return None,
        }
    }
    out.push('"');
    Some(out)
}

/// Parses an sf-list whose members are all Strings; `None` if malformed or any member is
/// not a String.
pub fn parse_string_list(input: &[u8]) -> Option<Vec<String>> {
    let mut p = Parser { input, pos: 0 };
    p.skip_sp();
    let mut out = Vec::new();
    if p.at_end() {
        return Some(out);
    }
    loop {
        out.push(p.string()?);
        p.parameters()?;
        p.skip_ows();
        if p.at_end() {
            return Some(out);
        }
        if p.next()? != b',' {
            return None;
        }
        p.skip_ows();
        if p.at_end() {
            return None; // trailing comma
        }
    }
}

/// Parses an sf-item that must be a String; `None` otherwise.
pub fn parse_string_item(input: &[u8]) -> Option<String> {
    let mut p = Parser { input, pos: 0 };
    p.skip_sp();
    let s = p.string()?;
    p.parameters()?;
    p.skip_sp();
    p.at_end().then_some(s)
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }
    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }
    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// sf-string (RFC 9651 §4.2.5).
    fn string(&mut self) -> Option<String> {
        if self.next()? != b'"' {
            return None;
        }
        let mut out = String::new();
        loop {
            match self.next()? {
                b'\\' => match self.next()? {
                    c @ (b'"' | b'\\') => out.push(char::from(c)),
                    _ => return None,
                },
                b'"' => return Some(out),
                c @ 0x20..=0x7e => out.push(char::from(c)),
                _ => return None,
            }
        }
    }

    /// `*( ";" *SP key [ "=" bare-item ] )`, values skipped (RFC 9651 §4.2.3.2).
    fn parameters(&mut self) -> Option<()> {
        while self.peek() == Some(b';') {
            self.pos += 1;
            self.skip_sp();
            let start = self.pos;
            while matches!(self.peek(), Some(b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*')) {
                self.pos += 1;
            }
            if self.pos == start || !matches!(self.input.get(start), Some(b'a'..=b'z' | b'*')) {
                return None;
            }
            if self.peek() == Some(b'=') {
                self.pos += 1;
                self.skip_bare_item()?;
            }
        }
        Some(())
    }

    /// Any bare item, checked only as far as needed to find its end.
    fn skip_bare_item(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b':' => {
                self.pos += 1;
                while self.next()? != b':' {}
                Some(())
            }
            b'?' => {
                self.pos += 1;
                matches!(self.next()?, b'0' | b'1').then_some(())
            }
            _ => {
                let start = self.pos;
                while matches!(
                    self.peek(),
                    Some(c) if c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/@".contains(&c)
                ) {
                    self.pos += 1;
                }
                (self.pos > start).then_some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_items() {
        let list = serialize_list(&["moq-lite-05".into(), "moqt-18".into()]).unwrap();
        assert_eq!(list, r#""moq-lite-05", "moqt-18""#);
        assert_eq!(parse_string_list(list.as_bytes()).unwrap(), ["moq-lite-05", "moqt-18"]);
        assert_eq!(parse_string_list(br#" "a";q=1;x ,"b\"c""#).unwrap(), ["a", "b\"c"]);
        assert_eq!(parse_string_list(b"").unwrap(), Vec::<String>::new());
        assert_eq!(parse_string_item(br#""moqt-18""#).unwrap(), "moqt-18");
        assert_eq!(serialize_string("a\"b\\").unwrap(), r#""a\"b\\""#);
    }

    #[test]
    fn non_strings_and_malformed_values_make_the_field_ignored() {
        assert_eq!(parse_string_list(b"moqt-18"), None); // a Token, not a String
        assert_eq!(parse_string_list(br#""a", 5"#), None);
        assert_eq!(parse_string_list(br#""a","#), None);
        assert_eq!(parse_string_list(br#""a"#), None);
        assert_eq!(parse_string_list(br#"("a" "b")"#), None); // inner list
        assert_eq!(parse_string_item(br#""a", "b""#), None);
        assert_eq!(serialize_string("é"), None);
    }
}
