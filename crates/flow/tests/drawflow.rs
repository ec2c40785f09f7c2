//! The fuzz target's seeds are real editor exports: each imports and compiles, so fuzzing starts
//! from flows that reach the engine.

use crmconnect_flow::{compile, drawflow};

#[test]
fn the_seed_exports_import_and_compile() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/drawflow_import");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let flow = drawflow::import(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        compile(&flow).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        seen += 1;
    }
    assert!(seen >= 2, "the seeds are in {}", dir.display());
}
