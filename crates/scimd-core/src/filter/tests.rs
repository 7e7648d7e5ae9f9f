//! The filter's grammar, resolution and evaluator, tested together (the property tests
//! check the evaluator's laws).

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::builtin::standard_registry;
use crate::schema::{AttrDef, ExtensionRef, Registry, SchemaDef};

fn p(s: &str) -> Filter {
    parse_filter(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn path(attr: &str) -> AttrPath {
    AttrPath { urn: None, attr: attr.into(), sub: None }
}

#[test]
fn precedence_and_grouping() {
    let f = p("a eq 1 or b eq 2 and c eq 3");
    assert!(matches!(f, Filter::Or(_, ref r) if matches!(**r, Filter::And(..))));
    let f = p("(a eq 1 or b eq 2) and c eq 3");
    assert!(matches!(f, Filter::And(ref l, _) if matches!(**l, Filter::Or(..))));
    let f = p("NOT (a PR) AND b Eq \"x\"");
    assert!(matches!(f, Filter::And(ref l, _) if matches!(**l, Filter::Not(..))));
    // An attribute whose name starts with a keyword is still an attribute.
    assert_eq!(p("notes eq \"x\""), Filter::Compare(path("notes"), CompareOp::Eq, CompValue::Str("x".into())));
    assert_eq!(p("order pr"), Filter::Present(path("order")));
}

#[test]
fn urn_paths_split_at_the_last_colon() {
    let f = p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m\"");
    let Filter::Compare(ap, ..) = f else { panic!() };
    assert_eq!(ap.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    assert_eq!((ap.attr.as_str(), ap.sub.as_deref()), ("manager", Some("value")));
}

#[test]
fn entra_value_path_with_sub_attribute() {
    let f = p("emails[type eq \"work\"].value eq \"x@y\"");
    let Filter::ValuePath(ap, inner) = f else { panic!() };
    assert_eq!(ap.attr, "emails");
    assert!(matches!(*inner, Filter::And(..)));
}

#[test]
fn literals() {
    assert_eq!(
        p("a eq \"q\\\"\\u00e9\\n\""),
        Filter::Compare(path("a"), CompareOp::Eq, CompValue::Str("q\"é\n".into()))
    );
    assert_eq!(p("a gt -1.5e2"), Filter::Compare(path("a"), CompareOp::Gt, CompValue::Num(-150.0)));
    assert_eq!(p("a eq TRUE"), Filter::Compare(path("a"), CompareOp::Eq, CompValue::Bool(true)));
    assert_eq!(p("a eq null"), Filter::Compare(path("a"), CompareOp::Eq, CompValue::Null));
}

#[test]
fn syntax_errors_name_the_problem() {
    for (f, needle) in [
        ("", "empty"),
        ("userName", "operator"),
        ("userName equals \"x\"", "operator"),
        ("userName eq", "value"),
        ("userName eq \"x", "not terminated"),
        ("(userName eq \"x\"", "')'"),
        ("userName eq \"x\" extra", "unexpected"),
        ("emails[type eq \"w\"", "']'"),
        ("emails[type[value eq 1] eq 1]", "nested"),
        ("a eq 1x", "unexpected"),
    ] {
        let e = parse_filter(f).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::ScimType::InvalidFilter), "{f}");
        assert!(e.detail.contains(needle), "{f}: {}", e.detail);
    }
    let deep = format!("{}a pr{}", "(".repeat(MAX_FILTER_DEPTH + 1), ")".repeat(MAX_FILTER_DEPTH + 1));
    assert!(parse_filter(&deep).unwrap_err().detail.contains("nested"));
    let many = vec!["a pr"; MAX_FILTER_TERMS + 1].join(" or ");
    assert!(parse_filter(&many).unwrap_err().detail.contains("conditions"));
}

#[test]
fn patch_paths() {
    let pp = parse_patch_path("members[value eq \"2819c223\"]").unwrap();
    assert_eq!(pp.attr.attr, "members");
    assert!(pp.filter.is_some() && pp.sub_after_filter.is_none());
    let pp = parse_patch_path("emails[type eq \"work\"].value").unwrap();
    assert_eq!(pp.sub_after_filter.as_deref(), Some("value"));
    assert_eq!(parse_patch_path("name.givenName").unwrap().attr.sub.as_deref(), Some("givenName"));
    for bad in ["", "emails[", "emails[type eq \"w\"].", "a b", "1abc"] {
        assert_eq!(parse_patch_path(bad).unwrap_err().scim_type, Some(crate::ScimType::InvalidPath), "{bad:?}");
    }
}

/// The standard registry plus an extension with numeric attributes.
fn numeric_registry() -> Registry {
    let mut reg = standard_registry();
    let urn = "urn:example:scimd:test:1.0:User";
    let mut score = AttrDef::new("score", AttrType::Decimal);
    score.description = "test".into();
    reg.schemas.push(SchemaDef {
        id: urn.into(),
        name: "Test".into(),
        description: "test".into(),
        attributes: vec![AttrDef::new("level", AttrType::Integer), score, AttrDef::new("since", AttrType::DateTime)],
    });
    reg.resource_types[0].extensions.push(ExtensionRef { schema: urn.into(), required: false });
    reg
}

fn eval(reg: &Registry, f: &str, r: &serde_json::Value) -> bool {
    matches(&resolve_filter(reg, ResourceKind::User, &p(f)).unwrap(), r)
}

#[test]
fn numbers_datetimes_and_null_rules() {
    let reg = numeric_registry();
    let u = json!({"userName": "u", "id": "1",
        "urn:example:scimd:test:1.0:User": {"level": 3, "score": 2.5, "since": "2024-01-02T03:04:05+02:00"},
        "meta": {"created": "2024-01-01T00:00:00Z"}});
    let x = "urn:example:scimd:test:1.0:User";
    assert!(eval(&reg, &format!("{x}:level gt 2"), &u));
    assert!(!eval(&reg, &format!("{x}:level gt 3"), &u));
    assert!(eval(&reg, &format!("{x}:level ge \"3\""), &u), "numeric strings are accepted");
    assert!(eval(&reg, &format!("{x}:score lt 2.6 and {x}:score gt 2.4"), &u));
    assert!(eval(&reg, &format!("{x}:since eq \"2024-01-02T01:04:05Z\""), &u), "same instant, other offset");
    assert!(eval(&reg, &format!("{x}:since lt \"2024-01-02T01:04:06Z\""), &u));
    assert!(eval(&reg, "meta.created ge \"2024-01-01T00:00:00.000Z\"", &u));
    assert!(eval(&reg, "title eq null", &u) && !eval(&reg, "title ne null", &u));
    assert!(eval(&reg, "title ne \"x\"", &u), "ne holds when the attribute is absent");
    let bad = |f: &str| resolve_filter(&reg, ResourceKind::User, &p(f)).unwrap_err().scim_type;
    assert_eq!(bad(&format!("{x}:level co \"3\"")), Some(crate::ScimType::InvalidFilter));
    assert_eq!(bad(&format!("{x}:level eq \"three\"")), Some(crate::ScimType::InvalidFilter));
    assert_eq!(bad("active gt true"), Some(crate::ScimType::InvalidFilter));
    assert_eq!(bad("name eq \"x\""), Some(crate::ScimType::InvalidFilter));
    assert_eq!(bad("password pr"), Some(crate::ScimType::InvalidFilter));
    assert_eq!(bad("userName lt null"), Some(crate::ScimType::InvalidFilter));
}

fn arb_path() -> impl Strategy<Value = AttrPath> {
    (
        prop::option::of(prop::sample::select(vec![
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ])),
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        prop::option::of("[a-zA-Z][a-zA-Z0-9]{0,6}"),
    )
        .prop_filter("not a keyword", |(_, a, _)| {
            !["and", "or", "not", "pr", "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "true", "false", "null"]
                .contains(&a.to_ascii_lowercase().as_str())
        })
        .prop_map(|(u, a, s)| AttrPath { urn: u.map(str::to_string), attr: a, sub: s })
}

fn arb_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        any::<String>().prop_map(CompValue::Str),
        (-1.0e12f64..1.0e12).prop_map(CompValue::Num),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null),
    ]
}

fn arb_op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ])
}

fn arb_leaf(in_vp: bool) -> BoxedStrategy<Filter> {
    let path = if in_vp {
        "[a-zA-Z][a-zA-Z0-9]{0,6}"
            .prop_filter("not a keyword", |a| !["and", "or", "not", "pr"].contains(&a.to_ascii_lowercase().as_str()))
            .prop_map(|a| AttrPath { urn: None, attr: a, sub: None })
            .boxed()
    } else {
        arb_path().boxed()
    };
    prop_oneof![
        (path.clone(), arb_op(), arb_value()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
        path.prop_map(Filter::Present),
    ]
    .boxed()
}

fn arb_filter() -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        3 => arb_leaf(false),
        1 => (arb_path().prop_map(|p| AttrPath { sub: None, ..p }), arb_leaf(true).prop_recursive(2, 6, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Filter::Not(Box::new(a))),
            ]
        }))
            .prop_map(|(p, f)| Filter::ValuePath(p, Box::new(f))),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]
    #[test]
    fn display_round_trips(f in arb_filter()) {
        let text = f.to_string();
        prop_assert_eq!(parse_filter(&text), Ok(f), "{}", text);
    }

    #[test]
    fn parsers_never_panic(s in any::<String>()) {
        let _ = parse_filter(&s);
        let _ = parse_patch_path(&s);
        let _ = parse_attr_path(&s);
    }

    #[test]
    fn parsers_never_panic_on_filter_like_text(s in "[a-z\\[\\]()\" .:=\\\\]{0,60}") {
        let _ = parse_filter(&s);
        let _ = parse_patch_path(&s);
    }
}
