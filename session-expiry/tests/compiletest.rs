//! The macros' compile errors, pinned. Compiler output drifts between releases, so the pinned
//! `.stderr` files are checked on the toolchain they were written with only.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files are pinned to Rust 1.95"
)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
