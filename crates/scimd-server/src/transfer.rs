//! Moving a deployment's data between databases (SQLite and PostgreSQL, either way): the
//! export file's format and the export and import use cases.
//!
//! The file is JSON Lines: a header (format, version, scimd's version, the source backend,
//! the tenants, the master key's id, the time), one line per row (`"t"` names its kind, the
//! other keys are the kind's columns in a fixed order: a row's text is canonical), then a
//! trailer with each kind's count and SHA-256 over its lines. Rows come in the order an
//! import writes them, each kind's in the order of its natural key, so two exports of the
//! same data are the same bytes apart from the header.
//!
//! An import checks the whole file against its trailer before it writes anything (a file
//! changed or cut short is refused), refuses a target that has any of the tenants (or,
//! for a whole export, any data), writes the rows in batches of [`BATCH`] per
//! transaction, rebuilding each resource's attribute index with its tenant's schemas,
//! and then reads the target back as an export would and compares each kind's count and
//! digest with the trailer.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::sync::Arc;

use scimd_core::schema::ResourceKind;
use scimd_store::Store;
use scimd_store::transfer::{Field, ImportRow, Kind, Owner, Selection, Ty};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::seal::Keyring;
use crate::service::{Service, ServiceConfig};

/// The format's name in the header.
pub const FORMAT: &str = "scimd-export";
/// The format's version.
pub const FORMAT_VERSION: i64 = 1;
/// Rows written per transaction by an import.
pub const BATCH: usize = 1000;
/// Rows read per statement by an export.
const PAGE: usize = 2000;

/// The first line of an export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub format: String,
    pub version: i64,
    pub scimd: String,
    /// `sqlite` or `postgres`.
    pub source: String,
    /// `everything` (every tenant and the deployment's own rows) or `tenants`.
    pub scope: String,
    pub tenants: Vec<String>,
    /// The id of the master key the sealed values are sealed under, if any.
    pub master_key: Option<String>,
    pub created: String,
}

/// The last line of an export: each kind's count and digest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Trailer {
    pub end: String,
    pub counts: BTreeMap<String, u64>,
    pub digests: BTreeMap<String, String>,
}

/// Counts and digests of rows, kind by kind, as they are written or read.
#[derive(Default)]
struct Tally {
    kinds: BTreeMap<&'static str, (u64, Sha256)>,
}

impl Tally {
    fn start(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_insert_with(|| (0, Sha256::new()));
    }

    fn add(&mut self, kind: &'static str, line: &str) {
        let (n, h) = self.kinds.entry(kind).or_insert_with(|| (0, Sha256::new()));
        *n += 1;
        h.update(line.as_bytes());
        h.update(b"\n");
    }

    fn trailer(self) -> Trailer {
        let mut t = Trailer { end: FORMAT.into(), ..Trailer::default() };
        for (k, (n, h)) in self.kinds {
            t.counts.insert(k.to_string(), n);
            t.digests.insert(k.to_string(), hex::encode(h.finalize()));
        }
        t
    }
}

/// The first kind whose count or digest differs, said for people.
fn compare(expected: &Trailer, found: &Trailer) -> Option<String> {
    let names: std::collections::BTreeSet<&String> = expected.counts.keys().chain(found.counts.keys()).collect();
    for k in names {
        let (a, b) = (expected.counts.get(k).copied().unwrap_or(0), found.counts.get(k).copied().unwrap_or(0));
        if a != b {
            return Some(format!("{k}: {a} rows expected, {b} found"));
        }
        if expected.digests.get(k) != found.digests.get(k) && a > 0 {
            return Some(format!("{k}: the rows differ (digest mismatch)"));
        }
    }
    None
}

/// A row's canonical line.
fn line(kind: &Kind, fields: &[Field]) -> String {
    let mut s = String::with_capacity(256);
    s.push_str("{\"t\":");
    s.push_str(&Value::from(kind.name).to_string());
    for ((name, _), f) in kind.columns.iter().zip(fields) {
        s.push_str(",\"");
        s.push_str(name);
        s.push_str("\":");
        match f {
            Field::Null => s.push_str("null"),
            Field::Int(i) => s.push_str(&i.to_string()),
            // As text: the shortest form that reads back as the same number.
            Field::Real(r) => s.push_str(&Value::from(r.to_string()).to_string()),
            Field::Text(t) => s.push_str(&Value::from(t.as_str()).to_string()),
            Field::Bytes(b) => s.push_str(&Value::from(hex::encode(b)).to_string()),
            Field::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        }
    }
    s.push('}');
    s
}

/// A row line read back: its kind's number and its fields.
fn parse_row(kinds: &[Kind], obj: &serde_json::Map<String, Value>) -> Result<(usize, Vec<Field>), String> {
    let name = obj.get("t").and_then(Value::as_str).ok_or("a row without its kind (\"t\")")?;
    let (i, kind) = kinds.iter().enumerate().find(|(_, k)| k.name == name).ok_or(format!("unknown kind '{name}'"))?;
    if obj.len() != kind.columns.len() + 1 {
        return Err(format!("a {name} row with {} fields instead of {}", obj.len() - 1, kind.columns.len()));
    }
    let mut fields = Vec::with_capacity(kind.columns.len());
    for (col, ty) in kind.columns {
        let v = obj.get(*col).ok_or_else(|| format!("a {name} row without {col}"))?;
        let bad = || format!("a {name} row whose {col} is not {ty:?}");
        fields.push(match (v, ty) {
            (Value::Null, _) => Field::Null,
            (Value::Number(n), Ty::Int) => Field::Int(n.as_i64().ok_or_else(bad)?),
            (Value::String(s), Ty::Real) => Field::Real(s.parse().map_err(|_| bad())?),
            (Value::String(s), Ty::Text) => Field::Text(s.clone()),
            (Value::String(s), Ty::Bytes) => Field::Bytes(hex::decode(s).map_err(|_| bad())?),
            (Value::Bool(b), Ty::Bool) => Field::Bool(*b),
            _ => return Err(bad()),
        });
    }
    Ok((i, fields))
}

/// What an export or import covers, from a list of tenant names (none: everything).
fn selection(tenants: &[String]) -> Selection {
    match tenants.is_empty() {
        true => Selection::Everything,
        false => Selection::Tenants(tenants.to_vec()),
    }
}

/// Reads every row of `selection` kind by kind, in file order, handing each line to `out`;
/// the tally.
async fn read_all(
    store: &dyn Store,
    selection: &Selection,
    tenants: &[String],
    mut out: impl FnMut(&str) -> Result<(), String>,
) -> Result<Trailer, String> {
    let mut tally = Tally::default();
    let everything = *selection == Selection::Everything;
    for (i, kind) in store.kinds().iter().enumerate() {
        let passes: Vec<Selection> = match kind.owner {
            Owner::Deployment if !everything => continue,
            Owner::Deployment => vec![Selection::Everything],
            Owner::Tenant => tenants.iter().map(|t| Selection::Tenant(t.clone())).collect(),
            Owner::Shared => vec![selection.clone()],
        };
        tally.start(kind.name);
        for pass in passes {
            let mut after = None;
            loop {
                let page = store.export_page(i, &pass, after, PAGE).await.map_err(|e| format!("{}: {e}", kind.name))?;
                for row in &page.rows {
                    let l = line(kind, row);
                    out(&l)?;
                    tally.add(kind.name, &l);
                }
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
        }
    }
    Ok(tally.trailer())
}

/// The tenants of an export: those named (each must exist), or every one; by name, byte
/// order.
async fn tenant_names(store: &dyn Store, named: &[String]) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = match named.is_empty() {
        true => store.list_tenants().await.map_err(|e| e.to_string())?.into_iter().map(|t| t.name).collect(),
        false => {
            for n in named {
                if store.tenant_by_name(n).await.map_err(|e| e.to_string())?.is_none() {
                    return Err(format!("no tenant '{n}'"));
                }
            }
            named.to_vec()
        }
    };
    names.sort();
    names.dedup();
    Ok(names)
}

/// What an export or import did.
#[derive(Debug)]
pub struct Summary {
    pub header: Header,
    pub trailer: Trailer,
}

impl Summary {
    /// The rows carried, every kind's.
    pub fn rows(&self) -> u64 {
        self.trailer.counts.values().sum()
    }
}

/// Writes the export of `tenants` (none: everything) to `out`.
pub async fn export(
    store: &dyn Store,
    keyring: &Keyring,
    clock: &dyn Clock,
    tenants: &[String],
    out: &mut dyn Write,
) -> Result<Summary, String> {
    let names = tenant_names(store, tenants).await?;
    let selection = match tenants.is_empty() {
        true => Selection::Everything,
        false => selection(&names),
    };
    let header = Header {
        format: FORMAT.into(),
        version: FORMAT_VERSION,
        scimd: crate::VERSION_NUMBER.into(),
        source: store.backend().into(),
        scope: if tenants.is_empty() { "everything" } else { "tenants" }.into(),
        tenants: names.clone(),
        master_key: keyring.current_id(),
        created: scimd_store::normalized_time(clock.now()),
    };
    let io = |e: std::io::Error| format!("cannot write the export: {e}");
    writeln!(out, "{}", serde_json::to_string(&header).map_err(|e| e.to_string())?).map_err(io)?;
    let trailer = read_all(store, &selection, &names, |l| writeln!(out, "{l}").map_err(io)).await?;
    writeln!(out, "{}", serde_json::to_string(&trailer).map_err(|e| e.to_string())?).map_err(io)?;
    out.flush().map_err(io)?;
    Ok(Summary { header, trailer })
}

/// One line of an export file.
enum Line {
    Header(Header),
    Row(usize, Vec<Field>),
    Trailer(Trailer),
}

fn parse_line(kinds: &[Kind], text: &str) -> Result<Line, String> {
    let v: serde_json::Map<String, Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    if v.contains_key("t") {
        let (k, fields) = parse_row(kinds, &v)?;
        return Ok(Line::Row(k, fields));
    }
    if v.contains_key("end") {
        return serde_json::from_value(Value::Object(v)).map(Line::Trailer).map_err(|e| format!("a bad trailer: {e}"));
    }
    serde_json::from_value(Value::Object(v)).map(Line::Header).map_err(|e| format!("a bad header: {e}"))
}

/// Reads an export file through, checking it: its header, then each row (handed to `row`),
/// then its trailer, against which the rows' counts and digests are compared.
async fn read_file<F>(kinds: &[Kind], file: &std::path::Path, mut row: F) -> Result<(Header, Trailer), String>
where
    F: AsyncFnMut(usize, Vec<Field>) -> Result<(), String>,
{
    let f = std::fs::File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut lines = std::io::BufReader::with_capacity(1 << 20, f).lines();
    let at = |n: usize, e: String| format!("{}: line {n}: {e}", file.display());
    let header = match lines.next() {
        Some(l) => match parse_line(kinds, &l.map_err(|e| at(1, e.to_string()))?).map_err(|e| at(1, e))? {
            Line::Header(h) => h,
            _ => return Err(at(1, "not an export's header".into())),
        },
        None => return Err(format!("{} is empty", file.display())),
    };
    if header.format != FORMAT || header.version != FORMAT_VERSION {
        return Err(format!(
            "{} is not a {FORMAT} file of version {FORMAT_VERSION} (it says {} {})",
            file.display(),
            header.format,
            header.version
        ));
    }
    let mut tally = Tally::default();
    for k in kinds {
        match k.owner {
            Owner::Deployment if header.scope != "everything" => {}
            _ => tally.start(k.name),
        }
    }
    let mut trailer = None;
    for (n, l) in lines.enumerate() {
        let n = n + 2;
        let l = l.map_err(|e| at(n, e.to_string()))?;
        if trailer.is_some() {
            return Err(at(n, "a line after the trailer".into()));
        }
        match parse_line(kinds, &l).map_err(|e| at(n, e))? {
            Line::Row(k, fields) => {
                tally.add(kinds[k].name, &line(&kinds[k], &fields));
                row(k, fields).await.map_err(|e| at(n, e))?;
            }
            Line::Trailer(t) => trailer = Some(t),
            Line::Header(_) => return Err(at(n, "a second header".into())),
        }
    }
    let trailer = trailer.ok_or_else(|| format!("{} has no trailer: it was cut short", file.display()))?;
    if let Some(why) = compare(&trailer, &tally.trailer()) {
        return Err(format!("{} does not match its trailer ({why}): it was changed or damaged", file.display()));
    }
    Ok((header, trailer))
}

/// Imports the export at `file` into `store`: checked whole first, then written in
/// batches, then verified against its trailer.
pub async fn import(
    store: Arc<dyn Store>,
    keyring: &Keyring,
    clock: Arc<dyn Clock>,
    file: &std::path::Path,
) -> Result<Summary, String> {
    let kinds = store.kinds();
    // The whole file, checked before anything is written; the clients and API users it
    // brings, which must be new to the target.
    let mut clients = Vec::new();
    let mut usernames = Vec::new();
    let (client_kind, user_kind) = (kind_no(kinds, "oauth_client")?, kind_no(kinds, "api_user")?);
    let (header, trailer) = read_file(kinds, file, async |k, f: Vec<Field>| {
        let text = |i: usize| match &f[i] {
            Field::Text(s) => Some(s.clone()),
            _ => None,
        };
        if k == client_kind {
            clients.extend(text(0));
        } else if k == user_kind {
            usernames.extend(text(1));
        }
        Ok(())
    })
    .await?;
    if let Some(id) = &header.master_key
        && !keyring.knows(id)
    {
        return Err(format!(
            "the export's sealed values are sealed under master key {id}, which this configuration does not \
             have: give it as the master key (or the previous one) and import again"
        ));
    }
    let everything = header.scope == "everything";
    let selection = match everything {
        true => Selection::Everything,
        false => selection(&header.tenants),
    };
    check_target(&*store, kinds, &header, everything, &clients, &usernames).await?;
    let service = Service::new(store.clone(), clock, ServiceConfig::default());
    let mut writer = Writer {
        store: &*store,
        service: &service,
        batch: Vec::new(),
        kind: 0,
        tenants: HashMap::new(),
        links: Vec::new(),
    };
    read_file(kinds, file, async |k, fields| writer.push(k, fields).await).await?;
    writer.flush().await?;
    for (k, rows) in std::mem::take(&mut writer.links) {
        store.import_links(k, rows).await.map_err(|e| partly(&e.to_string()))?;
    }
    let found = read_all(&*store, &selection, &header.tenants, |_| Ok(())).await?;
    if let Some(why) = compare(&trailer, &found) {
        return Err(format!("the imported rows do not read back as exported ({why}): {}", partly("")));
    }
    Ok(Summary { header, trailer })
}

fn kind_no(kinds: &[Kind], name: &str) -> Result<usize, String> {
    kinds.iter().position(|k| k.name == name).ok_or_else(|| format!("no kind {name}"))
}

/// A failure once writing began.
fn partly(e: &str) -> String {
    let sep = if e.is_empty() { "" } else { ": " };
    format!(
        "{e}{sep}the import stopped part way and the target holds part of the file: put back the backup taken \
         before importing (or start again from an empty database)"
    )
}

/// Refuses a target that has any of the export's tenants, clients or API users, or, for a
/// whole export, any data at all.
async fn check_target(
    store: &dyn Store,
    kinds: &[Kind],
    header: &Header,
    everything: bool,
    clients: &[String],
    usernames: &[String],
) -> Result<(), String> {
    let e = |e: scimd_store::StoreError| e.to_string();
    if everything {
        let tenants = store.list_tenants().await.map_err(e)?;
        if let Some(t) = tenants.first() {
            return Err(format!(
                "the target has tenants already ({} first): a whole export is imported into an empty database only \
                 (import single tenants with an export of `--tenant NAME`)",
                t.name
            ));
        }
        for (i, k) in kinds.iter().enumerate() {
            if k.owner != Owner::Tenant
                && !store.export_page(i, &Selection::Everything, None, 1).await.map_err(e)?.rows.is_empty()
            {
                return Err(format!(
                    "the target has {} rows already: a whole export is imported into an empty database only",
                    k.name
                ));
            }
        }
        return Ok(());
    }
    for t in &header.tenants {
        if store.tenant_by_name(t).await.map_err(e)?.is_some() {
            return Err(format!("the target has a tenant '{t}' already: nothing was imported"));
        }
    }
    let existing: Vec<String> = store.list_clients().await.map_err(e)?.into_iter().map(|c| c.client_id).collect();
    if let Some(c) = clients.iter().find(|c| existing.contains(c)) {
        return Err(format!("the target has an OAuth client '{c}' already: nothing was imported"));
    }
    for u in usernames {
        if store.api_user_auth(u).await.map_err(e)?.is_some() {
            return Err(format!("the target has an API user '{u}' already: nothing was imported"));
        }
    }
    Ok(())
}

/// Rows gathered into batches of one kind, each written in one transaction.
struct Writer<'a> {
    store: &'a dyn Store,
    service: &'a Service,
    batch: Vec<ImportRow>,
    kind: usize,
    /// The schemas of each tenant written, by name.
    tenants: HashMap<String, Arc<scimd_core::schema::Registry>>,
    /// Rows of kinds with links, given again once every row is written.
    links: Vec<(usize, Vec<Vec<Field>>)>,
}

impl Writer<'_> {
    async fn push(&mut self, kind: usize, fields: Vec<Field>) -> Result<(), String> {
        if kind != self.kind || self.batch.len() >= BATCH {
            self.flush().await?;
            self.kind = kind;
        }
        let k = &self.store.kinds()[kind];
        if k.name == "tenant" {
            match self.links.last_mut() {
                Some((n, rows)) if *n == kind => rows.push(fields.clone()),
                _ => self.links.push((kind, vec![fields.clone()])),
            }
        }
        let index = match k.name {
            "resource" => self.index(&fields).await?,
            _ => Vec::new(),
        };
        self.batch.push(ImportRow { fields, index });
        Ok(())
    }

    /// A resource's index entries, from its document and its tenant's schemas.
    async fn index(&mut self, f: &[Field]) -> Result<Vec<scimd_core::resource::IndexEntry>, String> {
        let (Field::Text(tenant), Field::Int(rtype), Field::Text(data)) = (&f[0], &f[1], &f[11]) else {
            return Err("a resource row without its tenant, type or document".into());
        };
        let reg = match self.tenants.get(tenant) {
            Some(r) => r.clone(),
            None => {
                // The tenant and its places are written before its resources.
                self.flush().await?;
                let t = self
                    .store
                    .tenant_by_name(tenant)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("a resource of tenant '{tenant}', which the file does not bring"))?;
                let reg = self.service.profile(t.id).await.map_err(|e| format!("{e:?}"))?.registry.clone();
                self.tenants.insert(tenant.clone(), reg.clone());
                reg
            }
        };
        let kind = match *rtype {
            1 => ResourceKind::User,
            2 => ResourceKind::Group,
            c => match u8::try_from(c) {
                Ok(c) if c >= scimd_core::schema::FIRST_CUSTOM_CODE => ResourceKind::Custom(c),
                _ => return Err(format!("a resource of an unknown type ({c})")),
            },
        };
        let doc: Value =
            serde_json::from_str(data).map_err(|e| format!("a resource whose document is not JSON: {e}"))?;
        // A type the profile no longer declares keeps its rows unseen, so unindexed.
        if reg.resource_type(kind).is_none() {
            return Ok(Vec::new());
        }
        Ok(scimd_core::resource::index_entries(&reg, kind, &doc))
    }

    async fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.batch);
        let name = self.store.kinds()[self.kind].name;
        self.store.import_rows(self.kind, rows).await.map_err(|e| partly(&format!("{name}: {e}")))
    }
}
