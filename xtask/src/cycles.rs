//! `cargo xtask cycles`: module import cycles inside each crate of the workspace.
//!
//! Every source file under a crate's `src/` is a node (its module path follows the file layout:
//! `a/mod.rs` and `a.rs` are `a`, `a/b.rs` is `a::b`). Every `crate::…` and `super::…` path in
//! non-test code (`use` items and paths in expressions and types, grouped `use` trees included) is an
//! edge to the deepest file module it names. Edges to a module's own ancestors are left out: a child
//! using what its parent declares is the tree, not a cycle. Each strongly connected component of more
//! than one file is a cycle, printed with the edges that form it; the command fails if there is one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One module's file and the module path it has in its crate.
struct Module {
    file: PathBuf,
    path: Vec<String>,
}

/// Checks every crate of the workspace; `Err` lists the cycles found.
pub(crate) fn cycles() -> Result<(), String> {
    let root = crate::root();
    let mut crates = Vec::new();
    for parent in ["crates", "examples"] {
        let Ok(entries) = std::fs::read_dir(root.join(parent)) else {
            continue;
        };
        for entry in entries.flatten() {
            crates.push(entry.path());
        }
    }
    crates.push(root.join("xtask"));
    crates.sort();
    let mut report = String::new();
    let mut checked = 0usize;
    for dir in crates {
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        checked += 1;
        for cycle in crate_cycles(&src)? {
            let (size, edges) = cycle;
            report.push_str(&format!("{}: cycle of {size} modules\n", dir.display()));
            for (from, to) in edges {
                report.push_str(&format!("  {from} -> {to}\n"));
            }
        }
    }
    if report.is_empty() {
        eprintln!("xtask: no module import cycles in {checked} crates");
        Ok(())
    } else {
        Err(format!("module import cycles:\n{report}"))
    }
}

/// The cycles of one crate, each as its number of modules and the edges (`from -> to`) inside it.
type Cycle = (usize, Vec<(String, String)>);

/// The cycles of one crate.
fn crate_cycles(src: &Path) -> Result<Vec<Cycle>, String> {
    let mut modules = Vec::new();
    collect(src, src, &mut modules)?;
    let known: BTreeSet<Vec<String>> = modules.iter().map(|m| m.path.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for module in &modules {
        let text = std::fs::read_to_string(&module.file)
            .map_err(|e| format!("reading {}: {e}", module.file.display()))?;
        let targets = edges.entry(module.path.clone()).or_default();
        for path in referenced_paths(&production_code(&text), &module.path) {
            // The deepest module file the path names.
            let mut target = path;
            while !target.is_empty() && !known.contains(&target) {
                target.pop();
            }
            let is_ancestor = module.path.starts_with(&target);
            if !is_ancestor {
                targets.insert(target);
            }
        }
    }
    let name = |p: &Vec<String>| {
        if p.is_empty() {
            "crate".to_owned()
        } else {
            p.join("::")
        }
    };
    Ok(strongly_connected(&edges)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let mut inside = Vec::new();
            for from in &component {
                for to in edges.get(from).into_iter().flatten() {
                    if component.contains(to) {
                        inside.push((name(from), name(to)));
                    }
                }
            }
            (component.len(), inside)
        })
        .collect())
}

/// Every `.rs` file under `dir`, with its module path relative to `src`.
fn collect(src: &Path, dir: &Path, out: &mut Vec<Module>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for file in paths {
        if file.is_dir() {
            collect(src, &file, out)?;
            continue;
        }
        if file.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = file.strip_prefix(src).map_err(|e| e.to_string())?;
        let mut path: Vec<String> = relative
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(
            path.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            path.pop();
        }
        out.push(Module { file, path });
    }
    Ok(())
}

/// The text with comments and `#[cfg(test)]` items cut off (test modules sit at the end of a file).
fn production_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        out.push_str(line.split(" // ").next().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Every module path named by a `crate::` or `super::` path in `code` (grouped `use` trees expanded).
fn referenced_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let at_word_start = i == 0
            || !bytes
                .get(i - 1)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b':');
        if at_word_start {
            let rest = code.get(i..).unwrap_or_default();
            let mut base: Option<Vec<String>> = None;
            let mut skip = 0;
            if rest.starts_with("crate::") {
                base = Some(Vec::new());
                skip = "crate::".len();
            } else if rest.starts_with("super::") {
                let mut parent = module.to_vec();
                let mut tail = rest;
                while let Some(after) = tail.strip_prefix("super::") {
                    parent.pop();
                    skip += "super::".len();
                    tail = after;
                }
                base = Some(parent);
            }
            if let Some(base) = base {
                let mut cursor = rest.get(skip..).unwrap_or_default();
                tree(&mut cursor, base, &mut out);
                i += skip;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Parses one use tree (`a::b`, `a::{b, c::d}`, `*`) at `cursor`, pushing each full path.
fn tree(cursor: &mut &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    *cursor = cursor.trim_start();
    if let Some(group) = cursor.strip_prefix('{') {
        *cursor = group;
        loop {
            *cursor = cursor.trim_start();
            if let Some(after) = cursor.strip_prefix('}') {
                *cursor = after;
                return;
            }
            if cursor.is_empty() {
                return;
            }
            let before = cursor.len();
            tree(cursor, prefix.clone(), out);
            *cursor = cursor.trim_start();
            if let Some(after) = cursor.strip_prefix(',') {
                *cursor = after;
            } else if cursor.len() == before {
                // Not a use tree after all: stop rather than loop.
                return;
            }
        }
    }
    let ident_len = cursor
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if ident_len == 0 {
        out.push(prefix);
        return;
    }
    let ident = cursor.get(..ident_len).unwrap_or_default();
    *cursor = cursor.get(ident_len..).unwrap_or_default();
    let mut path = prefix;
    if ident != "self" {
        path.push(ident.to_owned());
    }
    if let Some(after) = cursor.strip_prefix("::")
        && !after.starts_with('<')
    {
        *cursor = after;
        tree(cursor, path, out);
        return;
    }
    out.push(path);
}

/// Tarjan's strongly connected components of the graph.
fn strongly_connected(
    edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Vec<BTreeSet<Vec<String>>> {
    struct State<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        out: Vec<BTreeSet<Vec<String>>>,
    }
    fn at(map: &BTreeMap<&Vec<String>, usize>, key: &Vec<String>) -> usize {
        map.get(key).copied().unwrap_or(usize::MAX)
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Vec<String>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = at(&s.low, v).min(at(&s.low, w));
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = at(&s.low, v).min(at(&s.index, w));
                s.low.insert(v, low);
            }
        }
        if at(&s.low, v) == at(&s.index, v) {
            let mut component = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.insert(w.clone());
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.out
}
