//! Spec traceability: checks `docs/traceability/draft-18.md`.
//!
//! The table lists every MUST / MUST NOT of draft-ietf-moq-transport-18 that sluice's
//! layers implement, with a status and its evidence. This test keeps the table honest:
//! * every row has a well-formed, unique id and one of the four statuses;
//! * every test cited as evidence (`test` / `codec` rows) exists as a `fn` in the
//!   repository's Rust files under `crates/`, in the file the citation names, and is a test
//!   (`#[test]` among its attributes, which also holds inside `proptest!`);
//! * `pending` rows name the layer that owes the test (`session`, `relay`, `adapter`,
//!   optionally followed by `: <note>`) or a codec gap (`codec: <gap>`); `reason` rows give
//!   a reason.
//!
//! It prints the covered fraction (rows with status `test`, `codec` or `reason` over all
//! rows); run it with `--nocapture` (or `scripts/traceability.sh`) to see it.
//!
//! Evidence forms (comma-separated, optionally in backticks):
//! * `tests/<file>.rs::<fn>`: an integration test in any crate's `tests/` folder (so
//!   `crates/sluice/tests/moqt_flows.rs` is cited as `tests/moqt_flows.rs::<fn>`);
//! * `<crate-dir>/tests/<file>.rs::<fn>` (or any path under `crates/`): that exact file;
//! * `<crate_name>::<module>::...::<fn>`: a unit test, resolved to `src/<module>.rs` or
//!   `src/<module>/mod.rs`, inner inline modules (such as `tests`) dropped.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

const TABLES: &[&str] = &["docs/traceability/draft-18.md"];
const STATUSES: &[&str] = &["test", "codec", "reason", "pending"];
const COVERED: &[&str] = &["test", "codec", "reason"];
/// What a `pending` row's evidence may be: the layer that owes the test, or a codec gap.
const PENDING_OWNERS: &[&str] = &["session", "relay", "adapter"];

struct Row {
    line: usize,
    id: String,
    status: String,
    evidence: String,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// Splits a markdown table line on the `|` that are not escaped as `\|`.
fn cells(line: &str) -> Vec<String> {
    let line = line.trim();
    let inner = line.strip_prefix('|').unwrap_or(line);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// The rows of the table whose header is `| id | section | requirement | status | evidence |`.
fn parse_table(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if !in_table {
            if t.starts_with('|') && cells(t) == ["id", "section", "requirement", "status", "evidence"] {
                in_table = true;
            }
            continue;
        }
        if !t.starts_with('|') {
            if rows.is_empty() {
                continue;
            }
            break;
        }
        let c = cells(t);
        if c.iter().all(|c| c.chars().all(|ch| ch == '-' || ch == ':')) {
            continue; // the separator row
        }
        assert_eq!(c.len(), 5, "line {}: expected 5 cells, got {}: {t}", i + 1, c.len());
        rows.push(Row { line: i + 1, id: c[0].clone(), status: c[3].clone(), evidence: c[4].clone() });
    }
    rows
}

fn valid_id(id: &str) -> bool {
    // d<draft>-<section-slug>-<n>
    let Some(rest) = id.strip_prefix('d') else { return false };
    let Some((draft, rest)) = rest.split_once('-') else { return false };
    let Some((slug, n)) = rest.rsplit_once('-') else { return false };
    !draft.is_empty()
        && draft.chars().all(|c| c.is_ascii_digit())
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
        && !slug.is_empty()
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.')) {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// True if `src` defines `fn name` as a test: `fn name(` or `fn name<`, with `#[test]` (or
/// `#[<path>::test]`) among the attributes right above it.
fn defines_test(src: &str, name: &str) -> bool {
    let lines: Vec<&str> = src.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let Some(at) = l.find("fn ") else { continue };
        let after = &l[at + 3..];
        let Some(rest) = after.strip_prefix(name) else { continue };
        if !(rest.starts_with('(') || rest.starts_with('<')) {
            continue;
        }
        // The keyword must stand alone (not `xfn name`).
        if at > 0 && l.as_bytes()[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        for prev in lines[..i].iter().rev() {
            let p = prev.trim();
            if p == "#[test]" || (p.starts_with("#[") && p.ends_with("::test]")) {
                return true;
            }
            if p.is_empty() || p.starts_with("#[") || p.starts_with("//") {
                continue;
            }
            break;
        }
    }
    false
}

/// A `pending` row's evidence: an owner layer, optionally with a note (`session: not
/// implemented (...)`), or `codec: <gap>` (the note is required there).
fn pending_evidence_ok(ev: &str) -> bool {
    if PENDING_OWNERS.contains(&ev) {
        return true;
    }
    let Some((owner, note)) = ev.split_once(':') else { return false };
    (owner == "codec" || PENDING_OWNERS.contains(&owner)) && !note.trim().is_empty()
}

fn defines_fn(src: &str, name: &str) -> bool {
    src.contains(&format!("fn {name}(")) || src.contains(&format!("fn {name}<"))
}

/// The crate directory under `crates/` whose package is named `krate` (`sluice_wire` or
/// `sluice-wire`).
fn crate_dir(crates: &Path, krate: &str) -> Option<PathBuf> {
    let want = krate.replace('_', "-");
    for e in fs::read_dir(crates).ok()?.flatten() {
        let manifest = e.path().join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&manifest) else { continue };
        let name = text.lines().find_map(|l| {
            let l = l.trim();
            let v = l.strip_prefix("name")?.trim_start().strip_prefix('=')?.trim();
            Some(v.trim_matches('"').to_string())
        });
        if name.as_deref() == Some(want.as_str()) {
            return Some(e.path());
        }
    }
    None
}

/// Resolves one citation to the files it may live in and the function name.
fn resolve(crates: &Path, cite: &str) -> Result<(Vec<PathBuf>, String), String> {
    let (path, name) = cite.rsplit_once("::").ok_or_else(|| format!("`{cite}`: no `::<fn>`"))?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{cite}`: `{name}` is not a function name"));
    }
    if path.ends_with(".rs") {
        let files: Vec<PathBuf> = if let Some(file) = path.strip_prefix("tests/") {
            // Any crate's integration test of that name.
            fs::read_dir(crates)
                .map_err(|e| e.to_string())?
                .flatten()
                .map(|e| e.path().join("tests").join(file))
                .filter(|p| p.is_file())
                .collect()
        } else {
            let p = crates.join(path);
            if p.is_file() { vec![p] } else { vec![] }
        };
        if files.is_empty() {
            return Err(format!("`{cite}`: no file `{path}` under crates/"));
        }
        return Ok((files, name.to_string()));
    }
    let mut segs: Vec<&str> = path.split("::").collect();
    let krate = segs.remove(0);
    let dir =
        crate_dir(crates, krate).ok_or_else(|| format!("`{cite}`: no crate `{krate}` under crates/"))?;
    let src = dir.join("src");
    // Longest module prefix that is a file; the rest are inline modules.
    let mut files = Vec::new();
    loop {
        let candidates = if segs.is_empty() {
            vec![src.join("lib.rs"), src.join("main.rs")]
        } else {
            let rel: PathBuf = segs.iter().collect();
            vec![src.join(&rel).with_extension("rs"), src.join(&rel).join("mod.rs")]
        };
        if let Some(f) = candidates.into_iter().find(|f| f.is_file()) {
            files.push(f);
            break;
        }
        if segs.pop().is_none() {
            break;
        }
    }
    if files.is_empty() {
        return Err(format!("`{cite}`: no module file for `{path}`"));
    }
    Ok((files, name.to_string()))
}

#[test]
fn traceability_tables_are_consistent() {
    let root = repo_root();
    let crates = root.join("crates");
    let mut all_rs = Vec::new();
    rust_files(&crates, &mut all_rs);
    let sources: Vec<(PathBuf, String)> =
        all_rs.into_iter().filter_map(|p| fs::read_to_string(&p).ok().map(|s| (p, s))).collect();

    let mut errors = Vec::new();
    for table in TABLES {
        let text = fs::read_to_string(root.join(table)).unwrap_or_else(|e| panic!("{table}: {e}"));
        let rows = parse_table(&text);
        assert!(!rows.is_empty(), "{table}: no requirement table found");
        let mut ids = HashSet::new();
        let mut counts = [0usize; 4];
        for row in &rows {
            let at = format!("{table}:{} ({})", row.line, row.id);
            if !valid_id(&row.id) {
                errors.push(format!("{at}: malformed id"));
            }
            if !ids.insert(row.id.clone()) {
                errors.push(format!("{at}: duplicate id"));
            }
            let Some(k) = STATUSES.iter().position(|s| *s == row.status) else {
                errors.push(format!("{at}: status `{}` is not one of {STATUSES:?}", row.status));
                continue;
            };
            counts[k] += 1;
            let ev = row.evidence.trim();
            match row.status.as_str() {
                "test" | "codec" => {
                    let cites: Vec<&str> = ev
                        .split(',')
                        .map(|c| c.trim().trim_matches('`').trim())
                        .filter(|c| !c.is_empty())
                        .collect();
                    if cites.is_empty() {
                        errors.push(format!("{at}: `{}` needs at least one test", row.status));
                    }
                    for cite in cites {
                        match resolve(&crates, cite) {
                            Err(e) => errors.push(format!("{at}: {e}")),
                            Ok((files, name)) => {
                                // The fn must exist somewhere under crates/ ...
                                if !sources.iter().any(|(_, s)| defines_fn(s, &name)) {
                                    errors.push(format!(
                                        "{at}: `fn {name}` not found in any file under crates/"
                                    ));
                                    continue;
                                }
                                // ... and the stricter one: in the cited file, as a test.
                                let ok = files
                                    .iter()
                                    .any(|f| fs::read_to_string(f).is_ok_and(|s| defines_test(&s, &name)));
                                if !ok {
                                    errors.push(format!(
                                        "{at}: `{cite}`: no #[test] `fn {name}` in {}",
                                        files
                                            .iter()
                                            .map(|f| f.display().to_string())
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ));
                                }
                            }
                        }
                    }
                }
                "pending" => {
                    if !pending_evidence_ok(ev) {
                        errors.push(format!(
                            "{at}: pending evidence must be one of {PENDING_OWNERS:?} (optionally `<owner>: <note>`) or `codec: <gap>`, got `{ev}`"
                        ));
                    }
                }
                _ => {
                    if ev.len() < 8 || PENDING_OWNERS.contains(&ev) {
                        errors.push(format!("{at}: `reason` needs a written reason, got `{ev}`"));
                    }
                }
            }
        }
        let total = rows.len();
        let covered: usize =
            COVERED.iter().map(|s| counts[STATUSES.iter().position(|x| x == s).unwrap()]).sum();
        println!(
            "traceability {table}: covered {covered}/{total} = {:.1}% (test {}, codec {}, reason {}, pending {})",
            100.0 * covered as f64 / total as f64,
            counts[0],
            counts[1],
            counts[2],
            counts[3]
        );
    }
    assert!(errors.is_empty(), "{} traceability error(s):\n{}", errors.len(), errors.join("\n"));
}

#[test]
fn the_checker_rejects_what_it_should() {
    assert_eq!(cells(r"| a | b \| c | d |"), ["a", "b | c", "d"]);
    assert!(valid_id("d18-key-value-pair-structure-2"));
    assert!(!valid_id("d18-Key-2") && !valid_id("x18-a-1") && !valid_id("d18-a-") && !valid_id("d18-1"));
    let src = "#[test]\n#[ignore]\nfn real() {}\nfn helper() {}\nproptest! {\n    #[test]\n    fn prop(x in 0..1u8) {}\n}\n";
    assert!(defines_test(src, "real") && defines_test(src, "prop"));
    assert!(!defines_test(src, "helper") && !defines_test(src, "rea") && !defines_test(src, "missing"));
    assert!(pending_evidence_ok("session") && pending_evidence_ok("relay"));
    assert!(pending_evidence_ok("session: not implemented (x)") && pending_evidence_ok("codec: gap"));
    assert!(
        !pending_evidence_ok("codec") && !pending_evidence_ok("codec: ") && !pending_evidence_ok("session:")
    );
    assert!(!pending_evidence_ok("sesion: typo") && !pending_evidence_ok("") && !pending_evidence_ok("todo"));
    let crates = repo_root().join("crates");
    assert!(resolve(&crates, "tests/no_such_file.rs::x").is_err());
    // Integration tests of the `sluice` crate resolve from either form, to that crate's file.
    for cite in [
        "tests/moqt_flows.rs::subscribe_accept_and_objects_flow_for_both_roles",
        "sluice/tests/moqt_flows.rs::subscribe_accept_and_objects_flow_for_both_roles",
    ] {
        let (files, name) = resolve(&crates, cite).unwrap();
        assert_eq!(files.len(), 1);
        assert!(files[0].ends_with("sluice/tests/moqt_flows.rs"), "{files:?}");
        assert!(defines_test(&fs::read_to_string(&files[0]).unwrap(), &name));
    }
    // A fn that exists, but not as a test of that file, is refused.
    let (files, _) = resolve(&crates, "tests/moqt_violations.rs::close_code").unwrap();
    assert!(!defines_test(&fs::read_to_string(&files[0]).unwrap(), "close_code"));
    assert!(resolve(&crates, "no_such_crate::m::x").is_err());
    let (files, name) =
        resolve(&crates, "sluice_wire::moqt::kvp::tests::delta_overflow_is_rejected").unwrap();
    assert_eq!(name, "delta_overflow_is_rejected");
    assert!(files[0].ends_with("sluice-wire/src/moqt/kvp.rs"));
}
