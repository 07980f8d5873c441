//! Text to tokens, each with its column.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    NotMatch,
}

impl Op {
    pub(super) fn text(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Match => "~",
            Op::NotMatch => "!~",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Str(String),
    Op(Op),
    LParen,
    RParen,
    Comma,
    And,
    Or,
    Not,
    End,
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) col: usize,
}

pub(super) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || "_./-:*+@$^[]{}?\\".contains(c)
}

pub(super) fn lex(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        let two = |a: char, b: char| c == a && chars.get(i + 1) == Some(&b);
        let (tok, len) = if c.is_whitespace() {
            i += 1;
            continue;
        } else if two('=', '=') {
            (Tok::Op(Op::Eq), 2)
        } else if two('!', '=') {
            (Tok::Op(Op::Ne), 2)
        } else if two('!', '~') {
            (Tok::Op(Op::NotMatch), 2)
        } else if two('<', '=') {
            (Tok::Op(Op::Le), 2)
        } else if two('>', '=') {
            (Tok::Op(Op::Ge), 2)
        } else if two('&', '&') {
            (Tok::And, 2)
        } else if two('|', '|') {
            (Tok::Or, 2)
        } else if c == '=' {
            (Tok::Op(Op::Eq), 1)
        } else if c == '<' {
            (Tok::Op(Op::Lt), 1)
        } else if c == '>' {
            (Tok::Op(Op::Gt), 1)
        } else if c == '~' {
            (Tok::Op(Op::Match), 1)
        } else if c == '!' {
            (Tok::Not, 1)
        } else if c == '(' {
            (Tok::LParen, 1)
        } else if c == ')' {
            (Tok::RParen, 1)
        } else if c == ',' {
            (Tok::Comma, 1)
        } else if c == '"' || c == '\'' {
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return err(col, "unterminated string: add the closing quote"),
                    Some(&q) if q == c => break,
                    Some('\\') => {
                        // \" and \\ are unescaped; other escapes stay for the regex.
                        match chars.get(j + 1) {
                            Some(&n) if n == c || n == '\\' => {
                                s.push(n);
                                j += 2;
                            }
                            _ => {
                                s.push('\\');
                                j += 1;
                            }
                        }
                    }
                    Some(&o) => {
                        s.push(o);
                        j += 1;
                    }
                }
            }
            (Tok::Str(s), j + 1 - i)
        } else if is_word_char(c) {
            let mut j = i;
            while j < chars.len() && is_word_char(chars[j]) {
                j += 1;
            }
            let w: String = chars[i..j].iter().collect();
            let tok = match w.to_ascii_lowercase().as_str() {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                _ => Tok::Word(w),
            };
            (tok, j - i)
        } else {
            return err(col, format!("unexpected character `{c}`"));
        };
        out.push(Token { tok, col });
        i += len;
    }
    out.push(Token {
        tok: Tok::End,
        col: chars.len() + 1,
    });
    Ok(out)
}
