//! PKCE costs: verification (the authorization server's hot path) and generation (the client's).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_authz_pkce::{CodeChallenge, CodeVerifier};
use std::hint::black_box;

fn pkce(c: &mut Criterion) {
    let verifier = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    let challenge: CodeChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        .parse()
        .unwrap();
    c.bench_function("pkce/verify_s256", |b| {
        b.iter(|| black_box(&challenge).verify(black_box(&verifier)))
    });
    c.bench_function("pkce/parse_verifier_and_verify", |b| {
        b.iter(|| {
            let v = CodeVerifier::parse(black_box("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
                .unwrap();
            challenge.verify(&v)
        })
    });
    c.bench_function("pkce/generate_verifier_and_challenge", |b| {
        b.iter(|| CodeVerifier::generate().unwrap().challenge())
    });
}

criterion_group!(benches, pkce);
criterion_main!(benches);
