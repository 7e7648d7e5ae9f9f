//! Places and location rules, as pure data and decisions.
//!
//! A tenant's places form a tree of four levels: locations → sections → locker banks →
//! lockers, each with a key the operator chooses (unique within the tenant at its level)
//! and a name. This module owns the levels, the import file's tree and its validation,
//! and the location rules: which users a location provisions (all, or those matching
//! rules) and for which of them it is the home location, decided by [`derive()`] from a
//! user's stored document. One location may be the tenant's *primary* location (the one
//! the integration is installed in): it provisions everyone unless its rules say
//! otherwise, and it is the home of every user it provisions whom no home rule sends
//! elsewhere. The results are the read-only attributes of the places
//! extension ([`PLACES_URN`]), which the server writes into the user's document.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::filter::fold_case;

/// The User extension holding a user's locations and home location (read-only).
pub const PLACES_URN: &str = "urn:scimd:schemas:extension:places:1.0:User";

/// The most characters a key or a name may have.
pub const MAX_KEY: usize = 200;

/// A level of the places tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Location,
    Section,
    Bank,
    Locker,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Location, Level::Section, Level::Bank, Level::Locker];

    /// The database's code.
    pub fn code(self) -> i64 {
        match self {
            Level::Location => 1,
            Level::Section => 2,
            Level::Bank => 3,
            Level::Locker => 4,
        }
    }

    pub fn from_code(code: i64) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Location => "location",
            Level::Section => "section",
            Level::Bank => "bank",
            Level::Locker => "locker",
        }
    }

    /// The level by its name or plural (`bank`, `banks`), case-insensitively.
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.to_ascii_lowercase();
        let s = s.strip_suffix('s').unwrap_or(&s);
        Level::ALL.into_iter().find(|l| l.name() == s)
    }

    /// The level a place of this level hangs under.
    pub fn parent(self) -> Option<Level> {
        match self {
            Level::Location => None,
            Level::Section => Some(Level::Location),
            Level::Bank => Some(Level::Section),
            Level::Locker => Some(Level::Bank),
        }
    }
}

/// Checks a key or a name: not empty, at most [`MAX_KEY`] characters, no control characters.
pub fn check_label(what: &str, s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err(format!("a {what} cannot be empty"));
    }
    if s.chars().count() > MAX_KEY {
        return Err(format!("a {what} has at most {MAX_KEY} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("a {what} cannot contain control characters"));
    }
    Ok(())
}

// ------------------------------------------------------------------ the import tree

/// A whole places tree, as `scimd places import` reads it and `GET …/places` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    #[serde(default)]
    pub locations: Vec<LocationNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationNode {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub sections: Vec<SectionNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionNode {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub banks: Vec<BankNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankNode {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub lockers: Vec<LockerNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockerNode {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One place of a tree, flattened: its parent named by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceSpec {
    pub level: Level,
    pub key: String,
    /// The name; a place without one is named by its key.
    pub name: String,
    pub parent: Option<String>,
}

impl PlaceSpec {
    /// The place this one hangs under, by level and key (none for a location), which the
    /// store must find; `Err` with the reason when the place names the wrong parent: a
    /// location names one, or a section, bank or locker names none.
    pub fn parent_place(&self) -> Result<Option<(Level, &str)>, String> {
        match (self.level.parent(), &self.parent) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err("a location has no parent".to_string()),
            (Some(level), None) => Err(format!("a {} needs its {}", self.level.name(), level.name())),
            (Some(level), Some(key)) => Ok(Some((level, key))),
        }
    }

    /// Why the place cannot be stored when its parent (see [`PlaceSpec::parent_place`])
    /// does not exist.
    pub fn missing_parent(&self) -> String {
        let parent = self.level.parent().map_or("parent", Level::name);
        format!(
            "the {parent} '{}' of {} '{}' does not exist",
            self.parent.as_deref().unwrap_or_default(),
            self.level.name(),
            self.key
        )
    }
}

impl Tree {
    /// The places of the tree, parents before children, validated: labels, and each key
    /// once per level.
    pub fn flatten(&self) -> Result<Vec<PlaceSpec>, String> {
        let mut out = Vec::new();
        let mut push = |level: Level, key: &str, name: &Option<String>, parent: Option<&str>| -> Result<(), String> {
            check_label(&format!("{} key", level.name()), key)?;
            if let Some(n) = name {
                check_label(&format!("{} name", level.name()), n)?;
            }
            if out.iter().any(|p: &PlaceSpec| p.level == level && p.key == key) {
                return Err(format!("the {} key '{key}' appears twice in the file", level.name()));
            }
            out.push(PlaceSpec {
                level,
                key: key.to_string(),
                name: name.clone().unwrap_or_else(|| key.to_string()),
                parent: parent.map(str::to_string),
            });
            Ok(())
        };
        for l in &self.locations {
            push(Level::Location, &l.key, &l.name, None)?;
            for s in &l.sections {
                push(Level::Section, &s.key, &s.name, Some(&l.key))?;
                for b in &s.banks {
                    push(Level::Bank, &b.key, &b.name, Some(&s.key))?;
                    for k in &b.lockers {
                        push(Level::Locker, &k.key, &k.name, Some(&b.key))?;
                    }
                }
            }
        }
        Ok(out)
    }
}

// ------------------------------------------------------------------ location rules

/// Whether a location provisions every user or only those its rules match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provision {
    #[default]
    All,
    Rules,
}

/// How a rule set's rules combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    #[default]
    All,
    Any,
}

/// What a rule tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAttribute {
    /// `addresses.locality` (the city), of any of the user's addresses.
    Locality,
    /// `preferredLanguage`.
    Language,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOp {
    Equals,
    Contains,
    NotContains,
}

/// One rule: `attribute op value`, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub attribute: RuleAttribute,
    pub op: RuleOp,
    pub value: String,
}

/// Rules combined by `match`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    #[serde(default, rename = "match")]
    pub combine: Match,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A location's rules, as `scimd places rules` reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationRules {
    #[serde(default)]
    pub provision: Provision,
    #[serde(default, rename = "match")]
    pub combine: Match,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Which provisioned users treat the location as home; none without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<RuleSet>,
    /// The tenant's primary location, the one its integration is installed in (at most
    /// one per tenant): the home of every user it provisions whose home no location's
    /// home rules decide. As any location with rules, it provisions everyone by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub primary: bool,
}

impl LocationRules {
    /// Parses and validates rules (JSON), naming what is wrong.
    pub fn from_json(text: &str) -> Result<LocationRules, String> {
        let r: LocationRules = serde_json::from_str(text).map_err(|e| format!("invalid location rules: {e}"))?;
        r.validate()?;
        Ok(r)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.provision == Provision::Rules && self.rules.is_empty() {
            return Err("\"provision\": \"rules\" needs at least one rule".into());
        }
        for r in self.rules.iter().chain(self.home.iter().flat_map(|h| h.rules.iter())) {
            if r.value.is_empty() {
                return Err("a rule's value cannot be empty".into());
            }
        }
        Ok(())
    }
}

/// The values of a rule's attribute in a user's stored document.
fn values_of(attr: RuleAttribute, user: &Value) -> Vec<String> {
    match attr {
        RuleAttribute::Locality => user
            .get("addresses")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.get("locality").and_then(Value::as_str)).map(fold_case).collect())
            .unwrap_or_default(),
        RuleAttribute::Language => {
            user.get("preferredLanguage").and_then(Value::as_str).map(fold_case).into_iter().collect()
        }
    }
}

impl Rule {
    /// `equals` and `contains` hold when some value does; `not_contains` when none does
    /// (so a user without the attribute satisfies it).
    pub fn holds(&self, user: &Value) -> bool {
        let values = values_of(self.attribute, user);
        let wanted = fold_case(&self.value);
        match self.op {
            RuleOp::Equals => values.contains(&wanted),
            RuleOp::Contains => values.iter().any(|v| v.contains(&wanted)),
            RuleOp::NotContains => !values.iter().any(|v| v.contains(&wanted)),
        }
    }
}

/// Whether rules combined by `combine` match; no rules never match.
fn matches(combine: Match, rules: &[Rule], user: &Value) -> bool {
    !rules.is_empty()
        && match combine {
            Match::All => rules.iter().all(|r| r.holds(user)),
            Match::Any => rules.iter().any(|r| r.holds(user)),
        }
}

/// Refuses a second primary location: `location` would become primary while another
/// location of `others` (`(key, rules)`) is.
pub fn check_one_primary(
    location: &str,
    rules: &LocationRules,
    others: &[(String, LocationRules)],
) -> Result<(), String> {
    if !rules.primary {
        return Ok(());
    }
    match others.iter().find(|(k, r)| r.primary && k != location) {
        Some((k, _)) => Err(format!(
            "location '{k}' is the primary location already (the one the integration is installed in): \
             clear \"primary\" there first"
        )),
        None => Ok(()),
    }
}

/// Every location's stored rules (`(key, JSON)`), parsed; the error names the location.
pub fn parse_rules(stored: &[(String, String)]) -> Result<Vec<(String, LocationRules)>, String> {
    stored
        .iter()
        .map(|(key, text)| {
            LocationRules::from_json(text)
                .map(|r| (key.clone(), r))
                .map_err(|e| format!("the rules of location '{key}' are unusable: {e}"))
        })
        .collect()
}

/// A user's locations and home location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// Keys of the locations that provision the user, in key order.
    pub locations: Vec<String>,
    /// The first of those (in key order) whose home rules match the user, else the
    /// primary location if it is one of them.
    pub home: Option<String>,
}

/// Decides a user's locations from every location that has rules (`(key, rules)`); a
/// location without rules provisions nobody.
pub fn derive(locations: &[(String, LocationRules)], user: &Value) -> Derived {
    let mut sorted: Vec<&(String, LocationRules)> = locations.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Derived::default();
    for (key, rules) in sorted.iter().copied() {
        let provisioned = match rules.provision {
            Provision::All => true,
            Provision::Rules => matches(rules.combine, &rules.rules, user),
        };
        if !provisioned {
            continue;
        }
        out.locations.push(key.clone());
        if out.home.is_none() && rules.home.as_ref().is_some_and(|h| matches(h.combine, &h.rules, user)) {
            out.home = Some(key.clone());
        }
    }
    if out.home.is_none() {
        // Should two locations claim to be primary (set concurrently on two replicas),
        // the first by key is.
        out.home = sorted.iter().find(|(_, r)| r.primary).map(|(k, _)| k.clone()).filter(|k| out.locations.contains(k));
    }
    out
}

/// Writes the derived attributes into a user's document (removing the extension when
/// there is nothing to say); returns whether the document changed.
pub fn set_derived(doc: &mut Value, d: &Derived) -> bool {
    let Some(map) = doc.as_object_mut() else { return false };
    let new = if d.locations.is_empty() {
        None
    } else {
        let mut ext = Map::new();
        ext.insert("locations".into(), Value::Array(d.locations.iter().cloned().map(Value::String).collect()));
        if let Some(h) = &d.home {
            ext.insert("homeLocation".into(), Value::String(h.clone()));
        }
        Some(Value::Object(ext))
    };
    if map.get(PLACES_URN) == new.as_ref() {
        return false;
    }
    match new {
        Some(v) => map.insert(PLACES_URN.to_string(), v),
        None => map.remove(PLACES_URN),
    };
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(level: Level, key: &str, parent: Option<&str>) -> PlaceSpec {
        PlaceSpec { level, key: key.into(), name: key.into(), parent: parent.map(Into::into) }
    }

    #[test]
    fn each_level_names_the_parent_its_level_calls_for() {
        assert_eq!(spec(Level::Location, "ams", None).parent_place(), Ok(None));
        assert_eq!(spec(Level::Section, "s1", Some("ams")).parent_place(), Ok(Some((Level::Location, "ams"))));
        assert_eq!(spec(Level::Bank, "b1", Some("s1")).parent_place(), Ok(Some((Level::Section, "s1"))));
        assert_eq!(spec(Level::Locker, "l1", Some("b1")).parent_place(), Ok(Some((Level::Bank, "b1"))));
        assert_eq!(spec(Level::Location, "ams", Some("x")).parent_place(), Err("a location has no parent".into()));
        assert_eq!(spec(Level::Section, "s1", None).parent_place(), Err("a section needs its location".into()));
        assert_eq!(spec(Level::Bank, "b1", None).parent_place(), Err("a bank needs its section".into()));
        assert_eq!(spec(Level::Locker, "l1", None).parent_place(), Err("a locker needs its bank".into()));
    }

    #[test]
    fn a_missing_parent_is_named_with_the_place() {
        assert_eq!(
            spec(Level::Bank, "b1", Some("s9")).missing_parent(),
            "the section 's9' of bank 'b1' does not exist"
        );
        assert_eq!(
            spec(Level::Locker, "l1", Some("b9")).missing_parent(),
            "the bank 'b9' of locker 'l1' does not exist"
        );
    }

    fn rules(v: Value) -> LocationRules {
        LocationRules::from_json(&v.to_string()).unwrap()
    }

    #[test]
    fn every_operator_and_combination() {
        let ada = json!({"addresses": [{"locality": "Amsterdam"}, {"locality": "Utrecht"}], "preferredLanguage": "nl"});
        let bob = json!({"preferredLanguage": "EN"});
        let r = |attr: &str, op: &str, value: &str| json!({"attribute": attr, "op": op, "value": value});
        let set = [
            ("eq", rules(json!({"provision": "rules", "rules": [r("locality", "equals", "AMSTERDAM")]}))),
            ("co", rules(json!({"provision": "rules", "rules": [r("locality", "contains", "trec")]}))),
            ("nc", rules(json!({"provision": "rules", "rules": [r("locality", "not_contains", "dam")]}))),
            (
                "all",
                rules(json!({"provision": "rules", "match": "all",
                    "rules": [r("language", "equals", "nl"), r("locality", "equals", "utrecht")]})),
            ),
            (
                "any",
                rules(json!({"provision": "rules", "match": "any",
                    "rules": [r("language", "equals", "en"), r("locality", "equals", "paris")]})),
            ),
            ("everyone", rules(json!({"provision": "all"}))),
        ];
        let set: Vec<(String, LocationRules)> = set.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(derive(&set, &ada).locations, ["all", "co", "eq", "everyone"]);
        assert_eq!(derive(&set, &bob).locations, ["any", "everyone", "nc"]);
    }

    #[test]
    fn home_is_the_first_provisioned_location_whose_home_rules_match() {
        let set = vec![
            (
                "b".to_string(),
                rules(json!({"home": {"rules": [{"attribute": "language", "op": "equals", "value": "de"}]}})),
            ),
            (
                "a".to_string(),
                rules(json!({"home": {"rules": [{"attribute": "language", "op": "contains", "value": "d"}]}})),
            ),
            (
                "c".to_string(),
                rules(
                    json!({"provision": "rules", "rules": [{"attribute": "language", "op": "equals", "value": "fr"}],
                    "home": {"rules": [{"attribute": "language", "op": "equals", "value": "de"}]}}),
                ),
            ),
        ];
        let d = derive(&set, &json!({"preferredLanguage": "de"}));
        assert_eq!((d.locations, d.home.as_deref()), (vec!["a".to_string(), "b".to_string()], Some("a")));
        assert_eq!(derive(&set, &json!({"preferredLanguage": "en"})).home, None);
    }

    /// The visitor manager's multi-location flow: the location the integration is
    /// installed in provisions everyone and is their home; another location provisions
    /// those its rules match, and is home for those its home rules match.
    #[test]
    fn the_primary_location_provisions_everyone_and_is_home_unless_a_rule_says_otherwise() {
        let set = vec![
            ("london".to_string(), rules(json!({"primary": true}))),
            (
                "brussels".to_string(),
                rules(json!({"provision": "rules", "match": "any",
                    "rules": [{"attribute": "locality", "op": "equals", "value": "Brussels"},
                              {"attribute": "language", "op": "equals", "value": "Brussels HQ"}],
                    "home": {"rules": [{"attribute": "language", "op": "equals", "value": "Brussels HQ"}]}})),
            ),
            (
                "paris".to_string(),
                rules(json!({"provision": "rules",
                "rules": [{"attribute": "locality", "op": "equals", "value": "Paris"}]})),
            ),
        ];
        let bond = derive(&set, &json!({"addresses": [{"locality": "London"}], "preferredLanguage": "en"}));
        assert_eq!((bond.locations, bond.home.as_deref()), (vec!["london".to_string()], Some("london")));
        let hq = derive(&set, &json!({"preferredLanguage": "Brussels HQ"}));
        assert_eq!(
            (hq.locations, hq.home.as_deref()),
            (vec!["brussels".to_string(), "london".to_string()], Some("brussels"))
        );
        let visitor = derive(&set, &json!({"addresses": [{"locality": "Brussels"}]}));
        assert_eq!(visitor.home.as_deref(), Some("london"), "provisioned in Brussels, home still the primary");
        // A primary location whose rules exclude a user is not the user's home.
        let only_uk = vec![(
            "london".to_string(),
            rules(json!({"primary": true, "provision": "rules",
                "rules": [{"attribute": "locality", "op": "equals", "value": "London"}]})),
        )];
        assert_eq!(derive(&only_uk, &json!({"addresses": [{"locality": "Paris"}]})), Derived::default());
        // Without a primary location, nothing changes: no home unless a home rule says so.
        assert_eq!(derive(&[("a".to_string(), rules(json!({})))], &json!({})).home, None);
    }

    #[test]
    fn one_primary_location_per_tenant() {
        let others =
            vec![("london".to_string(), rules(json!({"primary": true}))), ("paris".to_string(), rules(json!({})))];
        let e = check_one_primary("paris", &rules(json!({"primary": true})), &others).unwrap_err();
        assert!(e.contains("'london' is the primary location already"), "{e}");
        assert!(check_one_primary("london", &rules(json!({"primary": true})), &others).is_ok(), "set again");
        assert!(check_one_primary("paris", &rules(json!({})), &others).is_ok());
        assert_eq!(
            serde_json::to_value(rules(json!({}))).unwrap(),
            json!({"provision": "all", "match": "all", "rules": []})
        );
    }

    #[test]
    fn rules_and_trees_are_validated() {
        assert!(LocationRules::from_json(r#"{"provision": "rules"}"#).unwrap_err().contains("at least one rule"));
        assert!(LocationRules::from_json(r#"{"provision": "some"}"#).is_err());
        assert!(
            LocationRules::from_json(r#"{"rules": [{"attribute": "city", "op": "equals", "value": "x"}]}"#).is_err()
        );
        let t: Tree = serde_json::from_value(json!({"locations": [{"key": "hq", "sections": [{"key": "s1",
            "banks": [{"key": "b1", "lockers": [{"key": "l1"}, {"key": "l1"}]}]}]}]}))
        .unwrap();
        assert!(t.flatten().unwrap_err().contains("'l1' appears twice"));
    }

    #[test]
    fn derived_attributes_are_written_only_when_they_change() {
        let mut doc = json!({"userName": "a"});
        let d = Derived { locations: vec!["hq".into()], home: Some("hq".into()) };
        assert!(set_derived(&mut doc, &d));
        assert_eq!(doc[PLACES_URN], json!({"locations": ["hq"], "homeLocation": "hq"}));
        assert!(!set_derived(&mut doc, &d));
        assert!(set_derived(&mut doc, &Derived::default()));
        assert_eq!(doc, json!({"userName": "a"}));
    }
}
