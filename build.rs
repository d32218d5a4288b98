//! Rebuild when embedded data changes: `include_dir!` tracks the files it embeds, but not files added
//! to the directories later, so a new template or profile would otherwise be missed.

fn main() {
    for dir in ["charts", "profiles", "catalog", "migrations"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
