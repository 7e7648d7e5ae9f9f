//! A tenant's places page: the location → section → bank → locker tree (counts for every
//! location, the places of one location at a time, so a tenant with thousands of lockers
//! stays a short page), adding and removing a place, importing a tree, and the access
//! links between groups and places (grant, revoke). The location rules, a user's
//! effective access and a place's users are in `places_rules`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use scimd_core::places::Level;
use scimd_store::{AccessLink, PlaceRow};

use super::page::{self, Chrome, seg};
use super::session::{Fields, Submit, Viewer};
use crate::admin::{AdminError, TenantView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};

/// The most lockers of one bank the tree shows (the bank's page lists its users).
const LOCKERS_SHOWN: usize = 100;
/// The most lockers one page of the tree shows.
const LOCKERS_ON_PAGE: usize = 1_000;

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use axum::http::Method as M;
    r.route("/portal/t/{tenant}/places", on(M::GET, PortalPage, places))
        .route("/portal/t/{tenant}/places/add", on(M::POST, Portal("portal-create-place"), add))
        .route("/portal/t/{tenant}/places/remove", on(M::POST, Portal("portal-delete-place"), remove))
        .route("/portal/t/{tenant}/places/import", on(M::POST, Portal("portal-import-places"), import))
        .route("/portal/t/{tenant}/places/grant", on(M::POST, Portal("portal-grant-access"), grant))
        .route("/portal/t/{tenant}/places/revoke", on(M::POST, Portal("portal-revoke-access"), revoke))
}

pub(super) struct Locker {
    pub key: String,
    pub name: String,
}

pub(super) struct Bank {
    pub key: String,
    pub name: String,
    pub lockers: Vec<Locker>,
    /// Lockers not shown.
    pub more: usize,
}

pub(super) struct Section {
    pub key: String,
    pub name: String,
    pub banks: Vec<Bank>,
}

pub(super) struct Location {
    pub key: String,
    pub name: String,
    pub has_rules: bool,
    pub sections: usize,
    pub banks: usize,
    pub lockers: usize,
    /// Its places, when it is the location shown.
    pub open: Option<Vec<Section>>,
}

type Children<'r> = HashMap<(Level, &'r str), Vec<&'r PlaceRow>>;

fn children_of<'m, 'r>(children: &'m Children<'r>, level: Level, key: &'r str) -> &'m [&'r PlaceRow] {
    children.get(&(level, key)).map(Vec::as_slice).unwrap_or(&[])
}

/// The tree, with `open` (a location's key) expanded.
fn tree<'r>(rows: &'r [PlaceRow], open: Option<&str>) -> Vec<Location> {
    let mut children: Children<'r> = HashMap::new();
    for p in rows {
        if let (Some(parent), Some(level)) = (p.parent.as_deref(), p.level.parent()) {
            children.entry((level, parent)).or_default().push(p);
        }
    }
    let under = |level: Level, key: &'r str| children_of(&children, level, key);
    rows.iter()
        .filter(|p| p.level == Level::Location)
        .map(|l| {
            let sections = under(Level::Location, &l.key);
            let banks: Vec<&PlaceRow> = sections.iter().flat_map(|s| under(Level::Section, &s.key)).copied().collect();
            let lockers = banks.iter().map(|b| under(Level::Bank, &b.key).len()).sum();
            let open = (open == Some(l.key.as_str())).then(|| {
                // The page stays short however many lockers the location has: each bank
                // lists its first lockers while the page's budget lasts, then counts only.
                let mut budget = LOCKERS_ON_PAGE;
                let mut shown = Vec::with_capacity(sections.len());
                for s in sections {
                    let mut banks = Vec::new();
                    for b in under(Level::Section, &s.key) {
                        let all = under(Level::Bank, &b.key);
                        let n = all.len().min(LOCKERS_SHOWN).min(budget);
                        budget -= n;
                        let lockers =
                            all[..n].iter().map(|k| Locker { key: k.key.clone(), name: k.name.clone() }).collect();
                        banks.push(Bank { key: b.key.clone(), name: b.name.clone(), lockers, more: all.len() - n });
                    }
                    shown.push(Section { key: s.key.clone(), name: s.name.clone(), banks });
                }
                shown
            });
            Location {
                key: l.key.clone(),
                name: l.name.clone(),
                has_rules: l.rules.is_some(),
                sections: sections.len(),
                banks: banks.len(),
                lockers,
                open,
            }
        })
        .collect()
}

/// A form of the page, with what was typed and the error it got.
#[derive(Default)]
pub(super) struct Form {
    pub level: String,
    pub key: String,
    pub name: String,
    pub parent: String,
    pub group: String,
    pub text: String,
    pub error: Option<String>,
}

impl Form {
    fn of(fields: &Fields, error: String) -> Form {
        Form {
            level: fields.get("level").into(),
            key: fields.get("key").into(),
            name: fields.get("name").into(),
            parent: fields.get("parent").into(),
            group: fields.get("group").into(),
            text: fields.get("tree").into(),
            error: Some(error),
        }
    }
}

/// Which form an error belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Add,
    Remove,
    Import,
    Grant,
}

#[derive(Template)]
#[template(path = "portal/places/index.html")]
struct PlacesPage {
    chrome: Chrome,
    /// (level name, how many).
    counts: Vec<(&'static str, usize)>,
    locations: Vec<Location>,
    links: Vec<AccessLink>,
    levels: Vec<&'static str>,
    add: Form,
    remove: Form,
    import: Form,
    grant: Form,
}

impl PlacesPage {
    fn seg(&self, s: &str) -> String {
        seg(s)
    }
    /// "1 locker", "2 lockers".
    fn n(&self, n: impl std::borrow::Borrow<usize>, one: &str) -> String {
        let n = *n.borrow();
        if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct PlacesQuery {
    #[serde(default)]
    location: Option<String>,
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    tenant: TenantView,
    open: Option<&str>,
    failed: Option<(Which, Form, u16)>,
) -> Response {
    let (rows, links) =
        match tokio::try_join!(state.admin.list_places(&tenant.name), state.admin.access_links(&tenant.name)) {
            Ok(x) => x,
            Err(e) => return viewer.error(e),
        };
    let counts = Level::ALL.iter().map(|l| (l.name(), rows.iter().filter(|p| p.level == *l).count())).collect();
    // One location alone is shown open.
    let only = rows.iter().filter(|p| p.level == Level::Location).count() == 1;
    let first = rows.iter().find(|p| p.level == Level::Location).map(|p| p.key.clone());
    let open = open.map(str::to_string).or(if only { first } else { None });
    let locations = tree(&rows, open.as_deref());
    let mut page = PlacesPage {
        chrome: viewer.chrome("Places").in_tenant(&tenant.name, "places"),
        counts,
        locations,
        links,
        levels: Level::ALL.iter().map(|l| l.name()).collect(),
        add: Form::default(),
        remove: Form::default(),
        import: Form::default(),
        grant: Form::default(),
    };
    let mut status = StatusCode::OK;
    if let Some((which, form, code)) = failed {
        status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
        match which {
            Which::Add => page.add = form,
            Which::Remove => page.remove = form,
            Which::Import => page.import = form,
            Which::Grant => page.grant = form,
        }
    }
    page::render(status, &page)
}

pub(super) async fn places(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(q): Query<PlacesQuery>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    render(&state, &viewer, tenant, q.location.as_deref(), None).await
}

/// After a change: back to the page (showing `location`), saying what was done.
fn done(tenant: &str, location: Option<&str>, text: &str) -> Response {
    let at = location.map(|l| format!("location={}&", seg(l))).unwrap_or_default();
    page::see_other(&format!("/portal/t/{}/places?{at}done={}", seg(tenant), seg(text)))
}

/// A client's mistake in `which` re-renders the page with it in place; anything else is a page.
async fn failed(
    state: &AppState,
    viewer: &Viewer,
    tenant: TenantView,
    which: Which,
    fields: &Fields,
    e: AdminError,
) -> Response {
    if e.status >= 500 {
        return viewer.error(e);
    }
    let open = fields.opt("location").map(str::to_string);
    render(state, viewer, tenant, open.as_deref(), Some((which, Form::of(fields, e.message), e.status))).await
}

fn level(fields: &Fields) -> Result<Level, AdminError> {
    Level::parse(fields.get("level"))
        .ok_or_else(|| AdminError::invalid("choose a level: location, section, bank or locker"))
}

/// The location a place is under (to show it after a change), when it is one.
fn location_of(level: Level, key: &str, parent: Option<&str>) -> Option<String> {
    match level {
        Level::Location => Some(key.to_string()),
        Level::Section => parent.map(str::to_string),
        _ => None,
    }
}

pub(super) async fn add(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let made = match level(&fields) {
        Ok(l) => {
            let (key, name, parent) = (fields.get("key").trim(), fields.opt("name"), fields.opt("parent"));
            state.admin.create_place(&tenant.name, l, key, name, parent).await
        }
        Err(e) => Err(e),
    };
    match made {
        Ok(p) => {
            let at = fields.opt("location").map(str::to_string).or(location_of(p.level, &p.key, p.parent.as_deref()));
            done(&tenant.name, at.as_deref(), &format!("The {} {} was added.", p.level.name(), p.key))
        }
        Err(e) => failed(&state, &viewer, tenant, Which::Add, &fields, e).await,
    }
}

pub(super) async fn remove(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let key = fields.get("key").trim();
    let removed = match level(&fields) {
        Ok(l) => state.admin.delete_place(&tenant.name, l, key, fields.checked("cascade")).await,
        Err(e) => Err(e),
    };
    match removed {
        Ok(n) => {
            let text = if n == 1 {
                format!("{key} was removed.")
            } else {
                format!("{key} and {} places under it were removed.", n - 1)
            };
            done(&tenant.name, fields.opt("location").filter(|l| *l != key), &text)
        }
        Err(e) => failed(&state, &viewer, tenant, Which::Remove, &fields, e).await,
    }
}

pub(super) async fn import(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let imported = match serde_json::from_str::<serde_json::Value>(fields.get("tree")) {
        Ok(v) => state.admin.import_places(&tenant.name, &v).await,
        Err(e) => Err(AdminError::invalid(format!("the places file is not valid JSON: {e}"))),
    };
    match imported {
        Ok(r) => done(
            &tenant.name,
            None,
            &format!("Imported: {} created, {} updated, {} unchanged.", r.created, r.updated, r.unchanged),
        ),
        Err(e) => failed(&state, &viewer, tenant, Which::Import, &fields, e).await,
    }
}

pub(super) async fn grant(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let (group, key) = (fields.get("group").trim(), fields.get("key").trim());
    let granted = match level(&fields) {
        Ok(l) => state.admin.grant_access(&tenant.name, group, l, key).await,
        Err(e) => Err(e),
    };
    match granted {
        Ok((_, true)) => done(&tenant.name, None, &format!("{group} may use {key} now.")),
        Ok((_, false)) => done(&tenant.name, None, &format!("{group} could use {key} already.")),
        Err(e) => failed(&state, &viewer, tenant, Which::Grant, &fields, e).await,
    }
}

pub(super) async fn revoke(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let (group, key) = (fields.get("group").trim(), fields.get("key").trim());
    let revoked = match level(&fields) {
        Ok(l) => state.admin.revoke_access(&tenant.name, group, l, key).await,
        Err(e) => Err(e),
    };
    match revoked {
        Ok((_, true)) => done(&tenant.name, None, &format!("{group} may no longer use {key}.")),
        Ok((_, false)) => done(&tenant.name, None, &format!("{group} had no access to {key}.")),
        Err(e) => viewer.error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(level: Level, key: &str, parent: Option<&str>) -> PlaceRow {
        PlaceRow {
            level,
            key: key.into(),
            name: key.into(),
            parent: parent.map(Into::into),
            rules: None,
            created: String::new(),
            last_modified: String::new(),
        }
    }

    #[test]
    fn a_large_location_is_counted_whole_and_shown_in_part() {
        let mut rows = vec![row(Level::Location, "hq", None), row(Level::Location, "depot", None)];
        rows.push(row(Level::Section, "s1", Some("hq")));
        for b in 0..15 {
            rows.push(row(Level::Bank, &format!("b{b}"), Some("s1")));
            for k in 0..150 {
                rows.push(row(Level::Locker, &format!("l{b}-{k}"), Some(&format!("b{b}"))));
            }
        }
        let t = tree(&rows, Some("hq"));
        assert_eq!((t[0].sections, t[0].banks, t[0].lockers), (1, 15, 2250));
        let banks = &t[0].open.as_ref().unwrap()[0].banks;
        assert_eq!((banks[0].lockers.len(), banks[0].more), (LOCKERS_SHOWN, 50));
        assert_eq!(banks.iter().map(|b| b.lockers.len()).sum::<usize>(), LOCKERS_ON_PAGE);
        assert_eq!(banks.iter().map(|b| b.lockers.len() + b.more).sum::<usize>(), 2250);
        assert!(t[1].open.is_none() && t[1].lockers == 0, "one location at a time");
    }
}
