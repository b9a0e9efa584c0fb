//! Token validation cost: cache hit, cache miss (the whole bearer check: parse, key lookup, signature,
//! claims), against the raw `ring` signature verification of the same token (ES256 and EdDSA), and a
//! bare `jsonwebtoken::decode` (its pure-Rust backend, what the verifier used before) of the ES256 token.
//!
//! `cargo bench -p mcp-authz-resource --bench validate`
#![allow(
    missing_docs,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mcp_authz_resource::TokenVerifier;
use mcp_authz_token::{AccessToken, JwtAccessTokenClaims};
use ring::signature::{ECDSA_P256_SHA256_FIXED, ED25519, UnparsedPublicKey};

/// Polls a future that completes without waiting (the JWKS is already loaded).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the verification waited"),
    }
}

fn bench(c: &mut Criterion) {
    let fixture = common::fixture();
    let token = AccessToken::parse(&fixture.token).expect("token");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let miss = common::verifier(&fixture, 0);
    let hit = common::verifier(&fixture, 1000);
    // Load the JWKS (and fill the hit cache) once.
    runtime.block_on(miss.verify(&token)).expect("valid");
    runtime.block_on(hit.verify(&token)).expect("valid");

    let key = DecodingKey::from_ec_pem(fixture.public_pem.as_bytes()).expect("key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[common::RESOURCE]);
    validation.set_issuer(&[common::ISSUER]);
    validation.validate_exp = false;

    let mut group = c.benchmark_group("validate_es256");
    group.bench_function("bare_jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<JwtAccessTokenClaims>(
                black_box(&fixture.token),
                &key,
                &validation,
            )
            .expect("decode")
        })
    });
    group.bench_function("verify_cache_miss", |b| {
        b.iter(|| ready(miss.verify(black_box(&token))).expect("valid"))
    });
    group.bench_function("verify_cache_hit", |b| {
        b.iter(|| ready(hit.verify(black_box(&token))).expect("valid"))
    });
    let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, fixture.public_key.clone());
    let (input, signature) = fixture.signed_parts();
    group.bench_function("raw_ring_verify", |b| {
        b.iter(|| {
            public
                .verify(black_box(input), black_box(&signature))
                .expect("valid")
        })
    });
    group.finish();

    let eddsa = common::eddsa_fixture();
    let eddsa_token = AccessToken::parse(&eddsa.token).expect("token");
    let eddsa_miss = common::verifier(&eddsa, 0);
    runtime
        .block_on(eddsa_miss.verify(&eddsa_token))
        .expect("valid");
    let public = UnparsedPublicKey::new(&ED25519, eddsa.public_key.clone());
    let (input, signature) = eddsa.signed_parts();
    let mut group = c.benchmark_group("validate_eddsa");
    group.bench_function("verify_cache_miss", |b| {
        b.iter(|| ready(eddsa_miss.verify(black_box(&eddsa_token))).expect("valid"))
    });
    group.bench_function("raw_ring_verify", |b| {
        b.iter(|| {
            public
                .verify(black_box(input), black_box(&signature))
                .expect("valid")
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
