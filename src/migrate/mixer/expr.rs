//! Mixer's expression language (rule `match`, instance fields), parsed into a small tree so that the
//! conversions can translate the forms they understand and name exactly what they cannot. Mixer
//! parsed these with Go's expression parser, so precedence follows Go: `||` < `&&` < `==`/`!=` < `|`
//! (Mixer's "default value" operator) < unary `!`. Only the syntax Mixer configuration uses is
//! accepted: attributes (`a.b.c`), string-keyed map lookups (`a.b["k"]`), string, integer and
//! boolean literals, function and method calls, `!`, `==`, `!=`, `&&`, `||` and `|`. Anything else is
//! a parse error, which the callers report rather than guess at.

use std::fmt;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `|`: the left value if the attribute is present, else the right.
    Default,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Or => "||",
            Op::And => "&&",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Default => "|",
        }
    }
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// An attribute, e.g. `source.workload.name`.
    Attr(String),
    /// A map attribute looked up by a string key, e.g. `request.headers["x-user"]`.
    Index(String, String),
    /// A string literal.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
    /// A call `f(args)`; a method call `a.f(args)` has its receiver as the first argument.
    Call(String, Vec<Expr>),
    /// `!e`
    Not(Box<Expr>),
    /// `l op r`
    Binary(Op, Box<Expr>, Box<Expr>),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Attr(name) => write!(f, "{name}"),
            Expr::Index(map, key) => write!(f, "{map}[{key:?}]"),
            Expr::Str(s) => write!(f, "{s:?}"),
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Bool(b) => write!(f, "{b}"),
            Expr::Call(name, args) => {
                let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                write!(f, "{name}({})", args.join(", "))
            }
            Expr::Not(e) => write!(f, "!{e}"),
            Expr::Binary(op, l, r) => write!(f, "({l} {} {r})", op.symbol()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Int(i64),
    Punct(&'static str),
}

const PUNCTUATION: [&str; 12] = ["||", "&&", "==", "!=", "|", "!", "(", ")", "[", "]", ",", "."];

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && (chars[i] == '.' || chars[i].is_ascii_alphabetic()) {
                return Err(format!("unsupported number literal at {:?}", &text[start..]));
            }
            let digits: String = chars[start..i].iter().collect();
            tokens.push(Token::Int(digits.parse().map_err(|_| format!("integer {digits} out of range"))?));
        } else if c == '"' {
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string literal".to_string()),
                    Some('"') => break,
                    Some('\\') => {
                        let escaped = match chars.get(i + 1) {
                            Some('n') => '\n',
                            Some('t') => '\t',
                            Some(c @ ('\\' | '"' | '\'')) => *c,
                            other => return Err(format!("unsupported escape \\{}", other.unwrap_or(&' '))),
                        };
                        value.push(escaped);
                        i += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
            i += 1;
            tokens.push(Token::Str(value));
        } else if c == '`' {
            let start = i + 1;
            let end = chars[start..]
                .iter()
                .position(|&c| c == '`')
                .ok_or_else(|| "unterminated raw string literal".to_string())?;
            tokens.push(Token::Str(chars[start..start + end].iter().collect()));
            i = start + end + 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(punct) = PUNCTUATION.iter().find(|p| rest.starts_with(**p)) else {
                return Err(format!("unsupported character {c:?}"));
            };
            tokens.push(Token::Punct(punct));
            i += punct.len();
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn eat(&mut self, punct: &str) -> bool {
        if matches!(self.peek(), Some(Token::Punct(p)) if *p == punct) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, punct: &str) -> Result<(), String> {
        if self.eat(punct) { Ok(()) } else { Err(format!("expected {punct:?}")) }
    }

    fn binary(&mut self, level: usize) -> Result<Expr, String> {
        const LEVELS: [&[(&str, Op)]; 4] =
            [&[("||", Op::Or)], &[("&&", Op::And)], &[("==", Op::Eq), ("!=", Op::Ne)], &[("|", Op::Default)]];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        'outer: loop {
            for (symbol, op) in LEVELS[level] {
                if self.eat(symbol) {
                    let right = self.binary(level + 1)?;
                    left = Expr::Binary(*op, Box::new(left), Box::new(right));
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn arguments(&mut self) -> Result<Vec<Expr>, String> {
        let mut args = Vec::new();
        if self.eat(")") {
            return Ok(args);
        }
        loop {
            args.push(self.binary(0)?);
            if self.eat(")") {
                return Ok(args);
            }
            self.expect(",")?;
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let token = self.peek().cloned().ok_or_else(|| "unexpected end of expression".to_string())?;
        self.position += 1;
        match token {
            Token::Str(s) => Ok(Expr::Str(s)),
            Token::Int(i) => Ok(Expr::Int(i)),
            Token::Punct("(") => {
                let inner = self.binary(0)?;
                self.expect(")")?;
                Ok(inner)
            }
            Token::Ident(first) if first == "true" || first == "false" => Ok(Expr::Bool(first == "true")),
            Token::Ident(first) => {
                let mut path = vec![first];
                while self.eat(".") {
                    match self.peek().cloned() {
                        Some(Token::Ident(next)) => {
                            self.position += 1;
                            path.push(next);
                        }
                        _ => return Err("expected a name after '.'".to_string()),
                    }
                }
                if self.eat("(") {
                    let mut args = self.arguments()?;
                    let name = path.pop().unwrap_or_default();
                    if !path.is_empty() {
                        args.insert(0, Expr::Attr(path.join(".")));
                    }
                    return Ok(Expr::Call(name, args));
                }
                let attribute = path.join(".");
                if self.eat("[") {
                    let key = match self.peek().cloned() {
                        Some(Token::Str(key)) => key,
                        _ => return Err(format!("{attribute}[...] needs a string key")),
                    };
                    self.position += 1;
                    self.expect("]")?;
                    if self.eat(".") {
                        return Err(format!("unsupported selector after {attribute}[{key:?}]"));
                    }
                    return Ok(Expr::Index(attribute, key));
                }
                Ok(Expr::Attr(attribute))
            }
            Token::Punct(p) => Err(format!("unexpected {p:?}")),
        }
    }
}

/// Parses a Mixer expression. YAML may give non-string scalars (`match: true`, `value: 2`); callers
/// pass their text.
pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("empty expression".to_string());
    }
    let mut parser = Parser { tokens, position: 0 };
    let expr = parser.binary(0)?;
    if parser.position != parser.tokens.len() {
        return Err(format!("unexpected {:?}", parser.tokens[parser.position]));
    }
    Ok(expr)
}

/// The terms of a conjunction (`a && b && c` gives `[a, b, c]`).
pub fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::Binary(Op::And, l, r) => {
            let mut out = conjuncts(l);
            out.extend(conjuncts(r));
            out
        }
        other => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str) -> Box<Expr> {
        Box::new(Expr::Attr(name.to_string()))
    }

    #[test]
    fn precedence_follows_go() {
        let e = parse(r#"(request.headers["x-user"] | "") == "john" && a == b || c"#).unwrap();
        let Expr::Binary(Op::Or, left, right) = e else { panic!("{e}") };
        assert_eq!(*right, Expr::Attr("c".into()));
        let Expr::Binary(Op::And, first, second) = *left else { panic!() };
        assert_eq!(*second, Expr::Binary(Op::Eq, attr("a"), attr("b")));
        assert_eq!(
            *first,
            Expr::Binary(
                Op::Eq,
                Box::new(Expr::Binary(
                    Op::Default,
                    Box::new(Expr::Index("request.headers".into(), "x-user".into())),
                    Box::new(Expr::Str(String::new()))
                )),
                Box::new(Expr::Str("john".into()))
            )
        );
        // `|` binds tighter than `==`, as in Go.
        assert_eq!(parse("a | b == c").unwrap().to_string(), "((a | b) == c)");
    }

    #[test]
    fn calls_methods_literals_and_errors() {
        assert_eq!(
            parse(r#"conditional((context.reporter.kind | "inbound") == "outbound", "client", "server")"#)
                .unwrap()
                .to_string(),
            r#"conditional(((context.reporter.kind | "inbound") == "outbound"), "client", "server")"#
        );
        assert_eq!(
            parse(r#"request.path.startsWith("/api")"#).unwrap(),
            Expr::Call(
                "startsWith".into(),
                vec![Expr::Attr("request.path".into()), Expr::Str("/api".into())]
            )
        );
        assert_eq!(parse("2").unwrap(), Expr::Int(2));
        assert_eq!(parse("!true").unwrap(), Expr::Not(Box::new(Expr::Bool(true))));
        assert_eq!(parse(r#""a \"b\"""#).unwrap(), Expr::Str("a \"b\"".into()));
        assert_eq!(parse("`raw`").unwrap(), Expr::Str("raw".into()));
        for bad in ["", "a +", "a < b", "1.5", "a[b]", "(a", "\"open", "a ="] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
        let e = parse("a && b && c").unwrap();
        assert_eq!(conjuncts(&e).len(), 3);
    }
}
