//! The API's description is an OpenAPI 3.1 document (JSON Schema 2020-12
//! types, no 3.0 `nullable`, every `$ref` and path parameter resolved), and
//! a wrong method on an API route answers `405` with an `Allow` header and
//! the JSON body `{"error": ...}` of every other API error.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use oml_config::Config;
use oml_web::AppState;
use serde_json::Value;
use std::net::SocketAddr;
use tower::ServiceExt;

fn doc() -> Value {
    let text = include_str!("../openapi.json");
    serde_json::from_str(text).expect("openapi.json is JSON")
}

/// Every problem a 3.1 reader would have with `v`, at `at`.
fn check_schema_keywords(v: &Value, at: &str, root: &Value, problems: &mut Vec<String>) {
    const TYPES: [&str; 7] = [
        "null", "boolean", "object", "array", "number", "string", "integer",
    ];
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                let here = format!("{at}/{k}");
                if k == "securitySchemes" {
                    continue; // their `type` is not a JSON Schema type
                }
                match k.as_str() {
                    "nullable" => problems.push(format!(
                        "{here}: `nullable` is OpenAPI 3.0; use \"type\": [\"...\", \"null\"]"
                    )),
                    "type" if inner.is_string() || inner.is_array() => {
                        let names: Vec<&Value> = match inner {
                            Value::Array(a) => a.iter().collect(),
                            one => vec![one],
                        };
                        for n in names {
                            if !n.as_str().is_some_and(|n| TYPES.contains(&n)) {
                                problems.push(format!("{here}: {n} is not a JSON Schema type"));
                            }
                        }
                    }
                    "$ref" => {
                        let target = inner.as_str().unwrap_or("");
                        let pointer = target.strip_prefix('#').unwrap_or("!");
                        if root.pointer(pointer).is_none() {
                            problems.push(format!("{here}: {target} does not resolve"));
                        }
                    }
                    _ => {}
                }
                check_schema_keywords(inner, &here, root, problems);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                check_schema_keywords(inner, &format!("{at}/{i}"), root, problems);
            }
        }
        _ => {}
    }
}

/// The `{name}` parameters an operation declares (following `$ref`s).
fn path_params(op: &Value, root: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let p = match p["$ref"].as_str() {
            Some(r) => root.pointer(r.trim_start_matches('#')).unwrap(),
            None => p,
        };
        if p["in"] == "path" {
            assert_eq!(p["required"], true, "path parameter {p} must be required");
            out.push(p["name"].as_str().unwrap().to_string());
        }
    }
    out.sort();
    out
}

#[test]
fn the_description_is_openapi_3_1() {
    let d = doc();
    let version = d["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "openapi is {version}");
    for key in ["title", "version"] {
        assert!(d["info"][key].is_string(), "info.{key} missing");
    }
    let mut problems = Vec::new();
    check_schema_keywords(&d, "#", &d, &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let paths = d["paths"].as_object().unwrap();
    assert!(paths.len() >= 8);
    for (path, ops) in paths {
        assert!(path.starts_with('/'), "{path}");
        let mut wanted: Vec<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        wanted.sort();
        for (method, op) in ops.as_object().unwrap() {
            let m = method.to_uppercase();
            assert!(m.parse::<Method>().is_ok(), "{path}: {method}");
            assert_eq!(path_params(op, &d), wanted, "{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}: no responses");
            for code in responses.keys() {
                assert!(
                    code == "default" || (code.len() == 3 && code.parse::<u16>().is_ok()),
                    "{method} {path}: response {code}"
                );
            }
        }
    }
}

#[test]
fn a_3_0_document_is_refused_by_these_checks() {
    let mut old = doc();
    old["components"]["schemas"]["Server"]["properties"]["last_error"] =
        serde_json::json!({ "type": "string", "nullable": true });
    let mut problems = Vec::new();
    check_schema_keywords(&old, "#", &old, &mut problems);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("last_error/nullable"), "{problems:?}");
}

async fn call(
    app: &axum::Router,
    method: Method,
    path: &str,
) -> (StatusCode, Option<String>, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "console.test")
        .body(Body::empty())
        .unwrap();
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let allow = resp
        .headers()
        .get(header::ALLOW)
        .map(|v| v.to_str().unwrap().to_string());
    let ctype = resp.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_client_error() {
        assert_eq!(
            ctype
                .and_then(|c| c.to_str().ok().map(str::to_string))
                .as_deref(),
            Some("application/json"),
            "{path}"
        );
    }
    (status, allow, body)
}

#[tokio::test]
async fn a_wrong_method_gets_405_with_allow_and_a_json_error() {
    let ts = oml_store::testing::sqlite().await;
    let state = oml_dialer_web::register(AppState::builder(ts.store.clone(), Config::default()))
        .build()
        .unwrap();
    let app = oml_dialer_web::app(state);
    for (method, path, allowed) in [
        (Method::DELETE, "/api/v1/dialer", "GET"),
        (Method::POST, "/api/v1/campaigns", "GET"),
        (Method::GET, "/api/v1/dialer/start", "POST"),
        (Method::PUT, "/api/v1/campaigns/sales/pause", "POST"),
        (Method::POST, "/api/v1/openapi.json", "GET"),
        (Method::PATCH, "/api/v1/status", "GET"),
    ] {
        let (status, allow, body) = call(&app, method.clone(), path).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let allow = allow.unwrap_or_else(|| panic!("{method} {path}: no Allow header"));
        assert!(allow.contains(allowed), "{method} {path}: Allow {allow}");
        let error = body["error"].as_str().unwrap_or_else(|| panic!("{body}"));
        assert!(
            error.contains(method.as_str()) && error.contains(allowed),
            "{error}"
        );
    }
    let (status, _, body) = call(&app, Method::GET, "/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"].as_str().unwrap().contains("openapi.json"),
        "{body}"
    );
    // Pages keep their own answers (not JSON).
    let (status, _, body) = call(&app, Method::GET, "/api/v1/dialer").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the route itself still answers"
    );
    assert!(body["error"].is_string());
}
