//! Version ranges as Helm charts and the Istio catalog write them (`>=1.16.0-0`, `>= 1.5, < 1.7`,
//! `~1.6`, `^1.2 || >=2.1`), evaluated the way Helm's SemVer library does: comparators joined by commas
//! or spaces must all hold, `||` separates alternatives, partial versions are padded with zeros, and a
//! pre-release version satisfies a comparator only when that comparator names a pre-release itself.

use std::fmt;

use semver::Version;

/// A version or range that cannot be parsed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{input:?} is not a valid {what}: {reason}")]
pub struct VersionError {
    input: String,
    what: &'static str,
    reason: String,
}

/// Parses `1.6`, `v1.33.0`, `1.6.14`, `1.33.0+k3s1`: a leading `v` is dropped and missing parts are zero.
pub fn parse_lenient(input: &str) -> Result<Version, VersionError> {
    let error = |reason: String| VersionError { input: input.to_string(), what: "version", reason };
    let trimmed = input.trim();
    let text = trimmed.strip_prefix('v').unwrap_or(trimmed);
    // Managed clusters report minors such as "30+"; the plus carries no meaning for ordering.
    let text = text.strip_suffix('+').unwrap_or(text);
    let (core, suffix) = match text.find(['-', '+']) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(error("expected MAJOR[.MINOR[.PATCH]]".to_string()));
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    Version::parse(&format!("{}{suffix}", parts.join("."))).map_err(|e| error(e.to_string()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Tilde,
    Caret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    version: Version,
    /// How many of MAJOR.MINOR.PATCH were written (a wildcard ends the count).
    precision: usize,
}

/// A parsed range: alternatives (`||`), each a set of comparators that must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    text: String,
    alternatives: Vec<Vec<Comparator>>,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Constraint {
    /// Parses a range such as `>=1.5.0, <1.7.0` or `~1.6 || ^2`.
    pub fn parse(input: &str) -> Result<Constraint, VersionError> {
        let error = |reason: String| VersionError { input: input.to_string(), what: "version range", reason };
        let mut alternatives = Vec::new();
        for alternative in input.split("||") {
            let mut tokens: Vec<String> = Vec::new();
            for raw in alternative.split([',', ' ']).filter(|t| !t.is_empty()) {
                match tokens.last_mut() {
                    Some(last) if last.chars().all(|c| "=!<>~^".contains(c)) => last.push_str(raw),
                    _ => tokens.push(raw.to_string()),
                }
            }
            if tokens.is_empty() {
                return Err(error("empty range".to_string()));
            }
            let comparators =
                tokens.iter().map(|t| parse_comparator(t).map_err(&error)).collect::<Result<_, _>>()?;
            alternatives.push(comparators);
        }
        Ok(Constraint { text: input.trim().to_string(), alternatives })
    }

    /// True when `version` satisfies the range.
    pub fn matches(&self, version: &Version) -> bool {
        self.alternatives.iter().any(|all| all.iter().all(|c| c.matches(version)))
    }
}

fn parse_comparator(token: &str) -> Result<Comparator, String> {
    let split = token.find(|c: char| !"=!<>~^".contains(c)).unwrap_or(token.len());
    let (op_text, version_text) = token.split_at(split);
    let op = match op_text {
        "" | "=" => Op::Eq,
        "!=" => Op::Ne,
        ">" => Op::Gt,
        ">=" | "=>" => Op::Ge,
        "<" => Op::Lt,
        "<=" | "=<" => Op::Le,
        "~" | "~>" => Op::Tilde,
        "^" => Op::Caret,
        other => return Err(format!("unknown operator {other:?}")),
    };
    let text = version_text.strip_prefix('v').unwrap_or(version_text);
    if text == "*" || text.eq_ignore_ascii_case("x") {
        return Ok(Comparator { op: Op::Ge, version: Version::new(0, 0, 0), precision: 0 });
    }
    let core_end = text.find(['-', '+']).unwrap_or(text.len());
    let precision = text[..core_end].split('.').take_while(|p| !matches!(*p, "x" | "X" | "*")).count();
    let cleaned: Vec<&str> = text[..core_end].split('.').take(precision).collect();
    let version =
        parse_lenient(&format!("{}{}", cleaned.join("."), &text[core_end..])).map_err(|e| e.to_string())?;
    Ok(Comparator { op, version, precision })
}

impl Comparator {
    fn matches(&self, v: &Version) -> bool {
        if !v.pre.is_empty() && self.version.pre.is_empty() {
            return false;
        }
        let base =
            Version { pre: semver::Prerelease::EMPTY, build: semver::BuildMetadata::EMPTY, ..v.clone() };
        let v = if v.pre.is_empty() { &base } else { v };
        let c = &self.version;
        let upper = |bump_at: usize| -> Version {
            match bump_at {
                0 => Version::new(c.major + 1, 0, 0),
                1 => Version::new(c.major, c.minor + 1, 0),
                _ => Version::new(c.major, c.minor, c.patch + 1),
            }
        };
        let in_wildcard = |v: &Version| match self.precision {
            0 => true,
            1 => v.major == c.major,
            2 => v.major == c.major && v.minor == c.minor,
            _ => cmp_ignoring_build(v, c) == std::cmp::Ordering::Equal,
        };
        match self.op {
            Op::Eq => in_wildcard(v),
            Op::Ne => !in_wildcard(v),
            Op::Gt => match self.precision {
                0 => false,
                p if p < 3 => *v >= upper(p - 1),
                _ => cmp_ignoring_build(v, c) == std::cmp::Ordering::Greater,
            },
            Op::Ge => cmp_ignoring_build(v, c) != std::cmp::Ordering::Less,
            Op::Lt => cmp_ignoring_build(v, c) == std::cmp::Ordering::Less,
            Op::Le => match self.precision {
                0 => true,
                p if p < 3 => *v < upper(p - 1),
                _ => cmp_ignoring_build(v, c) != std::cmp::Ordering::Greater,
            },
            Op::Tilde => {
                cmp_ignoring_build(v, c) != std::cmp::Ordering::Less
                    && *v < upper(if self.precision <= 1 { 0 } else { 1 })
            }
            Op::Caret => {
                let bump = if c.major > 0 || self.precision == 1 {
                    0
                } else if c.minor > 0 || self.precision == 2 {
                    1
                } else {
                    2
                };
                cmp_ignoring_build(v, c) != std::cmp::Ordering::Less && *v < upper(bump)
            }
        }
    }
}

fn cmp_ignoring_build(a: &Version, b: &Version) -> std::cmp::Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(range: &str, version: &str) -> bool {
        Constraint::parse(range).unwrap().matches(&parse_lenient(version).unwrap())
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(parse_lenient("v1.33.0").unwrap(), Version::new(1, 33, 0));
        assert_eq!(parse_lenient("1.6").unwrap(), Version::new(1, 6, 0));
        assert_eq!(parse_lenient("1.30+").unwrap(), Version::new(1, 30, 0));
        assert_eq!(parse_lenient("1.33.2+k3s1").unwrap().build.as_str(), "k3s1");
        assert!(parse_lenient("one.two").is_err());
        assert!(parse_lenient("1.2.3.4").is_err());
    }

    #[test]
    fn comparators_and_alternatives() {
        assert!(holds(">=1.16.0-0", "1.33.0"));
        assert!(holds(">=1.16.0-0", "1.16.0-rc.1"));
        assert!(!holds(">=1.16.0", "1.17.0-rc.1"), "pre-releases need a pre-release comparator");
        assert!(holds(">= 1.5, < 1.7", "1.6.14"));
        assert!(!holds(">=1.5.0 <1.7.0", "1.7.0"));
        assert!(holds("~1.6", "1.6.99"));
        assert!(!holds("~1.6", "1.7.0"));
        assert!(holds("^1.2", "1.9.0"));
        assert!(!holds("^0.2", "0.3.0"));
        assert!(holds("1.6.x", "1.6.3"));
        assert!(holds("1.6", "1.6.3"));
        assert!(!holds("1.6", "1.7.0"));
        assert!(holds("<1.8 || >=2", "2.1.0"));
        assert!(holds("!=1.5.2", "1.5.3"));
        assert!(holds(">1.5", "1.6.0"));
        assert!(!holds(">1.5", "1.5.9"));
        assert!(holds("<=1.5", "1.5.9"));
        assert!(holds("*", "0.0.1"));
        assert!(holds(">=v1.16.0", "v1.33.1+k3s1"));
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(Constraint::parse("").is_err());
        assert!(Constraint::parse(">=abc").is_err());
        assert!(Constraint::parse("=~1.2").is_err());
    }
}
